//! Mean correlation of each pixel with its 8 (2D) or 26 (3D) neighbours, over per-pixel standardised time series.
//!
//! Each pixel's value is turned into `z = (d >= thr ? d * scale : 0) + offset` with `d = x - mean`, so the same pass
//! serves the plain local correlation (`thr = -inf`, `scale = 1 / std`) and CNMF-E's correlation of thresholded
//! data (`thr = 3 sn`). The image is `mean_t(z_p * sum_{q in N(p)} z_q) / |N(p)|`, as CaImAn's
//! `local_correlations_fft` computes it. Products are accumulated once per neighbour pair (the 4 or 13 forward
//! neighbours), over bands of image rows in parallel, frames streamed in blocks with f32 partial sums flushed to f64.

use rayon::prelude::*;

use crate::extraction::ExtractionError;
use crate::progress::Progress;

/// How one pixel's values become standardised values `z`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardise {
    /// Subtracted first.
    pub mean: f32,
    /// Values with `x - mean` below this contribute `offset` only.
    pub thr: f32,
    /// Multiplies `x - mean` where kept.
    pub scale: f32,
    /// Added to every value.
    pub offset: f32,
}

impl Standardise {
    /// A pixel whose standardised series is all zeros (constant pixels: CaImAn divides by an infinite std).
    pub const ZERO: Self = Self { mean: 0.0, thr: f32::INFINITY, scale: 0.0, offset: 0.0 };
}

/// Frames summed in f32 before the partial sums are added to the f64 totals.
const FRAME_BLOCK: usize = 128;

/// Lateral `(Z, H, W)` of 2D `[H, W]` or 3D `[Z, H, W]` dims.
pub(crate) fn zhw(dims: &[usize]) -> (usize, usize, usize) {
    match dims {
        [h, w] => (1, *h, *w),
        [z, h, w] => (*z, *h, *w),
        _ => (1, 1, dims.iter().product()),
    }
}

/// The neighbour offsets `(dz, dy, dx)` that come after the centre in C order (one per neighbour pair).
fn forward_offsets(nz: usize) -> Vec<(isize, isize, isize)> {
    let mut v = Vec::new();
    for dz in -1isize..=1 {
        for dy in -1isize..=1 {
            for dx in -1isize..=1 {
                if (dz, dy, dx) > (0, 0, 0) && (nz > 1 || dz == 0) {
                    v.push((dz, dy, dx));
                }
            }
        }
    }
    v
}

/// The neighbour-correlation image of frame-major `data` (`t` frames of `dims`) standardised per pixel by `z`.
pub fn neighbour_correlation(
    data: &[f32],
    dims: &[usize],
    t: usize,
    z: &[Standardise],
    progress: &dyn Progress,
) -> Result<Vec<f32>, ExtractionError> {
    let (nz, h, w) = zhw(dims);
    let d = nz * h * w;
    let lines = nz * h;
    let offs = forward_offsets(nz);
    let halo = if nz > 1 { h + 1 } else { 1 };
    let band = if nz > 1 { (2 * h).max(8) } else { 8 }.min(lines);
    let nbands = lines.div_ceil(band);
    progress.start("correlation image", nbands as u64);
    let partial: Vec<Vec<f64>> = (0..nbands)
        .into_par_iter()
        .map(|b| {
            let l0 = b * band;
            let l1 = (l0 + band).min(lines);
            let lz = (l1 + halo).min(lines);
            let out = band_products(data, (nz, h, w), t, z, &offs, (l0, l1, lz), progress)?;
            progress.advance(1);
            Ok(out)
        })
        .collect::<Result<_, ExtractionError>>()?;
    // Scatter each pair's sum to both of its pixels, then divide by T times the number of in-bounds neighbours.
    let mut sums = vec![0.0f64; d];
    let nb = offs.len();
    for (b, part) in partial.iter().enumerate() {
        let p0 = b * band * w;
        let np = part.len() / nb;
        for (k, &(dz, dy, dx)) in offs.iter().enumerate() {
            let o = dz * (h * w) as isize + dy * w as isize + dx;
            for i in 0..np {
                let v = part[k * np + i];
                if v != 0.0 {
                    let p = p0 + i;
                    sums[p] += v;
                    sums[(p as isize + o) as usize] += v;
                }
            }
        }
    }
    let count = |n: usize, i: usize| if n == 1 { 1 } else { 1 + usize::from(i > 0) + usize::from(i + 1 < n) };
    let mut img = vec![0.0f32; d];
    for zi in 0..nz {
        for y in 0..h {
            for x in 0..w {
                let p = (zi * h + y) * w + x;
                let n = count(nz, zi) * count(h, y) * count(w, x) - 1;
                img[p] = if n == 0 { 0.0 } else { (sums[p] / (t as f64 * n as f64)) as f32 };
            }
        }
    }
    Ok(img)
}

/// Sums over time of `z_p * z_{p + o}` for the pixels of lines `[l0, l1)` and each forward offset `o`
/// (`offs.len()` planes of the band's size, zero where the neighbour is out of bounds). Compiled for AVX2 as well as
/// the baseline, picked at run time (same arithmetic, wider vectors).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn band_products(
    data: &[f32],
    (nz, h, w): (usize, usize, usize),
    t: usize,
    z: &[Standardise],
    offs: &[(isize, isize, isize)],
    (l0, l1, lz): (usize, usize, usize),
    progress: &dyn Progress,
) -> Result<Vec<f64>, ExtractionError> {
    let d = nz * h * w;
    let np = (l1 - l0) * w;
    let nzv = (lz - l0) * w;
    let zpar = &z[l0 * w..lz * w];
    let mut acc64 = vec![0.0f64; offs.len() * np];
    let mut acc32 = vec![0.0f32; offs.len() * np];
    let mut zbuf = vec![0.0f32; nzv];
    for f0 in (0..t).step_by(FRAME_BLOCK) {
        if progress.cancelled() {
            return Err(ExtractionError::Cancelled);
        }
        acc32.fill(0.0);
        for f in f0..(f0 + FRAME_BLOCK).min(t) {
            let src = &data[f * d + l0 * w..f * d + lz * w];
            for ((zv, &x), s) in zbuf.iter_mut().zip(src).zip(zpar) {
                let dv = x - s.mean;
                *zv = if dv >= s.thr { dv * s.scale } else { 0.0 } + s.offset;
            }
            for line in l0..l1 {
                let (zi, y) = (line / h, line % h);
                let row = (line - l0) * w;
                for (k, &(dz, dy, dx)) in offs.iter().enumerate() {
                    let (z2, y2) = (zi as isize + dz, y as isize + dy);
                    if z2 < 0 || z2 >= nz as isize || y2 < 0 || y2 >= h as isize {
                        continue;
                    }
                    let row2 = (z2 as usize * h + y2 as usize - l0) * w;
                    let (xa, xb) = ((-dx).max(0) as usize, w - dx.max(0) as usize);
                    let a = &zbuf[row + xa..row + xb];
                    let bsrc = (row2 as isize + xa as isize + dx) as usize;
                    let bv = &zbuf[bsrc..bsrc + (xb - xa)];
                    let accr = &mut acc32[k * np + row + xa..k * np + row + xb];
                    for ((o, &u), &v) in accr.iter_mut().zip(a).zip(bv) {
                        *o += u * v;
                    }
                }
            }
        }
        for (a, &b) in acc64.iter_mut().zip(&acc32) {
            *a += b as f64;
        }
    }
    Ok(acc64)
}
