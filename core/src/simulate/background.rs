//! Background: a low-rank sum of components B(y, x, t) = sum_m T_m(t) S_m(y, x), each spatial map a constant plus
//! Gaussian blobs (large smooth ones for neuropil / out-of-focus light / vignetting, small truncated "beads" strung
//! along paths for blood-vessel shadows).

use rand::Rng;

use super::config::SimConfig;
use super::footprints::{TRUNCATION, truncated_profile};
use super::rng::{normal, purpose, stream, uniform};

/// One axis-aligned Gaussian blob of a background component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgBlob {
    /// Index of the component it belongs to.
    pub component: usize,
    /// Peak value (negative for vessel shadows), counts.
    pub weight: f64,
    /// Centre row, px (template coordinates).
    pub cy: f64,
    /// Centre column, px.
    pub cx: f64,
    /// Sigma along y, px.
    pub sy: f64,
    /// Sigma along x, px.
    pub sx: f64,
    /// True for a compact truncated profile (vessel beads), false for a full Gaussian.
    pub truncated: bool,
}

impl BgBlob {
    /// Value at a template position: weight * exp(-Q/2), or the truncated profile, with Q = dy²/sy² + dx²/sx².
    #[inline]
    pub fn value(&self, y: f64, x: f64) -> f64 {
        let (dy, dx) = ((y - self.cy) / self.sy, (x - self.cx) / self.sx);
        let q2 = dy * dy + dx * dx;
        if self.truncated { self.weight * truncated_profile(q2) } else { self.weight * (-0.5 * q2).exp() }
    }

    /// Half-size of the support along y and x (infinite for full Gaussians).
    pub fn radius(&self) -> (f64, f64) {
        if self.truncated { (TRUNCATION * self.sy, TRUNCATION * self.sx) } else { (f64::INFINITY, f64::INFINITY) }
    }
}

/// The whole background model; the same 2D maps apply to every plane of a volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Background {
    /// Constant term of each component's spatial map, counts.
    pub constants: Vec<f64>,
    /// All blobs, each tagged with its component.
    pub blobs: Vec<BgBlob>,
    /// Temporal factors T_m(t), row-major (M, T).
    pub temporal: Vec<f32>,
    /// Number of time points.
    pub frames: usize,
}

impl Background {
    /// Number of components M.
    pub fn n_components(&self) -> usize {
        self.constants.len()
    }

    /// Temporal factor of component `m` at time `t`.
    #[inline]
    pub fn temporal_at(&self, m: usize, t: usize) -> f64 {
        f64::from(self.temporal[m * self.frames + t])
    }

    /// S_m(y, x): spatial map of component `m` at a template position.
    pub fn spatial_value(&self, m: usize, y: f64, x: f64) -> f64 {
        self.constants[m] + self.blobs.iter().filter(|b| b.component == m).map(|b| b.value(y, x)).sum::<f64>()
    }

    /// B(y, x, t) = sum_m T_m(t) S_m(y, x) at a template position, counts above the offset.
    pub fn value(&self, t: usize, y: f64, x: f64) -> f64 {
        let mut v: f64 = (0..self.n_components()).map(|m| self.temporal_at(m, t) * self.constants[m]).sum();
        for b in &self.blobs {
            v += self.temporal_at(b.component, t) * b.value(y, x);
        }
        v
    }

    /// S_m sampled on the template pixel grid (pixel (i, j) at y = i, x = j), row-major (H, W).
    pub fn spatial_map(&self, m: usize, height: usize, width: usize) -> Vec<f32> {
        let mut out = vec![self.constants[m]; height * width];
        for b in self.blobs.iter().filter(|b| b.component == m) {
            let (ry, rx) = b.radius();
            let (i0, i1) = support_range(b.cy, ry, height);
            let (j0, j1) = support_range(b.cx, rx, width);
            for i in i0..i1 {
                for j in j0..j1 {
                    out[i * width + j] += b.value(i as f64, j as f64);
                }
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }
}

/// Pixel index range [lo, hi) covering centre +- radius, clipped to [0, n) (the whole axis for infinite radius).
pub(crate) fn support_range(centre: f64, radius: f64, n: usize) -> (usize, usize) {
    if !radius.is_finite() {
        return (0, n);
    }
    let lo = (centre - radius).floor().max(0.0);
    let hi = ((centre + radius).ceil() + 1.0).clamp(0.0, n as f64);
    let lo = lo.min(hi);
    (lo as usize, hi as usize)
}

/// Margin (px) beyond the field of view within which content can be moved into view.
pub(crate) fn motion_margin(cfg: &SimConfig) -> f64 {
    cfg.max_shift + 3.0 * cfg.nonrigid_amplitude + 2.0
}

/// Draw the background model: component 0 is static (flat level, vignetting, vessel shadows, T_0 = 1);
/// components 1..=background_blobs are one large Gaussian each with T_m(t) = 1 + fluctuation * x_m(t).
pub fn make_background(cfg: &SimConfig) -> Background {
    let (h, w) = (cfg.height as f64, cfg.width as f64);
    let mut constants = vec![cfg.background_level];
    let mut blobs = Vec::new();
    if cfg.vignetting > 0.0 {
        let mut r = stream(cfg.seed, purpose::BACKGROUND, 0);
        blobs.push(BgBlob {
            component: 0,
            weight: cfg.vignetting,
            cy: 0.5 * (h - 1.0) + 0.05 * h * normal(&mut r),
            cx: 0.5 * (w - 1.0) + 0.05 * w * normal(&mut r),
            sy: 0.5 * h,
            sx: 0.5 * w,
            truncated: false,
        });
    }
    blobs.extend(make_vessels(cfg));
    let mut r = stream(cfg.seed, purpose::BACKGROUND, 1);
    for m in 1..=cfg.background_blobs {
        constants.push(0.0);
        blobs.push(BgBlob {
            component: m,
            weight: cfg.background_amplitude * uniform(&mut r, 0.5, 1.5),
            cy: uniform(&mut r, 0.0, h - 1.0),
            cx: uniform(&mut r, 0.0, w - 1.0),
            sy: cfg.background_sigma * h * uniform(&mut r, 0.7, 1.3),
            sx: cfg.background_sigma * w * uniform(&mut r, 0.7, 1.3),
            truncated: false,
        });
    }
    let n_comp = constants.len();
    let mut temporal = Vec::with_capacity(n_comp * cfg.frames);
    temporal.extend(std::iter::repeat_n(1.0_f32, cfg.frames));
    for m in 1..n_comp {
        let mut r = stream(cfg.seed, purpose::BACKGROUND_TIME, m as u64);
        let waves: Vec<(f64, f64)> = (0..3)
            .map(|_| (uniform(&mut r, 10.0, 100.0), uniform(&mut r, 0.0, std::f64::consts::TAU)))
            .collect();
        for t in 0..cfg.frames {
            let secs = t as f64 / cfg.fps;
            let x: f64 = waves.iter().map(|&(p, ph)| (std::f64::consts::TAU * secs / p + ph).sin()).sum::<f64>() / 3.0;
            temporal.push((1.0 + cfg.background_fluctuation * x) as f32);
        }
    }
    Background { constants, blobs, temporal, frames: cfg.frames }
}

/// Blood-vessel shadows: each vessel is a smooth random path (heading random walk, step = vessel_width) of
/// truncated isotropic beads one sigma apart, weighted so the shadow depth on the path is vessel_amplitude.
fn make_vessels(cfg: &SimConfig) -> Vec<BgBlob> {
    let mut out = Vec::new();
    if cfg.vessels == 0 || cfg.vessel_amplitude <= 0.0 {
        return out;
    }
    let sigma = cfg.vessel_width;
    // Sum of the bead profiles at a bead centre (neighbours one sigma apart): normalises the depth.
    let line_sum: f64 = (-4..=4_i32).map(|k| truncated_profile(f64::from(k * k))).sum();
    let weight = -cfg.vessel_amplitude / line_sum;
    let (h, w) = (cfg.height as f64, cfg.width as f64);
    let margin = motion_margin(cfg) + TRUNCATION * sigma;
    let steps = (0.75 * h.max(w) / sigma).ceil() as usize;
    for v in 0..cfg.vessels {
        let mut r = stream(cfg.seed, purpose::VESSELS, v as u64);
        let start = (uniform(&mut r, 0.0, h - 1.0), uniform(&mut r, 0.0, w - 1.0));
        let heading = uniform(&mut r, 0.0, std::f64::consts::TAU);
        let mut push = |y: f64, x: f64| {
            if y > -margin && y < h - 1.0 + margin && x > -margin && x < w - 1.0 + margin {
                out.push(BgBlob { component: 0, weight, cy: y, cx: x, sy: sigma, sx: sigma, truncated: true });
            }
        };
        push(start.0, start.1);
        for dir in [0.0, std::f64::consts::PI] {
            let (mut y, mut x, mut th) = (start.0, start.1, heading + dir);
            for _ in 0..steps {
                th += 0.08 * normal(&mut r);
                y += sigma * th.sin();
                x += sigma * th.cos();
                push(y, x);
            }
        }
        let _: u8 = r.random();
    }
    out
}
