//! Dense linear algebra for LDA on faer: copies to and from ndarray, products, thin SVD, scipy's `lstsq` and the
//! symmetric-definite generalised eigenproblem `eigh(A, B)`.

use faer::linalg::matmul::matmul;
use faer::linalg::triangular_solve::{solve_lower_triangular_in_place, solve_upper_triangular_in_place};
use faer::{Accum, Mat, MatRef, Par, Side};
use ndarray::{Array2, ArrayView2};

use super::LdaError;

/// Copies an ndarray matrix into a faer one.
pub(super) fn to_faer(a: ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

/// Copies a faer matrix into an ndarray one.
pub(super) fn to_nd(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `a @ b` with faer's (rayon-parallel) kernel.
pub(super) fn mul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    matmul(out.as_mut(), Accum::Replace, a, b, 1.0, Par::rayon(0));
    out
}

/// Thin SVD `a = U S Vt`: singular values (non-increasing) and `V` (columns are the right singular vectors).
pub(super) fn svd_s_v(a: MatRef<'_, f64>) -> Result<(Vec<f64>, Mat<f64>), LdaError> {
    let svd = a.thin_svd().map_err(|_| LdaError::Linalg("SVD did not converge"))?;
    let s = svd.S().column_vector().iter().copied().collect();
    Ok((s, svd.V().to_owned()))
}

/// scipy.linalg.lstsq(a, b) (LAPACK gelsd's minimum-norm solution): singular values at most `eps * s_max` are
/// treated as zero.
pub(super) fn lstsq(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<Array2<f64>, LdaError> {
    let svd = to_faer(a).thin_svd().map_err(|_| LdaError::Linalg("SVD did not converge"))?;
    let s: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let smax = s.first().copied().unwrap_or(0.0);
    let cutoff = f64::EPSILON * smax;
    // x = V diag(1/s) U^T b over the kept singular values.
    let mut utb = mul(svd.U().transpose(), to_faer(b).as_ref());
    for (r, &sv) in s.iter().enumerate() {
        let inv = if sv > cutoff { 1.0 / sv } else { 0.0 };
        for c in 0..utb.ncols() {
            utb[(r, c)] *= inv;
        }
    }
    Ok(to_nd(mul(svd.V(), utb.as_ref()).as_ref()))
}

/// scipy.linalg.eigh(a, b) for symmetric `a` and symmetric positive definite `b`: eigenvalues in ascending order
/// and eigenvectors normalised so that `V^T b V = I`, by the same Cholesky reduction as LAPACK's sygvd
/// (`b = L L^T`, `C = L^-1 a L^-T`, `V = L^-T W`). Fails when `b` is not positive definite, as scipy does.
pub(super) fn eigh_generalized(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
) -> Result<(Vec<f64>, Array2<f64>), LdaError> {
    let n = a.nrows();
    let llt = to_faer(b).llt(Side::Lower).map_err(|_| LdaError::SingularCovariance)?;
    let l = llt.L();
    let mut c = to_faer(a);
    solve_lower_triangular_in_place(l, c.as_mut(), Par::rayon(0));
    let mut c2 = c.transpose().to_owned();
    solve_lower_triangular_in_place(l, c2.as_mut(), Par::rayon(0));
    let sym = Mat::from_fn(n, n, |i, j| 0.5 * (c2[(i, j)] + c2[(j, i)]));
    let evd = sym.self_adjoint_eigen(Side::Lower).map_err(|_| LdaError::Linalg("eigendecomposition failed"))?;
    let evals: Vec<f64> = evd.S().column_vector().iter().copied().collect();
    let mut w = evd.U().to_owned();
    solve_upper_triangular_in_place(l.transpose(), w.as_mut(), Par::rayon(0));
    Ok((evals, to_nd(w.as_ref())))
}
