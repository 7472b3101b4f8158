//! CNMF-E's ring-model background (Zhou et al. 2018, eLife 7:e28728): each pixel's background fluctuation is a
//! linear combination of the residual on a thin ring around it, `B = W (Y - A C - b0) + b0`, with `W` fitted on a
//! grid downsampled `ssub_b` times.
//!
//! Conventions, as CaImAn (`compute_W`, `greedyROI_corr`'s `compute_B`):
//! * ring radius `r = round(ring_size_factor * gSiz / ssub_b)` coarse pixels (round half to even, as Python's
//!   `round`); the ring is the offsets with `r^2 < dy^2 + dx^2 <= (r + 1)^2`, clipped at the grid border;
//! * `b0` is the temporal mean of `Y - A C` per full-resolution pixel;
//! * downsampling is the block mean (partial blocks at the far edges), upsampling repeats each coarse value
//!   over its block (nearest neighbour, CaImAn's `np.repeat`);
//! * each pixel's weights solve `(X_r X_r^T + 1e-5 tr(X_r X_r^T) I) w = X_r x_p` (CaImAn's ridge).
//!
//! Difference from CaImAn: the fit uses the residual averaged over bins of consecutive frames, at most
//! [`RING_FIT_SAMPLES`] bins (the background fluctuates slowly, so the linear relation between a pixel and its
//! ring is the same in binned data; binning only lowers the noise). CaImAn does the same when `tsub > 1`.
//! The Gram matrices come from lagged covariance images (`lagcov.rs`), not from per-pixel products.

use ndarray::Array2;
use rayon::prelude::*;

use super::blocks::{block_mean, coarse_dims, coarse_index};
use super::cholesky::cholesky_solve;
use super::frames::{ac_frame, ac_into};
use super::lagcov::{CHUNK, ChunkedSeries, LagCov, LagSet};
use crate::extraction::ExtractionError;
use crate::extraction::movie::Movie;
use crate::extraction::products::{CpuProducts, FactorProducts};
use crate::extraction::result::RingBackground;
use crate::extraction::sparse::SparseColumns;
use crate::progress::Progress;

/// Most time samples (frame bins) the weights are fitted on; longer movies are averaged over consecutive frames.
pub const RING_FIT_SAMPLES: usize = 500;

/// Ridge added to each ring Gram matrix, relative to its trace (CaImAn's value).
const RIDGE: f64 = 1e-5;

/// Ring radius on the coarse grid, CaImAn's rule: `round(ring_size_factor * gSiz / ssub_b)`.
pub fn ring_radius(gsiz: usize, ring_size_factor: f64, ssub_b: usize) -> usize {
    (ring_size_factor * gsiz as f64 / ssub_b.max(1) as f64).round_ties_even().max(0.0) as usize
}

/// Offsets `(dy, dx)` of the one-pixel-thick ring of radius `r`: `r^2 < dy^2 + dx^2 <= (r + 1)^2`, row by row.
pub fn ring_offsets(r: usize) -> Vec<(i32, i32)> {
    let r = r as i32;
    let (lo, hi) = (r * r, (r + 1) * (r + 1));
    let mut out = Vec::new();
    for dy in -(r + 1)..=r + 1 {
        for dx in -(r + 1)..=r + 1 {
            let d2 = dy * dy + dx * dx;
            if d2 > lo && d2 <= hi {
                out.push((dy, dx));
            }
        }
    }
    out
}

fn check_inputs(y: &Movie, a: &SparseColumns, c: &Array2<f32>) -> Result<(usize, usize), ExtractionError> {
    let [h, w] = y.dims[..] else {
        return Err(ExtractionError::BadInput(format!(
            "the CNMF-E ring background is 2D only; got spatial dims {:?} (use 3D CNMF for volumes)",
            y.dims
        )));
    };
    if a.n_rows != y.d() || a.n_cols() != c.nrows() || c.ncols() != y.t {
        return Err(ExtractionError::BadInput(format!(
            "A is {} x {} and C is {} x {}, expected {} pixels and {} frames with one row of C per column of A",
            a.n_rows,
            a.n_cols(),
            c.nrows(),
            c.ncols(),
            y.d(),
            y.t
        )));
    }
    Ok((h, w))
}

/// Fit the ring model on `X = Y - A C`; `gsiz` is the neuron diameter (CaImAn's `gSiz`), px.
pub fn fit_ring(
    y: &Movie,
    a: &SparseColumns,
    c: &Array2<f32>,
    gsiz: usize,
    ring_size_factor: f64,
    ssub_b: usize,
    progress: &dyn Progress,
) -> Result<RingBackground, ExtractionError> {
    fit_ring_with(y, a, c, RingShape { gsiz, ring_size_factor, ssub_b }, &CpuProducts, progress)
}

/// The ring's geometry parameters (CaImAn's `gSiz`, `ring_size_factor`, `ssub_B`).
#[derive(Debug, Clone, Copy)]
pub struct RingShape {
    /// Neuron diameter, px.
    pub gsiz: usize,
    /// Ring radius relative to `gsiz`.
    pub ring_size_factor: f64,
    /// Spatial downsampling of the background.
    pub ssub_b: usize,
}

/// [`fit_ring`] with the lagged covariances from `products` (the GPU twin computes them on the device).
pub fn fit_ring_with(
    y: &Movie,
    a: &SparseColumns,
    c: &Array2<f32>,
    shape: RingShape,
    products: &dyn FactorProducts,
    progress: &dyn Progress,
) -> Result<RingBackground, ExtractionError> {
    let RingShape { gsiz, ring_size_factor, ssub_b } = shape;
    let (h, w) = check_inputs(y, a, c)?;
    if ssub_b == 0 || gsiz == 0 || ring_size_factor.is_nan() || ring_size_factor <= 0.0 {
        return Err(ExtractionError::BadParameter(format!(
            "ring background needs ssub_B >= 1, gSiz >= 1 and ring_size_factor > 0 (got {ssub_b}, {gsiz}, {ring_size_factor})"
        )));
    }
    let (d, t) = (y.d(), y.t);
    let (hd, wd) = coarse_dims(h, w, ssub_b);
    let ring = ring_offsets(ring_radius(gsiz, ring_size_factor, ssub_b));
    let lags = LagSet::for_ring(&ring);
    progress.start("CNMF-E ring background", (3 * hd) as u64);

    let b0 = baseline(y, a, c);
    let (x, within) = binned_residual(y, a, c, &b0, (h, w), ssub_b, progress)?;
    progress.advance(hd as u64);
    let cov = products.lag_covariances(&x, &lags, progress)?;
    drop(x);
    let cols = solve_weights(&cov, &within, &lags, &ring, (hd, wd), progress)?;

    let mut wmat = SparseColumns::new(hd * wd);
    for col in cols {
        wmat.push_col(col);
    }
    debug_assert_eq!(b0.len(), d);
    tracing::debug!(t, hd, wd, ring = ring.len(), lags = lags.lags.len(), "ring background fitted");
    Ok(RingBackground { w: wmat, b0, ssub_b, dims_ds: vec![hd, wd] })
}

/// `b0 = mean_t(Y) - A mean_t(C)` per full-resolution pixel.
fn baseline(y: &Movie, a: &SparseColumns, c: &Array2<f32>) -> Vec<f32> {
    let (d, t) = (y.d(), y.t);
    let per = t.div_ceil(rayon::current_num_threads().max(1) * 4).max(1);
    let sum = (0..t.div_ceil(per))
        .into_par_iter()
        .map(|blk| {
            let mut s = vec![0f64; d];
            for ti in blk * per..((blk + 1) * per).min(t) {
                for (acc, &v) in s.iter_mut().zip(y.frame(ti)) {
                    *acc += f64::from(v);
                }
            }
            s
        })
        .reduce(
            || vec![0f64; d],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let cmean: Vec<f32> = c.rows().into_iter().map(|r| r.mean().unwrap_or(0.0)).collect();
    let mut ac = vec![0f32; d];
    ac_into(a, |k| cmean[k], &mut ac);
    sum.iter().zip(&ac).map(|(&s, &m)| (s / t as f64) as f32 - m).collect()
}

/// Coarse residual `ds(Y - A C - b0)` averaged over bins of consecutive frames, each bin mean scaled by the square
/// root of its size (so products of binned series sum like products of frames), time-chunked; and per coarse
/// pixel the sum of squares within bins, which the binned products miss.
fn binned_residual(
    y: &Movie,
    a: &SparseColumns,
    c: &Array2<f32>,
    b0: &[f32],
    (h, w): (usize, usize),
    s: usize,
    progress: &dyn Progress,
) -> Result<(ChunkedSeries, Vec<f64>), ExtractionError> {
    let (d, t) = (y.d(), y.t);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    let bin = t.div_ceil(RING_FIT_SAMPLES).max(1);
    let samples = t.div_ceil(bin);
    let mut x = ChunkedSeries::zeros(hd, wd, samples);
    let within = x
        .data
        .par_chunks_mut(dd * CHUNK)
        .enumerate()
        .map(|(ch, block)| {
            if progress.cancelled() {
                return Err(ExtractionError::Cancelled);
            }
            let mut full = vec![0f32; d];
            let mut ac = vec![0f32; d];
            let mut coarse = vec![0f32; dd];
            let (mut sum, mut ss, mut within) = (vec![0f64; dd], vec![0f64; dd], vec![0f64; dd]);
            for j in ch * CHUNK..((ch + 1) * CHUNK).min(samples) {
                let (t0, t1) = (j * bin, ((j + 1) * bin).min(t));
                sum.fill(0.0);
                ss.fill(0.0);
                for ti in t0..t1 {
                    ac_frame(a, c, ti, &mut ac);
                    for (((f, &v), &m), &b) in full.iter_mut().zip(y.frame(ti)).zip(&ac).zip(b0) {
                        *f = v - m - b;
                    }
                    block_mean(&full, h, w, s, &mut coarse);
                    for ((su, sq), &v) in sum.iter_mut().zip(ss.iter_mut()).zip(&coarse) {
                        let v = f64::from(v);
                        *su += v;
                        *sq += v * v;
                    }
                }
                let n = (t1 - t0) as f64;
                let jj = j - ch * CHUNK;
                for q in 0..dd {
                    within[q] += (ss[q] - sum[q] * sum[q] / n).max(0.0);
                    block[q * CHUNK + jj] = (sum[q] / n.sqrt()) as f32;
                }
            }
            Ok(within)
        })
        .try_reduce(
            || vec![0f64; dd],
            |mut u, v| {
                u.iter_mut().zip(&v).for_each(|(a, b)| *a += b);
                Ok(u)
            },
        )?;
    Ok((x, within))
}

/// Least-squares ring weights of every coarse pixel, as (ring pixel, weight) columns.
fn solve_weights(
    cov: &LagCov,
    within: &[f64],
    lags: &LagSet,
    ring: &[(i32, i32)],
    (hd, wd): (usize, usize),
    progress: &dyn Progress,
) -> Result<Vec<Vec<(u32, f32)>>, ExtractionError> {
    let rows: Vec<Vec<Vec<(u32, f32)>>> = (0..hd)
        .into_par_iter()
        .map(|py| {
            if progress.cancelled() {
                return Err(ExtractionError::Cancelled);
            }
            let mut out = Vec::with_capacity(wd);
            let mut g = Vec::new();
            let mut rhs = Vec::new();
            let mut on = Vec::with_capacity(ring.len());
            for px in 0..wd {
                let (py, px) = (py as i32, px as i32);
                on.clear();
                on.extend(ring.iter().copied().filter(|&(dy, dx)| {
                    let (qy, qx) = (py + dy, px + dx);
                    qy >= 0 && qx >= 0 && qy < hd as i32 && qx < wd as i32
                }));
                let n = on.len();
                g.clear();
                g.resize(n * n, 0f64);
                rhs.clear();
                rhs.resize(n, 0f64);
                for (i, &(iy, ix)) in on.iter().enumerate() {
                    let (ay, ax) = (py + iy, px + ix);
                    for (j, &(jy, jx)) in on.iter().enumerate().skip(i) {
                        let v = f64::from(cov.pair(lags, ay, ax, jy - iy, jx - ix));
                        g[i * n + j] = v;
                        g[j * n + i] = v;
                    }
                    g[i * n + i] += within[(ay * wd as i32 + ax) as usize];
                    rhs[i] = f64::from(cov.pair(lags, ay, ax, -iy, -ix));
                }
                let trace: f64 = (0..n).map(|i| g[i * n + i]).sum();
                for i in 0..n {
                    g[i * n + i] += RIDGE * trace;
                }
                let ok = n > 0 && trace > 0.0 && cholesky_solve(&mut g, n, &mut rhs);
                let col = if ok {
                    on.iter()
                        .zip(&rhs)
                        .map(|(&(dy, dx), &v)| (((py + dy) as usize * wd + (px + dx) as usize) as u32, v as f32))
                        .collect()
                } else {
                    Vec::new()
                };
                out.push(col);
            }
            progress.advance(1);
            Ok(out)
        })
        .collect::<Result<_, _>>()?;
    Ok(rows.into_iter().flatten().collect())
}

/// One frame of the background, `B_t = up(W ds(y_t - ac_t - b0)) + b0`, written to `out` (full resolution);
/// upsampling is nearest neighbour (each coarse value repeated over its block), as CaImAn.
pub fn background_frame(ring: &RingBackground, dims: &[usize], y_t: &[f32], ac_t: &[f32], out: &mut [f32]) {
    let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    for (((o, &yv), &av), &b) in out.iter_mut().zip(y_t).zip(ac_t).zip(&ring.b0) {
        *o = yv - av - b;
    }
    let mut xd = vec![0f32; hd * wd];
    block_mean(out, h, w, s, &mut xd);
    let bd: Vec<f32> = (0..ring.w.n_cols())
        .map(|j| {
            let (idx, val) = ring.w.col(j);
            idx.iter().zip(val).map(|(&i, &v)| v * xd[i as usize]).sum()
        })
        .collect();
    for i in 0..h {
        for j in 0..w {
            out[i * w + j] = ring.b0[i * w + j] + bd[coarse_index(i, j, wd, s)];
        }
    }
}

/// Frames whose background is computed together, so applying `W` reads each weight once per batch and the
/// inner loop runs over contiguous frames.
const BATCH: usize = 8;

/// `Y - B` for every frame (the background-free movie CNMF-E's updates work on), parallel over batches of frames.
pub fn subtract_background(y: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> Movie {
    let d = y.d();
    let (h, w) = (y.dims[y.dims.len() - 2], y.dims[y.dims.len() - 1]);
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    let mut data = vec![0f32; d * y.t];
    data.par_chunks_mut(d * BATCH).enumerate().for_each_init(
        || (vec![0f32; d], vec![0f32; dd], vec![0f32; dd * BATCH], vec![0f32; dd * BATCH]),
        |(ac, coarse, xd, bd), (blk, out)| {
            let nf = out.len() / d;
            let t0 = blk * BATCH;
            // Coarse residual of each frame, stored frame-fastest: xd[i * BATCH + f].
            for (f, o) in out.chunks_mut(d).enumerate() {
                ac_frame(a, c, t0 + f, ac);
                for (((o, &yv), &av), &b) in o.iter_mut().zip(y.frame(t0 + f)).zip(ac.iter()).zip(&ring.b0) {
                    *o = yv - av - b;
                }
                block_mean(o, h, w, s, coarse);
                for (i, &v) in coarse.iter().enumerate() {
                    xd[i * BATCH + f] = v;
                }
            }
            for (j, bj) in bd.chunks_mut(BATCH).enumerate() {
                bj.fill(0.0);
                let (idx, val) = ring.w.col(j);
                for (&i, &v) in idx.iter().zip(val) {
                    let xi = &xd[i as usize * BATCH..(i as usize + 1) * BATCH];
                    for (b, &x) in bj.iter_mut().zip(xi) {
                        *b += v * x;
                    }
                }
            }
            // out held y - ac - b0; Y - B = y - b0 - up(W x) = out + ac - up(W x).
            for (f, o) in out.chunks_mut(d).enumerate().take(nf) {
                ac_frame(a, c, t0 + f, ac);
                for i in 0..h {
                    for jx in 0..w {
                        let p = i * w + jx;
                        o[p] += ac[p] - bd[coarse_index(i, jx, wd, s) * BATCH + f];
                    }
                }
            }
        },
    );
    Movie { dims: y.dims.clone(), t: y.t, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_and_ring_follow_caiman() {
        assert_eq!(ring_radius(11, 1.5, 2), 8); // 8.25
        assert_eq!(ring_radius(13, 1.5, 2), 10); // 9.75
        assert_eq!(ring_radius(10, 1.25, 1), 12); // 12.5 -> 12 (half to even)
        assert_eq!(ring_offsets(0).len(), 4);
        let r = ring_offsets(8);
        assert!(r.iter().all(|&(y, x)| y * y + x * x > 64 && y * y + x * x <= 81));
        assert!((44..=64).contains(&r.len()), "{}", r.len());
    }
}
