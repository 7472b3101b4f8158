//! Dense Cholesky solve for the small (ring-sized) symmetric positive definite systems of the ring fit.

/// Solve `g x = b` in place (`b` becomes `x`) for a row-major `n x n` SPD `g`, which is overwritten by its factor.
/// Returns false (leaving `b` unspecified) when `g` is not numerically positive definite.
pub fn cholesky_solve(g: &mut [f64], n: usize, b: &mut [f64]) -> bool {
    // Lower factor L in the lower triangle: g = L L^T.
    for j in 0..n {
        let mut diag = g[j * n + j];
        for k in 0..j {
            diag -= g[j * n + k] * g[j * n + k];
        }
        if diag.is_nan() || diag <= 0.0 || !diag.is_finite() {
            return false;
        }
        let ljj = diag.sqrt();
        g[j * n + j] = ljj;
        for i in j + 1..n {
            let mut v = g[i * n + j];
            for k in 0..j {
                v -= g[i * n + k] * g[j * n + k];
            }
            g[i * n + j] = v / ljj;
        }
    }
    // Forward: L z = b.
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= g[i * n + k] * b[k];
        }
        b[i] = v / g[i * n + i];
    }
    // Backward: L^T x = z.
    for i in (0..n).rev() {
        let mut v = b[i];
        for k in i + 1..n {
            v -= g[k * n + i] * b[k];
        }
        b[i] = v / g[i * n + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_spd_system() {
        let mut g = vec![4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let x = [1.0, -2.0, 0.5];
        let mut b: Vec<f64> = (0..3).map(|i| (0..3).map(|j| g[i * 3 + j] * x[j]).sum()).collect();
        assert!(cholesky_solve(&mut g, 3, &mut b));
        for i in 0..3 {
            assert!((b[i] - x[i]).abs() < 1e-12);
        }
        let mut z = vec![0.0; 4];
        let mut r = vec![1.0, 1.0];
        assert!(!cholesky_solve(&mut z, 2, &mut r));
    }
}
