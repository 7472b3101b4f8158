//! CNMF (2D) and 3D CNMF: greedy initialisation (whole field or patches), low-rank background, HALS refinement,
//! merging, optional refit, then deconvolution and evaluation.

use std::time::Instant;

use super::background::init_background;
use super::engine::{Engine, finalize, half3, pixel_noise, refine, sigma3};
use super::error::ExtractionError;
use super::greedy::{GreedySettings, greedy_init};
use super::grid::Grid;
use super::hals::update_temporal;
use super::merge::merge_components;
use super::mixtures::prune_mixtures;
use super::model::Model;
use super::params::CnmfParams;
use super::patches::{map_patches, patch_regions};
use super::pixels::PixelMajor;
use super::result::CnmfResult;

/// Initialise and fit one region (a patch, or the whole field) with `k` components and `nb` background ones.
pub fn fit_region(y: &PixelMajor, grid: &Grid, p: &CnmfParams, k: usize, nb: usize, border: usize, eng: &Engine) -> Result<Model, ExtractionError> {
    let settings = GreedySettings { k, gsig: sigma3(p), half: half3(p), border, n_iter: 5 };
    let mut m = greedy_init(y, grid, &settings);
    eng.check()?;
    init_background(&mut m, y, nb);
    update_temporal(&mut m, y, eng.products, 3);
    m.prune_empty();
    refine(&mut m, y, p, eng, p.iter.max(1))?;
    Ok(m)
}

/// Fit CNMF (2D or 3D by `dims`) to a pixel-major movie.
pub fn fit_cnmf(y: &PixelMajor, dims: &[usize], p: &CnmfParams, eng: &Engine) -> Result<CnmfResult, ExtractionError> {
    let grid = Grid::from_dims(dims);
    if grid.len() != y.d {
        return Err(ExtractionError::BadInput(format!("movie has {} pixels per frame, dims {dims:?} need {}", y.d, grid.len())));
    }
    let mut timings = Vec::new();
    let t0 = Instant::now();
    eng.progress.start("noise", 1);
    let sn = pixel_noise(y, p);
    eng.progress.advance(1);
    timings.push(("noise".into(), t0.elapsed().as_secs_f64()));
    let t1 = Instant::now();
    let mut model = match (&p.rf, &p.stride) {
        (Some(rf), stride) => {
            let stride = stride.clone().unwrap_or_else(|| rf.iter().map(|r| r / 2).collect());
            let regions = patch_regions(&grid, rf, &stride);
            eng.progress.start("patches", regions.len() as u64);
            let fitted = map_patches(&regions, |_, r| {
                let pix = r.pixels(&grid);
                let yp = y.gather(&pix);
                let pg = Grid { dims: r.len };
                let out = fit_region(&yp, &pg, p, p.k, p.nb_patch, 0, eng);
                eng.progress.advance(1);
                out.map(|m| (r.lo, m))
            });
            let mut all = Model { grid, comps: Vec::new(), c: Vec::new(), b: Vec::new(), f: Vec::new() };
            for res in fitted {
                let (lo, m) = res?;
                for (f, c) in m.comps.into_iter().zip(m.c) {
                    all.comps.push(f.shifted(lo));
                    all.c.push(c);
                }
            }
            timings.push(("patches".into(), t1.elapsed().as_secs_f64()));
            all
        }
        (None, _) => {
            eng.progress.start("initialisation", 1);
            let m = fit_region(y, &grid, p, p.k, p.nb.max(0) as usize, p.border_pix, eng)?;
            eng.progress.advance(1);
            timings.push(("fit".into(), t1.elapsed().as_secs_f64()));
            m
        }
    };
    eng.check()?;
    // Whole-field refinement: global background, duplicates from overlapping patches merged.
    let t2 = Instant::now();
    drop_border(&mut model, p.border_pix);
    if p.do_merge {
        merge_components(&mut model, p.merge_thr);
    }
    init_background(&mut model, y, p.nb.max(0) as usize);
    update_temporal(&mut model, y, eng.products, 3);
    model.prune_empty();
    let rounds = if p.rf.is_some() { p.iter.max(1) } else { 1 } + if p.refit { 2 } else { 0 };
    eng.progress.start("refinement", 1);
    refine(&mut model, y, p, eng, rounds)?;
    // Fragments and mixtures of neighbours out, then one more round so the neighbours take their signal back.
    if prune_mixtures(&mut model, 0.8, 0.1) > 0 {
        refine(&mut model, y, p, eng, 1)?;
    }
    eng.progress.advance(1);
    timings.push(("refinement".into(), t2.elapsed().as_secs_f64()));
    finalize(model, y, dims, p, eng, None, sn, timings)
}

/// Remove components centred within `border` pixels of the lateral edges.
fn drop_border(model: &mut Model, border: usize) {
    if border == 0 {
        return;
    }
    let g = model.grid;
    let keep: Vec<bool> = model
        .comps
        .iter()
        .map(|f| {
            let c = f.centroid();
            c[1] >= border as f64 && c[1] <= (g.dims[1] - 1 - border.min(g.dims[1] - 1)) as f64 && c[2] >= border as f64 && c[2] <= (g.dims[2] - 1 - border.min(g.dims[2] - 1)) as f64
        })
        .collect();
    model.retain(&keep);
}
