//! Neuron footprints: truncated elliptical Gaussians (compact support, continuous, unit peak) and their placement
//! with a minimum centre distance.

use rand::Rng;

use super::config::{SimConfig, SimKind};
use super::rng::{normal, purpose, stream, uniform};

/// Truncation radius of every compact blob, in Mahalanobis units (sigmas).
pub const TRUNCATION: f64 = 3.0;

/// exp(-R²/2) at the truncation radius: subtracted so the blob falls continuously to zero there.
fn floor_value() -> f64 {
    (-0.5 * TRUNCATION * TRUNCATION).exp()
}

/// Truncated Gaussian profile of a squared Mahalanobis distance `q2`: (exp(-q2/2) - e_R) / (1 - e_R) inside
/// the truncation radius, 0 outside; 1 at the centre.
#[inline]
pub fn truncated_profile(q2: f64) -> f64 {
    if q2 >= TRUNCATION * TRUNCATION {
        return 0.0;
    }
    let f = floor_value();
    ((-0.5 * q2).exp() - f) / (1.0 - f)
}

/// Analytic footprint parameters of one neuron, stored in the truth so anyone can re-evaluate it anywhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neuron {
    /// Centre row in template coordinates, px.
    pub cy: f64,
    /// Centre column in template coordinates, px.
    pub cx: f64,
    /// Centre plane (0 for 2D movies).
    pub cz: f64,
    /// Sigma along the major axis, px.
    pub sigma_major: f64,
    /// Sigma along the minor axis, px.
    pub sigma_minor: f64,
    /// Angle of the major axis from the +x axis towards +y, radians.
    pub angle: f64,
    /// Axial sigma in planes; 0 means a 2D footprint (no z dependence).
    pub sigma_z: f64,
}

/// Precomputed quadratic form of a [`Neuron`], for fast evaluation.
#[derive(Debug, Clone, Copy)]
pub struct FootprintEval {
    /// Centre (y, x, z).
    pub c: [f64; 3],
    qa: f64,
    qb: f64,
    qc: f64,
    qz: f64,
    /// Lateral support radius, px (bounding box half-size).
    pub radius: f64,
    /// Axial support radius, planes (infinite for 2D).
    pub radius_z: f64,
}

impl Neuron {
    /// The quadratic form Q = a dx² + b dx dy + c dy² (+ dz²/σz²) of this footprint.
    pub fn eval(&self) -> FootprintEval {
        let (s, c) = self.angle.sin_cos();
        let (im, in_) = (1.0 / (self.sigma_major * self.sigma_major), 1.0 / (self.sigma_minor * self.sigma_minor));
        FootprintEval {
            c: [self.cy, self.cx, self.cz],
            qa: c * c * im + s * s * in_,
            qb: 2.0 * s * c * (im - in_),
            qc: s * s * im + c * c * in_,
            qz: if self.sigma_z > 0.0 { 1.0 / (self.sigma_z * self.sigma_z) } else { 0.0 },
            radius: TRUNCATION * self.sigma_major,
            radius_z: if self.sigma_z > 0.0 { TRUNCATION * self.sigma_z } else { f64::INFINITY },
        }
    }

    /// Footprint value A(z, y, x) in [0, 1] at a template position (unit at the centre).
    pub fn value(&self, z: f64, y: f64, x: f64) -> f64 {
        self.eval().value(z, y, x)
    }
}

impl FootprintEval {
    /// Footprint value at a template position.
    #[inline]
    pub fn value(&self, z: f64, y: f64, x: f64) -> f64 {
        let (dy, dx, dz) = (y - self.c[0], x - self.c[1], z - self.c[2]);
        truncated_profile(self.qa * dx * dx + self.qb * dx * dy + self.qc * dy * dy + self.qz * dz * dz)
    }

    /// Squared axial term for plane `z` (add to the lateral form), or None when the plane is outside the support.
    #[inline]
    pub fn z_term(&self, z: f64) -> Option<f64> {
        let dz = z - self.c[2];
        if dz.abs() >= self.radius_z { None } else { Some(self.qz * dz * dz) }
    }

    /// Footprint value given the lateral offsets from the centre and a precomputed axial term.
    #[inline]
    pub fn value_offset(&self, dy: f64, dx: f64, zterm: f64) -> f64 {
        truncated_profile(self.qa * dx * dx + self.qb * dx * dy + self.qc * dy * dy + zterm)
    }
}

/// Place neurons uniformly inside the field of view (centres in [0, H-1] x [0, W-1] (x [0, Z-1])) by dart
/// throwing with a minimum centre distance, and draw their shapes. Returns fewer than asked when the field is full.
pub fn place_neurons(cfg: &SimConfig) -> Vec<Neuron> {
    let target = cfg.target_neurons();
    let three_d = cfg.kind == SimKind::ThreeD;
    let zscale = if three_d { cfg.gsig / cfg.gsig_z } else { 0.0 };
    let mut rng = stream(cfg.seed, purpose::PLACEMENT, 0);
    let mut centres: Vec<[f64; 3]> = Vec::with_capacity(target);
    let max_attempts = 200 * target.max(1) + 1000;
    let d2min = cfg.min_distance * cfg.min_distance;
    let mut attempts = 0;
    while centres.len() < target && attempts < max_attempts {
        attempts += 1;
        let cy = uniform(&mut rng, 0.0, (cfg.height - 1) as f64);
        let cx = uniform(&mut rng, 0.0, (cfg.width - 1) as f64);
        let cz = if three_d { uniform(&mut rng, 0.0, (cfg.planes - 1) as f64) } else { 0.0 };
        let ok = centres.iter().all(|c| {
            let (dy, dx, dz) = (c[0] - cy, c[1] - cx, (c[2] - cz) * zscale);
            dy * dy + dx * dx + dz * dz >= d2min
        });
        if ok {
            centres.push([cy, cx, cz]);
        }
    }
    if centres.len() < target {
        tracing::warn!("simulator: placed {} of {} neurons (field too crowded for min_distance)", centres.len(), target);
    }
    centres
        .into_iter()
        .enumerate()
        .map(|(k, c)| {
            let mut r = stream(cfg.seed, purpose::SHAPE, k as u64);
            let size = cfg.gsig * (1.0 + cfg.gsig_jitter * normal(&mut r)).clamp(0.5, 1.5);
            let ratio = uniform(&mut r, 1.0, cfg.elongation);
            let angle = uniform(&mut r, 0.0, std::f64::consts::PI);
            let sz = cfg.gsig_z * (1.0 + cfg.gsig_jitter * normal(&mut r)).clamp(0.5, 1.5);
            let _: u8 = r.random(); // reserved, keeps the stream layout stable if a parameter is added
            Neuron {
                cy: c[0],
                cx: c[1],
                cz: c[2],
                sigma_major: size * ratio.sqrt(),
                sigma_minor: size / ratio.sqrt(),
                angle,
                sigma_z: if three_d { sz } else { 0.0 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulate_footprint_profile_is_continuous_and_unit_peak() {
        assert!((truncated_profile(0.0) - 1.0).abs() < 1e-15);
        assert!(truncated_profile(8.999_999) < 1e-6);
        assert_eq!(truncated_profile(9.0), 0.0);
        let n = Neuron { cy: 5.0, cx: 7.0, cz: 0.0, sigma_major: 4.0, sigma_minor: 2.0, angle: 0.0, sigma_z: 0.0 };
        // Along x (major axis) the value at one sigma equals the profile at q2 = 1.
        assert!((n.value(0.0, 5.0, 11.0) - truncated_profile(1.0)).abs() < 1e-12);
        assert!((n.value(0.0, 7.0, 7.0) - truncated_profile(1.0)).abs() < 1e-12);
    }

    #[test]
    fn simulate_placement_respects_min_distance() {
        let cfg = SimConfig::new(SimKind::TwoP);
        let ns = place_neurons(&cfg);
        assert!(ns.len() > 50);
        for (i, a) in ns.iter().enumerate() {
            for b in &ns[i + 1..] {
                assert!(((a.cy - b.cy).powi(2) + (a.cx - b.cx).powi(2)).sqrt() >= cfg.min_distance);
            }
        }
    }
}
