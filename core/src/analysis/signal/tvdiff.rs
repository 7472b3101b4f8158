//! Total-variation regularised numerical differentiation (Chartrand 2011, "Numerical differentiation of noisy,
//! nonsmooth data"), both formulations of the paper: `small` (derivative on the n+1 cell edges, returns n+1 values)
//! and `large` (integral formulation, n values).
//!
//! Each lagged-diffusivity iteration solves `(alpha L + A^T A) s = g` with preconditioned conjugate gradients
//! (Jacobi preconditioner, relative residual 1e-4, at most 100 steps: the original's solver settings). The original
//! passed the preconditioner matrix itself where scipy expects its inverse; we use the inverse, so iterates differ
//! slightly from the original's while converging to the same regularised derivative.

/// Parameters of [`tvdiff`].
#[derive(Debug, Clone, Copy)]
pub struct TvDiffParams {
    /// Number of outer (lagged-diffusivity) iterations.
    pub iterations: usize,
    /// Regularisation strength.
    pub alpha: f64,
    /// Grid spacing.
    pub dx: f64,
    /// Keeps sqrt((Du)^2 + ep) away from zero.
    pub ep: f64,
    /// Integral (`large`) formulation; otherwise `small`.
    pub large: bool,
}

/// The regularised derivative of `data`.
pub fn tvdiff(data: &[f64], p: &TvDiffParams) -> Result<Vec<f64>, String> {
    if data.len() < 3 {
        return Err(format!("TVDiff needs at least 3 values, got {}", data.len()));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err("TVDiff: data contain NaN or infinite values".into());
    }
    Ok(if p.large { large(data, p) } else { small(data, p) })
}

/// Reverse cumulative sum: out[i] = sum_{j >= i} w[j] (A^T for A = cumsum).
fn rev_cumsum(w: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; w.len()];
    let mut acc = 0.0;
    for i in (0..w.len()).rev() {
        acc += w[i];
        out[i] = acc;
    }
    out
}

fn cumsum(v: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    v.iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect()
}

/// Preconditioned conjugate gradients for an SPD operator, from x0 = 0.
fn pcg(op: impl Fn(&[f64]) -> Vec<f64>, b: &[f64], diag: &[f64], rtol: f64, maxiter: usize) -> Vec<f64> {
    let n = b.len();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    let bnorm = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    if bnorm == 0.0 {
        return x;
    }
    let mut z: Vec<f64> = r.iter().zip(diag).map(|(r, d)| r / d).collect();
    let mut p = z.clone();
    let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
    for _ in 0..maxiter {
        let ap = op(&p);
        let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
        if pap <= 0.0 {
            break;
        }
        let a = rz / pap;
        for i in 0..n {
            x[i] += a * p[i];
            r[i] -= a * ap[i];
        }
        if r.iter().map(|v| v * v).sum::<f64>().sqrt() <= rtol * bnorm {
            break;
        }
        z = r.iter().zip(diag).map(|(r, d)| r / d).collect();
        let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let beta = rz_new / rz;
        rz = rz_new;
        for i in 0..n {
            p[i] = z[i] + beta * p[i];
        }
    }
    x
}

const RTOL: f64 = 1e-4;
const MAXIT: usize = 100;

fn large(data: &[f64], p: &TvDiffParams) -> Vec<f64> {
    let n = data.len();
    let d0 = data[0];
    let data: Vec<f64> = data.iter().map(|v| v - d0).collect();
    // D: (u[i+1] - u[i]) / dx for i < n-1, last row zero.
    let dmul = |u: &[f64]| -> Vec<f64> { (0..n).map(|i| if i + 1 < n { (u[i + 1] - u[i]) / p.dx } else { 0.0 }).collect() };
    // D^T applied to a vector of row values.
    let dtmul = |w: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; n];
        for i in 0..n - 1 {
            out[i] -= w[i] / p.dx;
            out[i + 1] += w[i] / p.dx;
        }
        out
    };
    let atd = rev_cumsum(&data);
    let mut u: Vec<f64> = std::iter::once(0.0).chain(data.windows(2).map(|w| w[1] - w[0])).collect();
    // Diagonal of A^T A for A = cumsum: n, n-1, ..., 1.
    let ata_diag: Vec<f64> = (0..n).map(|i| (n - i) as f64).collect();
    for _ in 0..p.iterations {
        let du = dmul(&u);
        let q: Vec<f64> = du.iter().map(|v| 1.0 / (v * v + p.ep).sqrt()).collect();
        let lmul = |v: &[f64]| -> Vec<f64> {
            let dv = dmul(v);
            dtmul(&dv.iter().zip(&q).map(|(a, b)| a * b).collect::<Vec<_>>())
        };
        let lu = lmul(&u);
        let atau = rev_cumsum(&cumsum(&u));
        let g: Vec<f64> = (0..n).map(|i| atau[i] - atd[i] + p.alpha * lu[i]).collect();
        let neg_g: Vec<f64> = g.iter().map(|v| -v).collect();
        // diag(L)[i] = (q[i-1] + q[i]) / dx^2 over the rows that exist.
        let ldiag: Vec<f64> = (0..n)
            .map(|i| {
                let left = if i >= 1 && i - 1 < n - 1 { q[i - 1] } else { 0.0 };
                let right = if i < n - 1 { q[i] } else { 0.0 };
                (left + right) / (p.dx * p.dx)
            })
            .collect();
        let diag: Vec<f64> = (0..n).map(|i| p.alpha * ldiag[i] + ata_diag[i]).collect();
        let op = |v: &[f64]| -> Vec<f64> {
            let lv = lmul(v);
            let atav = rev_cumsum(&cumsum(v));
            (0..n).map(|i| p.alpha * lv[i] + atav[i]).collect()
        };
        let s = pcg(op, &neg_g, &diag, RTOL, MAXIT);
        for i in 0..n {
            u[i] += s[i];
        }
    }
    u.iter().map(|v| v / p.dx).collect()
}

fn small(data: &[f64], p: &TvDiffParams) -> Vec<f64> {
    let n = data.len();
    let m = n + 1;
    let dmul = |u: &[f64]| -> Vec<f64> { (0..n).map(|i| (u[i + 1] - u[i]) / p.dx).collect() };
    let dtmul = |w: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; m];
        for i in 0..n {
            out[i] -= w[i] / p.dx;
            out[i + 1] += w[i] / p.dx;
        }
        out
    };
    // A: trapezoidal antiderivative on the edges -> n values; AT its adjoint -> n+1 values.
    let a = |x: &[f64]| -> Vec<f64> {
        let c = cumsum(x);
        (1..m).map(|i| (c[i] - 0.5 * (x[i] + x[0])) * p.dx).collect()
    };
    let at = |w: &[f64]| -> Vec<f64> {
        let s: f64 = w.iter().sum();
        let c = cumsum(w);
        let mut out = vec![0.0; m];
        out[0] = (s - s / 2.0) * p.dx;
        for i in 1..m {
            out[i] = (s - (c[i - 1] - w[i - 1] / 2.0)) * p.dx;
        }
        out
    };
    let ofst = data[0];
    let atb = at(&data.iter().map(|v| ofst - v).collect::<Vec<_>>());
    let mut u: Vec<f64> = std::iter::once(0.0).chain(data.windows(2).map(|w| w[1] - w[0])).chain(std::iter::once(0.0)).collect();
    for _ in 0..p.iterations {
        let du = dmul(&u);
        let q: Vec<f64> = du.iter().map(|v| 1.0 / (v * v + p.ep).sqrt()).collect();
        let lmul = |v: &[f64]| -> Vec<f64> {
            let dv = dmul(v);
            dtmul(&dv.iter().zip(&q).map(|(a, b)| a * b * p.dx).collect::<Vec<_>>())
        };
        let lu = lmul(&u);
        let ataw = at(&a(&u));
        let g: Vec<f64> = (0..m).map(|i| ataw[i] + atb[i] + p.alpha * lu[i]).collect();
        let diag: Vec<f64> = (0..m)
            .map(|i| {
                let left = if i >= 1 { q[i - 1] } else { 0.0 };
                let right = if i < n { q[i] } else { 0.0 };
                p.alpha * (left + right) / p.dx + 1.0
            })
            .collect();
        let op = |v: &[f64]| -> Vec<f64> {
            let lv = lmul(v);
            let aav = at(&a(v));
            (0..m).map(|i| p.alpha * lv[i] + aav[i]).collect()
        };
        let s = pcg(op, &g, &diag, RTOL, MAXIT);
        for i in 0..m {
            u[i] -= s[i];
        }
    }
    u
}
