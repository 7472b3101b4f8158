//! Botev's diffusion kernel density estimate (Botev, Grotowski & Kroese 2010), as CaImAn's `caiman.utils.stats.kde`
//! uses it in `df_percentile`: the percentile at which a trace's density peaks, i.e. where its baseline sits.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// Mesh size of the estimate (CaImAn: `2**12`).
const MESH: usize = 4096;
/// CaImAn retries a failed bandwidth search up to this many times, doubling the sample each time.
const MAX_RETRIES: usize = 10;

/// `(percentile, value)` of the mode of `data`'s density (CaImAn's `df_percentile`); falls back to
/// `(50, median)` as CaImAn does when the estimate fails or is out of range.
pub fn df_percentile(data: &[f64]) -> (f64, f64) {
    match mode_percentile(data) {
        Some((p, v)) if p.is_finite() && (0.0..100.0).contains(&p) => (p, v),
        _ => (50.0, median(data)),
    }
}

fn median(data: &[f64]) -> f64 {
    let mut v: Vec<f64> = data.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn mode_percentile(data: &[f64]) -> Option<(f64, f64)> {
    if data.is_empty() || data.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (lo, hi) = data.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let range = hi - lo;
    if range <= 0.0 {
        return None;
    }
    let (min, max) = (lo - range / 10.0, hi + range / 10.0);
    let r = max - min;
    let m = data.len() as f64;
    let hist = histogram(data, min, max);
    let hist: Vec<f64> = hist.iter().map(|&c| c as f64 / m).collect();
    let mut planner = FftPlanner::<f64>::new();
    let dct = dct2(&mut planner, &hist);
    let a2: Vec<f64> = dct[1..].iter().map(|v| (v / 2.0) * (v / 2.0)).collect();
    let mut t_star = None;
    let mut mm = m;
    for _ in 0..MAX_RETRIES {
        if let Some(t) = find_root(|t| fixed_point(t, mm, &a2), 0.0, 0.1) {
            t_star = Some(t);
            break;
        }
        mm *= 2.0;
    }
    let t_star = t_star?;
    let pi2 = std::f64::consts::PI * std::f64::consts::PI;
    let smoothed: Vec<f64> =
        dct.iter().enumerate().map(|(k, v)| v * (-((k * k) as f64) * pi2 * t_star / 2.0).exp()).collect();
    let mut density: Vec<f64> = dct3(&mut planner, &smoothed).iter().map(|v| v * MESH as f64 / r).collect();
    let dx = r / MESH as f64;
    let mesh: Vec<f64> = (0..MESH).map(|i| min + (i as f64 + 0.5) * dx).collect();
    let area: f64 = density.windows(2).map(|w| 0.5 * (w[0] + w[1]) * dx).sum();
    if area == 0.0 || !area.is_finite() {
        return None;
    }
    density.iter_mut().for_each(|v| *v /= area);
    let imax = density.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)?;
    let cdf: f64 = density[..=imax].iter().sum::<f64>() * dx;
    Some((cdf * 100.0, mesh[imax]))
}

/// numpy's `histogram(data, bins=MESH, range=(min, max))` counts, including its edge corrections.
fn histogram(data: &[f64], min: f64, max: f64) -> Vec<u64> {
    let n = MESH;
    let edge = |i: usize| min + (max - min) * i as f64 / n as f64;
    let norm = n as f64 / (max - min);
    let mut counts = vec![0u64; n];
    for &x in data {
        if x < min || x > max {
            continue;
        }
        let mut i = (((x - min) * norm) as usize).min(n - 1);
        if x < edge(i) && i > 0 {
            i -= 1;
        } else if i + 1 < n && x >= edge(i + 1) {
            i += 1;
        }
        counts[i] += 1;
    }
    counts
}

/// Botev's fixed-point function `t - xi gamma^[7](t)` (CaImAn's `fixed_point`); `a2` = squared half DCT coefficients.
fn fixed_point(t: f64, m: f64, a2: &[f64]) -> f64 {
    let pi = std::f64::consts::PI;
    let l = 7;
    let sum = |s: i32, time: f64| -> f64 {
        a2.iter()
            .enumerate()
            .map(|(k, a)| {
                let i = ((k + 1) * (k + 1)) as f64;
                i.powi(s) * a * (-i * pi * pi * time).exp()
            })
            .sum::<f64>()
    };
    let mut f = 2.0 * pi.powi(2 * l) * sum(l, t);
    for s in (2..=l).rev() {
        let k0 = (1..2 * s).step_by(2).map(f64::from).product::<f64>() / (2.0 * pi).sqrt();
        let cst = (1.0 + 0.5_f64.powf(f64::from(s) + 0.5)) / 3.0;
        let time = (2.0 * cst * k0 / m / f).powf(2.0 / (3.0 + 2.0 * f64::from(s)));
        f = 2.0 * pi.powi(2 * s) * sum(s, time);
    }
    t - (2.0 * m * pi.sqrt() * f).powf(-0.4)
}

/// Root of `f` in `[a, b]` by Illinois regula falsi with bisection safeguards (scipy uses Brent's `brentq`; the
/// root is the same to ~1e-12); `None` without a sign change.
fn find_root(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> Option<f64> {
    let (mut fa, mut fb) = (f(a), f(b));
    if !(fa.is_finite() && fb.is_finite()) || fa * fb > 0.0 {
        return None;
    }
    let mut side = 0i8;
    for _ in 0..200 {
        let w = b - a;
        if w.abs() <= 2e-12 + 4.0 * f64::EPSILON * b.abs() {
            break;
        }
        let mut x = b - fb * w / (fb - fa);
        if !x.is_finite() || x <= a + 1e-3 * w || x >= b - 1e-3 * w {
            x = 0.5 * (a + b);
        }
        let fx = f(x);
        if !fx.is_finite() {
            return None;
        }
        if fx == 0.0 {
            return Some(x);
        }
        if (fx < 0.0) == (fa < 0.0) {
            a = x;
            fa = fx;
            if side == -1 {
                fb *= 0.5;
            }
            side = -1;
        } else {
            b = x;
            fb = fx;
            if side == 1 {
                fa *= 0.5;
            }
            side = 1;
        }
    }
    Some(0.5 * (a + b))
}

/// scipy.fftpack `dct(x, type=2)`: `y_k = 2 sum_n x_n cos(pi k (2n + 1) / (2N))`, via a 4N-point FFT.
fn dct2(planner: &mut FftPlanner<f64>, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut z = vec![Complex64::new(0.0, 0.0); 4 * n];
    for (i, &v) in x.iter().enumerate() {
        z[2 * i + 1] = Complex64::new(v, 0.0);
    }
    planner.plan_fft_forward(4 * n).process(&mut z);
    (0..n).map(|k| 2.0 * z[k].re).collect()
}

/// scipy.fftpack `idct(x, type=2)` (a DCT-III): `y_n = x_0 + 2 sum_{k>=1} x_k cos(pi k (2n + 1) / (2N))`.
fn dct3(planner: &mut FftPlanner<f64>, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut z = vec![Complex64::new(0.0, 0.0); 4 * n];
    for (k, &v) in x.iter().enumerate() {
        z[k] = Complex64::new(if k == 0 { v } else { 2.0 * v }, 0.0);
    }
    planner.plan_fft_inverse(4 * n).process(&mut z);
    (0..n).map(|i| z[2 * i + 1].re).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_pair_matches_direct_sums() {
        let x: Vec<f64> = (0..16).map(|i| ((i * 7 % 5) as f64).sin()).collect();
        let mut planner = FftPlanner::new();
        let y = dct2(&mut planner, &x);
        let n = x.len() as f64;
        for (k, yk) in y.iter().enumerate() {
            let direct: f64 = x
                .iter()
                .enumerate()
                .map(|(i, v)| 2.0 * v * (std::f64::consts::PI * k as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n)).cos())
                .sum();
            assert!((yk - direct).abs() < 1e-9);
        }
        // idct(dct(x)) = 2N x for fftpack's unnormalised pair.
        let back = dct3(&mut planner, &y);
        for (b, v) in back.iter().zip(&x) {
            assert!((b / (2.0 * n) - v).abs() < 1e-9);
        }
    }

    #[test]
    fn mode_of_skewed_baseline_trace_is_low_percentile() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // Gaussian baseline plus sparse positive transients: the mode sits below the median.
        let x: Vec<f64> = (0..2000)
            .map(|i| {
                rng.sample::<f64, _>(rand_distr::StandardNormal) + if i % 50 < 10 { 5.0 } else { 0.0 }
            })
            .collect();
        let (p, v) = df_percentile(&x);
        assert!(p > 20.0 && p < 50.0, "{p}");
        assert!(v.abs() < 0.5, "{v}");
        assert_eq!(df_percentile(&[1.0; 10]), (50.0, 1.0));
    }
}
