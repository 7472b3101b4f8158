//! Separable Gaussian blur of a pixel-major movie (every pixel's time series is a vector; the blur mixes
//! neighbouring vectors), used to find where neurons are (greedy initialisation).

use rayon::prelude::*;

use super::grid::{Grid, Region};
use super::linalg::axpy;
use super::pixels::PixelMajor;

/// Normalised 1-D Gaussian taps of `sigma`, half-width `half`.
pub fn gaussian_taps(sigma: f64, half: usize) -> Vec<f32> {
    if sigma <= 0.0 || half == 0 {
        return vec![1.0];
    }
    let w: Vec<f64> = (-(half as i64)..=half as i64).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| (v / s) as f32).collect()
}

/// Blur along one axis with zero padding (pixel-major, parallel over output pixels).
fn blur_axis(y: &PixelMajor, grid: &Grid, axis: usize, taps: &[f32]) -> PixelMajor {
    let half = taps.len() / 2;
    let t = y.t;
    let mut out = vec![0f32; y.data.len()];
    out.par_chunks_mut(t).enumerate().for_each(|(p, o)| {
        // Written before the first read: a large zeroed allocation is fresh pages, and reading one first maps the
        // shared zero page, so the write faults a second time and flushes the other cores' TLBs (seen as seconds of
        // system time in CNMF's patch phase at 512x512x1000).
        o.fill(0.0);
        let c = grid.coords(p);
        for (i, &w) in taps.iter().enumerate() {
            let q = c[axis] as i64 + i as i64 - half as i64;
            if q < 0 || q >= grid.dims[axis] as i64 {
                continue;
            }
            let mut cc = c;
            cc[axis] = q as usize;
            axpy(w, y.series(grid.index(cc[0], cc[1], cc[2])), o);
        }
    });
    PixelMajor { d: y.d, t, data: out }
}

/// Gaussian blur over space with per-axis sigma and half-width (z, y, x).
pub fn blur_movie(y: &PixelMajor, grid: &Grid, sigma: [f64; 3], half: [usize; 3]) -> PixelMajor {
    let mut cur: Option<PixelMajor> = None;
    for axis in (0..3).rev() {
        let taps = gaussian_taps(sigma[axis], half[axis].min(grid.dims[axis].saturating_sub(1)));
        if taps.len() == 1 {
            continue;
        }
        let src = cur.as_ref().unwrap_or(y);
        cur = Some(blur_axis(src, grid, axis, &taps));
    }
    cur.unwrap_or_else(|| y.clone())
}

/// Blur of a small image given on `region` (zero outside), evaluated on the region grown by the kernel half-widths
/// (clipped to `grid`); returns the grown region and the values on it.
pub fn blur_patch(vals: &[f32], region: &Region, grid: &Grid, sigma: [f64; 3], half: [usize; 3]) -> (Region, Vec<f32>) {
    let lo: [usize; 3] = std::array::from_fn(|a| region.lo[a].saturating_sub(half[a]));
    let hi: [usize; 3] = std::array::from_fn(|a| (region.lo[a] + region.len[a] + half[a]).min(grid.dims[a]));
    let out_r = Region { lo, len: std::array::from_fn(|a| hi[a] - lo[a]) };
    // Embed, then blur axis by axis on the grown box.
    let mut cur = vec![0f32; out_r.size()];
    for (i, &v) in vals.iter().enumerate() {
        if let Some(l) = out_r.local(region.absolute(i)) {
            cur[l] = v;
        }
    }
    let len = out_r.len;
    for axis in (0..3).rev() {
        let taps = gaussian_taps(sigma[axis], half[axis]);
        if taps.len() == 1 {
            continue;
        }
        let hh = taps.len() / 2;
        let mut next = vec![0f32; cur.len()];
        for z in 0..len[0] {
            for y in 0..len[1] {
                for x in 0..len[2] {
                    let c = [z, y, x];
                    let mut s = 0.0;
                    for (i, &w) in taps.iter().enumerate() {
                        let q = c[axis] as i64 + i as i64 - hh as i64;
                        if q < 0 || q >= len[axis] as i64 {
                            continue;
                        }
                        let mut cc = c;
                        cc[axis] = q as usize;
                        s += w * cur[(cc[0] * len[1] + cc[1]) * len[2] + cc[2]];
                    }
                    next[(z * len[1] + y) * len[2] + x] = s;
                }
            }
        }
        cur = next;
    }
    (out_r, cur)
}
