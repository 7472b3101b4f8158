//! Scoring a result against the simulator's ground truth: one-to-one matching of footprint centroids within a
//! distance, detection precision / recall / F1, and the correlation of matched traces with the true calcium.

use serde::Serialize;

use super::footprint::Footprint;
use super::grid::Grid;
use super::linalg::pearson;
use super::result::CnmfResult;
use crate::simulate::Truth;

/// Detection and trace quality of a result.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// Components scored (accepted ones, or all).
    pub n_found: usize,
    /// True neurons.
    pub n_true: usize,
    /// Matched pairs.
    pub matched: usize,
    /// matched / n_found.
    pub precision: f64,
    /// matched / n_true.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Median Pearson correlation of matched traces (`C`) with the true calcium traces.
    pub median_trace_r: f64,
}

/// Value-weighted centroids (z, y, x) of the columns of a sparse footprint matrix.
pub fn centroids(r: &CnmfResult) -> Vec<[f64; 3]> {
    let grid = Grid::from_dims(&r.dims);
    (0..r.k()).map(|k| Footprint::from_sparse(&r.a, k, &grid).map_or([f64::NAN; 3], |f| f.centroid())).collect()
}

/// Pairs (found, true) matched one-to-one, nearest first, with centroid distance at most `max_dist` px.
pub fn match_centroids(found: &[[f64; 3]], truth: &[[f64; 3]], max_dist: f64) -> Vec<(usize, usize)> {
    let mut cand = Vec::new();
    for (i, a) in found.iter().enumerate() {
        for (j, b) in truth.iter().enumerate() {
            let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
            if d <= max_dist {
                cand.push((d, i, j));
            }
        }
    }
    cand.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut used_f = vec![false; found.len()];
    let mut used_t = vec![false; truth.len()];
    let mut out = Vec::new();
    for (_, i, j) in cand {
        if !used_f[i] && !used_t[j] {
            used_f[i] = true;
            used_t[j] = true;
            out.push((i, j));
        }
    }
    out
}

/// Centroids of the true footprints as sampled on the grid (same definition as ours, so border neurons agree).
pub fn truth_centroids(truth: &Truth) -> Vec<[f64; 3]> {
    let (h, w) = (truth.height, truth.width);
    (0..truth.n_neurons())
        .map(|k| {
            let f = truth.footprint(k);
            let mut acc = [0f64; 3];
            let mut s = 0f64;
            for (i, &v) in f.iter().enumerate() {
                if v > 0.0 {
                    let (z, y, x) = (i / (h * w), (i / w) % h, i % w);
                    acc[0] += v as f64 * z as f64;
                    acc[1] += v as f64 * y as f64;
                    acc[2] += v as f64 * x as f64;
                    s += v as f64;
                }
            }
            if s > 0.0 {
                acc.map(|a| a / s)
            } else {
                [truth.neurons[k].cz, truth.neurons[k].cy, truth.neurons[k].cx]
            }
        })
        .collect()
}

/// Score the accepted components (or all of them) against the truth, matching within `max_dist` px.
pub fn score(r: &CnmfResult, truth: &Truth, accepted_only: bool, max_dist: f64) -> Score {
    let all = centroids(r);
    let idx: Vec<usize> = if accepted_only { r.idx_components.clone() } else { (0..r.k()).collect() };
    let found: Vec<[f64; 3]> = idx.iter().map(|&i| all[i]).collect();
    let tc = truth_centroids(truth);
    let pairs = match_centroids(&found, &tc, max_dist);
    let mut rs: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| {
            let row = r.c.row(idx[i]);
            let c: Vec<f32> = row.iter().copied().collect();
            pearson(&c, truth.trace(j))
        })
        .collect();
    rs.sort_by(f64::total_cmp);
    let median = if rs.is_empty() {
        0.0
    } else if rs.len() % 2 == 1 {
        rs[rs.len() / 2]
    } else {
        0.5 * (rs[rs.len() / 2 - 1] + rs[rs.len() / 2])
    };
    let (nf, nt, m) = (found.len(), tc.len(), pairs.len());
    let precision = if nf > 0 { m as f64 / nf as f64 } else { 0.0 };
    let recall = if nt > 0 { m as f64 / nt as f64 } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Score { n_found: nf, n_true: nt, matched: m, precision, recall, f1, median_trace_r: median }
}
