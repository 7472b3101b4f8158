//! lfilter, lfilter_zi and filtfilt with scipy's default odd padding.
//!
//! Semantics follow `scipy.signal.lfilter` (direct form II transposed, coefficients normalised by `a[0]`),
//! `scipy.signal.lfilter_zi` (steady-state initial conditions of a unit step) and `scipy.signal.filtfilt`
//! with its defaults (`padtype="odd"`, `padlen = 3 * max(len(a), len(b))`, `method="pad"`).

use rayon::prelude::*;

/// Coefficients normalised by `a[0]` and zero-padded to a common length; `None` when `a` has no usable `a[0]`.
fn normalise(b: &[f64], a: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let a0 = *a.first()?;
    if a0 == 0.0 || !a0.is_finite() {
        return None;
    }
    let n = a.len().max(b.len()).max(1);
    let mut bn = vec![0.0; n];
    let mut an = vec![0.0; n];
    for (d, &s) in bn.iter_mut().zip(b) {
        *d = s / a0;
    }
    for (d, &s) in an.iter_mut().zip(a) {
        *d = s / a0;
    }
    Some((bn, an))
}

/// Runs the DF-II-transposed recursion in place on `state` (length n-1) with normalised, equal-length `b`, `a`.
fn run_df2t(b: &[f64], a: &[f64], x: impl Iterator<Item = f64>, state: &mut [f64], out: &mut Vec<f64>) {
    let m = state.len();
    for xn in x {
        if m == 0 {
            out.push(b[0] * xn);
            continue;
        }
        let yn = state[0] + b[0] * xn;
        for i in 0..m - 1 {
            state[i] = state[i + 1] + xn * b[i + 1] - yn * a[i + 1];
        }
        state[m - 1] = xn * b[m] - yn * a[m];
        out.push(yn);
    }
}

/// Filters `x` with `b`/`a` like `scipy.signal.lfilter`, returning `(y, zf)`; NaN output if `a` is empty or `a[0] == 0`.
pub fn lfilter(b: &[f64], a: &[f64], x: &[f64], zi: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let Some((bn, an)) = normalise(b, a) else {
        let n = a.len().max(b.len()).max(1);
        return (vec![f64::NAN; x.len()], vec![f64::NAN; n - 1]);
    };
    let mut state = vec![0.0; bn.len() - 1];
    if let Some(zi) = zi {
        for (s, &v) in state.iter_mut().zip(zi) {
            *s = v;
        }
    }
    let mut y = Vec::with_capacity(x.len());
    run_df2t(&bn, &an, x.iter().copied(), &mut state, &mut y);
    (y, state)
}

/// Steady-state initial conditions for a unit-step input, like `scipy.signal.lfilter_zi`; NaNs if `a` is all zero.
pub fn lfilter_zi(b: &[f64], a: &[f64]) -> Vec<f64> {
    let lead = a.iter().take_while(|&&v| v == 0.0).count().min(a.len().saturating_sub(1));
    let a = &a[lead..];
    let Some((bn, an)) = normalise(b, a) else {
        let n = a.len().max(b.len()).max(1);
        return vec![f64::NAN; n - 1];
    };
    let m = bn.len() - 1;
    if m == 0 {
        return Vec::new();
    }
    // (I - companion(a)^T) zi = b[1:] - a[1:] * b[0]; row i has a[i+1] in column 0 and -1 on the superdiagonal.
    let mut mat = vec![0.0; m * m];
    for i in 0..m {
        mat[i * m] = an[i + 1];
        mat[i * m + i] += 1.0;
        if i + 1 < m {
            mat[i * m + i + 1] = -1.0;
        }
    }
    let rhs: Vec<f64> = (0..m).map(|i| bn[i + 1] - an[i + 1] * bn[0]).collect();
    solve(m, mat, rhs)
}

/// Solves the dense `m x m` system (row-major) by LU with partial pivoting; NaNs if singular.
fn solve(m: usize, mut mat: Vec<f64>, mut rhs: Vec<f64>) -> Vec<f64> {
    for col in 0..m {
        let mut piv = col;
        for r in col + 1..m {
            if mat[r * m + col].abs() > mat[piv * m + col].abs() {
                piv = r;
            }
        }
        let pv = mat[piv * m + col];
        if pv == 0.0 || !pv.is_finite() {
            return vec![f64::NAN; m];
        }
        if piv != col {
            for c in 0..m {
                mat.swap(col * m + c, piv * m + c);
            }
            rhs.swap(col, piv);
        }
        for r in col + 1..m {
            let f = mat[r * m + col] / pv;
            if f != 0.0 {
                for c in col + 1..m {
                    mat[r * m + c] -= f * mat[col * m + c];
                }
                rhs[r] -= f * rhs[col];
            }
        }
    }
    let mut x = vec![0.0; m];
    for r in (0..m).rev() {
        let mut s = rhs[r];
        for c in r + 1..m {
            s -= mat[r * m + c] * x[c];
        }
        x[r] = s / mat[r * m + r];
    }
    x
}

/// Validated, normalised filter plus its initial conditions, shared by all curves of a batch.
struct Prepared {
    b: Vec<f64>,
    a: Vec<f64>,
    zi: Vec<f64>,
    edge: usize,
}

fn prepare(b: &[f64], a: &[f64]) -> Result<Prepared, String> {
    if b.is_empty() {
        return Err("Numerator b must not be empty".to_string());
    }
    if a.is_empty() || a[0] == 0.0 {
        return Err("Denominator a must be non-empty with a[0] != 0".to_string());
    }
    if b.iter().chain(a).any(|v| !v.is_finite()) {
        return Err("Filter coefficients must be finite".to_string());
    }
    let edge = 3 * a.len().max(b.len());
    let zi = lfilter_zi(b, a);
    let (b, a) = normalise(b, a).ok_or_else(|| "Denominator a must have a[0] != 0".to_string())?;
    Ok(Prepared { b, a, zi, edge })
}

fn apply(p: &Prepared, x: &[f64]) -> Result<Vec<f64>, String> {
    let (n, edge) = (x.len(), p.edge);
    if n <= edge {
        return Err(format!("The length of the input vector x must be greater than padlen, which is {edge}."));
    }
    // Odd extension: 2*x[0] - x[edge..=1] on the left, 2*x[n-1] - x[n-2..=n-1-edge] on the right.
    let mut ext = Vec::with_capacity(n + 2 * edge);
    ext.extend((1..=edge).rev().map(|i| 2.0 * x[0] - x[i]));
    ext.extend_from_slice(x);
    ext.extend((0..edge).map(|i| 2.0 * x[n - 1] - x[n - 2 - i]));

    let mut state: Vec<f64> = p.zi.iter().map(|&z| z * ext[0]).collect();
    let mut fwd = Vec::with_capacity(ext.len());
    run_df2t(&p.b, &p.a, ext.iter().copied(), &mut state, &mut fwd);

    let y0 = fwd.last().copied().unwrap_or(0.0);
    let mut state: Vec<f64> = p.zi.iter().map(|&z| z * y0).collect();
    let mut back = Vec::with_capacity(fwd.len());
    run_df2t(&p.b, &p.a, fwd.iter().rev().copied(), &mut state, &mut back);

    // `back` is in reversed time order; undo that and strip the padding.
    Ok(back[edge..edge + n].iter().rev().copied().collect())
}

/// Zero-phase forward-backward filtering like `scipy.signal.filtfilt(b, a, x)` with its default odd padding.
pub fn filtfilt(b: &[f64], a: &[f64], x: &[f64]) -> Result<Vec<f64>, String> {
    let p = prepare(b, a)?;
    apply(&p, x)
}

/// [`filtfilt`] applied to many curves in parallel (rayon); fails if any curve is too short.
pub fn filtfilt_rows(b: &[f64], a: &[f64], rows: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
    let p = prepare(b, a)?;
    rows.par_iter().map(|r| apply(&p, r)).collect()
}
