//! CNMF / CNMF-E parameters under CaImAn's names, so that a CaImAn user's settings work unchanged.
//!
//! Parsing (flat objects, CaImAn's grouped `CNMFParams` form, Mesmerize's `cnmf_kwargs` / `eval_kwargs`
//! wrappers, aliases such as `k` and `merge_thresh`, unknown-key warnings) lives in `params_json.rs`.

use serde::{Deserialize, Serialize};

/// Which algorithm a parameter set drives; decides defaults and the history key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// CNMF on (t, y, x): greedy initialisation, low-rank background.
    Cnmf,
    /// CNMF on (t, z, y, x).
    Cnmf3d,
    /// CNMF-E: correlation / PNR initialisation, ring-model background.
    Cnmfe,
}

impl Mode {
    /// The HistoryTrace key the docs use for this algorithm.
    pub fn history_key(self) -> &'static str {
        match self {
            Self::Cnmf => "cnmf",
            Self::Cnmf3d => "cnmf_3d",
            Self::Cnmfe => "cnmfe",
        }
    }
}

/// Every parameter the extraction engine reads; field names are CaImAn's (lower-cased where Rust needs it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnmfParams {
    /// Algorithm these parameters drive.
    pub mode: Mode,
    // --- data
    /// `fr`: frame rate, Hz.
    pub fr: f64,
    /// `decay_time`: indicator decay time, s (sets the event-exceptionality window in evaluation).
    pub decay_time: f64,
    // --- patch
    /// `rf`: half-size of a patch per spatial axis (C order, `[y, x]` or `[z, y, x]`); `None` = whole field.
    pub rf: Option<Vec<usize>>,
    /// `stride`: overlap between neighbouring patches per axis, px.
    pub stride: Option<Vec<usize>>,
    /// `border_pix`: pixels at each lateral border to ignore (motion-correction margins).
    pub border_pix: usize,
    /// `nb_patch`: background components per patch.
    pub nb_patch: usize,
    /// `low_rank_background`: keep a global low-rank background after patches (else per-patch backgrounds).
    pub low_rank_background: bool,
    /// `del_duplicates`: drop components found twice in overlapping patches instead of merging them.
    pub del_duplicates: bool,
    // --- preprocess
    /// `p`: order of the autoregressive model of the calcium (0 = no deconvolution, 1, 2).
    pub p: usize,
    /// `noise_range`: band of the power spectral density (fraction of the sampling rate) that is noise.
    pub noise_range: [f64; 2],
    /// `noise_method`: how the PSD band is averaged: `mean`, `median` or `logmexp`.
    pub noise_method: String,
    /// `lags`: autocovariance lags used to estimate AR coefficients.
    pub lags: usize,
    // --- init
    /// `K`: components per patch (or in the whole field without patches); CNMF-E: upper bound.
    pub k: usize,
    /// `gSig`: expected half-size of a neuron, px, per axis (C order).
    pub gsig: Vec<f64>,
    /// `gSiz`: size of the neuron window, px, per axis (C order).
    pub gsiz: Vec<usize>,
    /// `method_init`: `greedy_roi` or `corr_pnr`.
    pub method_init: String,
    /// `min_corr`: smallest local correlation of a CNMF-E seed.
    pub min_corr: f64,
    /// `min_pnr`: smallest peak-to-noise ratio of a CNMF-E seed.
    pub min_pnr: f64,
    /// `min_pixel`: smallest number of pixels of a CNMF-E seed's footprint.
    pub min_pixel: usize,
    /// `nb` (`gnb`): global background components; CNMF-E: 0 = ring model, -1 = none, > 0 = low rank.
    pub nb: i64,
    /// `ring_size_factor`: ring radius as a multiple of `gSiz` on the `ssub_B` grid, as CaImAn (CNMF-E background).
    pub ring_size_factor: f64,
    /// `ssub`: spatial downsampling during initialisation.
    pub ssub: usize,
    /// `tsub`: temporal downsampling during initialisation.
    pub tsub: usize,
    /// `ssub_B`: spatial downsampling of the ring-model background.
    pub ssub_b: usize,
    /// `center_psf`: high-pass (mean-subtracted Gaussian) filtering for initialisation (CNMF-E).
    pub center_psf: bool,
    /// `init_iter`: iterations of the CNMF-E initialisation.
    pub init_iter: usize,
    // --- spatial / temporal updates
    /// `dist`: dilation radius of footprint supports, in units of `gSig`.
    pub dist: f64,
    /// `ITER`: alternations between spatial and temporal updates.
    pub iter: usize,
    /// `method_deconvolution`: `oasis`.
    pub method_deconvolution: String,
    /// `s_min`: smallest spike kept by deconvolution (`None` = automatic).
    pub s_min: Option<f64>,
    /// `bas_nonneg`: constrain the deconvolution baseline to be non-negative.
    pub bas_nonneg: bool,
    /// `optimize_g`: refine AR coefficients during deconvolution (0 = keep the autocovariance estimate).
    pub optimize_g: usize,
    /// `fudge_factor`: shrink factor on the estimated AR time constant.
    pub fudge_factor: f64,
    // --- merging
    /// `do_merge`: merge spatially overlapping, temporally correlated components.
    pub do_merge: bool,
    /// `merge_thr` (`merge_thresh`): temporal correlation above which overlapping components merge.
    pub merge_thr: f64,
    // --- quality
    /// `min_SNR`: event exceptionality threshold for accepting a trace.
    pub min_snr: f64,
    /// `SNR_lowest`: traces below this SNR are rejected whatever else passes.
    pub snr_lowest: f64,
    /// `rval_thr`: spatial correlation threshold for accepting a footprint.
    pub rval_thr: f64,
    /// `rval_lowest`: footprints below this r are rejected whatever else passes.
    pub rval_lowest: f64,
    // --- Mesmerize
    /// `refit`: run the whole-field refinement again from the accepted components.
    pub refit: bool,
    /// `Ain`: seed spatial components from another result (path of a CaImAn-layout HDF5).
    pub ain: Option<String>,
}

impl CnmfParams {
    /// CaImAn's defaults for `mode` (CNMF-E: `method_init = corr_pnr`, `center_psf`, ring background).
    pub fn defaults(mode: Mode) -> Self {
        let three = mode == Mode::Cnmf3d;
        let mut p = Self {
            mode,
            fr: 30.0,
            decay_time: 0.4,
            rf: None,
            stride: None,
            border_pix: 0,
            nb_patch: 1,
            low_rank_background: true,
            del_duplicates: false,
            p: 2,
            noise_range: [0.25, 0.5],
            noise_method: "mean".into(),
            lags: 5,
            k: 30,
            gsig: if three { vec![1.0, 5.0, 5.0] } else { vec![5.0, 5.0] },
            gsiz: if three { vec![3, 11, 11] } else { vec![11, 11] },
            method_init: "greedy_roi".into(),
            min_corr: 0.85,
            min_pnr: 20.0,
            min_pixel: 3,
            nb: 1,
            ring_size_factor: 1.5,
            ssub: 1,
            tsub: 1,
            ssub_b: 2,
            center_psf: false,
            init_iter: 2,
            dist: 3.0,
            iter: 2,
            method_deconvolution: "oasis".into(),
            s_min: None,
            bas_nonneg: false,
            optimize_g: 0,
            fudge_factor: 0.96,
            do_merge: true,
            merge_thr: 0.8,
            min_snr: 2.5,
            snr_lowest: 0.5,
            rval_thr: 0.8,
            rval_lowest: -1.0,
            refit: false,
            ain: None,
        };
        if mode == Mode::Cnmfe {
            p.method_init = "corr_pnr".into();
            p.center_psf = true;
            p.nb = 0;
            p.k = 0;
            p.min_corr = 0.8;
            p.min_pnr = 10.0;
        }
        p
    }
}
