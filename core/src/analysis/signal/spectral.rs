//! scipy.signal's `periodogram` (defaults: constant detrend, boxcar window, density scaling, one-sided) and
//! FFT `resample`, as the PowSpecDens and Resample nodes use them.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex64;

/// `scipy.signal.periodogram(x, fs)` -> (frequencies, power spectral density).
pub fn periodogram(planner: &mut RealFftPlanner<f64>, x: &[f64], fs: f64) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let mut input: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let fft = planner.plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    let _ = fft.process(&mut input, &mut spec);
    let scale = 1.0 / (fs * n as f64);
    let mut p: Vec<f64> = spec.iter().map(|c| c.norm_sqr() * scale).collect();
    // One-sided: double everything but DC and, for even n, the Nyquist bin.
    let last = if n % 2 == 0 { p.len() - 1 } else { p.len() };
    for v in p.iter_mut().take(last).skip(1) {
        *v *= 2.0;
    }
    (periodogram_freqs(n, fs), p)
}

/// The frequency axis of a one-sided periodogram of `n` samples at rate `fs` (scipy's `rfftfreq(n, 1 / fs)`).
pub fn periodogram_freqs(n: usize, fs: f64) -> Vec<f64> {
    (0..n / 2 + 1).map(|k| k as f64 * fs / n as f64).collect()
}

/// `scipy.signal.resample(x, num)` for real input: truncate or zero-pad the spectrum (splitting / merging the
/// Nyquist bin as scipy does) and scale by num / len(x).
pub fn resample(planner: &mut RealFftPlanner<f64>, x: &[f64], num: usize) -> Vec<f64> {
    let nx = x.len();
    if nx == 0 || num == 0 {
        return vec![0.0; num];
    }
    let fwd = planner.plan_fft_forward(nx);
    let mut input = x.to_vec();
    let mut xs = fwd.make_output_vec();
    let _ = fwd.process(&mut input, &mut xs);
    let inv = planner.plan_fft_inverse(num);
    let mut ys = inv.make_input_vec();
    let n = num.min(nx);
    let nyq = n / 2 + 1;
    for k in 0..nyq.min(ys.len()).min(xs.len()) {
        ys[k] = xs[k];
    }
    if n % 2 == 0 {
        if num < nx {
            // The +N/2 and -N/2 components fold into one real bin.
            let k = n / 2;
            ys[k] = Complex64::new(ys[k].re * 2.0, ys[k].im * 2.0);
        } else if num > nx {
            let k = n / 2;
            ys[k] = Complex64::new(ys[k].re * 0.5, ys[k].im * 0.5);
        }
    }
    // The inverse real FFT needs real DC and (for even num) Nyquist bins.
    ys[0].im = 0.0;
    if num % 2 == 0 {
        let last = ys.len() - 1;
        ys[last].im = 0.0;
    }
    let mut out = inv.make_output_vec();
    let _ = inv.process(&mut ys, &mut out);
    let scale = (num as f64 / nx as f64) / num as f64;
    out.iter_mut().for_each(|v| *v *= scale);
    out
}
