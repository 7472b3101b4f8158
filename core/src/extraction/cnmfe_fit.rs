//! CNMF-E fit (Zhou et al. 2018): correlation / PNR initialisation, then rounds of ring-background estimation and
//! the shared HALS updates on the background-subtracted movie, then deconvolution and evaluation.

use std::time::Instant;

use ndarray::Array2;

use super::cnmfe::{RingShape, fit_ring_with, init_corr_pnr_with};
use super::engine::{Engine, finalize, pixel_noise, refine, support_radius};
use super::error::ExtractionError;
use super::footprint::Footprint;
use super::grid::Grid;
use super::hals::update_temporal;
use super::mixtures::prune_mixtures;
use super::model::Model;
use super::movie::Movie;
use super::params::CnmfParams;
use super::result::{CnmfResult, RingBackground};
use super::sparse::SparseColumns;

/// Footprints and traces as a model without low-rank background (the ring model is subtracted from the data).
fn to_model(grid: Grid, a: &SparseColumns, c: &Array2<f32>, p: &CnmfParams) -> Model {
    let radius = support_radius(p);
    let mut comps = Vec::new();
    let mut traces = Vec::new();
    for k in 0..a.n_cols() {
        if let Some(mut f) = Footprint::from_sparse(a, k, &grid) {
            f.reshape_support(&grid, 0.05, radius);
            comps.push(f);
            traces.push(c.row(k).to_vec());
        }
    }
    let mut m = Model { grid, comps, c: traces, b: Vec::new(), f: Vec::new() };
    super::hals::normalise(&mut m);
    m
}

fn traces_of(m: &Model, t: usize) -> Array2<f32> {
    let mut c = Array2::<f32>::zeros((m.k(), t));
    for (i, r) in m.c.iter().enumerate() {
        c.row_mut(i).iter_mut().zip(r).for_each(|(o, v)| *o = *v);
    }
    c
}

/// The ring geometry of `p` (`gSiz` as the neuron diameter, 11 px when unset).
fn ring_shape(p: &CnmfParams) -> RingShape {
    RingShape { gsiz: p.gsiz.last().copied().unwrap_or(11), ring_size_factor: p.ring_size_factor, ssub_b: p.ssub_b }
}

/// Seed footprints from another result (`Ain`): traces from a temporal update on the ring-subtracted movie.
fn seeded(movie: &Movie, ain: &SparseColumns, p: &CnmfParams, eng: &Engine) -> Result<(SparseColumns, Array2<f32>, RingBackground), ExtractionError> {
    if ain.n_rows != movie.d() {
        return Err(ExtractionError::BadParameter(format!("Ain has {} pixels, the movie {}", ain.n_rows, movie.d())));
    }
    let zero = Array2::<f32>::zeros((ain.n_cols(), movie.t));
    let ring = fit_ring_with(movie, ain, &zero, ring_shape(p), eng.products, eng.progress)?;
    let yb = eng.products.ring_subtracted(movie, ain, &zero, &ring);
    let grid = Grid::from_dims(&movie.dims);
    let mut m = to_model(grid, ain, &zero, p);
    m.c.iter_mut().for_each(|c| c.iter_mut().for_each(|v| *v = 1.0));
    update_temporal(&mut m, &yb, eng.products, 5);
    let a = m.a_sparse();
    let c = traces_of(&m, movie.t);
    let ring = fit_ring_with(movie, &a, &c, ring_shape(p), eng.products, eng.progress)?;
    Ok((a, c, ring))
}

/// Fit CNMF-E to a 2D movie; `ain` seeds the footprints instead of the correlation / PNR initialisation.
pub fn fit_cnmfe(movie: &Movie, p: &CnmfParams, ain: Option<&SparseColumns>, eng: &Engine) -> Result<CnmfResult, ExtractionError> {
    if movie.is_3d() {
        return Err(ExtractionError::BadInput(format!("CNMF-E is 2D only; got spatial dims {:?} (use cnmf for volumes)", movie.dims)));
    }
    let mut timings = Vec::new();
    let t0 = Instant::now();
    let (mut a, mut c, mut ring) = match ain {
        Some(ain) => seeded(movie, ain, p, eng)?,
        None => {
            let init = init_corr_pnr_with(movie, p, eng.products, eng.progress)?;
            (init.a, init.c, init.ring)
        }
    };
    timings.push(("initialisation".into(), t0.elapsed().as_secs_f64()));
    eng.check()?;
    let grid = Grid::from_dims(&movie.dims);
    let rounds = p.iter.max(1);
    let t1 = Instant::now();
    eng.progress.start("CNMF-E updates", rounds as u64);
    let mut model = to_model(grid, &a, &c, p);
    let mut yb = eng.products.ring_subtracted(movie, &a, &c, &ring);
    for round in 0..rounds {
        eng.check()?;
        let last = round + 1 == rounds;
        refine(&mut model, &yb, p, eng, 1)?;
        if last && prune_mixtures(&mut model, 0.8, 0.1) > 0 {
            refine(&mut model, &yb, p, eng, 1)?;
        }
        if !last {
            // The ring is refitted between rounds; the last round keeps the background it was fitted against.
            a = model.a_sparse();
            c = traces_of(&model, movie.t);
            ring = fit_ring_with(movie, &a, &c, ring_shape(p), eng.products, eng.progress)?;
            drop(yb);
            yb = eng.products.ring_subtracted(movie, &a, &c, &ring);
            update_temporal(&mut model, &yb, eng.products, 3);
            model.prune_empty();
        }
        eng.progress.advance(1);
    }
    timings.push(("updates".into(), t1.elapsed().as_secs_f64()));
    let sn = pixel_noise(&yb, p);
    finalize(model, &yb, &movie.dims, p, eng, Some(ring), sn, timings)
}
