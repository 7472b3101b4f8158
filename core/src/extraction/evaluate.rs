//! Component evaluation as CaImAn's `estimate_components_quality_auto` without the CNN: the SNR of each trace
//! from event exceptionality (`min_SNR`, `SNR_lowest`) and the spatial correlation of each footprint with the data
//! during its strongest events (`rval_thr`, `rval_lowest`). There is no CNN classifier in Mesmerize-RS.

use rayon::prelude::*;

use super::linalg::pearson;
use super::model::Model;
use super::pixels::PixelMajor;
use super::stats::{half_sample_mode, ln_normal_sf, normal_ppf_ln};

/// Thresholds of the evaluation (CaImAn's names).
#[derive(Debug, Clone, Copy)]
pub struct EvalThresholds {
    /// `min_SNR`.
    pub min_snr: f64,
    /// `SNR_lowest`.
    pub snr_lowest: f64,
    /// `rval_thr`.
    pub rval_thr: f64,
    /// `rval_lowest`.
    pub rval_lowest: f64,
    /// Samples an event lasts: `ceil(fr * decay_time)`.
    pub n_samples: usize,
}

/// SNR of a raw trace from event exceptionality: the least probable run of `n` samples under the noise model
/// (mode and lower-half std), converted to a z-score.
pub fn event_snr(trace: &[f32], n: usize) -> f32 {
    let n = n.max(1);
    let md = half_sample_mode(trace);
    let (mut ss, mut cnt) = (0f64, 0usize);
    for &v in trace {
        let d = (v - md) as f64;
        if d < 0.0 {
            ss += d * d;
            cnt += 1;
        }
    }
    if cnt == 0 || ss <= 0.0 {
        return 0.0;
    }
    let sd = (ss / cnt as f64).sqrt();
    let logp: Vec<f64> = trace.iter().map(|&v| ln_normal_sf((v - md) as f64 / (3.0 * sd))).collect();
    // Moving sum over n samples ('full' convolution cut to T: windows ending at each sample).
    let mut best = f64::INFINITY;
    let mut run = 0.0;
    for i in 0..logp.len() {
        run += logp[i];
        if i >= n {
            run -= logp[i - n];
        }
        best = best.min(run);
    }
    (-normal_ppf_ln(best / n as f64)) as f32
}

/// Up to `npeaks` frame windows around the strongest local maxima of `c` (at least 30 % of its range above its
/// minimum), as CaImAn's `find_activity_intervals`: frames `peak - 3 ..= peak + 10`... shortened at the ends.
fn active_frames(c: &[f32], npeaks: usize) -> Vec<usize> {
    let t = c.len();
    let (mn, mx) = c.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if mx.partial_cmp(&mn) != Some(std::cmp::Ordering::Greater) {
        return Vec::new();
    }
    let thr = mn + 0.3 * (mx - mn);
    let mut peaks: Vec<usize> = (1..t.saturating_sub(1)).filter(|&i| c[i] >= thr && c[i] >= c[i - 1] && c[i] > c[i + 1]).collect();
    peaks.sort_by(|&a, &b| c[b].total_cmp(&c[a]));
    peaks.truncate(npeaks);
    let mut frames: Vec<usize> = peaks.iter().flat_map(|&p| p.saturating_sub(3)..(p + 11).min(t)).collect();
    frames.sort_unstable();
    frames.dedup();
    frames
}

/// Spatial correlation of each footprint with the mean data (background removed) over the component's active
/// frames, on the pixels where the footprint exceeds 10 % of its peak (CaImAn's `classify_components_ep`). Frames
/// where a strongly overlapping component (footprint cosine > 0.1) is active are left out, so that a fragment of a
/// neighbour cannot borrow the neighbour's events; when nothing is left the component's own frames are used.
pub fn r_values(model: &Model, y: &PixelMajor) -> Vec<f32> {
    let nbrs = model.neighbours();
    let frames: Vec<Vec<usize>> = model.c.par_iter().map(|c| active_frames(c, 5)).collect();
    (0..model.k())
        .into_par_iter()
        .map(|k| {
            let fk = &model.comps[k];
            let nk = fk.norm();
            let mut own: Vec<usize> = frames[k].clone();
            for &j in &nbrs[k] {
                let fj = &model.comps[j];
                let cos = fk.dot(fj) / (nk * fj.norm()).max(f32::MIN_POSITIVE);
                if cos > 0.1 {
                    own.retain(|t| frames[j].binary_search(t).is_err());
                }
            }
            let use_frames = if own.is_empty() { &frames[k] } else { &own };
            if use_frames.is_empty() {
                return 0.0;
            }
            let thr = 0.1 * fk.max();
            let mut a = Vec::new();
            let mut r = Vec::new();
            for (l, &v) in fk.vals.iter().enumerate() {
                if v <= thr {
                    continue;
                }
                let p = fk.region.absolute(l);
                let gi = model.grid.index(p[0], p[1], p[2]);
                let ys = y.series(gi);
                let mut s = 0f32;
                for &t in use_frames {
                    let mut x = ys[t];
                    for (m, b) in model.b.iter().enumerate() {
                        x -= b[gi] * model.f[m][t];
                    }
                    s += x;
                }
                a.push(v);
                r.push(s / use_frames.len() as f32);
            }
            pearson(&a, &r) as f32
        })
        .collect()
}

/// Accepted and rejected component indices: accepted when (SNR >= min_SNR or r >= rval_thr) and neither is
/// below its lowest bound (CaImAn's rule without the CNN).
pub fn classify(snr: &[f32], rval: &[f32], th: &EvalThresholds) -> (Vec<usize>, Vec<usize>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (i, (&s, &r)) in snr.iter().zip(rval).enumerate() {
        let (s, r) = (s as f64, r as f64);
        let pass = (s >= th.min_snr || r >= th.rval_thr) && s >= th.snr_lowest && r > th.rval_lowest;
        if pass { good.push(i) } else { bad.push(i) }
    }
    (good, bad)
}
