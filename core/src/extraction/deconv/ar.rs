//! Autoregressive (AR(p)) calcium kernel estimated from a trace's autocovariance, as CaImAn's
//! `estimate_time_constant` does: Yule-Walker equations over `lags + p` lags with the noise variance removed at
//! lag 0, then the roots of the characteristic polynomial are made real, forced into `[0, 1)` and shrunk by the
//! fudge factor.

/// Roots above 1 (unstable) are replaced by this; CaImAn adds `N(0, 0.01)` jitter from a fixed seed, we do not.
const UNSTABLE_ROOT: f64 = 0.95;
/// Negative roots (oscillating kernels) are replaced by this (CaImAn: plus the same jitter).
const NEGATIVE_ROOT: f64 = 0.15;
/// Largest root we ever return, so the kernel always decays even with `fudge_factor >= 1`.
const MAX_ROOT: f64 = 0.9999;

/// AR coefficients `g` (`c_t = sum_k g_k c_{t-k} + s_t`) of a trace with noise std `sn`; `p = 0` gives an empty vector
/// and degenerate traces (constant, too short, non-finite) give zeros, so the result is always a stable kernel.
pub fn estimate_ar(trace: &[f32], p: usize, sn: f32, lags: usize, fudge_factor: f64) -> Vec<f32> {
    if p == 0 {
        return Vec::new();
    }
    let finite = trace.iter().all(|v| v.is_finite()) && sn.is_finite();
    if !finite || trace.len() < 2 {
        return vec![0.0; p];
    }
    let lags = lags + p;
    let acov = autocovariance(trace, lags);
    let sn2 = f64::from(sn) * f64::from(sn);
    // Rows i = 0..lags: sum_j (acov[|i - j|] - sn2 [i == j]) g_j = acov[i + 1].
    let a: Vec<Vec<f64>> = (0..lags)
        .map(|i| (0..p).map(|j| acov[i.abs_diff(j)] - if i == j { sn2 } else { 0.0 }).collect())
        .collect();
    let rhs: Vec<f64> = (0..lags).map(|i| acov[i + 1]).collect();
    let Some(g) = least_squares(&a, &rhs, p) else {
        return vec![0.0; p];
    };
    let roots = real_roots(&g);
    let roots: Vec<f64> = roots
        .into_iter()
        .map(|r| {
            let r = if r > 1.0 {
                UNSTABLE_ROOT
            } else if r < 0.0 {
                NEGATIVE_ROOT
            } else if r.is_nan() {
                0.0
            } else {
                r
            };
            (fudge_factor * r).clamp(0.0, MAX_ROOT)
        })
        .collect();
    coefficients_from_roots(&roots).into_iter().map(|v| v as f32).collect()
}

/// Biased autocovariance `acov[k] = sum_t x_t x_{t+k} / T` of the demeaned trace for `k = 0..=maxlag` (CaImAn's
/// `axcov`, which computes the same sums through a zero-padded FFT).
pub fn autocovariance(x: &[f32], maxlag: usize) -> Vec<f64> {
    let t = x.len();
    if t == 0 {
        return vec![0.0; maxlag + 1];
    }
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / t as f64;
    let d: Vec<f64> = x.iter().map(|&v| f64::from(v) - mean).collect();
    (0..=maxlag)
        .map(|k| if k >= t { 0.0 } else { d[..t - k].iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / t as f64 })
        .collect()
}

/// Least-squares solution of `a x = b` (`a` is `rows x p`) through the normal equations; `None` when singular
/// (numpy's `lstsq` would return the minimum-norm solution, which for our inputs is only reached by constant traces).
fn least_squares(a: &[Vec<f64>], b: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut m = vec![vec![0.0; p + 1]; p];
    for (row, &bi) in a.iter().zip(b) {
        for i in 0..p {
            for j in 0..p {
                m[i][j] += row[i] * row[j];
            }
            m[i][p] += row[i] * bi;
        }
    }
    let scale = (0..p).map(|i| m[i][i].abs()).fold(0.0, f64::max);
    if scale <= 0.0 || !scale.is_finite() {
        return None;
    }
    for col in 0..p {
        let piv = (col..p).max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))?;
        if m[piv][col].abs() <= 1e-13 * scale {
            return None;
        }
        m.swap(col, piv);
        let pivot = m[col].clone();
        for (r, row) in m.iter_mut().enumerate().take(p) {
            if r != col {
                let f = row[col] / pivot[col];
                for (x, pv) in row[col..=p].iter_mut().zip(&pivot[col..=p]) {
                    *x -= f * pv;
                }
            }
        }
    }
    Some((0..p).map(|i| m[i][p] / m[i][i]).collect())
}

/// Real parts of the roots of `z^p - g_1 z^{p-1} - ... - g_p` (CaImAn keeps `(r + conj(r)) / 2`).
fn real_roots(g: &[f64]) -> Vec<f64> {
    match g.len() {
        1 => vec![g[0]],
        2 => {
            let disc = g[0] * g[0] + 4.0 * g[1];
            if disc >= 0.0 {
                let s = disc.sqrt();
                vec![(g[0] + s) / 2.0, (g[0] - s) / 2.0]
            } else {
                vec![g[0] / 2.0, g[0] / 2.0]
            }
        }
        _ => durand_kerner(g).into_iter().map(|(re, _)| re).collect(),
    }
}

/// Roots of the monic polynomial `z^p - sum g_k z^{p-k}` by Weierstrass / Durand-Kerner iteration, as (re, im).
fn durand_kerner(g: &[f64]) -> Vec<(f64, f64)> {
    let p = g.len();
    // coefficients of z^p + a_1 z^{p-1} + ... + a_p
    let a: Vec<f64> = g.iter().map(|v| -v).collect();
    let eval = |z: (f64, f64)| {
        let mut acc = (1.0, 0.0);
        for &ak in &a {
            acc = (acc.0 * z.0 - acc.1 * z.1 + ak, acc.0 * z.1 + acc.1 * z.0);
        }
        acc
    };
    let mut roots: Vec<(f64, f64)> = (0..p)
        .map(|k| {
            let ang = 0.4 + 2.0 * std::f64::consts::PI * k as f64 / p as f64;
            (0.9 * ang.cos(), 0.9 * ang.sin())
        })
        .collect();
    for _ in 0..500 {
        let mut delta = 0.0_f64;
        for i in 0..p {
            let zi = roots[i];
            let num = eval(zi);
            let mut den = (1.0, 0.0);
            for (j, &zj) in roots.iter().enumerate() {
                if j != i {
                    let d = (zi.0 - zj.0, zi.1 - zj.1);
                    den = (den.0 * d.0 - den.1 * d.1, den.0 * d.1 + den.1 * d.0);
                }
            }
            let n2 = den.0 * den.0 + den.1 * den.1;
            if n2 == 0.0 {
                continue;
            }
            let q = ((num.0 * den.0 + num.1 * den.1) / n2, (num.1 * den.0 - num.0 * den.1) / n2);
            roots[i] = (zi.0 - q.0, zi.1 - q.1);
            delta = delta.max(q.0.abs() + q.1.abs());
        }
        if delta < 1e-14 {
            break;
        }
    }
    roots
}

/// `g` such that `z^p - sum g_k z^{p-k} = prod (z - r_i)` (numpy's `-poly(r)[1:]`).
pub(crate) fn coefficients_from_roots(roots: &[f64]) -> Vec<f64> {
    let mut poly = vec![1.0];
    for &r in roots {
        let mut next = vec![0.0; poly.len() + 1];
        for (k, &c) in poly.iter().enumerate() {
            next[k] += c;
            next[k + 1] -= r * c;
        }
        poly = next;
    }
    poly[1..].iter().map(|v| -v).collect()
}

/// Slowest decay root `d` of an AR(1)/AR(2) kernel (`g` for AR(1); `(g1 + sqrt(g1^2 + 4 g2)) / 2` for AR(2), the
/// modulus when the roots are complex); what the initial-calcium transient `c1 d^t` decays with.
pub fn decay_root(g: &[f64]) -> f64 {
    match g.len() {
        0 => 0.0,
        1 => g[0],
        _ => {
            let disc = g[0] * g[0] + 4.0 * g[1];
            if disc >= 0.0 { (g[0] + disc.sqrt()) / 2.0 } else { (-g[1]).max(0.0).sqrt() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_round_trip() {
        let g = coefficients_from_roots(&[0.9, 0.3]);
        assert!((g[0] - 1.2).abs() < 1e-12 && (g[1] + 0.27).abs() < 1e-12);
        let r = real_roots(&g);
        assert!((r[0] - 0.9).abs() < 1e-12 && (r[1] - 0.3).abs() < 1e-12);
        let g3 = coefficients_from_roots(&[0.8, 0.5, 0.2]);
        let mut r3 = real_roots(&g3);
        r3.sort_by(f64::total_cmp);
        for (a, b) in r3.iter().zip([0.2, 0.5, 0.8]) {
            assert!((a - b).abs() < 1e-9, "{r3:?}");
        }
    }

    #[test]
    fn degenerate_traces_give_zeros() {
        assert_eq!(estimate_ar(&[1.0; 50], 2, 0.0, 5, 0.96), vec![0.0, 0.0]);
        assert_eq!(estimate_ar(&[1.0, f32::NAN, 2.0], 1, 0.1, 5, 0.96), vec![0.0]);
        assert_eq!(estimate_ar(&[], 2, 0.1, 5, 0.96), vec![0.0, 0.0]);
        assert!(estimate_ar(&[1.0, 2.0], 3, 0.1, 5, 0.96).len() == 3);
    }

    #[test]
    fn ar1_recovered_from_noiseless_decays() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut c = 0.0_f64;
        let x: Vec<f32> = (0..5000)
            .map(|_| {
                c = 0.9 * c + if rng.random::<f64>() < 0.05 { 1.0 } else { 0.0 };
                c as f32
            })
            .collect();
        let g = estimate_ar(&x, 1, 0.0, 5, 1.0);
        assert!((g[0] - 0.9).abs() < 0.02, "{g:?}");
    }
}
