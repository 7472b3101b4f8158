//! Greedy initialisation of CNMF (Pnevmatikakis et al. 2016): repeatedly take the pixel whose blurred time
//! series has the most energy, fit a rank-1 non-negative factor in a `gSiz` window around it, subtract it, repeat.

use rayon::prelude::*;

use super::blur::{blur_movie, blur_patch};
use super::footprint::Footprint;
use super::grid::{Grid, Region};
use super::linalg::{axpy, dot};
use super::model::Model;
use super::pixels::PixelMajor;

/// Seed map blur as a fraction of `gSig`: CaImAn blurs with `gSig` itself, which puts the energy maximum between
/// two adjacent cells (8 px apart at gSig 4); half of it keeps each cell its own maximum.
pub const SEED_BLUR: f64 = 0.5;

/// Settings of the greedy search, in (z, y, x) order.
#[derive(Debug, Clone, Copy)]
pub struct GreedySettings {
    /// Components to find.
    pub k: usize,
    /// Gaussian sigma of a neuron, px.
    pub gsig: [f64; 3],
    /// Half-width of the window fitted around a seed, px.
    pub half: [usize; 3],
    /// Pixels at the lateral borders never used as seeds.
    pub border: usize,
    /// Rank-1 refinement iterations per component.
    pub n_iter: usize,
}

/// Median of each pixel's time series.
pub fn pixel_medians(y: &PixelMajor) -> Vec<f32> {
    (0..y.d)
        .into_par_iter()
        .map(|p| {
            let mut s = y.series(p).to_vec();
            let m = s.len() / 2;
            let (_, v, _) = s.select_nth_unstable_by(m, f32::total_cmp);
            *v
        })
        .collect()
}

/// Find up to `k` components; returns footprints (unit norm, window support) and non-negative traces, and the
/// background initialised to the median image with a constant trace.
pub fn greedy_init(y: &PixelMajor, grid: &Grid, s: &GreedySettings) -> Model {
    let t = y.t;
    let med = pixel_medians(y);
    let mut yc = y.clone();
    yc.data.par_chunks_mut(t).zip(med.par_iter()).for_each(|(r, &m)| r.iter_mut().for_each(|v| *v -= m));
    let seed_sigma = s.gsig.map(|g| g * SEED_BLUR);
    let mut rho = blur_movie(&yc, grid, seed_sigma, s.half);
    let inside = |p: usize| {
        let c = grid.coords(p);
        c[1] >= s.border && c[1] + s.border < grid.dims[1] && c[2] >= s.border && c[2] + s.border < grid.dims[2]
    };
    let mut v: Vec<f32> =
        (0..y.d).into_par_iter().map(|p| if inside(p) { let r = rho.series(p); dot(r, r) } else { 0.0 }).collect();
    let mut comps = Vec::new();
    let mut traces = Vec::new();
    let mut tries = 0;
    while comps.len() < s.k && tries < 4 * s.k.max(1) {
        tries += 1;
        let Some((best, &vmax)) = v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else { break };
        if vmax <= 0.0 {
            break;
        }
        let centre = grid.coords(best);
        let region = Region::around(grid, centre, s.half);
        let pix = region.pixels(grid);
        // Rank-1 refinement starting from the blurred trace at the seed.
        let mut c = rho.series(best).to_vec();
        let mut a = vec![0f32; pix.len()];
        for _ in 0..s.n_iter.max(1) {
            let cc = dot(&c, &c);
            if cc <= 0.0 {
                break;
            }
            for (ai, &p) in a.iter_mut().zip(&pix) {
                *ai = dot(yc.series(p), &c).max(0.0);
            }
            let na = dot(&a, &a).sqrt();
            if na <= 0.0 {
                break;
            }
            a.iter_mut().for_each(|x| *x /= na);
            c.iter_mut().for_each(|x| *x = 0.0);
            for (&ai, &p) in a.iter().zip(&pix) {
                if ai > 0.0 {
                    axpy(ai, yc.series(p), &mut c);
                }
            }
        }
        if a.iter().all(|&x| x <= 0.0) {
            v[best] = 0.0;
            continue;
        }
        // Subtract a c^T from the data and (by linearity of the blur) blur(a) c^T from rho.
        for (&ai, &p) in a.iter().zip(&pix) {
            if ai > 0.0 {
                axpy(-ai, &c, &mut yc.data[p * t..(p + 1) * t]);
            }
        }
        let (br, ba) = blur_patch(&a, &region, grid, seed_sigma, s.half);
        for (l, &w) in ba.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            let q = br.absolute(l);
            let gi = grid.index(q[0], q[1], q[2]);
            axpy(-w, &c, &mut rho.data[gi * t..(gi + 1) * t]);
            if inside(gi) {
                let r = rho.series(gi);
                v[gi] = dot(r, r);
            }
        }
        v[best] = 0.0;
        c.iter_mut().for_each(|x| *x = x.max(0.0));
        comps.push(Footprint::new(region, a));
        traces.push(c);
    }
    Model { grid: *grid, comps, c: traces, b: Vec::new(), f: Vec::new() }
}
