//! One neuron from one seed (CaImAn's `extract_ac`): its trace is the mean normalised filtered activity of the
//! pixels that correlate > 0.9 with the seed; its footprint is the coefficient of that trace when the raw data
//! in the box are regressed on [trace, constant], cleaned up (non-negative, decreasing away
//! from the peak, one connected piece), and the trace's baseline is removed.

use crate::extraction::deconv::noise::{NoiseMethod, psd_noise};

use super::cholesky::cholesky_solve;

/// Pixels correlating above this with the seed define the trace.
const MIN_CORR_NEURON: f32 = 0.9;

/// Footprint (box image, row-major `bh x bw`) and trace of one seed.
#[derive(Debug, Clone)]
pub struct Extracted {
    /// Footprint over the box.
    pub a: Vec<f32>,
    /// Trace, baseline removed (may be negative).
    pub c: Vec<f32>,
}

/// Extract a neuron from frame-major box data (`t x n`, `n = bh * bw`) of the filtered and the raw movie;
/// `ctr` is the seed's index in the box. `None` when the seed has no usable trace.
pub fn extract_ac(filtered: &[f32], raw: &[f32], t: usize, (bh, bw): (usize, usize), ctr: usize) -> Option<Extracted> {
    let n = bh * bw;
    // Centre and normalise each pixel's filtered series (unit norm), then correlate with the seed.
    let mut mean = vec![0f64; n];
    for f in filtered.chunks_exact(n) {
        mean.iter_mut().zip(f).for_each(|(m, &v)| *m += f64::from(v));
    }
    mean.iter_mut().for_each(|m| *m /= t as f64);
    let mut norm = vec![0f64; n];
    for f in filtered.chunks_exact(n) {
        for j in 0..n {
            let v = f64::from(f[j]) - mean[j];
            norm[j] += v * v;
        }
    }
    norm.iter_mut().for_each(|s| *s = if *s > 0.0 { s.sqrt() } else { 1.0 });
    let z = |ti: usize, j: usize| (f64::from(filtered[ti * n + j]) - mean[j]) / norm[j];
    let mut corr = vec![0f64; n];
    for ti in 0..t {
        let zc = z(ti, ctr);
        for (j, cj) in corr.iter_mut().enumerate() {
            *cj += zc * z(ti, j);
        }
    }
    let neuron: Vec<usize> = (0..n).filter(|&j| corr[j] > f64::from(MIN_CORR_NEURON)).collect();
    if neuron.is_empty() {
        return None;
    }
    let mut c: Vec<f64> =
        (0..t).map(|ti| neuron.iter().map(|&j| z(ti, j)).sum::<f64>() / neuron.len() as f64).collect();
    if c.iter().map(|v| v * v).sum::<f64>() == 0.0 {
        return None;
    }
    // Regressors: trace and constant. CaImAn adds the median raw value of the weakly correlated pixels as a local
    // background; with 1p neurons as large as the box, those pixels hold the neuron's own surround and the fit
    // then gave footprints ~6 x too small on our simulations, so it is left out.
    let cols: Vec<Vec<f64>> = vec![c.clone(), vec![1.0; t]];
    let a = regress_first(&cols, raw, t, n)?;
    let a = clean_footprint(a, bh, bw, ctr);
    // Baseline: median of the trace where it is flat or rising by less than its noise.
    let c32: Vec<f32> = c.iter().map(|&v| v as f32).collect();
    let sn = f64::from(psd_noise(&c32, [0.25, 0.5], NoiseMethod::Mean));
    let mut flat: Vec<f32> =
        (1..t).filter(|&ti| c[ti] - c[ti - 1] >= 0.0 && c[ti] - c[ti - 1] < sn).map(|ti| c32[ti]).collect();
    let b = if flat.is_empty() { 0.0 } else { median(&mut flat) };
    c.iter_mut().for_each(|v| *v -= b);
    if c.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(Extracted { a, c: c.iter().map(|&v| v as f32).collect() })
}

/// Per pixel, the coefficient of the first regressor in the least-squares fit of `raw` on `cols`.
fn regress_first(cols: &[Vec<f64>], raw: &[f32], t: usize, n: usize) -> Option<Vec<f32>> {
    let m = cols.len();
    let mut xx = vec![0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            xx[i * m + j] = cols[i].iter().zip(&cols[j]).map(|(a, b)| a * b).sum();
        }
    }
    let trace: f64 = (0..m).map(|i| xx[i * m + i]).sum();
    for i in 0..m {
        xx[i * m + i] += 1e-9 * trace;
    }
    // First row of (X^T X)^-1, then a_j = row . X^T raw_j.
    let mut e0 = vec![0f64; m];
    e0[0] = 1.0;
    let mut g = xx.clone();
    if !cholesky_solve(&mut g, m, &mut e0) {
        return None;
    }
    let mut a = vec![0f64; n];
    for ti in 0..t {
        let w: f64 = (0..m).map(|i| e0[i] * cols[i][ti]).sum();
        for (aj, &r) in a.iter_mut().zip(&raw[ti * n..(ti + 1) * n]) {
            *aj += w * f64::from(r);
        }
    }
    Some(a.iter().map(|&v| v as f32).collect())
}

/// Non-negative; pixels below a third of the peak whose value rises away from the peak dropped (CaImAn's
/// `circular_constraint`); only the 4-connected piece holding the peak nearest the seed kept.
fn clean_footprint(mut a: Vec<f32>, bh: usize, bw: usize, ctr: usize) -> Vec<f32> {
    a.iter_mut().for_each(|v| *v = v.max(0.0));
    // Peak within the seed's neighbourhood (the box may hold a brighter neighbour).
    let (cy, cx) = ((ctr / bw) as isize, (ctr % bw) as isize);
    let mut peak = ctr;
    for y in (cy - 2).max(0)..(cy + 3).min(bh as isize) {
        for x in (cx - 2).max(0)..(cx + 3).min(bw as isize) {
            let q = (y * bw as isize + x) as usize;
            if a[q] > a[peak] {
                peak = q;
            }
        }
    }
    let vmax = a[peak];
    if vmax <= 0.0 {
        return vec![0.0; a.len()];
    }
    let (py, px) = ((peak / bw) as f32, (peak % bw) as f32);
    let at = |y: isize, x: isize| a[(y.clamp(0, bh as isize - 1) as usize) * bw + x.clamp(0, bw as isize - 1) as usize];
    let mut drop = vec![false; a.len()];
    for y in 0..bh as isize {
        for x in 0..bw as isize {
            let q = y as usize * bw + x as usize;
            // Central differences (one-sided at the edges), as numpy's gradient.
            let fy = (at(y + 1, x) - at(y - 1, x)) / if y == 0 || y == bh as isize - 1 { 1.0 } else { 2.0 };
            let fx = (at(y, x + 1) - at(y, x - 1)) / if x == 0 || x == bw as isize - 1 { 1.0 } else { 2.0 };
            let outward = fx * (px - x as f32) + fy * (py - y as f32) < 0.0;
            drop[q] = outward && a[q] < vmax / 3.0;
        }
    }
    for (v, d) in a.iter_mut().zip(&drop) {
        if *d {
            *v = 0.0;
        }
    }
    // Connected piece (4-neighbours) of non-zero pixels holding the peak.
    let mut keep = vec![false; a.len()];
    let mut stack = vec![peak];
    keep[peak] = true;
    while let Some(q) = stack.pop() {
        let (y, x) = (q / bw, q % bw);
        let mut push = |r: usize| {
            if !keep[r] && a[r] > 0.0 {
                keep[r] = true;
                stack.push(r);
            }
        };
        if y > 0 {
            push(q - bw);
        }
        if y + 1 < bh {
            push(q + bw);
        }
        if x > 0 {
            push(q - 1);
        }
        if x + 1 < bw {
            push(q + 1);
        }
    }
    a.iter().zip(&keep).map(|(&v, &k)| if k { v } else { 0.0 }).collect()
}

/// Median (mean of the middle two for even lengths); reorders `v`.
fn median(v: &mut [f32]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    v.sort_unstable_by(f32::total_cmp);
    if n % 2 == 1 { f64::from(v[n / 2]) } else { 0.5 * (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) }
}
