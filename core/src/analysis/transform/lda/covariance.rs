//! Covariance estimates of LDA's lsqr and eigen solvers, as sklearn's `_cov` / `_class_cov`: empirical
//! (`np.cov(X.T, bias=1)`), shrunk towards `trace/p * I` by a fixed amount, or by the Ledoit-Wolf amount computed on
//! standardised features and scaled back.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::linalg::{mul, to_faer, to_nd};
use super::{LdaError, Shrinkage};

/// sklearn's `_cov(X, shrinkage)`: the covariance of the rows of `x`, shrunk as asked.
pub(super) fn cov(x: ArrayView2<'_, f64>, shrinkage: Option<Shrinkage>) -> Result<Array2<f64>, LdaError> {
    Ok(match shrinkage {
        None => empirical(x),
        Some(Shrinkage::Fixed(a)) => shrunk(empirical(x), a),
        Some(Shrinkage::Auto) => ledoit_wolf_rescaled(x),
    })
}

/// sklearn's `_class_cov`: the prior-weighted sum of the per-class covariances (`class_of` indexes `priors`).
pub(super) fn class_cov(
    x: ArrayView2<'_, f64>,
    class_of: &[usize],
    priors: &Array1<f64>,
    shrinkage: Option<Shrinkage>,
) -> Result<Array2<f64>, LdaError> {
    let p = x.ncols();
    let mut total = Array2::zeros((p, p));
    for (k, &prior) in priors.iter().enumerate() {
        let rows: Vec<usize> = (0..class_of.len()).filter(|&i| class_of[i] == k).collect();
        let xk = x.select(Axis(0), &rows);
        total.scaled_add(prior, &cov(xk.view(), shrinkage)?);
    }
    Ok(total)
}

/// Column means of `x`.
fn column_means(x: ArrayView2<'_, f64>) -> Array1<f64> {
    let n = x.nrows().max(1) as f64;
    x.sum_axis(Axis(0)) / n
}

/// `xc^T xc / n` for rows already centred.
fn scatter(xc: ArrayView2<'_, f64>) -> Array2<f64> {
    let f = to_faer(xc);
    let n = xc.nrows().max(1) as f64;
    to_nd(mul(f.transpose(), f.as_ref()).as_ref()) / n
}

/// `np.cov(X.T, bias=1)`: the maximum-likelihood covariance.
fn empirical(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mean = column_means(x);
    let xc = &x - &mean.view().insert_axis(Axis(0));
    scatter(xc.view())
}

/// sklearn's `shrunk_covariance`: `(1 - a) * c + a * trace(c) / p * I`.
fn shrunk(mut c: Array2<f64>, a: f64) -> Array2<f64> {
    let p = c.nrows();
    let mu = c.diag().sum() / p as f64;
    c.mapv_inplace(|v| (1.0 - a) * v);
    for i in 0..p {
        c[(i, i)] += a * mu;
    }
    c
}

/// `_cov(X, "auto")`: standardise the features (StandardScaler, near-constant ones keep scale 1), take the
/// Ledoit-Wolf estimate, and scale it back: `scale_i * s_ij * scale_j`.
fn ledoit_wolf_rescaled(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let n = x.nrows() as f64;
    let mean = column_means(x);
    let mut xs = &x - &mean.view().insert_axis(Axis(0));
    let scale: Vec<f64> = xs
        .axis_iter(Axis(1))
        .zip(&mean)
        .map(|(col, &m)| {
            let var = col.iter().map(|v| v * v).sum::<f64>() / n;
            // sklearn's _is_constant_feature bound on the two-pass variance.
            let bound = n * f64::EPSILON * var + (n * m * f64::EPSILON).powi(2);
            if var <= bound { 1.0 } else { var.sqrt() }
        })
        .collect();
    for (mut col, &s) in xs.axis_iter_mut(Axis(1)).zip(&scale) {
        col.mapv_inplace(|v| v / s);
    }
    // ledoit_wolf(X): centres again (a no-op up to rounding), then shrinks the centred scatter.
    let m2 = column_means(xs.view());
    let xc = &xs - &m2.view().insert_axis(Axis(0));
    let a = ledoit_wolf_shrinkage(xc.view());
    let mut s = shrunk(scatter(xc.view()), a);
    let p = s.nrows();
    for i in 0..p {
        for j in 0..p {
            s[(i, j)] *= scale[i] * scale[j];
        }
    }
    s
}

/// sklearn's `ledoit_wolf_shrinkage` for centred rows `xc` (n x p), using the identities
/// `sum((X^T X)^2) = sum((X X^T)^2)` and `sum(X2^T X2) = sum_s (sum_i X[s,i]^2)^2` (with `X2 = X**2`) so that the
/// cost is that of the smaller Gram matrix.
fn ledoit_wolf_shrinkage(xc: ArrayView2<'_, f64>) -> f64 {
    let (n_s, p) = xc.dim();
    if p == 1 {
        return 0.0;
    }
    let n = n_s as f64;
    let pf = p as f64;
    let emp_cov_trace: Vec<f64> = xc.axis_iter(Axis(1)).map(|c| c.iter().map(|v| v * v).sum::<f64>() / n).collect();
    let trace_sum: f64 = emp_cov_trace.iter().sum();
    let mu = trace_sum / pf;
    let f = to_faer(xc);
    let gram = if p <= n_s { mul(f.transpose(), f.as_ref()) } else { mul(f.as_ref(), f.transpose()) };
    let mut delta_ = 0.0;
    for j in 0..gram.ncols() {
        for i in 0..gram.nrows() {
            delta_ += gram[(i, j)] * gram[(i, j)];
        }
    }
    delta_ /= n * n;
    let beta_: f64 = xc
        .axis_iter(Axis(0))
        .map(|row| {
            let r: f64 = row.iter().map(|v| v * v).sum();
            r * r
        })
        .sum();
    let mut beta = 1.0 / (pf * n) * (beta_ / n - delta_);
    let delta = (delta_ - 2.0 * mu * trace_sum + pf * mu * mu) / pf;
    beta = beta.min(delta);
    if beta == 0.0 { 0.0 } else { beta / delta }
}
