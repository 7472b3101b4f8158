//! What CNMF, CNMF-E and 3D CNMF produce: CaImAn's `Estimates`, in our (C-order) pixel indexing.

use ndarray::Array2;

use super::params::CnmfParams;
use super::sparse::SparseColumns;

/// The ring-model background of CNMF-E: `B = W (Y - A C - b0) + b0` on a downsampled grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RingBackground {
    /// Sparse weights on the downsampled grid (`d_ds x d_ds`, column `j` = weights that predict pixel `j`).
    pub w: SparseColumns,
    /// Constant baseline per full-resolution pixel.
    pub b0: Vec<f32>,
    /// Downsampling factor of the grid `w` lives on.
    pub ssub_b: usize,
    /// Shape of the downsampled grid, C order.
    pub dims_ds: Vec<usize>,
}

/// Result of a CNMF-family fit; every array is indexed as CaImAn's `Estimates` except pixel order (C order here).
#[derive(Debug, Clone)]
pub struct CnmfResult {
    /// Spatial dims, C order (`[H, W]` or `[Z, H, W]`).
    pub dims: Vec<usize>,
    /// Footprints `A`, `d x K`.
    pub a: SparseColumns,
    /// Denoised calcium traces `C`, `K x T`.
    pub c: Array2<f32>,
    /// Deconvolved activity `S`, `K x T`.
    pub s: Array2<f32>,
    /// Residual traces `YrA` (`C + YrA` is the raw trace), `K x T`.
    pub yra: Array2<f32>,
    /// Spatial background `b`, `d x nb`.
    pub b: Array2<f32>,
    /// Temporal background `f`, `nb x T`.
    pub f: Array2<f32>,
    /// CNMF-E ring background, when that model was used.
    pub ring: Option<RingBackground>,
    /// Noise std per pixel.
    pub sn: Vec<f32>,
    /// AR coefficients per component (`p` each).
    pub g: Vec<Vec<f32>>,
    /// Baseline of each trace removed by deconvolution.
    pub bl: Vec<f32>,
    /// Initial calcium value of each trace.
    pub c1: Vec<f32>,
    /// Noise std of each trace.
    pub neurons_sn: Vec<f32>,
    /// Sparsity penalty found by the constrained deconvolution.
    pub lam: Vec<f32>,
    /// Detrended dF/F of each trace (`F_dff`), when computed.
    pub f_dff: Option<Array2<f32>>,
    /// Accepted components (indices into `A`'s columns).
    pub idx_components: Vec<usize>,
    /// Rejected components.
    pub idx_components_bad: Vec<usize>,
    /// Event-exceptionality SNR of each trace.
    pub snr_comp: Vec<f32>,
    /// Spatial correlation of each footprint with the data during its events.
    pub r_values: Vec<f32>,
    /// Parameters used.
    pub params: CnmfParams,
    /// Seconds spent, per phase, for the provenance record.
    pub timings: Vec<(String, f64)>,
}

impl CnmfResult {
    /// Number of components.
    pub fn k(&self) -> usize {
        self.a.n_cols()
    }
    /// Pixels per frame.
    pub fn d(&self) -> usize {
        self.dims.iter().product()
    }
}
