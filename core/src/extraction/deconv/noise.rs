//! Noise level of a trace from its power spectral density (CaImAn's `get_noise_fft`): the average power in a
//! high-frequency band where calcium signal is negligible.

use realfft::RealFftPlanner;

/// How the band of the PSD is averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoiseMethod {
    /// sqrt(mean(PSD / 2)).
    #[default]
    Mean,
    /// sqrt(median(PSD / 2)).
    Median,
    /// sqrt(exp(mean(log(PSD / 2)))).
    LogMeanExp,
}

impl NoiseMethod {
    /// Parse CaImAn's names (`mean`, `median`, `logmexp`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mean" => Some(Self::Mean),
            "median" => Some(Self::Median),
            "logmexp" => Some(Self::LogMeanExp),
            _ => None,
        }
    }
}

/// Traces longer than this are cut to three pieces (start, middle, end) of a third each, as CaImAn does.
pub const MAX_SAMPLES_FFT: usize = 3072;

/// The frame ranges a trace of `t` frames contributes to its PSD, in order (CaImAn's start/middle/end selection
/// for long traces, else the whole trace); shared with the GPU path, which gathers the same samples.
pub fn psd_segments(t: usize) -> Vec<std::ops::Range<usize>> {
    if t <= MAX_SAMPLES_FFT {
        return Vec::from([0..t]);
    }
    let third = MAX_SAMPLES_FFT / 3;
    let half = MAX_SAMPLES_FFT as f64 / 3.0 / 2.0;
    let mid_a = (t as f64 / 2.0 - half) as usize;
    let mid_b = (t as f64 / 2.0 + half) as usize;
    vec![1..third + 1, mid_a..mid_b, t - third..t]
}

/// Samples actually used for the PSD of a trace of length `t` (CaImAn's start/middle/end selection).
pub fn psd_samples(x: &[f32]) -> Vec<f32> {
    psd_segments(x.len()).into_iter().flat_map(|r| x[r].iter().copied()).collect()
}

/// Noise std of one trace: PSD averaged over frequencies in `(range[0], range[1]]` (fractions of the sampling
/// rate). Returns 0 for traces shorter than 4 samples.
pub fn psd_noise(x: &[f32], range: [f64; 2], method: NoiseMethod) -> f32 {
    let mut planner = RealFftPlanner::<f64>::new();
    psd_noise_with(&mut planner, x, range, method)
}

/// [`psd_noise`] reusing an FFT planner (plans are cached per length), for many traces of one length.
pub fn psd_noise_with(planner: &mut RealFftPlanner<f64>, x: &[f32], range: [f64; 2], method: NoiseMethod) -> f32 {
    let y = psd_samples(x);
    let t = y.len();
    if t < 4 {
        return 0.0;
    }
    let fft = planner.plan_fft_forward(t);
    let mut input: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    let mut spec = fft.make_output_vec();
    if fft.process(&mut input, &mut spec).is_err() {
        return 0.0;
    }
    // Frequencies k / T for k = 0..=T/2, kept when range[0] < f <= range[1].
    let mut band: Vec<f64> = spec
        .iter()
        .enumerate()
        .filter(|(k, _)| {
            let f = *k as f64 / t as f64;
            f > range[0] && f <= range[1]
        })
        .map(|(_, c)| c.norm_sqr() / t as f64) // = (2/T |X|^2) / 2
        .collect();
    if band.is_empty() {
        return 0.0;
    }
    let v = match method {
        NoiseMethod::Mean => band.iter().sum::<f64>() / band.len() as f64,
        NoiseMethod::Median => {
            band.sort_by(f64::total_cmp);
            let n = band.len();
            if n % 2 == 1 { band[n / 2] } else { 0.5 * (band[n / 2 - 1] + band[n / 2]) }
        }
        NoiseMethod::LogMeanExp => (band.iter().map(|v| (v + 1e-300).ln()).sum::<f64>() / band.len() as f64).exp(),
    };
    v.sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_noise_std_is_recovered() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let x: Vec<f32> = (0..4000).map(|_| rng.sample::<f32, _>(rand_distr::StandardNormal) * 2.5).collect();
        let sn = psd_noise(&x, [0.25, 0.5], NoiseMethod::Mean);
        assert!((sn - 2.5).abs() < 0.15, "{sn}");
    }
}
