//! CNMF-E initialisation from the correlation and PNR images (Zhou et al. 2018; CaImAn's `greedyROI_corr`):
//! greedy seeding on the raw movie, then `init_iter - 1` more rounds on the residual `Y - A C - B` once the ring
//! background `B` of the neurons found so far is known; the final ring model is refitted on all neurons.
//!
//! Differences from CaImAn: no deconvolution of the initial traces (CaImAn's `p = 0` path: the baseline-free
//! trace clipped at 0; the CNMF updates deconvolve later); no HALS updates or merging between rounds (the
//! engine does those); `ssub` / `tsub` are not applied here (initialisation runs at full resolution).

use ndarray::Array2;

use super::ring::{RingShape, fit_ring_with};
use super::subtracted::background_subtracted_frames;
use super::round::{Found, RoundSettings, seed_round};
use crate::extraction::ExtractionError;
use crate::extraction::movie::Movie;
use crate::extraction::params::CnmfParams;
use crate::extraction::products::{CpuProducts, FactorProducts};
use crate::extraction::result::RingBackground;
use crate::extraction::sparse::SparseColumns;
use crate::progress::Progress;

/// What CNMF-E's initialisation hands to the CNMF updates, plus the seed images for display and tuning.
#[derive(Debug, Clone)]
pub struct CnmfeInit {
    /// Initial footprints, `d x K` (raw-data units per unit of `c`).
    pub a: SparseColumns,
    /// Initial traces, `K x T`, non-negative.
    pub c: Array2<f32>,
    /// Ring background fitted on `Y - A C` with the final `A`, `C`.
    pub ring: RingBackground,
    /// Correlation image of the filtered raw movie (before any neuron was removed), C order.
    pub corr: Vec<f32>,
    /// PNR image of the filtered raw movie, C order.
    pub pnr: Vec<f32>,
}

/// Initialise CNMF-E on a 2D movie with `params` (`gSig`, `gSiz`, `min_corr`, `min_pnr`, `min_pixel`, `K` as
/// an upper bound when > 0, `border_pix`, `center_psf`, `init_iter`, `ring_size_factor`, `ssub_B`).
pub fn init_corr_pnr(y: &Movie, params: &CnmfParams, progress: &dyn Progress) -> Result<CnmfeInit, ExtractionError> {
    init_corr_pnr_with(y, params, &CpuProducts, progress)
}

/// [`init_corr_pnr`] with the ring fits' products from `products` (the GPU twin).
pub fn init_corr_pnr_with(
    y: &Movie,
    params: &CnmfParams,
    products: &dyn FactorProducts,
    progress: &dyn Progress,
) -> Result<CnmfeInit, ExtractionError> {
    let [h, w] = y.dims[..] else {
        return Err(ExtractionError::BadInput(format!(
            "CNMF-E initialisation is 2D only; got spatial dims {:?} (use 3D CNMF for volumes)",
            y.dims
        )));
    };
    let settings = RoundSettings::from_params(params, h, w)?;
    let shape = RingShape { gsiz: settings.gsiz, ring_size_factor: params.ring_size_factor, ssub_b: params.ssub_b };
    let budget = if params.k > 0 { params.k } else { usize::MAX };
    let rounds = params.init_iter.max(1);
    let (d, t) = (y.d(), y.t);

    let (mut found, images) = seed_round(y, &settings, budget, progress)?;
    let (corr, pnr) = (images.corr, images.pnr);
    // The latest ring fit and how many neurons it saw.
    let mut ring: Option<(RingBackground, usize)> = None;
    for _ in 1..rounds {
        if found.len() >= budget || found.is_empty() {
            break;
        }
        let (a, c) = assemble(&found, d, t);
        let r = fit_ring_with(y, &a, &c, shape, products, progress)?;
        // Residual Y - B - A C: what the neurons found so far and the background leave unexplained.
        let mut resid = background_subtracted_frames(y, &a, &c, &r);
        subtract_ac(&mut resid, &found);
        let (more, _) = seed_round(&resid, &settings, budget - found.len(), progress)?;
        drop(resid);
        let added = more.len();
        found.extend(more);
        ring = Some((r, found.len() - added));
        if added == 0 {
            break;
        }
    }
    let (a, c) = assemble(&found, d, t);
    // The ring must match the final A, C: refit unless the last fit already saw every neuron.
    let ring = match ring {
        Some((r, seen)) if seen == found.len() => r,
        _ => fit_ring_with(y, &a, &c, shape, products, progress)?,
    };
    tracing::debug!(neurons = found.len(), "CNMF-E initialisation done");
    Ok(CnmfeInit { a, c, ring, corr, pnr })
}

/// Footprints and traces of the found neurons as CNMF's `A` (sparse, full frame) and `C` (clipped at 0).
fn assemble(found: &[Found], d: usize, t: usize) -> (SparseColumns, Array2<f32>) {
    let mut a = SparseColumns::new(d);
    let mut c = Array2::zeros((found.len(), t));
    for (k, f) in found.iter().enumerate() {
        a.push_col(f.pixels.iter().copied().zip(f.values.iter().copied()).collect());
        for (ti, &v) in f.trace.iter().enumerate() {
            c[[k, ti]] = v;
        }
    }
    (a, c)
}

/// `movie -= A C` for the found neurons, in place.
fn subtract_ac(movie: &mut Movie, found: &[Found]) {
    let d = movie.d();
    for f in found {
        for (ti, frame) in movie.data.chunks_mut(d).enumerate() {
            let c = f.trace[ti];
            if c == 0.0 {
                continue;
            }
            for (&p, &v) in f.pixels.iter().zip(&f.values) {
                frame[p as usize] -= v * c;
            }
        }
    }
}
