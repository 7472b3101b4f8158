//! Host-side constants of the registration kernels, uploaded once in one `tables` buffer: FFT twiddles, the
//! fractional phases of the upsampled DFT, taper windows and their autocorrelations, the Gaussian smoothing factors
//! and the per-lag damping of the integer search. All are computed in f64 as the CPU twin does, then rounded once.

use std::f64::consts::PI;

// The CPU twin's constants and windows, shared so the two paths cannot drift apart.
pub(crate) use mesmerize_core::registration::{autocorrelation, taper, BAND, SMOOTH_SIGMA};

/// The tables and where each starts (in f32 units).
pub(crate) struct Tables {
    pub data: Vec<f32>,
    pub off_tw: usize,
    pub off_fy: usize,
    pub off_fx: usize,
    pub off_wy: usize,
    pub off_wx: usize,
    pub off_acy: usize,
    pub off_acx: usize,
    pub off_gy: usize,
    pub off_gx: usize,
    pub off_dint: usize,
}

/// Geometry the tables are built for.
pub(crate) struct Geometry {
    pub h: usize,
    pub w: usize,
    pub ph: usize,
    pub pw: usize,
    pub max_y: usize,
    pub max_x: usize,
    pub up: usize,
    pub half: usize,
    pub ky_max: usize,
    pub kx_max: usize,
}

fn push_complex(data: &mut Vec<f32>, a: f64) {
    data.push(a.cos() as f32);
    data.push(a.sin() as f32);
}

impl Tables {
    pub(crate) fn new(g: &Geometry) -> Self {
        let mut data = Vec::new();
        let nmax = g.ph.max(g.pw);
        let n = 2 * g.half + 1;
        let offs: Vec<f64> = (0..n).map(|i| (i as f64 - g.half as f64) / g.up as f64).collect();
        // Twiddles e^{-2 pi i m / nmax}, m in 0..nmax.
        let off_tw = data.len();
        for m in 0..nmax {
            push_complex(&mut data, -2.0 * PI * m as f64 / nmax as f64);
        }
        // Fractional row phases e^{2 pi i k o / ph}, k in -ky_max..=ky_max, then column phases for kx in 0..=kx_max.
        let off_fy = data.len();
        for j in 0..=2 * g.ky_max {
            let k = j as f64 - g.ky_max as f64;
            for o in &offs {
                push_complex(&mut data, 2.0 * PI * k * o / g.ph as f64);
            }
        }
        let off_fx = data.len();
        for kx in 0..=g.kx_max {
            for o in &offs {
                push_complex(&mut data, 2.0 * PI * kx as f64 * o / g.pw as f64);
            }
        }
        let wy = taper(g.h, (g.h / 8).max(4));
        let wx = taper(g.w, (g.w / 8).max(4));
        let (ac_y, ac_x) = (autocorrelation(&wy), autocorrelation(&wx));
        let off_wy = data.len();
        data.extend_from_slice(&wy);
        let off_wx = data.len();
        data.extend_from_slice(&wx);
        let off_acy = data.len();
        data.extend(ac_y.iter().map(|&v| v as f32));
        let off_acx = data.len();
        data.extend(ac_x.iter().map(|&v| v as f32));
        // Gaussian smoothing exp(-2 pi^2 sigma^2 f^2) per axis (signed frequencies of the padded size).
        let k = -2.0 * PI * PI * SMOOTH_SIGMA * SMOOTH_SIGMA;
        let gauss = |i: usize, n: usize| {
            let f = if i <= n / 2 { i as f64 } else { i as f64 - n as f64 } / n as f64;
            (k * f * f).exp() as f32
        };
        let off_gy = data.len();
        data.extend((0..g.ph).map(|i| gauss(i, g.ph)));
        let off_gx = data.len();
        data.extend((0..g.pw).map(|i| gauss(i, g.pw)));
        // Damping of each integer lag of the window, exactly as `Registrar::damping` (f64, then f32).
        let off_dint = data.len();
        for dy in -(g.max_y as i64)..=g.max_y as i64 {
            for dx in -(g.max_x as i64)..=g.max_x as i64 {
                data.push((ac_y[dy.unsigned_abs() as usize] * ac_x[dx.unsigned_abs() as usize]).max(1e-3) as f32);
            }
        }
        Self { data, off_tw, off_fy, off_fx, off_wy, off_wx, off_acy, off_acx, off_gy, off_gx, off_dint }
    }
}
