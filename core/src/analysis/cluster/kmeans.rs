//! k-means clustering with scikit-learn's semantics (`sklearn.cluster.KMeans`, algorithm "lloyd"), behind the
//! KMeans flowchart node (`n_clusters`, `n_init`, `max_iter`, `tol`).
//!
//! What matches sklearn 1.9 exactly, step for step:
//! - greedy k-means++ seeding: first centre uniform, then `2 + floor(ln k)` candidates drawn with probability
//!   proportional to the squared distance to the closest chosen centre, keeping the candidate that most lowers the
//!   potential;
//! - `tol` is relative: the run stops when the summed squared centre shift is `<= tol * mean(var(X, axis=0))`;
//! - Lloyd iterations: label every sample by its nearest centre (first one on ties), move each centre to the mean
//!   of its samples, relocate an empty cluster onto the sample farthest from its centre; stop on unchanged labels
//!   (strict convergence) or on the tolerance, and after a non-strict stop re-label against the final centres;
//! - `n_init` runs keep the first run unless a later one has strictly lower inertia *and* a different partition;
//! - `n_iter_` counts the Lloyd iterations of the kept run.
//!
//! The random stream is our own (ChaCha8 from [`KMeansParams::seed`], one stream per init), so seeded runs are
//! reproducible here but do not draw sklearn's centres: on well separated data both find the same partition (up to
//! a permutation of the labels); started from the same explicit [`KMeansInit::Centers`] they give the same labels,
//! centres and inertia (rounding aside). Distances are computed directly as `sum((x - c)^2)` rather than sklearn's
//! `|c|^2 - 2 x.c` on centred data, which is at least as accurate.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use thiserror::Error;

/// Samples per rayon task in the assignment step; fixed so that sums are reduced in the same order on any
/// number of threads (results do not depend on the machine).
const CHUNK: usize = 64;

/// Why k-means could not run: invalid parameters or data (the messages follow sklearn's where it has one).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum KMeansError {
    /// The data hold NaN or infinity (sklearn: "Input contains NaN").
    #[error("input contains NaN or infinity")]
    NonFinite,
    /// The data have no samples or no features.
    #[error("input is empty ({n_samples} samples x {n_features} features)")]
    Empty {
        /// Rows of the data.
        n_samples: usize,
        /// Columns of the data.
        n_features: usize,
    },
    /// `n_clusters` is zero.
    #[error("n_clusters must be at least 1")]
    NoClusters,
    /// Fewer samples than clusters.
    #[error("n_samples={n_samples} should be >= n_clusters={n_clusters}")]
    TooFewSamples {
        /// Rows of the data.
        n_samples: usize,
        /// Requested clusters.
        n_clusters: usize,
    },
    /// `n_init` or `max_iter` is zero, or `tol` is negative or not finite.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The explicit initial centres do not have shape `(n_clusters, n_features)`.
    #[error("init has shape ({rows}, {cols}), expected ({n_clusters}, {n_features})")]
    InitShape {
        /// Rows of the given centres.
        rows: usize,
        /// Columns of the given centres.
        cols: usize,
        /// Requested clusters.
        n_clusters: usize,
        /// Features of the data.
        n_features: usize,
    },
    /// Data passed to `predict` have a different number of features than the fitted centres.
    #[error("X has {got} features, but KMeans was fitted with {expected}")]
    FeatureMismatch {
        /// Columns of the new data.
        got: usize,
        /// Columns of the fitted centres.
        expected: usize,
    },
}

/// How the initial centres are chosen (sklearn's `init`).
#[derive(Debug, Clone, PartialEq)]
pub enum KMeansInit {
    /// Greedy k-means++ seeding, `n_init` times (sklearn's default).
    KMeansPlusPlus,
    /// These centres, shape `(n_clusters, n_features)`: one run only, as sklearn forces `n_init = 1`.
    Centers(Array2<f64>),
}

/// The KMeans node's parameters, with sklearn's names and (except `n_init`, the node's 10) defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    /// Number of clusters (sklearn's `n_clusters`).
    pub n_clusters: usize,
    /// Number of seeded runs; the one with the lowest inertia is kept.
    pub n_init: usize,
    /// Maximum Lloyd iterations per run.
    pub max_iter: usize,
    /// Relative tolerance on the centre shift (scaled by the mean feature variance, as sklearn does).
    pub tol: f64,
    /// Initial centres.
    pub init: KMeansInit,
    /// Seed of our ChaCha8 stream (sklearn's `random_state`; the draws differ from numpy's).
    pub seed: u64,
}

impl KMeansParams {
    /// sklearn's defaults (`max_iter=300`, `tol=1e-4`, k-means++) with the node's `n_init=10` and seed 0.
    pub fn new(n_clusters: usize) -> Self {
        Self { n_clusters, n_init: 10, max_iter: 300, tol: 1e-4, init: KMeansInit::KMeansPlusPlus, seed: 0 }
    }
}

/// A fitted k-means model: sklearn's `cluster_centers_`, `labels_`, `inertia_` and `n_iter_`.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// Centres, shape `(n_clusters, n_features)`.
    pub cluster_centers: Array2<f64>,
    /// Cluster index of each training sample (what the node writes to `KMEANS_CLUSTER_LABEL`).
    pub labels: Vec<usize>,
    /// Sum of squared distances of the samples to their centre.
    pub inertia: f64,
    /// Lloyd iterations of the kept run.
    pub n_iter: usize,
}

impl KMeans {
    /// Fits k-means to `x` (rows are samples), as `sklearn.cluster.KMeans(...).fit(x)`.
    pub fn fit(x: ArrayView2<'_, f64>, params: &KMeansParams) -> Result<Self, KMeansError> {
        fit(x, params)
    }

    /// Nearest fitted centre of each row of `x` (sklearn's `predict`).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>, KMeansError> {
        check_finite(x)?;
        if x.ncols() != self.cluster_centers.ncols() {
            return Err(KMeansError::FeatureMismatch { got: x.ncols(), expected: self.cluster_centers.ncols() });
        }
        Ok(x.axis_iter(Axis(0)).map(|row| nearest(row, self.cluster_centers.view()).0).collect())
    }
}

/// Fits k-means to `x` (rows are samples): see [`KMeans::fit`].
pub fn fit(x: ArrayView2<'_, f64>, params: &KMeansParams) -> Result<KMeans, KMeansError> {
    let (n_samples, n_features) = x.dim();
    if n_samples == 0 || n_features == 0 {
        return Err(KMeansError::Empty { n_samples, n_features });
    }
    check_finite(x)?;
    let k = params.n_clusters;
    if k == 0 {
        return Err(KMeansError::NoClusters);
    }
    if n_samples < k {
        return Err(KMeansError::TooFewSamples { n_samples, n_clusters: k });
    }
    if params.n_init == 0 {
        return Err(KMeansError::InvalidParameter("n_init must be at least 1".into()));
    }
    if params.max_iter == 0 {
        return Err(KMeansError::InvalidParameter("max_iter must be at least 1".into()));
    }
    if !(params.tol >= 0.0 && params.tol.is_finite()) {
        return Err(KMeansError::InvalidParameter(format!("tol must be finite and >= 0, got {}", params.tol)));
    }
    if let KMeansInit::Centers(c) = &params.init {
        if c.dim() != (k, n_features) {
            return Err(KMeansError::InitShape { rows: c.nrows(), cols: c.ncols(), n_clusters: k, n_features });
        }
        if c.iter().any(|v| !v.is_finite()) {
            return Err(KMeansError::NonFinite);
        }
    }
    let tol = scaled_tolerance(x, params.tol);

    let n_init = match params.init {
        KMeansInit::Centers(_) => 1,
        KMeansInit::KMeansPlusPlus => params.n_init,
    };
    let mut best: Option<KMeans> = None;
    for run in 0..n_init {
        let init = match &params.init {
            KMeansInit::Centers(c) => c.clone(),
            KMeansInit::KMeansPlusPlus => {
                let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
                rng.set_stream(run as u64);
                kmeans_plusplus(x, k, &mut rng).0
            }
        };
        let result = lloyd(x, init, params.max_iter, tol);
        let better = match &best {
            None => true,
            Some(b) => result.inertia < b.inertia && !same_clustering(&result.labels, &b.labels, k),
        };
        if better {
            best = Some(result);
        }
    }
    best.ok_or_else(|| KMeansError::InvalidParameter("n_init must be at least 1".into()))
}

/// Greedy k-means++ seeding (sklearn's `_kmeans_plusplus` with unit weights): returns the centres and the indices
/// of the samples they were taken from. `x` must be finite with at least `n_clusters >= 1` rows.
pub fn kmeans_plusplus<R: Rng>(x: ArrayView2<'_, f64>, n_clusters: usize, rng: &mut R) -> (Array2<f64>, Vec<usize>) {
    let n = x.nrows();
    let mut centers = Array2::zeros((n_clusters, x.ncols()));
    let mut indices = Vec::with_capacity(n_clusters);
    if n == 0 || n_clusters == 0 {
        return (centers, indices);
    }
    let n_local_trials = 2 + (n_clusters as f64).ln().floor() as usize;
    let first = rng.random_range(0..n);
    centers.row_mut(0).assign(&x.row(first));
    indices.push(first);
    let mut closest = distances_to(x, x.row(first));
    let mut pot: f64 = closest.iter().sum();

    let mut cumsum = vec![0.0; n];
    for c in 1..n_clusters {
        let mut acc = 0.0;
        for (cs, d) in cumsum.iter_mut().zip(&closest) {
            acc += d;
            *cs = acc;
        }
        let candidates: Vec<usize> = (0..n_local_trials)
            .map(|_| {
                let r = rng.random::<f64>() * pot;
                // numpy.searchsorted(side="left"): first index with cumsum >= r, clipped to the last sample.
                cumsum.partition_point(|&v| v < r).min(n - 1)
            })
            .collect();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for &cand in &candidates {
            let mut d = distances_to(x, x.row(cand));
            for (di, ci) in d.iter_mut().zip(&closest) {
                *di = di.min(*ci);
            }
            let p: f64 = d.iter().sum();
            // np.argmin: the first candidate with the smallest potential wins.
            if best.as_ref().is_none_or(|(bp, _, _)| p < *bp) {
                best = Some((p, cand, d));
            }
        }
        if let Some((p, cand, d)) = best {
            pot = p;
            closest = d;
            centers.row_mut(c).assign(&x.row(cand));
            indices.push(cand);
        }
    }
    (centers, indices)
}

/// sklearn's `_tolerance`: `tol * mean(var(X, axis=0))` (population variance), 0 when `tol` is 0.
fn scaled_tolerance(x: ArrayView2<'_, f64>, tol: f64) -> f64 {
    if tol == 0.0 {
        return 0.0;
    }
    let n = x.nrows() as f64;
    let mean_var = x
        .axis_iter(Axis(1))
        .map(|col| {
            let m = col.sum() / n;
            col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n
        })
        .sum::<f64>()
        / x.ncols() as f64;
    mean_var * tol
}

/// One Lloyd run from `centers` (sklearn's `_kmeans_single_lloyd`).
fn lloyd(x: ArrayView2<'_, f64>, mut centers: Array2<f64>, max_iter: usize, tol: f64) -> KMeans {
    let n = x.nrows();
    let mut labels = vec![usize::MAX; n];
    let mut labels_old = labels.clone();
    let mut strict = false;
    let mut n_iter = 0;
    for it in 0..max_iter {
        n_iter = it + 1;
        let step = assign_and_sum(x, centers.view(), &mut labels);
        let new_centers = update_centers(x, centers.view(), step, &labels);
        let shift: f64 = new_centers
            .outer_iter()
            .zip(centers.outer_iter())
            .map(|(a, b)| sq_dist(a.as_slice_or_copy(), b.as_slice_or_copy()))
            .sum();
        centers = new_centers;
        if labels == labels_old {
            strict = true;
            break;
        }
        if shift <= tol {
            break;
        }
        labels_old.clone_from(&labels);
    }
    if !strict {
        assign_and_sum(x, centers.view(), &mut labels);
    }
    let inertia = inertia(x, centers.view(), &labels);
    KMeans { cluster_centers: centers, labels, inertia, n_iter }
}

/// Per-cluster sums of the samples and their counts, from one assignment step.
struct ClusterSums {
    sums: Array2<f64>,
    counts: Vec<usize>,
}

/// Labels every sample by its nearest centre (in parallel, chunks of [`CHUNK`] rows) and accumulates the
/// per-cluster sums in a fixed order.
fn assign_and_sum(x: ArrayView2<'_, f64>, centers: ArrayView2<'_, f64>, labels: &mut [usize]) -> ClusterSums {
    let (k, p) = centers.dim();
    let partials: Vec<ClusterSums> = labels
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(chunk, out)| {
            let mut s = ClusterSums { sums: Array2::zeros((k, p)), counts: vec![0; k] };
            for (j, label) in out.iter_mut().enumerate() {
                let row = x.row(chunk * CHUNK + j);
                let (best, _) = nearest(row, centers);
                *label = best;
                s.counts[best] += 1;
                let mut acc = s.sums.row_mut(best);
                acc += &row;
            }
            s
        })
        .collect();
    let mut total = ClusterSums { sums: Array2::zeros((k, p)), counts: vec![0; k] };
    for part in partials {
        total.sums += &part.sums;
        for (t, c) in total.counts.iter_mut().zip(&part.counts) {
            *t += c;
        }
    }
    total
}

/// New centres from the cluster sums: empty clusters take the samples farthest from their current centre
/// (sklearn's `_relocate_empty_clusters_dense`), then sums become means.
fn update_centers(
    x: ArrayView2<'_, f64>,
    old: ArrayView2<'_, f64>,
    mut s: ClusterSums,
    labels: &[usize],
) -> Array2<f64> {
    let empty: Vec<usize> = (0..s.counts.len()).filter(|&j| s.counts[j] == 0).collect();
    if !empty.is_empty() {
        let dist: Vec<f64> = labels
            .par_iter()
            .enumerate()
            .map(|(i, &l)| sq_dist(x.row(i).as_slice_or_copy(), old.row(l).as_slice_or_copy()))
            .collect();
        let max = dist.iter().copied().fold(0.0, f64::max);
        if max > 0.0 {
            // Farthest first; ties by index (numpy's argpartition leaves their order unspecified).
            let mut order: Vec<usize> = (0..dist.len()).collect();
            order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
            for (&new_id, &far) in empty.iter().zip(&order) {
                let old_id = labels[far];
                let row = x.row(far);
                {
                    let mut from = s.sums.row_mut(old_id);
                    from -= &row;
                }
                s.sums.row_mut(new_id).assign(&row);
                s.counts[new_id] = 1;
                s.counts[old_id] -= 1;
            }
        }
    }
    let biggest = (0..s.counts.len()).fold(0, |b, j| if s.counts[j] > s.counts[b] { j } else { b });
    let mut centers = s.sums;
    for (j, &c) in s.counts.iter().enumerate() {
        if c > 0 {
            let alpha = 1.0 / c as f64;
            centers.row_mut(j).mapv_inplace(|v| v * alpha);
        }
    }
    // Clusters still empty (more clusters than distinct samples) sit on the biggest one, as in sklearn.
    for j in 0..s.counts.len() {
        if s.counts[j] == 0 {
            let src = centers.row(biggest).to_owned();
            centers.row_mut(j).assign(&src);
        }
    }
    centers
}

/// Sum of squared distances of each sample to its centre.
fn inertia(x: ArrayView2<'_, f64>, centers: ArrayView2<'_, f64>, labels: &[usize]) -> f64 {
    let parts: Vec<f64> = labels
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(chunk, ls)| {
            ls.iter()
                .enumerate()
                .map(|(j, &l)| sq_dist(x.row(chunk * CHUNK + j).as_slice_or_copy(), centers.row(l).as_slice_or_copy()))
                .sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

/// Index of the nearest centre (the first one on ties) and the squared distance to it.
fn nearest(row: ArrayView1<'_, f64>, centers: ArrayView2<'_, f64>) -> (usize, f64) {
    let r = row.as_slice_or_copy();
    let mut best = (0, f64::INFINITY);
    for (j, c) in centers.outer_iter().enumerate() {
        let d = sq_dist(&r, c.as_slice_or_copy());
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

/// Squared distances of every sample to `c` (in parallel).
fn distances_to(x: ArrayView2<'_, f64>, c: ArrayView1<'_, f64>) -> Vec<f64> {
    let c = c.as_slice_or_copy();
    (0..x.nrows()).into_par_iter().map(|i| sq_dist(x.row(i).as_slice_or_copy(), &c)).collect()
}

/// sklearn's `_is_same_clustering`: whether `a` is `b` with its labels renamed.
fn same_clustering(a: &[usize], b: &[usize], k: usize) -> bool {
    let mut mapping = vec![usize::MAX; k];
    for (&la, &lb) in a.iter().zip(b) {
        if mapping[la] == usize::MAX {
            mapping[la] = lb;
        } else if mapping[la] != lb {
            return false;
        }
    }
    true
}

/// Fails on NaN or infinity.
fn check_finite(x: ArrayView2<'_, f64>) -> Result<(), KMeansError> {
    if x.iter().all(|v| v.is_finite()) { Ok(()) } else { Err(KMeansError::NonFinite) }
}

/// A contiguous view of a row, copied only when the row is strided (e.g. a column-major input).
trait SliceOrCopy<'a> {
    /// The elements as one slice.
    fn as_slice_or_copy(&self) -> std::borrow::Cow<'a, [f64]>;
}

impl<'a> SliceOrCopy<'a> for ArrayView1<'a, f64> {
    fn as_slice_or_copy(&self) -> std::borrow::Cow<'a, [f64]> {
        match self.to_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(self.to_vec()),
        }
    }
}

/// Squared Euclidean distance, with four independent accumulators so that it vectorises.
fn sq_dist(a: impl AsRef<[f64]>, b: impl AsRef<[f64]>) -> f64 {
    let (a, b) = (a.as_ref(), b.as_ref());
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        tail += d * d;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
