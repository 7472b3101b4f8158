//! Clustering quality with any distance metric, as the original's `clustering_metrics`: the most centre-like member
//! of a cluster, the cluster radius around it, and a Davies-Bouldin score built on those (sklearn's score uses
//! Euclidean centroids; this one works with e.g. the Wasserstein metric of the Linkage node).

use ndarray::{Array2, ArrayView2, Axis};

use crate::analysis::cluster::hierarchy::{self, Metric};

/// Square distance matrix of the rows of `x`.
fn dist_matrix(x: ArrayView2<f64>, metric: Metric) -> Result<Array2<f64>, String> {
    if x.nrows() < 2 {
        return Ok(Array2::zeros((x.nrows(), x.nrows())));
    }
    let y = hierarchy::pdist(x, metric).map_err(|e| e.to_string())?;
    hierarchy::squareform(&y).map_err(|e| e.to_string())
}

/// Index of the member with the smallest summed distance to all others (`get_centerlike`).
pub fn centerlike(dist: ArrayView2<f64>) -> usize {
    let sums = dist.sum_axis(Axis(0));
    (0..sums.len()).fold(0, |b, i| if sums[i] < sums[b] { i } else { b })
}

/// Mean distance from the centre-like member to the others (`get_cluster_radius`; NaN for one member).
pub fn cluster_radius(dist: ArrayView2<f64>, center: usize) -> f64 {
    dist.row(center).sum() / (dist.nrows() as f64 - 1.0)
}

/// Davies-Bouldin score with centre-like members as centroids: (mean score, per-cluster scores); (0, empty) when
/// all radii or all centroid distances are zero, as the original.
pub fn davies_bouldin(data: ArrayView2<f64>, labels: &[i64], metric: Metric) -> Result<(f64, Vec<f64>), String> {
    if labels.len() != data.nrows() {
        return Err(format!("{} labels for {} rows", labels.len(), data.nrows()));
    }
    let mut clusters: Vec<i64> = labels.to_vec();
    clusters.sort_unstable();
    clusters.dedup();
    let mut radii = Vec::with_capacity(clusters.len());
    let mut centroids = Array2::zeros((clusters.len(), data.ncols()));
    for (k, c) in clusters.iter().enumerate() {
        let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == *c).collect();
        let members = data.select(Axis(0), &idx);
        let d = dist_matrix(members.view(), metric)?;
        let ci = centerlike(d.view());
        centroids.row_mut(k).assign(&members.row(ci));
        let r = cluster_radius(d.view(), ci);
        radii.push(if r.is_nan() { 0.0 } else { r });
    }
    let cd = dist_matrix(centroids.view(), metric)?;
    if radii.iter().all(|r| r.abs() < 1e-8) || cd.iter().all(|d| d.abs() < 1e-8) {
        return Ok((0.0, Vec::new()));
    }
    let k = clusters.len();
    let scores: Vec<f64> = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    let d = if cd[[i, j]] == 0.0 { f64::INFINITY } else { cd[[i, j]] };
                    (radii[i] + radii[j]) / d
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let valid: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    Ok((valid.iter().sum::<f64>() / valid.len() as f64, scores))
}
