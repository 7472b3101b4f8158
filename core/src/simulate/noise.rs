//! Camera noise: Poisson shot noise on the expected photon count (exact below a threshold, normal approximation
//! above it) plus Gaussian read noise, in camera counts.

use rand::Rng;

use super::rng::{normal, purpose, stream};

/// Photon counts below this mean are drawn exactly (inverse CDF); above it a skewness-corrected normal
/// approximation is used (Cornish-Fisher, matching the mean, variance and third cumulant of gain * Poisson + read noise).
pub const EXACT_POISSON_BELOW: f64 = 10.0;

/// Camera model parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Offset added to every pixel, counts.
    pub offset: f64,
    /// Counts per photon.
    pub gain: f64,
    /// Read-noise standard deviation, counts.
    pub read_noise: f64,
    /// Whether to add noise at all.
    pub enabled: bool,
}

impl Camera {
    /// Noise standard deviation (counts) of a pixel whose expected value is `e` counts above the offset:
    /// sqrt(gain * e + read_noise²).
    pub fn std_at(&self, e: f64) -> f64 {
        (self.gain * e.max(0.0) + self.read_noise * self.read_noise).sqrt()
    }

    /// Turn one row of expected counts above the offset into camera values: offset + gain * Poisson(e / gain)
    /// + N(0, read_noise²), clamped at 0. The stream is keyed by `index` so rows are independent and reproducible.
    pub fn apply_row(&self, seed: u64, index: u64, row: &mut [f32]) {
        if !self.enabled {
            for v in row.iter_mut() {
                *v = (self.offset + f64::from(*v).max(0.0)).max(0.0) as f32;
            }
            return;
        }
        let mut rng = stream(seed, purpose::NOISE, index);
        let rn2 = self.read_noise * self.read_noise;
        let g = self.gain;
        for v in row.iter_mut() {
            let e = f64::from(*v).max(0.0);
            let lambda = e / g;
            let out = if lambda < EXACT_POISSON_BELOW {
                self.offset + g * poisson_inverse(&mut rng, lambda) + self.read_noise * normal(&mut rng)
            } else {
                // X = mu + sigma z + k3 (z² - 1) / (6 sigma²), with sigma² = gain e + read², k3 = gain³ lambda = gain² e:
                // one normal draw for shot and read noise together, skewed like the Poisson part.
                let var = g * e + rn2;
                let z = normal(&mut rng);
                self.offset + e + var.sqrt() * z + g * g * e * (z * z - 1.0) / (6.0 * var)
            };
            *v = out.max(0.0) as f32;
        }
    }
}

/// 1/k for the inversion loop (avoids a division per step).
const INV_K: [f64; 64] = {
    let mut t = [0.0; 64];
    let mut k = 1;
    while k < 64 {
        t[k] = 1.0 / k as f64;
        k += 1;
    }
    t
};

/// Exact Poisson sample by sequential inversion of the CDF (one uniform; cost grows with lambda, used below 30).
fn poisson_inverse<R: Rng>(rng: &mut R, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    let u: f64 = rng.random();
    let mut p = (-lambda).exp();
    let mut s = p;
    let mut k = 0usize;
    while u > s && k < 63 {
        k += 1;
        p *= lambda * INV_K[k];
        s += p;
    }
    k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulate_poisson_inverse_moments() {
        let mut rng = stream(1, 99, 0);
        for lambda in [0.5, 5.0, 9.9] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| poisson_inverse(&mut rng, lambda)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
            assert!((m - lambda).abs() < 0.02 * lambda + 0.01, "mean {m} vs {lambda}");
            assert!((v - lambda).abs() < 0.03 * lambda + 0.01, "var {v} vs {lambda}");
        }
    }
}
