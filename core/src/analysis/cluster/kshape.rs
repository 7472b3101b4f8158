//! k-Shape clustering with `tslearn.clustering.KShape` semantics: shape-based distance 1 − max NCC, shape
//! extraction by the top eigenvector of QᵀSQ, inertia = mean squared distance, restart on an empty cluster.
//!
//! Input curves are z-normalised here (tslearn's `TimeSeriesScalerMeanVariance`, which `KShape.fit` expects its
//! caller to have applied). Differences from tslearn, by design: the random initialisation uses our own seeded RNG
//! (ChaCha8), so labels match tslearn's only up to a permutation and the choice of starting curves; a zero-variance
//! curve is an error (tslearn turns it into all zeros, which is at distance 1 from every centroid and lands in
//! cluster 0); NaN / infinite values are an error (tslearn's result would be NaN).

use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rayon::prelude::*;

use super::xcorr::{NccPlan, Spectrum, XcorrError, spectra, validate_curves};

/// Why k-Shape could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KShapeError {
    /// The curves are unusable (too few, unequal lengths, NaN / inf).
    #[error(transparent)]
    Input(#[from] XcorrError),
    /// At least one cluster is needed.
    #[error("n_clusters must be at least 1")]
    NoClusters,
    /// More clusters than curves.
    #[error("n_clusters ({k}) is larger than the number of curves ({n})")]
    TooManyClusters {
        /// Clusters asked for.
        k: usize,
        /// Curves given.
        n: usize,
    },
    /// A constant curve has no shape to compare (tslearn would silently make it all zeros).
    #[error("curve {0} has zero variance: k-Shape needs z-normalisable curves")]
    ZeroVariance(usize),
    /// max_iter and n_init must be at least 1.
    #[error("{0} must be at least 1")]
    BadParameter(&'static str),
    /// Given initial centroids do not have shape (n_clusters, series length).
    #[error("initial centroids have shape {got:?}, expected {expected:?}")]
    BadInit {
        /// Shape given.
        got: (usize, usize),
        /// Shape needed.
        expected: (usize, usize),
    },
    /// Every initialisation left some cluster empty (tslearn then leaves the model unfitted).
    #[error("k-Shape left a cluster empty in all {0} attempts; try fewer clusters or another seed")]
    EmptyClusters(usize),
    /// The symmetric eigen solver did not converge.
    #[error("eigen decomposition failed during shape extraction: {0}")]
    Eigen(String),
}

/// A fitted k-Shape model.
#[derive(Debug, Clone, PartialEq)]
pub struct KShapeResult {
    /// Cluster of each curve, 0..n_clusters.
    pub labels: Vec<usize>,
    /// z-normalised centroid shapes, (n_clusters, series length).
    pub centroids: Array2<f64>,
    /// Mean squared shape-based distance of each curve to its centroid (tslearn's `inertia_`).
    pub inertia: f64,
    /// Iterations of the best run (tslearn's `n_iter_`).
    pub n_iter: usize,
}

/// z-normalise one series in place like `TimeSeriesScalerMeanVariance` (population std); false if it is constant
/// (it is then only centred, as tslearn's std = 0 → 1 rule does).
fn z_normalize_row(x: &mut [f64]) -> bool {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    let div = if std == 0.0 { 1.0 } else { std };
    for v in x.iter_mut() {
        *v = (*v - mean) / div;
    }
    std != 0.0
}

/// z-normalise every curve (row); a zero-variance curve is an error.
pub fn z_normalize(data: ArrayView2<f64>) -> Result<Array2<f64>, KShapeError> {
    let mut out = data.to_owned();
    for (i, mut row) in out.axis_iter_mut(Axis(0)).enumerate() {
        let mut v = row.to_vec();
        if !z_normalize_row(&mut v) {
            return Err(KShapeError::ZeroVariance(i));
        }
        row.assign(&ndarray::ArrayView1::from(&v));
    }
    Ok(out)
}

/// The data side of the algorithm: curves, their spectra (computed once) and the FFT plan.
struct Model<'a> {
    x: ArrayView2<'a, f64>,
    plan: NccPlan,
    spec: Vec<Spectrum>,
    max_iter: usize,
    tol: f64,
}

/// Labels, distances' inertia, after assigning each curve to its nearest centroid.
struct Assignment {
    labels: Vec<usize>,
    inertia: f64,
}

/// One successful run (a run whose cluster went empty, tslearn's EmptyClusterError, yields none).
struct Run {
    centroids: Array2<f64>,
    assignment: Assignment,
    n_iter: usize,
}

fn row_vec(a: &Array2<f64>, i: usize) -> Vec<f64> {
    a.row(i).to_vec()
}

impl<'a> Model<'a> {
    /// Shape-based distances (n, k): 1 − max normalized_cc(curve, centroid).
    fn distances(&self, centroids: &Array2<f64>) -> Array2<f64> {
        let cspec = spectra(&self.plan, centroids.view());
        let k = centroids.nrows();
        let rows: Vec<Vec<f64>> = (0..self.x.nrows())
            .into_par_iter()
            .map_init(
                || self.plan.work(),
                |work, i| (0..k).map(|c| 1.0 - self.plan.peak(&self.spec[i], &cspec[c], work).value).collect(),
            )
            .collect();
        let flat: Vec<f64> = rows.into_iter().flatten().collect();
        Array2::from_shape_vec((self.x.nrows(), k), flat).unwrap_or_else(|_| Array2::zeros((self.x.nrows(), k)))
    }

    /// Nearest centroid of every curve (first on ties, as argmin); `None` if a cluster is empty.
    fn assign(&self, centroids: &Array2<f64>) -> Option<Assignment> {
        let d = self.distances(centroids);
        let k = centroids.nrows();
        let mut counts = vec![0usize; k];
        let mut sum = 0.0;
        let labels: Vec<usize> = d
            .outer_iter()
            .map(|row| {
                let mut best = 0;
                for c in 1..k {
                    if row[c] < row[best] {
                        best = c;
                    }
                }
                counts[best] += 1;
                sum += row[best] * row[best];
                best
            })
            .collect();
        if counts.contains(&0) {
            return None;
        }
        Some(Assignment { labels, inertia: sum / self.x.nrows() as f64 })
    }

    /// Members of cluster `k` shifted onto `centroid` (tslearn's `y_shifted_sbd_vec`).
    fn aligned_members(&self, centroid: &[f64], labels: &[usize], k: usize) -> Vec<Vec<f64>> {
        let reference = self.plan.spectrum(centroid);
        let sz = self.plan.series_len() as isize;
        let mut work = self.plan.work();
        labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == k)
            .map(|(i, _)| {
                let idx = self.plan.peak(&reference, &self.spec[i], &mut work).first as isize;
                let shift = idx + 1 - sz;
                let x = self.x.row(i);
                let mut out = vec![0.0; sz as usize];
                for (t, o) in out.iter_mut().enumerate() {
                    let src = t as isize - shift;
                    if (0..sz).contains(&src) {
                        *o = x[src as usize];
                    }
                }
                out
            })
            .collect()
    }

    /// New centroid of cluster `k`: top eigenvector of QᵀSQ of the aligned members, sign picked by distance.
    fn extract_shape(&self, centroid: &[f64], labels: &[usize], k: usize) -> Result<Vec<f64>, KShapeError> {
        let xp = self.aligned_members(centroid, labels, k);
        let sz = self.plan.series_len();
        // B = Xp Q centres each aligned row; QᵀSQ = BᵀB.
        let b: Vec<Vec<f64>> = xp
            .iter()
            .map(|r| {
                let mean = r.iter().sum::<f64>() / sz as f64;
                r.iter().map(|v| v - mean).collect()
            })
            .collect();
        let mut mu = top_right_singular_vector(&b, sz)?;
        let dist = |sign: f64| -> f64 {
            xp.iter().map(|r| r.iter().zip(&mu).map(|(x, m)| (x - sign * m).powi(2)).sum::<f64>().sqrt()).sum()
        };
        if dist(-1.0) < dist(1.0) {
            mu.iter_mut().for_each(|v| *v = -*v);
        }
        Ok(mu)
    }

    /// One shape-extraction step for every cluster, then z-normalisation of the centroids.
    fn update(&self, centroids: &Array2<f64>, labels: &[usize]) -> Result<Array2<f64>, KShapeError> {
        let mut out = centroids.clone();
        for k in 0..centroids.nrows() {
            let mut mu = self.extract_shape(&row_vec(centroids, k), labels, k)?;
            z_normalize_row(&mut mu);
            out.row_mut(k).assign(&ndarray::ArrayView1::from(&mu));
        }
        Ok(out)
    }

    /// tslearn's `_fit_one_init` from the given centroids.
    fn fit_one(&self, init: Array2<f64>) -> Result<Option<Run>, KShapeError> {
        let mut centroids = init;
        let Some(mut assignment) = self.assign(&centroids) else { return Ok(None) };
        let mut old_inertia = f64::INFINITY;
        let mut n_iter = 0;
        for it in 0..self.max_iter {
            n_iter = it + 1;
            let old = centroids.clone();
            centroids = self.update(&centroids, &assignment.labels)?;
            let Some(a) = self.assign(&centroids) else { return Ok(None) };
            assignment = a;
            if (old_inertia - assignment.inertia).abs() < self.tol || old_inertia - assignment.inertia < 0.0 {
                centroids = old;
                let Some(a) = self.assign(&centroids) else { return Ok(None) };
                assignment = a;
                break;
            }
            old_inertia = assignment.inertia;
        }
        Ok(Some(Run { centroids, assignment, n_iter }))
    }
}

/// Unit vector v maximising ‖B v‖ (the top eigenvector of BᵀB), via the smaller of the two Gram matrices.
/// For B = 0 it is the last basis vector, as numpy's `eigh` of a zero matrix gives.
fn top_right_singular_vector(b: &[Vec<f64>], sz: usize) -> Result<Vec<f64>, KShapeError> {
    let m = b.len();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let top = |g: faer::Mat<f64>| -> Result<Vec<f64>, KShapeError> {
        let n = g.nrows();
        let evd = g.self_adjoint_eigen(faer::Side::Lower).map_err(|e| KShapeError::Eigen(format!("{e:?}")))?;
        let u = evd.U().col(n - 1);
        Ok((0..n).map(|i| u[i]).collect())
    };
    let mut v = if m < sz {
        let g = faer::Mat::<f64>::from_fn(m, m, |i, j| dot(&b[i], &b[j]));
        let u = top(g)?;
        let mut v = vec![0.0; sz];
        for (row, ui) in b.iter().zip(&u) {
            for (vt, bt) in v.iter_mut().zip(row) {
                *vt += ui * bt;
            }
        }
        v
    } else {
        let g = faer::Mat::<f64>::from_fn(sz, sz, |i, j| b.iter().map(|r| r[i] * r[j]).sum::<f64>());
        top(g)?
    };
    let norm = dot(&v, &v).sqrt();
    if norm == 0.0 || !norm.is_finite() {
        v = vec![0.0; sz];
        v[sz - 1] = 1.0;
        return Ok(v);
    }
    v.iter_mut().for_each(|t| *t /= norm);
    Ok(v)
}

fn check_params(n: usize, n_clusters: usize, max_iter: usize, n_init: usize) -> Result<(), KShapeError> {
    if n_clusters == 0 {
        return Err(KShapeError::NoClusters);
    }
    if n_clusters > n {
        return Err(KShapeError::TooManyClusters { k: n_clusters, n });
    }
    if max_iter == 0 {
        return Err(KShapeError::BadParameter("max_iter"));
    }
    if n_init == 0 {
        return Err(KShapeError::BadParameter("n_init"));
    }
    Ok(())
}

fn fit(
    x: &Array2<f64>,
    max_iter: usize,
    tol: f64,
    n_init: usize,
    max_attempts: usize,
    mut init: impl FnMut() -> Array2<f64>,
) -> Result<KShapeResult, KShapeError> {
    let plan = NccPlan::new(x.ncols())?;
    let spec = spectra(&plan, x.view());
    let model = Model { x: x.view(), plan, spec, max_iter, tol };
    let (mut best, mut successful, mut attempts) = (None::<Run>, 0, 0);
    while successful < n_init && attempts < max_attempts {
        attempts += 1;
        if let Some(run) = model.fit_one(init())? {
            if best.as_ref().is_none_or(|b| run.assignment.inertia < b.assignment.inertia) {
                best = Some(run);
            }
            successful += 1;
        }
    }
    let best = best.ok_or(KShapeError::EmptyClusters(attempts))?;
    Ok(KShapeResult {
        labels: best.assignment.labels,
        centroids: best.centroids,
        inertia: best.assignment.inertia,
        n_iter: best.n_iter,
    })
}

/// k-Shape of the rows of `data` (n curves × t samples), z-normalised first: `n_init` successful runs from
/// `n_clusters` distinct random curves (up to max(n_init, 10) attempts when clusters go empty), the best inertia
/// kept. Deterministic for a given `seed`.
pub fn kshape(
    data: ArrayView2<f64>,
    n_clusters: usize,
    max_iter: usize,
    tol: f64,
    n_init: usize,
    seed: u64,
) -> Result<KShapeResult, KShapeError> {
    validate_curves(data, 1)?;
    check_params(data.nrows(), n_clusters, max_iter, n_init)?;
    let x = z_normalize(data)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = x.nrows();
    let draw = || {
        let idx = rand::seq::index::sample(&mut rng, n, n_clusters).into_vec();
        x.select(Axis(0), &idx)
    };
    fit(&x, max_iter, tol, n_init, n_init.max(10), draw)
}

/// k-Shape from given initial centroids (tslearn's `init=ndarray`): one run, no randomness. `data` is
/// z-normalised first; `init` is used as given.
pub fn kshape_with_init(
    data: ArrayView2<f64>,
    init: ArrayView2<f64>,
    max_iter: usize,
    tol: f64,
) -> Result<KShapeResult, KShapeError> {
    validate_curves(data, 1)?;
    let expected = (init.nrows(), data.ncols());
    if init.dim() != expected {
        return Err(KShapeError::BadInit { got: init.dim(), expected });
    }
    validate_curves(init, 1)?;
    check_params(data.nrows(), init.nrows(), max_iter, 1)?;
    let x = z_normalize(data)?;
    fit(&x, max_iter, tol, 1, 1, || init.to_owned())
}

/// Shape-based distances 1 − max NCC between every curve and every centroid, (n, k), as tslearn's
/// `KShape._cross_dists` (no normalisation applied here).
pub fn sbd_matrix(data: ArrayView2<f64>, centroids: ArrayView2<f64>) -> Result<Array2<f64>, KShapeError> {
    validate_curves(data, 1)?;
    validate_curves(centroids, 1)?;
    if centroids.ncols() != data.ncols() {
        return Err(XcorrError::UnequalLength { index: 0, len: centroids.ncols(), expected: data.ncols() }.into());
    }
    let plan = NccPlan::new(data.ncols())?;
    let spec = spectra(&plan, data);
    let model = Model { x: data, plan, spec, max_iter: 1, tol: 0.0 };
    Ok(model.distances(&centroids.to_owned()))
}
