//! `Y - B` of the ring model as a pixel-major movie (the input of CNMF-E's updates; CPU twin of `ring.wgsl`) or a
//! frame-major one (the residual of the initialisation's later rounds), built from the movie in tiles of frames.
//!
//! `B = up(W ds(Y - A C - b0)) + b0` and downsampling is linear, so the coarse residual is `ds(Y) - ds(A) C - ds(b0)`:
//! per tile of [`TILE`] frames (in parallel) the coarse residual is laid out coarse-pixel-major and `W` is applied
//! as one `TILE`-wide multiply-add per weight; then (in parallel over blocks of pixels) the output rows are written
//! [`TILE`] frames at a time through a small transposing buffer. The movie is read twice and the result written
//! once; the only temporary is `W x` on the coarse grid (a quarter of the movie at `ssub_b` 2).

use ndarray::Array2;
use rayon::prelude::*;

use super::blocks::{block_mean, coarse_dims, coarse_index};
use crate::extraction::movie::Movie;
use crate::extraction::pixels::PixelMajor;
use crate::extraction::result::RingBackground;
use crate::extraction::sparse::SparseColumns;

/// Frames per tile: the coarse residual and its `W` product of one tile (coarse pixels x TILE floats each) stay in
/// cache, and each output row gets TILE contiguous values per write.
const TILE: usize = 64;
/// Pixels transposed together into the output.
const PIXEL_BLOCK: usize = 64;

/// Block means of each column of `a` on the coarse grid (`ds(A)`, so that `ds(A C) = ds(A) C`).
fn downsample_columns(a: &SparseColumns, h: usize, w: usize, s: usize) -> SparseColumns {
    let (hd, wd) = coarse_dims(h, w, s);
    let count = |i: usize| {
        let (bi, bj) = (i / wd, i % wd);
        ((h - bi * s).min(s) * (w - bj * s).min(s)) as f32
    };
    let mut out = SparseColumns::new(hd * wd);
    for k in 0..a.n_cols() {
        let (idx, val) = a.col(k);
        let mut entries: Vec<(u32, f32)> = idx
            .iter()
            .zip(val)
            .map(|(&p, &v)| {
                let p = p as usize;
                (coarse_index(p / w, p % w, wd, s) as u32, v)
            })
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(entries.len());
        for (i, v) in entries {
            match merged.last_mut() {
                Some(last) if last.0 == i => last.1 += v,
                _ => merged.push((i, v)),
            }
        }
        for e in &mut merged {
            e.1 /= count(e.0 as usize);
        }
        out.push_col(merged);
    }
    out
}

/// `bd[j] = sum_i W[i, j] xd[i]` for rows of TILE frames (compiled for AVX2 + FMA as well as the baseline, picked
/// at run time: this product is most of the work).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn apply_w(w: &SparseColumns, xd: &[f32], bd: &mut [f32]) {
    for (j, bj) in bd.chunks_exact_mut(TILE).enumerate() {
        let bj: &mut [f32; TILE] = bj.try_into().unwrap_or_else(|_| unreachable!("chunks of TILE"));
        let (idx, val) = w.col(j);
        for (&i, &v) in idx.iter().zip(val) {
            let i = i as usize * TILE;
            let xi: &[f32; TILE] = xd[i..i + TILE].try_into().unwrap_or_else(|_| unreachable!("a row of TILE"));
            for l in 0..TILE {
                bj[l] += v * xi[l];
            }
        }
    }
}

/// `W ds(Y - A C - b0)` on the coarse grid for every frame, in tiles: entry `[tile][i][k]` is coarse pixel `i` at
/// frame `tile * TILE + k` (tiles of frames in parallel).
fn coarse_background(movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> Vec<f32> {
    let (h, w) = (movie.dims[movie.dims.len() - 2], movie.dims[movie.dims.len() - 1]);
    let t = movie.t;
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    let a_ds = downsample_columns(a, h, w, s);
    let mut b0_ds = vec![0f32; dd];
    block_mean(&ring.b0, h, w, s, &mut b0_ds);
    let mut bd = vec![0f32; t.div_ceil(TILE) * dd * TILE];
    bd.par_chunks_mut(dd * TILE).enumerate().for_each_init(
        || (vec![0f32; dd], vec![0f32; dd * TILE]),
        |(coarse, xd), (ti, bd_tile)| {
            let f0 = ti * TILE;
            for k in 0..TILE.min(t - f0) {
                let f = f0 + k;
                block_mean(movie.frame(f), h, w, s, coarse);
                for (cv, &b) in coarse.iter_mut().zip(&b0_ds) {
                    *cv -= b;
                }
                for kc in 0..a_ds.n_cols() {
                    let ck = c[[kc, f]];
                    if ck != 0.0 {
                        let (idx, val) = a_ds.col(kc);
                        for (&i, &v) in idx.iter().zip(val) {
                            coarse[i as usize] -= v * ck;
                        }
                    }
                }
                for (i, &v) in coarse.iter().enumerate() {
                    xd[i * TILE + k] = v;
                }
            }
            apply_w(&ring.w, xd, bd_tile);
        },
    );
    bd
}

/// `Y - B` (ring model) as a pixel-major movie.
pub fn background_subtracted(movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> PixelMajor {
    let (h, w) = (movie.dims[movie.dims.len() - 2], movie.dims[movie.dims.len() - 1]);
    let (d, t) = (movie.d(), movie.t);
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    let bd = coarse_background(movie, a, c, ring);
    // Blocks of pixels in parallel: each output row is y - b0 - bd of its coarse pixel, TILE frames at a time
    // through a small transposing buffer (frames read along pixels, rows written along time).
    let mut out = PixelMajor { d, t, data: vec![0f32; d * t] };
    out.data.par_chunks_mut(PIXEL_BLOCK * t).enumerate().for_each_init(
        || vec![0f32; TILE * PIXEL_BLOCK],
        |tile, (pb, rows)| {
            let p0 = pb * PIXEL_BLOCK;
            let np = rows.len() / t;
            for f0 in (0..t).step_by(TILE) {
                let n = TILE.min(t - f0);
                for k in 0..n {
                    tile[k * PIXEL_BLOCK..k * PIXEL_BLOCK + np].copy_from_slice(&movie.frame(f0 + k)[p0..p0 + np]);
                }
                let bd_tile = &bd[(f0 / TILE) * dd * TILE..];
                for (pp, row) in rows.chunks_exact_mut(t).enumerate() {
                    let p = p0 + pp;
                    let b0 = ring.b0[p];
                    let bdp = &bd_tile[coarse_index(p / w, p % w, wd, s) * TILE..];
                    for (k, o) in row[f0..f0 + n].iter_mut().enumerate() {
                        *o = tile[k * PIXEL_BLOCK + pp] - b0 - bdp[k];
                    }
                }
            }
        },
    );
    out
}

/// `Y - B` (ring model) as a frame-major movie (the residual CNMF-E's later seeding rounds search).
pub fn background_subtracted_frames(movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> Movie {
    let (h, w) = (movie.dims[movie.dims.len() - 2], movie.dims[movie.dims.len() - 1]);
    let d = movie.d();
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    let bd = coarse_background(movie, a, c, ring);
    let coarse_of: Vec<usize> = (0..d).map(|p| coarse_index(p / w, p % w, wd, s)).collect();
    let mut data = vec![0f32; d * movie.t];
    data.par_chunks_mut(d).enumerate().for_each(|(f, out)| {
        let bd_f = &bd[(f / TILE) * dd * TILE + f % TILE..];
        for (((o, &y), &b0), &ci) in out.iter_mut().zip(movie.frame(f)).zip(&ring.b0).zip(&coarse_of) {
            *o = y - b0 - bd_f[ci * TILE];
        }
    });
    Movie { dims: movie.dims.clone(), t: movie.t, data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extraction::cnmfe::{fit_ring, subtract_background};
    use crate::progress::NoProgress;

    /// Against the frame-major definition (`subtract_background`), with partial coarse blocks, a partial last tile
    /// and several pixel blocks, for downsampling 1, 2 and 3.
    #[test]
    fn matches_the_frame_major_definition() {
        let (h, w, t) = (19, 27, 150);
        let d = h * w;
        let mut a = SparseColumns::new(d);
        for (cy, cx) in [(4usize, 5usize), (12, 20), (9, 9)] {
            let entries = (0..d)
                .filter_map(|p| {
                    let r2 = ((p / w) as f32 - cy as f32).powi(2) + ((p % w) as f32 - cx as f32).powi(2);
                    (r2 < 12.0).then(|| (p as u32, (-r2 / 5.0).exp()))
                })
                .collect();
            a.push_col(entries);
        }
        let c = Array2::from_shape_fn((3, t), |(k, f)| ((f * (k + 3)) % 17) as f32 * 0.7);
        let data: Vec<f32> = (0..d * t).map(|i| 100.0 + ((i * 7919) % 101) as f32 * 0.05 + ((i / d) as f32 * 0.03).sin() * 4.0).collect();
        let movie = Movie { dims: vec![h, w], t, data };
        for s in [1usize, 2, 3] {
            let ring = fit_ring(&movie, &a, &c, 5, 1.4, s, &NoProgress).expect("ring");
            let want = subtract_background(&movie, &a, &c, &ring);
            let got = background_subtracted(&movie, &a, &c, &ring);
            let err = (0..d * t).map(|i| (got.data[(i % d) * t + i / d] - want.data[i]).abs()).fold(0f32, f32::max);
            assert!(err < 1e-3, "ssub {s}: {err}");
            let frames = background_subtracted_frames(&movie, &a, &c, &ring);
            let err = frames.data.iter().zip(&want.data).map(|(g, w)| (g - w).abs()).fold(0f32, f32::max);
            assert!(err < 1e-3, "ssub {s}, frame-major: {err}");
        }
    }
}
