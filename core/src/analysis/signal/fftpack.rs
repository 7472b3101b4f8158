//! scipy.fftpack's real FFT in its packed layout (`rfft` / `irfft` / `rfftfreq`), which the original's RFFT and
//! iRFFT nodes used: `[y0, Re y1, Im y1, ..., Re y(n/2)]` (n even) or `[..., Re y((n-1)/2), Im y((n-1)/2)]` (n odd).

use realfft::RealFftPlanner;
use realfft::num_complex::Complex64;

/// scipy.fftpack.rfft of `x` (packed real layout, same length as `x`).
pub fn rfft_packed(planner: &mut RealFftPlanner<f64>, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let fft = planner.plan_fft_forward(n);
    let mut input = x.to_vec();
    let mut spec = fft.make_output_vec();
    // Lengths match the plan by construction, so this cannot fail.
    let _ = fft.process(&mut input, &mut spec);
    let mut out = Vec::with_capacity(n);
    out.push(spec[0].re);
    for (k, s) in spec.iter().enumerate().skip(1) {
        if out.len() < n {
            out.push(s.re);
        }
        if out.len() < n && !(n % 2 == 0 && k == n / 2) {
            out.push(s.im);
        }
    }
    out.truncate(n);
    out
}

/// scipy.fftpack.irfft: the inverse of [`rfft_packed`] (normalised by 1/n).
pub fn irfft_packed(planner: &mut RealFftPlanner<f64>, y: &[f64]) -> Vec<f64> {
    let n = y.len();
    if n == 0 {
        return Vec::new();
    }
    let fft = planner.plan_fft_inverse(n);
    let mut spec = fft.make_input_vec();
    spec[0] = Complex64::new(y[0], 0.0);
    for k in 1..spec.len() {
        let re = y.get(2 * k - 1).copied().unwrap_or(0.0);
        let im = if n % 2 == 0 && k == n / 2 { 0.0 } else { y.get(2 * k).copied().unwrap_or(0.0) };
        spec[k] = Complex64::new(re, im);
    }
    let mut out = fft.make_output_vec();
    let _ = fft.process(&mut spec, &mut out);
    let scale = 1.0 / n as f64;
    out.iter_mut().for_each(|v| *v *= scale);
    out
}

/// scipy.fftpack.rfftfreq(n, d): the frequency of each packed entry, `[0, 1, 1, 2, 2, ...] / (n d)`.
pub fn rfftfreq_packed(n: usize, d: f64) -> Vec<f64> {
    (1..=n).map(|i| (i / 2) as f64 / (n as f64 * d)).collect()
}
