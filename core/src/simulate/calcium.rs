//! Spikes and calcium: Poisson spike counts per frame with variable amplitudes, filtered by an AR(2) process
//! whose coefficients come from GCaMP-like rise and decay time constants.

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

/// AR(2) coefficients [g1, g2] of a difference-of-exponentials kernel with rise/decay time constants in frames:
/// d = exp(-1/tau_d), r = exp(-1/tau_r), g1 = d + r, g2 = -d r.
pub fn ar2_coefficients(tau_rise_frames: f64, tau_decay_frames: f64) -> [f64; 2] {
    let d = (-1.0 / tau_decay_frames).exp();
    let r = (-1.0 / tau_rise_frames).exp();
    [d + r, -d * r]
}

/// Peak of the AR(2) impulse response h (h0 = 1, h_n = g1 h_{n-1} + g2 h_{n-2}), used to scale spikes so that
/// one spike of amplitude `a` peaks at exactly `a`.
pub fn impulse_peak(g: [f64; 2]) -> f64 {
    let (mut h2, mut h1, mut peak) = (0.0_f64, 1.0_f64, 1.0_f64);
    for _ in 0..100_000 {
        let h = g[0] * h1 + g[1] * h2;
        if h > peak {
            peak = h;
        } else if h < h1 {
            break; // past the maximum: the response decays monotonically from here
        }
        h2 = h1;
        h1 = h;
    }
    peak
}

/// One neuron's spike train and calcium trace, in f64 before storage.
#[derive(Debug, Clone)]
pub struct NeuronActivity {
    /// Spikes per frame.
    pub counts: Vec<u16>,
    /// AR(2) input s_t (sum of spike amplitudes in the frame divided by the kernel peak), counts.
    pub input: Vec<f64>,
    /// Calcium c_t = g1 c_{t-1} + g2 c_{t-2} + s_t, with c_{-1} = c_{-2} = 0, counts.
    pub calcium: Vec<f64>,
}

/// Draw a spike train (Poisson counts with rate `rate_hz / fps` per frame, log-normal amplitudes with mean
/// `amplitude` and log-sigma `cv`) and run the AR(2) recursion.
pub fn simulate_activity<R: Rng>(
    rng: &mut R,
    g: [f64; 2],
    rate_per_frame: f64,
    amplitude: f64,
    cv: f64,
    frames: usize,
) -> NeuronActivity {
    let peak = impulse_peak(g);
    let poisson = Poisson::new(rate_per_frame.max(1e-12)).ok();
    let lognormal = LogNormal::new(amplitude.max(1e-12).ln() - 0.5 * cv * cv, cv.max(0.0)).ok();
    let mut counts = Vec::with_capacity(frames);
    let mut input = Vec::with_capacity(frames);
    let mut calcium = Vec::with_capacity(frames);
    let (mut c1, mut c2) = (0.0_f64, 0.0_f64);
    for _ in 0..frames {
        let n = poisson.as_ref().map_or(0.0, |p| p.sample(rng)).min(u16::MAX as f64) as u16;
        let mut s = 0.0;
        for _ in 0..n {
            s += lognormal.as_ref().map_or(amplitude, |l| l.sample(rng));
        }
        s /= peak;
        let c = g[0] * c1 + g[1] * c2 + s;
        counts.push(n);
        input.push(s);
        calcium.push(c);
        c2 = c1;
        c1 = c;
    }
    NeuronActivity { counts, input, calcium }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulate_single_spike_peaks_at_amplitude() {
        let g = ar2_coefficients(0.07 * 30.0, 0.5 * 30.0);
        let peak = impulse_peak(g);
        // Direct check of the peak against a long impulse response.
        let mut h = vec![1.0, g[0]];
        for n in 2..2000 {
            h.push(g[0] * h[n - 1] + g[1] * h[n - 2]);
        }
        let m = h.iter().cloned().fold(0.0, f64::max);
        assert!((m - peak).abs() < 1e-12);
        assert!(g[0] > 0.0 && g[1] < 0.0 && g[0] + g[1] < 1.0);
    }
}
