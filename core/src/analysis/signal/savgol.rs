//! Savitzky-Golay coefficients and filter (scipy.signal.savgol_coeffs / savgol_filter, mode "interp").
//!
//! The least-squares fits are done on a centred, scaled abscissa `u = (j - c) / s` (with `c` the window
//! centre and `s = max(c, 1)`), via a thin QR factorisation of the small `window x (polyorder + 1)`
//! Vandermonde matrix, so that even the edge fits of long windows stay well conditioned.  The projection
//! onto polynomials of degree `polyorder` does not depend on that affine change of variable; derivatives are
//! rescaled by `1 / s^deriv`.

use rayon::prelude::*;

/// Checks the parameters shared by `savgol_coeffs` and `savgol_filter`.
fn check_params(window_length: usize, polyorder: usize, deriv: usize, delta: f64) -> Result<(), String> {
    if polyorder >= window_length {
        return Err("polyorder must be less than window_length.".to_string());
    }
    if deriv > 0 && deriv <= polyorder && (!delta.is_finite() || delta == 0.0) {
        return Err(format!("delta must be finite and nonzero when deriv > 0 (got {delta})."));
    }
    Ok(())
}

/// Least-squares polynomial fit of degree `polyorder` to `window_length` equally spaced samples: returns, for
/// each evaluation position `t` (in sample units, 0 = first sample of the window), the dot-order weights `w`
/// such that `sum_j w[j] * x[j]` is the `deriv`-th derivative (per `delta`) of the fit at `t`.
fn fit_weights(
    window_length: usize,
    polyorder: usize,
    deriv: usize,
    delta: f64,
    positions: &[f64],
) -> Vec<Vec<f64>> {
    let n = window_length;
    let m = polyorder + 1;
    if deriv > polyorder {
        return vec![vec![0.0; n]; positions.len()];
    }
    let c = (n as f64 - 1.0) / 2.0;
    let s = c.max(1.0);
    let u: Vec<f64> = (0..n).map(|j| (j as f64 - c) / s).collect();

    // Thin QR of M (n x m), M[j][k] = u_j^k, by Gram-Schmidt with one reorthogonalisation pass.
    // q[k] is column k of Q; r[k] is column k of the upper triangular factor R (entries 0..=k).
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut r: Vec<Vec<f64>> = Vec::with_capacity(m);
    for k in 0..m {
        let mut v: Vec<f64> = u.iter().map(|&uj| uj.powi(k as i32)).collect();
        let mut rk = vec![0.0; k + 1];
        for _pass in 0..2 {
            for (qi, rik) in q.iter().zip(rk.iter_mut()) {
                let dot: f64 = qi.iter().zip(&v).map(|(a, b)| a * b).sum();
                for (vj, qij) in v.iter_mut().zip(qi) {
                    *vj -= dot * qij;
                }
                *rik += dot;
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        rk[k] = norm;
        // norm > 0: n > polyorder distinct nodes make the columns independent.
        for vj in v.iter_mut() {
            *vj /= norm;
        }
        q.push(v);
        r.push(rk);
    }

    // Derivative scale: d^deriv/dx^deriv = s^-deriv d^deriv/du^deriv, then per-sample spacing delta.
    let scale = s.powi(-(deriv as i32)) / delta.powi(deriv as i32);
    positions
        .iter()
        .map(|&t| {
            let ut = (t - c) / s;
            // e[k] = d^deriv/du^deriv (u^k) at ut, times scale.
            let mut e = vec![0.0; m];
            for (k, ek) in e.iter_mut().enumerate().skip(deriv) {
                let falling: f64 = ((k - deriv + 1)..=k).map(|f| f as f64).product();
                *ek = falling * ut.powi((k - deriv) as i32) * scale;
            }
            // Minimum-norm solution of M^T w = e: w = Q R^-T e.  Solve R^T z = e by forward substitution.
            let mut z: Vec<f64> = Vec::with_capacity(m);
            for (k, (rk, ek)) in r.iter().zip(&e).enumerate() {
                let acc = ek - rk.iter().zip(&z).map(|(a, b)| a * b).sum::<f64>();
                z.push(acc / rk[k]);
            }
            let mut w = vec![0.0; n];
            for (qk, zk) in q.iter().zip(&z) {
                for (wj, qkj) in w.iter_mut().zip(qk) {
                    *wj += zk * qkj;
                }
            }
            w
        })
        .collect()
}

/// Savitzky-Golay FIR coefficients in convolution order, as `scipy.signal.savgol_coeffs(..., pos=None, use='conv')`.
pub fn savgol_coeffs(window_length: usize, polyorder: usize, deriv: usize, delta: f64) -> Result<Vec<f64>, String> {
    check_params(window_length, polyorder, deriv, delta)?;
    let centre = (window_length as f64 - 1.0) / 2.0;
    let mut w = fit_weights(window_length, polyorder, deriv, delta, &[centre])
        .pop()
        .unwrap_or_else(|| vec![0.0; window_length]);
    w.reverse();
    Ok(w)
}

/// Precomputed weights for one parameter set of `savgol_filter` (interior and both edges).
struct SavgolPlan {
    /// Window length.
    window_length: usize,
    /// Interior weights in dot order.
    interior: Vec<f64>,
    /// Dot-order weights on the first `window_length` samples, for outputs `0..halflen`.
    left: Vec<Vec<f64>>,
    /// Dot-order weights on the last `window_length` samples, for outputs `n - halflen..n`.
    right: Vec<Vec<f64>>,
}

impl SavgolPlan {
    /// Builds the weights after validating the parameters.
    fn new(window_length: usize, polyorder: usize, deriv: usize, delta: f64) -> Result<Self, String> {
        check_params(window_length, polyorder, deriv, delta)?;
        let half = window_length / 2;
        let mut positions: Vec<f64> = vec![(window_length as f64 - 1.0) / 2.0];
        positions.extend((0..half).map(|t| t as f64));
        positions.extend((window_length - half..window_length).map(|t| t as f64));
        let mut all = fit_weights(window_length, polyorder, deriv, delta, &positions);
        let right = all.split_off(1 + half);
        let left = all.split_off(1);
        let interior = all.pop().unwrap_or_else(|| vec![0.0; window_length]);
        Ok(Self { window_length, interior, left, right })
    }

    /// Filters one signal (mode "interp").
    fn apply(&self, x: &[f64]) -> Result<Vec<f64>, String> {
        let wl = self.window_length;
        let n = x.len();
        if wl > n {
            return Err("If mode is 'interp', window_length must be less than or equal to the size of x.".to_string());
        }
        let half = wl / 2;
        let dot = |w: &[f64], xs: &[f64]| -> f64 { w.iter().zip(xs).map(|(a, b)| a * b).sum() };
        let mut y = vec![0.0; n];
        // Interior: output i uses samples i + half - (wl - 1) ..= i + half (scipy.ndimage.convolve1d alignment).
        for (i, yi) in y.iter_mut().enumerate().take(n - half).skip(half) {
            let start = i + half + 1 - wl;
            *yi = dot(&self.interior, &x[start..start + wl]);
        }
        let head = &x[..wl];
        for (yi, w) in y.iter_mut().zip(&self.left) {
            *yi = dot(w, head);
        }
        let tail = &x[n - wl..];
        for (yi, w) in y[n - half..].iter_mut().zip(&self.right) {
            *yi = dot(w, tail);
        }
        Ok(y)
    }
}

/// Savitzky-Golay filter of `x`, as `scipy.signal.savgol_filter(x, window_length, polyorder, deriv, delta, mode='interp')`.
pub fn savgol_filter(
    x: &[f64],
    window_length: usize,
    polyorder: usize,
    deriv: usize,
    delta: f64,
) -> Result<Vec<f64>, String> {
    SavgolPlan::new(window_length, polyorder, deriv, delta)?.apply(x)
}

/// `savgol_filter` applied to every row (rows may differ in length), in parallel with rayon.
pub fn savgol_rows(
    rows: &[Vec<f64>],
    window_length: usize,
    polyorder: usize,
    deriv: usize,
    delta: f64,
) -> Result<Vec<Vec<f64>>, String> {
    let plan = SavgolPlan::new(window_length, polyorder, deriv, delta)?;
    rows.par_iter()
        .enumerate()
        .map(|(i, row)| plan.apply(row).map_err(|e| format!("row {i}: {e}")))
        .collect()
}
