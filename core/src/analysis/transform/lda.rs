//! Linear discriminant analysis with scikit-learn's semantics
//! (`sklearn.discriminant_analysis.LinearDiscriminantAnalysis`, 1.9), behind the LDA flowchart node: its outputs
//! `_LDA_TRANSFORM` ([`Lda::transform`]), `_LDA_DFUNC` ([`Lda::decision_function`]), `_COEF` ([`Lda::coef`]),
//! `_MEANS` ([`Lda::means`]), the classes ([`Lda::classes`]), predicted labels ([`Lda::predict`]) and the score
//! ([`Lda::score`]).
//!
//! Solvers, as sklearn:
//! - `svd`: whitens the within-class scatter by an SVD of the class-centred data (ranks cut at `tol`), then an SVD
//!   of the scaled class centres; no covariance matrix is formed, so it suits many features. No shrinkage.
//! - `lsqr`: `coef = lstsq(Sw, means.T).T` with `Sw` the prior-weighted within-class covariance (optionally shrunk);
//!   classification only (no `transform`).
//! - `eigen`: the generalised eigenproblem `Sb v = l Sw v` (`Sb = St - Sw`, both estimated with the same
//!   shrinkage); needs a positive definite `Sw` (use shrinkage when features outnumber samples).
//!
//! Priors default to the class frequencies; classes are the sorted distinct labels (for strings: by code point,
//! as numpy sorts them). With two classes `coef` and `intercept` have one row (class 1 minus class 0) and the
//! decision function one column, whose sign picks the class.
//!
//! Sign convention of `transform`: each discriminant axis is defined up to its sign. sklearn takes whatever its
//! LAPACK SVD (svd solver) or sygvd (eigen solver) returns, with no `svd_flip`, so its signs are not reproducible
//! from the maths alone. We fix ours deterministically: the largest-magnitude loading of every column of
//! [`Lda::scalings`] is positive. Our `transform` therefore equals sklearn's up to one sign per component; every
//! other output (`coef`, `intercept`, decision function, predictions, means, priors, explained variance ratio,
//! covariance) is sign-free and equals sklearn's.
//!
//! Departure: sklearn accepts a single class (and then has nothing to discriminate); we reject it.

mod covariance;
mod linalg;

use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use thiserror::Error;

use linalg::{eigh_generalized, lstsq, mul, svd_s_v, to_faer, to_nd};

/// Why LDA could not run (messages after sklearn's where it has one).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LdaError {
    /// The data hold NaN or infinity.
    #[error("input contains NaN or infinity")]
    NonFinite,
    /// Fewer than 2 samples or no feature.
    #[error("LDA needs at least 2 samples and 1 feature, got {n_samples} x {n_features}")]
    TooSmall {
        /// Rows of the data.
        n_samples: usize,
        /// Columns of the data.
        n_features: usize,
    },
    /// `y` and `x` disagree on the number of samples.
    #[error("found {n_labels} labels for {n_samples} samples")]
    LabelCount {
        /// Rows of the data.
        n_samples: usize,
        /// Length of the labels.
        n_labels: usize,
    },
    /// Only one distinct label: nothing to discriminate.
    #[error("the number of classes has to be greater than one; got 1 class")]
    OneClass,
    /// As many classes as samples.
    #[error("the number of samples must be more than the number of classes")]
    SamplesEqualClasses,
    /// `n_components` above `min(n_features, n_classes - 1)`, or zero.
    #[error("n_components={n_components} must be between 1 and min(n_features, n_classes - 1)={max}")]
    BadComponents {
        /// Requested components.
        n_components: usize,
        /// `min(n_features, n_classes - 1)`.
        max: usize,
    },
    /// A solver name other than "svd", "lsqr" or "eigen".
    #[error("unknown solver {0:?}: expected 'svd', 'lsqr' or 'eigen'")]
    UnknownSolver(String),
    /// Shrinkage asked with the svd solver.
    #[error("shrinkage not supported with 'svd' solver")]
    ShrinkageWithSvd,
    /// A fixed shrinkage outside [0, 1].
    #[error("shrinkage must be in [0, 1], got {0}")]
    BadShrinkage(f64),
    /// `tol` negative or not finite.
    #[error("tol must be finite and >= 0, got {0}")]
    BadTol(f64),
    /// Priors of the wrong length, negative or summing to zero.
    #[error("invalid priors: {0}")]
    BadPriors(String),
    /// `transform` with the lsqr solver.
    #[error("transform not implemented for 'lsqr' solver (use 'svd' or 'eigen')")]
    TransformNotSupported,
    /// The eigen solver's within-class covariance is not positive definite (scipy raises LinAlgError).
    #[error("within-class covariance is not positive definite: use shrinkage or the 'svd' solver")]
    SingularCovariance,
    /// The svd solver found no within-class variance above `tol`.
    #[error("within-class data have rank 0 at tol={0}")]
    RankZero(f64),
    /// A decomposition did not converge.
    #[error("linear algebra failure: {0}")]
    Linalg(&'static str),
    /// New data have a different number of features than the training data.
    #[error("X has {got} features, but LDA was fitted with {expected}")]
    FeatureMismatch {
        /// Columns of the new data.
        got: usize,
        /// Columns of the training data.
        expected: usize,
    },
}

/// sklearn's `solver` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LdaSolver {
    /// Singular value decomposition (default; no covariance matrix, no shrinkage).
    #[default]
    Svd,
    /// Least squares on the within-class covariance (no transform).
    Lsqr,
    /// Generalised eigendecomposition of between- vs within-class covariance.
    Eigen,
}

impl FromStr for LdaSolver {
    type Err = LdaError;

    fn from_str(s: &str) -> Result<Self, LdaError> {
        match s {
            "svd" => Ok(Self::Svd),
            "lsqr" => Ok(Self::Lsqr),
            "eigen" => Ok(Self::Eigen),
            other => Err(LdaError::UnknownSolver(other.to_string())),
        }
    }
}

/// sklearn's `shrinkage` for the lsqr and eigen solvers (`None` in [`LdaParams`] is no shrinkage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shrinkage {
    /// Ledoit-Wolf optimal shrinkage on standardised features ("auto").
    Auto,
    /// A fixed amount in [0, 1] towards `trace / p * I`.
    Fixed(f64),
}

/// The LDA node's parameters, with sklearn's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct LdaParams {
    /// Solver.
    pub solver: LdaSolver,
    /// Shrinkage (lsqr and eigen only).
    pub shrinkage: Option<Shrinkage>,
    /// Components kept by `transform`; `None` is `min(n_classes - 1, n_features)`.
    pub n_components: Option<usize>,
    /// Rank threshold of the svd solver (absolute on the within-class singular values, relative on the between).
    pub tol: f64,
    /// Class priors in the order of the sorted classes; `None` uses the class frequencies. Renormalised (as sklearn,
    /// which warns) when they do not sum to 1 within 1e-5.
    pub priors: Option<Vec<f64>>,
    /// Also compute the within-class covariance with the svd solver (the node sets it; costs `p^2` memory).
    pub store_covariance: bool,
}

impl Default for LdaParams {
    fn default() -> Self {
        Self {
            solver: LdaSolver::Svd,
            shrinkage: None,
            n_components: None,
            tol: 1e-4,
            priors: None,
            store_covariance: false,
        }
    }
}

/// A fitted LDA model over labels of type `L`: sklearn's attributes with its names (underscores dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Lda<L> {
    /// Distinct labels, sorted; row `k` of `means` (and of `coef` with 3+ classes) belongs to `classes[k]`.
    pub classes: Vec<L>,
    /// Class priors.
    pub priors: Array1<f64>,
    /// Class means, shape `(n_classes, n_features)`.
    pub means: Array2<f64>,
    /// Weight vectors, shape `(n_classes, n_features)`, or `(1, n_features)` with two classes.
    pub coef: Array2<f64>,
    /// Intercepts, length `n_classes`, or 1 with two classes.
    pub intercept: Array1<f64>,
    /// Projection onto the discriminant axes (svd and eigen), columns sign-fixed as the module doc says.
    pub scalings: Option<Array2<f64>>,
    /// Overall mean (prior-weighted class means), svd solver only.
    pub xbar: Option<Array1<f64>>,
    /// Variance explained by each kept component (svd and eigen).
    pub explained_variance_ratio: Option<Array1<f64>>,
    /// Within-class covariance (lsqr and eigen, or svd with `store_covariance`).
    pub covariance: Option<Array2<f64>>,
    /// The solver that fitted the model.
    pub solver: LdaSolver,
    /// Components `transform` keeps (sklearn's `_max_components`).
    pub n_components: usize,
}

impl<L: Ord + Clone> Lda<L> {
    /// Fits LDA to `x` (rows are samples) with labels `y`, as `LinearDiscriminantAnalysis(...).fit(x, y)`.
    pub fn fit(x: ArrayView2<'_, f64>, y: &[L], params: &LdaParams) -> Result<Self, LdaError> {
        fit(x, y, params)
    }

    /// Projects `x` onto the discriminant axes, shape `(n_samples, n_components)` (fewer with a rank-deficient
    /// svd fit). Signs: see the module doc.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LdaError> {
        self.check_input(x)?;
        let scalings = match (&self.solver, &self.scalings) {
            (LdaSolver::Lsqr, _) | (_, None) => return Err(LdaError::TransformNotSupported),
            (_, Some(sc)) => sc,
        };
        let k = self.n_components.min(scalings.ncols());
        let sc = scalings.slice(s![.., ..k]);
        Ok(match &self.xbar {
            Some(xbar) if self.solver == LdaSolver::Svd => (&x - &xbar.view().insert_axis(Axis(0))).dot(&sc),
            _ => x.dot(&sc),
        })
    }

    /// `x @ coef.T + intercept`: shape `(n_samples, n_classes)`, or `(n_samples, 1)` with two classes (sklearn
    /// returns a 1-D array there: positive means `classes[1]`).
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LdaError> {
        self.check_input(x)?;
        Ok(x.dot(&self.coef.t()) + &self.intercept.view().insert_axis(Axis(0)))
    }

    /// Predicted class of each row of `x`: the sign of the decision function with two classes, its argmax (first
    /// on ties) otherwise.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<L>, LdaError> {
        let scores = self.decision_function(x)?;
        Ok(scores
            .outer_iter()
            .map(|row| {
                let k = if row.len() == 1 {
                    usize::from(row[0] > 0.0)
                } else {
                    (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b })
                };
                self.classes[k].clone()
            })
            .collect())
    }

    /// Mean accuracy of [`Lda::predict`] on `x` against `y` (sklearn's `score`).
    pub fn score(&self, x: ArrayView2<'_, f64>, y: &[L]) -> Result<f64, LdaError> {
        if y.len() != x.nrows() {
            return Err(LdaError::LabelCount { n_samples: x.nrows(), n_labels: y.len() });
        }
        let pred = self.predict(x)?;
        if y.is_empty() {
            return Ok(f64::NAN);
        }
        let hits = pred.iter().zip(y).filter(|(a, b)| a == b).count();
        Ok(hits as f64 / y.len() as f64)
    }

    /// Finite data with the training feature count.
    fn check_input(&self, x: ArrayView2<'_, f64>) -> Result<(), LdaError> {
        if x.ncols() != self.means.ncols() {
            return Err(LdaError::FeatureMismatch { got: x.ncols(), expected: self.means.ncols() });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LdaError::NonFinite);
        }
        Ok(())
    }
}

/// Fits LDA: see [`Lda::fit`].
pub fn fit<L: Ord + Clone>(x: ArrayView2<'_, f64>, y: &[L], params: &LdaParams) -> Result<Lda<L>, LdaError> {
    let (n, p) = x.dim();
    if y.len() != n {
        return Err(LdaError::LabelCount { n_samples: n, n_labels: y.len() });
    }
    if n < 2 || p == 0 {
        return Err(LdaError::TooSmall { n_samples: n, n_features: p });
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(LdaError::NonFinite);
    }
    if !(params.tol >= 0.0 && params.tol.is_finite()) {
        return Err(LdaError::BadTol(params.tol));
    }
    match (params.solver, params.shrinkage) {
        (LdaSolver::Svd, Some(_)) => return Err(LdaError::ShrinkageWithSvd),
        (_, Some(Shrinkage::Fixed(a))) if !(0.0..=1.0).contains(&a) => return Err(LdaError::BadShrinkage(a)),
        _ => {}
    }

    let mut classes: Vec<L> = y.to_vec();
    classes.sort();
    classes.dedup();
    let n_classes = classes.len();
    if n_classes < 2 {
        return Err(LdaError::OneClass);
    }
    if n == n_classes {
        return Err(LdaError::SamplesEqualClasses);
    }
    // Every label is in `classes` by construction, so the search cannot fail.
    let class_of: Vec<usize> = y.iter().map(|l| classes.binary_search(l).unwrap_or(0)).collect();
    let mut counts = vec![0usize; n_classes];
    for &k in &class_of {
        counts[k] += 1;
    }
    let priors = priors(params.priors.as_deref(), &counts, n)?;

    let max_components = (n_classes - 1).min(p);
    let n_components = match params.n_components {
        None => max_components,
        Some(c) if c == 0 || c > max_components => {
            return Err(LdaError::BadComponents { n_components: c, max: max_components });
        }
        Some(c) => c,
    };

    let mut means = Array2::<f64>::zeros((n_classes, p));
    for (i, &k) in class_of.iter().enumerate() {
        let mut row = means.row_mut(k);
        row += &x.row(i);
    }
    for (mut row, &c) in means.outer_iter_mut().zip(&counts) {
        row.mapv_inplace(|v| v / c as f64);
    }

    let mut fitted = Fitted {
        coef: Array2::zeros((0, 0)),
        intercept: Array1::zeros(0),
        scalings: None,
        xbar: None,
        evr: None,
        covariance: None,
    };
    match params.solver {
        LdaSolver::Svd => solve_svd(x, &class_of, &means, &priors, params, n_components, &mut fitted)?,
        LdaSolver::Lsqr => {
            let cov = covariance::class_cov(x, &class_of, &priors, params.shrinkage)?;
            fitted.coef = lstsq(cov.view(), means.t())?.reversed_axes();
            fitted.intercept = intercept_from_coef(&means, &fitted.coef, &priors);
            fitted.covariance = Some(cov);
        }
        LdaSolver::Eigen => solve_eigen(x, &class_of, &means, &priors, params.shrinkage, n_components, &mut fitted)?,
    }
    if n_classes == 2 {
        let c = &fitted.coef.row(1) - &fitted.coef.row(0);
        fitted.coef = c.insert_axis(Axis(0));
        fitted.intercept = Array1::from_elem(1, fitted.intercept[1] - fitted.intercept[0]);
    }
    if let Some(sc) = fitted.scalings.as_mut() {
        fix_column_signs(sc);
    }
    Ok(Lda {
        classes,
        priors,
        means,
        coef: fitted.coef,
        intercept: fitted.intercept,
        scalings: fitted.scalings,
        xbar: fitted.xbar,
        explained_variance_ratio: fitted.evr,
        covariance: fitted.covariance,
        solver: params.solver,
        n_components,
    })
}

/// What a solver produces.
struct Fitted {
    coef: Array2<f64>,
    intercept: Array1<f64>,
    scalings: Option<Array2<f64>>,
    xbar: Option<Array1<f64>>,
    evr: Option<Array1<f64>>,
    covariance: Option<Array2<f64>>,
}

/// Class frequencies, or the given priors checked and renormalised as sklearn does.
fn priors(given: Option<&[f64]>, counts: &[usize], n: usize) -> Result<Array1<f64>, LdaError> {
    let Some(pr) = given else {
        return Ok(counts.iter().map(|&c| c as f64 / n as f64).collect());
    };
    if pr.len() != counts.len() {
        return Err(LdaError::BadPriors(format!("{} priors for {} classes", pr.len(), counts.len())));
    }
    if pr.iter().any(|&v| !(v >= 0.0 && v.is_finite())) {
        return Err(LdaError::BadPriors("priors must be non-negative".into()));
    }
    let sum: f64 = pr.iter().sum();
    if sum <= 0.0 {
        return Err(LdaError::BadPriors("priors sum to zero".into()));
    }
    let pr = Array1::from(pr.to_vec());
    Ok(if (sum - 1.0).abs() > 1e-5 { pr / sum } else { pr })
}

/// `-0.5 * diag(means @ coef.T) + log(priors)` (lsqr and eigen).
fn intercept_from_coef(means: &Array2<f64>, coef: &Array2<f64>, priors: &Array1<f64>) -> Array1<f64> {
    means.outer_iter().zip(coef.outer_iter()).zip(priors).map(|((m, c), &pr)| -0.5 * m.dot(&c) + pr.ln()).collect()
}

/// sklearn's `_solve_svd`.
fn solve_svd(
    x: ArrayView2<'_, f64>,
    class_of: &[usize],
    means: &Array2<f64>,
    priors: &Array1<f64>,
    params: &LdaParams,
    n_components: usize,
    out: &mut Fitted,
) -> Result<(), LdaError> {
    let (n, p) = x.dim();
    let n_classes = means.nrows();
    if params.store_covariance {
        out.covariance = Some(covariance::class_cov(x, class_of, priors, None)?);
    }
    let xbar = priors.dot(means);
    // 1) class-centred data, scaled per feature by its within-class std (0 -> 1) and by sqrt(1/n).
    let mut xc = x.to_owned();
    for (mut row, &k) in xc.outer_iter_mut().zip(class_of) {
        row -= &means.row(k);
    }
    let std: Vec<f64> = xc
        .axis_iter(Axis(1))
        .map(|c| {
            let m = c.sum() / n as f64;
            let sd = (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64).sqrt();
            if sd == 0.0 { 1.0 } else { sd }
        })
        .collect();
    let fac = (1.0 / n as f64).sqrt();
    let scaled = faer::Mat::from_fn(n, p, |i, j| fac * (xc[(i, j)] / std[j]));
    let (s1, v1) = svd_s_v(scaled.as_ref())?;
    let rank = s1.iter().filter(|&&s| s > params.tol).count();
    if rank == 0 {
        return Err(LdaError::RankZero(params.tol));
    }
    // scalings = (Vt[:rank] / std).T / S[:rank], shape (p, rank)
    let scalings = faer::Mat::from_fn(p, rank, |j, r| v1[(j, r)] / std[j] / s1[r]);
    // 2) between-class: sqrt(n * prior / (n_classes - 1)) weighted centres, projected.
    let fac2 = 1.0 / (n_classes as f64 - 1.0);
    let centres =
        faer::Mat::from_fn(n_classes, p, |k, j| (n as f64 * priors[k] * fac2).sqrt() * (means[(k, j)] - xbar[j]));
    let between = mul(centres.as_ref(), scalings.as_ref());
    let (s2, v2) = svd_s_v(between.as_ref())?;
    let total: f64 = s2.iter().map(|v| v * v).sum();
    out.evr = Some(s2.iter().take(n_components).map(|v| v * v / total).collect());
    let s0 = s2.first().copied().unwrap_or(0.0);
    let rank2 = s2.iter().filter(|&&v| v > params.tol * s0).count();
    let scalings_ = mul(scalings.as_ref(), v2.as_ref().subcols(0, rank2));
    let scalings_nd = to_nd(scalings_.as_ref());
    // coef = (means - xbar) @ scalings_; intercept = -0.5 |coef|^2 + log(priors); coef_ = coef @ scalings_.T
    let centred = means - &xbar.view().insert_axis(Axis(0));
    let coef_small = centred.dot(&scalings_nd);
    let mut intercept: Array1<f64> =
        coef_small.outer_iter().zip(priors).map(|(c, &pr)| -0.5 * c.dot(&c) + pr.ln()).collect();
    let coef = coef_small.dot(&scalings_nd.t());
    intercept -= &coef.dot(&xbar);
    out.coef = coef;
    out.intercept = intercept;
    out.scalings = Some(scalings_nd);
    out.xbar = Some(xbar);
    Ok(())
}

/// sklearn's `_solve_eigen`.
fn solve_eigen(
    x: ArrayView2<'_, f64>,
    class_of: &[usize],
    means: &Array2<f64>,
    priors: &Array1<f64>,
    shrinkage: Option<Shrinkage>,
    n_components: usize,
    out: &mut Fitted,
) -> Result<(), LdaError> {
    let sw = covariance::class_cov(x, class_of, priors, shrinkage)?;
    let st = covariance::cov(x, shrinkage)?;
    let sb = &st - &sw;
    let (evals, evecs) = eigh_generalized(sb.view(), sw.view())?;
    let sum: f64 = evals.iter().sum();
    // Descending order (faer's eigenvalues come ascending, as LAPACK's).
    let mut order: Vec<usize> = (0..evals.len()).collect();
    order.sort_by(|&a, &b| evals[b].total_cmp(&evals[a]));
    out.evr = Some(order.iter().take(n_components).map(|&i| evals[i] / sum).collect());
    let sorted = evecs.select(Axis(1), &order);
    // coef = (means @ evecs) @ evecs.T  (= means @ Sw^-1, independent of the eigenvector signs)
    let f = to_faer(sorted.view());
    let coef = to_nd(mul(mul(to_faer(means.view()).as_ref(), f.as_ref()).as_ref(), f.transpose()).as_ref());
    out.intercept = intercept_from_coef(means, &coef, priors);
    out.coef = coef;
    out.scalings = Some(sorted);
    out.covariance = Some(sw);
    Ok(())
}

/// Makes the largest-magnitude entry (the first on ties) of every column positive.
fn fix_column_signs(m: &mut Array2<f64>) {
    for mut col in m.axis_iter_mut(Axis(1)) {
        let mut arg = 0;
        for i in 1..col.len() {
            if col[i].abs() > col[arg].abs() {
                arg = i;
            }
        }
        if col.get(arg).is_some_and(|&v| v < 0.0) {
            col.mapv_inplace(|v| -v);
        }
    }
}
