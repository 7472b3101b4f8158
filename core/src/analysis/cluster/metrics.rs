//! Clustering agreement scores used to compare labelings (ours against tslearn's, or a user's ground truth).

use std::collections::HashMap;

/// Adjusted Rand index of two labelings of the same samples, as `sklearn.metrics.adjusted_rand_score`:
/// 1.0 for identical partitions (whatever the label values), about 0 for random ones.
/// Returns `None` when the two slices differ in length.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let n = a.len() as f64;
    let mut joint: HashMap<(usize, usize), f64> = HashMap::new();
    let mut rows: HashMap<usize, f64> = HashMap::new();
    let mut cols: HashMap<usize, f64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1.0;
        *rows.entry(x).or_default() += 1.0;
        *cols.entry(y).or_default() += 1.0;
    }
    // sklearn's pair confusion matrix (ordered pairs), then its ARI formula.
    let sum_sq = joint.values().map(|c| c * c).sum::<f64>();
    let row_sq = rows.values().map(|c| c * c).sum::<f64>();
    let col_sq = cols.values().map(|c| c * c).sum::<f64>();
    let tp = sum_sq - n;
    let fp = col_sq - sum_sq;
    let fneg = row_sq - sum_sq;
    let tn = n * n - fp - fneg - sum_sq;
    if fneg == 0.0 && fp == 0.0 {
        return Some(1.0);
    }
    Some(2.0 * (tp * tn - fneg * fp) / ((tp + fneg) * (fneg + tn) + (tp + fp) * (fp + tn)))
}
