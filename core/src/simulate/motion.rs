//! Motion: a rigid sub-pixel random walk with jumps, and a smooth non-rigid field on a coarse control grid
//! (uniform cubic B-spline), with the exact inverse map used for rendering.
//!
//! Convention (a contract): the displacement d(q, t) = (dy, dx) moves template content at q to q + d(q, t)
//! in the raw frame. Rendering evaluates the template at the q solving q + d(q, t) = p for each raw pixel p.

use super::config::{MotionKind, SimConfig};
use super::rng::{normal, purpose, stream, uniform};

/// Rigid shifts per frame, [dy, dx] in px, rounded to f32 (the stored values are the ones rendered).
pub fn rigid_shifts(cfg: &SimConfig) -> Vec<[f32; 2]> {
    if cfg.motion == MotionKind::None {
        return vec![[0.0, 0.0]; cfg.frames];
    }
    let mut r = stream(cfg.seed, purpose::RIGID, 0);
    let m = cfg.max_shift;
    // Mean reversion keeps the walk inside +-max_shift without piling up at the bounds.
    let rho = 0.995_f64;
    let mut d = [0.0_f64; 2];
    let mut out = Vec::with_capacity(cfg.frames);
    for _ in 0..cfg.frames {
        let jump = uniform(&mut r, 0.0, 1.0) < cfg.jump_probability;
        for v in &mut d {
            *v = rho * *v + cfg.shift_step * normal(&mut r);
            let j = uniform(&mut r, -0.5 * m, 0.5 * m);
            if jump {
                *v += j;
            }
            *v = v.clamp(-m, m);
        }
        out.push([d[0] as f32, d[1] as f32]);
    }
    out
}

/// Uniform cubic B-spline weights for the nodes i-1, i, i+1, i+2 at fractional position f in [0, 1).
#[inline]
pub fn bspline_weights(f: f64) -> [f64; 4] {
    let f2 = f * f;
    let f3 = f2 * f;
    let g = 1.0 - f;
    [g * g * g / 6.0, (3.0 * f3 - 6.0 * f2 + 4.0) / 6.0, (-3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0) / 6.0, f3 / 6.0]
}

/// Non-rigid displacement field: node values on a regular grid, interpolated by a tensor-product uniform cubic
/// B-spline (node indices clamped at the grid edges), evaluated in template coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlGrid {
    /// Node rows.
    pub gy: usize,
    /// Node columns.
    pub gx: usize,
    /// Node spacing along y, px.
    pub spacing_y: f64,
    /// Node spacing along x, px.
    pub spacing_x: f64,
    /// Position of node row 0, px.
    pub origin_y: f64,
    /// Position of node column 0, px.
    pub origin_x: f64,
    /// Node values, row-major (T, 2, gy, gx); component 0 = dy, 1 = dx.
    pub values: Vec<f32>,
    /// Number of time points.
    pub frames: usize,
}

impl ControlGrid {
    /// Field (dy, dx) at template position (y, x) at time t (without the rigid part).
    #[inline]
    pub fn field_at(&self, t: usize, y: f64, x: f64) -> (f64, f64) {
        let n = self.gy * self.gx;
        let (vy, vx) = self.values[t * 2 * n..(t + 1) * 2 * n].split_at(n);
        let (iy, wy) = Self::locate((y - self.origin_y) / self.spacing_y);
        let (ix, wx) = Self::locate((x - self.origin_x) / self.spacing_x);
        let (gy, gx) = (self.gy as i64 - 1, self.gx as i64 - 1);
        let cols: [usize; 4] = std::array::from_fn(|b| (ix + b as i64 - 1).clamp(0, gx) as usize);
        let (mut d0, mut d1) = (0.0_f64, 0.0_f64);
        for (a, wya) in wy.iter().enumerate() {
            let r = (iy + a as i64 - 1).clamp(0, gy) as usize * self.gx;
            let (ry, rx) = (&vy[r..r + self.gx], &vx[r..r + self.gx]);
            let mut s0 = 0.0;
            let mut s1 = 0.0;
            for (c, wxb) in cols.iter().zip(wx) {
                s0 += wxb * f64::from(ry[*c]);
                s1 += wxb * f64::from(rx[*c]);
            }
            d0 += wya * s0;
            d1 += wya * s1;
        }
        (d0, d1)
    }

    /// Largest |node value| at time t: bounds |field| everywhere (B-spline weights are a convex combination).
    pub fn max_abs(&self, t: usize) -> f64 {
        let n = 2 * self.gy * self.gx;
        self.values[t * n..(t + 1) * n].iter().fold(0.0_f64, |m, v| m.max(f64::from(v.abs())))
    }

    #[inline]
    fn locate(u: f64) -> (i64, [f64; 4]) {
        // floor without a libm call; positions are far inside the i64 range
        let mut i = u as i64;
        if (i as f64) > u {
            i -= 1;
        }
        (i, bspline_weights(u - i as f64))
    }
}

/// One frame of a [`ControlGrid`] converted to per-cell bicubic polynomials (edge clamping baked in): the same
/// field as [`ControlGrid::field_at`] up to rounding, several times faster, for mapping whole frames.
#[derive(Debug, Clone)]
pub(crate) struct FrameField {
    cells_x: usize,
    oy: f64,
    ox: f64,
    isy: f64,
    isx: f64,
    uy_max: f64,
    ux_max: f64,
    /// Per cell: 16 coefficients P[p][q] of fy^p fx^q for dy, then 16 for dx.
    coef: Vec<[f64; 32]>,
}

/// Power-basis matrix of the uniform cubic B-spline: w_a(f) = sum_p BSPLINE_POWER[p][a] f^p.
const BSPLINE_POWER: [[f64; 4]; 4] = [
    [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0, 0.0],
    [-3.0 / 6.0, 0.0, 3.0 / 6.0, 0.0],
    [3.0 / 6.0, -6.0 / 6.0, 3.0 / 6.0, 0.0],
    [-1.0 / 6.0, 3.0 / 6.0, -3.0 / 6.0, 1.0 / 6.0],
];

impl FrameField {
    /// Extract frame `t` of a control grid. Cells i = -2 ..= g+1 along each axis (beyond them the field is the
    /// constant edge value, reached by clamping the position).
    pub(crate) fn new(g: &ControlGrid, t: usize) -> Self {
        let n = g.gy * g.gx;
        let (cy, cx) = (g.gy + 4, g.gx + 4);
        let node = |comp: usize, r: i64, c: i64| -> f64 {
            let rr = r.clamp(0, g.gy as i64 - 1) as usize;
            let cc = c.clamp(0, g.gx as i64 - 1) as usize;
            f64::from(g.values[t * 2 * n + comp * n + rr * g.gx + cc])
        };
        let mut coef = Vec::with_capacity(cy * cx);
        for ci in 0..cy as i64 {
            for cj in 0..cx as i64 {
                let (i, j) = (ci - 2, cj - 2);
                let mut out = [0.0; 32];
                for comp in 0..2 {
                    // P = M N M^T with N the 4x4 node block of the cell.
                    let mut mn = [[0.0; 4]; 4];
                    for (p, row) in mn.iter_mut().enumerate() {
                        for (b, v) in row.iter_mut().enumerate() {
                            *v = (0..4).map(|a| BSPLINE_POWER[p][a] * node(comp, i - 1 + a as i64, j - 1 + b as i64)).sum();
                        }
                    }
                    for p in 0..4 {
                        for q in 0..4 {
                            out[comp * 16 + p * 4 + q] = (0..4).map(|b| mn[p][b] * BSPLINE_POWER[q][b]).sum();
                        }
                    }
                }
                coef.push(out);
            }
        }
        Self {
            cells_x: cx,
            oy: g.origin_y,
            ox: g.origin_x,
            isy: 1.0 / g.spacing_y,
            isx: 1.0 / g.spacing_x,
            uy_max: g.gy as f64 + 1.0,
            ux_max: g.gx as f64 + 1.0,
            coef,
        }
    }

    /// Field (dy, dx) at template position (y, x).
    #[inline]
    pub(crate) fn at(&self, y: f64, x: f64) -> (f64, f64) {
        let uy = ((y - self.oy) * self.isy).clamp(-2.0, self.uy_max);
        let ux = ((x - self.ox) * self.isx).clamp(-2.0, self.ux_max);
        let (iy, fy) = split(uy);
        let (ix, fx) = split(ux);
        let c = &self.coef[(iy + 2) as usize * self.cells_x + (ix + 2) as usize];
        let horner = |o: usize| {
            let r = |p: usize| ((c[o + p * 4 + 3] * fx + c[o + p * 4 + 2]) * fx + c[o + p * 4 + 1]) * fx + c[o + p * 4];
            ((r(3) * fy + r(2)) * fy + r(1)) * fy + r(0)
        };
        (horner(0), horner(16))
    }

    /// Inverse map of raw position (py, px) given the rigid shift, seeded with a guess of the field value.
    #[inline]
    pub(crate) fn inverse(&self, shift: [f32; 2], py: f64, px: f64, guess: (f64, f64)) -> ((f64, f64), (f64, f64)) {
        let s = (py - f64::from(shift[0]), px - f64::from(shift[1]));
        fixed_point(s, guess, |qy, qx| self.at(qy, qx))
    }
}

/// Solve q + f(q) = s by the iteration q <- s - f(q) from q0 = s - guess; returns q and f(q). A contraction because
/// field gradients are far below 1 (validated); stops when an update moves q by less than [`INVERSE_TOLERANCE`]
/// (at most 30 iterations).
#[inline]
fn fixed_point(s: (f64, f64), guess: (f64, f64), f: impl Fn(f64, f64) -> (f64, f64)) -> ((f64, f64), (f64, f64)) {
    let (sy, sx) = s;
    let (mut fy, mut fx) = guess;
    let (mut qy, mut qx) = (sy - fy, sx - fx);
    for _ in 0..30 {
        (fy, fx) = f(qy, qx);
        let (ny, nx) = (sy - fy, sx - fx);
        let done = (ny - qy).abs() < INVERSE_TOLERANCE && (nx - qx).abs() < INVERSE_TOLERANCE;
        qy = ny;
        qx = nx;
        if done {
            break;
        }
    }
    ((qy, qx), (fy, fx))
}

/// Integer part (floor) and fraction of a position in cell units, without a libm call.
#[inline]
fn split(u: f64) -> (i64, f64) {
    let mut i = u as i64;
    if (i as f64) > u {
        i -= 1;
    }
    (i, u - i as f64)
}

/// Draw the control grid: nodes from one spacing before the field of view to two after it, each component an
/// Ornstein-Uhlenbeck process (stationary std 0.75 * amplitude, correlation time 2 s, clamped to +-1.5 amplitude).
pub fn control_grid(cfg: &SimConfig) -> ControlGrid {
    let s = cfg.grid_spacing;
    let count = |len: usize| ((len.saturating_sub(1)) as f64 / s).ceil() as usize + 4;
    let (gy, gx) = (count(cfg.height), count(cfg.width));
    let n = gy * gx;
    let sd = 0.75 * cfg.nonrigid_amplitude;
    let lim = 1.5 * cfg.nonrigid_amplitude;
    let rho = (-1.0 / (2.0 * cfg.fps)).exp();
    let innov = (1.0 - rho * rho).sqrt() * sd;
    let mut values = vec![0.0_f32; cfg.frames * 2 * n];
    for node in 0..2 * n {
        let mut r = stream(cfg.seed, purpose::FIELD, node as u64);
        let mut v = sd * normal(&mut r);
        for t in 0..cfg.frames {
            if t > 0 {
                v = rho * v + innov * normal(&mut r);
            }
            v = v.clamp(-lim, lim);
            values[t * 2 * n + node] = v as f32;
        }
    }
    ControlGrid { gy, gx, spacing_y: s, spacing_x: s, origin_y: -s, origin_x: -s, values, frames: cfg.frames }
}

/// Total displacement d(q, t) = rigid(t) + field(q, t) at a template position.
pub fn displacement(shift: [f32; 2], grid: Option<&ControlGrid>, t: usize, y: f64, x: f64) -> (f64, f64) {
    let (fy, fx) = grid.map_or((0.0, 0.0), |g| g.field_at(t, y, x));
    (f64::from(shift[0]) + fy, f64::from(shift[1]) + fx)
}

/// Stopping threshold of the inverse-map iteration, px: iteration stops once an update moves q by less than this,
/// leaving an error of at most L/(1-L) times it (L = field gradient, a few hundredths: ~1e-8 px).
pub const INVERSE_TOLERANCE: f64 = 1e-6;

/// Template position q with q + d(q, t) = p, by fixed-point iteration q <- p - rigid - field(q), started at
/// q0 = p - rigid - field(p - rigid); a contraction because the field gradient is far below 1 (validated), it
/// stops when an update moves q by less than [`INVERSE_TOLERANCE`] (at most 30 iterations).
pub fn inverse_map(shift: [f32; 2], grid: Option<&ControlGrid>, t: usize, py: f64, px: f64) -> (f64, f64) {
    let (sy, sx) = (py - f64::from(shift[0]), px - f64::from(shift[1]));
    let Some(g) = grid else { return (sy, sx) };
    fixed_point((sy, sx), g.field_at(t, sy, sx), |qy, qx| g.field_at(t, qy, qx)).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::SimKind;

    #[test]
    fn simulate_frame_field_matches_control_grid() {
        let mut cfg = SimConfig::new(SimKind::TwoP);
        cfg.motion = MotionKind::Piecewise;
        cfg.frames = 3;
        let g = control_grid(&cfg);
        let f = FrameField::new(&g, 2);
        for (y, x) in [(0.0, 0.0), (-500.0, 17.3), (100.25, 300.0), (255.0, 255.0), (1e4, -1e4), (31.9, 64.0)] {
            let (a, b) = (g.field_at(2, y, x), f.at(y, x));
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{a:?} {b:?} at {y},{x}");
        }
    }

    #[test]
    fn simulate_bspline_partition_of_unity() {
        for k in 0..10 {
            let w = bspline_weights(k as f64 / 10.0);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn simulate_rigid_shifts_bounded() {
        let mut cfg = SimConfig::new(SimKind::TwoP);
        cfg.motion = MotionKind::Rigid;
        let s = rigid_shifts(&cfg);
        assert_eq!(s.len(), cfg.frames);
        assert!(s.iter().all(|d| d[0].abs() <= 6.0 && d[1].abs() <= 6.0));
        assert!(s.iter().any(|d| d[0].abs() > 0.5));
    }
}
