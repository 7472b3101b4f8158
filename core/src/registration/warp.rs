//! Applying shifts: `corrected(y, x) = frame(y + dy, x + dx)` with cubic convolution (Keys, a = -0.5). Rigid shifts
//! use the separable form (8 taps per pixel); piecewise fields evaluate 16 taps per pixel.

use super::params::BorderMode;

/// Keys' cubic convolution weights for a sample at fractional offset `t` in [0, 1) from tap 0 (taps -1..=2).
/// With t in [0, 1) each tap's distance falls in a known piece of the kernel, so no branches are needed:
/// taps -1 and 2 lie in [1, 2), taps 0 and 1 in [0, 1].
#[inline]
fn cubic_weights(t: f32) -> [f32; 4] {
    const A: f32 = -0.5;
    let near = |x: f32| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f32| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// floor() for positions above -1024 px, without a libm call on CPUs without SSE4.1.
#[inline]
fn floor_i(v: f32) -> i64 {
    (v + 1024.0) as i64 - 1024
}

/// Keys' cubic weights for other modules (volumes interpolate along z with them).
pub(crate) fn cubic_weights_pub(t: f32) -> [f32; 4] {
    cubic_weights(t)
}

#[inline]
fn clamp_idx(i: i64, n: usize) -> usize {
    i.clamp(0, n as i64 - 1) as usize
}

fn border_value(border: BorderMode) -> Option<f32> {
    match border {
        BorderMode::Nan => Some(f32::NAN),
        BorderMode::Zero => Some(0.0),
        BorderMode::Copy => None,
    }
}

/// Shift a whole frame rigidly. `tmp` is scratch of the frame's size.
pub fn shift_rigid(frame: &[f32], h: usize, w: usize, dy: f64, dx: f64, border: BorderMode, tmp: &mut Vec<f32>, out: &mut [f32]) {
    tmp.resize(h * w, 0.0);
    let (iy, fy) = (dy.floor() as i64, (dy - dy.floor()) as f32);
    let (ix, fx) = (dx.floor() as i64, (dx - dx.floor()) as f32);
    let wy = cubic_weights(fy);
    let wx = cubic_weights(fx);
    // Horizontal pass: columns x read source columns x + ix - 1 ..= x + ix + 2.
    let cols: Vec<[usize; 4]> = (0..w as i64).map(|x| std::array::from_fn(|k| clamp_idx(x + ix - 1 + k as i64, w))).collect();
    for (src, dst) in frame.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        for x in 0..w {
            let c = &cols[x];
            dst[x] = wx[0] * src[c[0]] + wx[1] * src[c[1]] + wx[2] * src[c[2]] + wx[3] * src[c[3]];
        }
    }
    // Vertical pass.
    for y in 0..h {
        let r: [usize; 4] = std::array::from_fn(|k| clamp_idx(y as i64 + iy - 1 + k as i64, h));
        let o = &mut out[y * w..(y + 1) * w];
        let (r0, r1, r2, r3) = (&tmp[r[0] * w..][..w], &tmp[r[1] * w..][..w], &tmp[r[2] * w..][..w], &tmp[r[3] * w..][..w]);
        for x in 0..w {
            o[x] = wy[0] * r0[x] + wy[1] * r1[x] + wy[2] * r2[x] + wy[3] * r3[x];
        }
    }
    if let Some(fill) = border_value(border) {
        let outside_y = |y: usize| {
            let s = y as f64 + dy;
            s < 0.0 || s > (h - 1) as f64
        };
        let x_lo = (0..w).take_while(|&x| (x as f64 + dx) < 0.0).count();
        let x_hi = (0..w).rev().take_while(|&x| (x as f64 + dx) > (w - 1) as f64).count();
        for y in 0..h {
            let row = &mut out[y * w..(y + 1) * w];
            if outside_y(y) {
                row.fill(fill);
            } else {
                row[..x_lo].fill(fill);
                row[w - x_hi..].fill(fill);
            }
        }
    }
}

/// A displacement field given on a grid of nodes (bilinear between them, constant beyond the outermost ones):
/// node (i, j) sits at pixel (ys[i], xs[j]) and holds (dy, dx). Node positions need not be evenly spaced.
pub struct Field<'a> {
    /// Row position of each node row (increasing).
    pub ys: &'a [f64],
    /// Column position of each node column (increasing).
    pub xs: &'a [f64],
    /// dy at each node, row-major.
    pub dy: &'a [f64],
    /// dx at each node, row-major.
    pub dx: &'a [f64],
}

/// Interval and weight of `v` among increasing `nodes` (clamped to the ends).
#[inline]
fn locate(nodes: &[f64], v: f64) -> (usize, usize, f64) {
    let n = nodes.len();
    if n == 1 || v <= nodes[0] {
        return (0, 0, 0.0);
    }
    if v >= nodes[n - 1] {
        return (n - 1, n - 1, 0.0);
    }
    let i1 = nodes.partition_point(|&p| p <= v).min(n - 1);
    let i0 = i1 - 1;
    (i0, i1, (v - nodes[i0]) / (nodes[i1] - nodes[i0]))
}

impl Field<'_> {
    #[inline]
    fn blend(&self, (i0, i1, ty): (usize, usize, f64), (j0, j1, tx): (usize, usize, f64)) -> (f64, f64) {
        let nx = self.xs.len();
        let lerp = |v: &[f64]| {
            let a = v[i0 * nx + j0] * (1.0 - tx) + v[i0 * nx + j1] * tx;
            let b = v[i1 * nx + j0] * (1.0 - tx) + v[i1 * nx + j1] * tx;
            a * (1.0 - ty) + b * ty
        };
        (lerp(self.dy), lerp(self.dx))
    }

    /// Displacement at pixel (y, x).
    pub fn at(&self, y: f64, x: f64) -> (f64, f64) {
        self.blend(locate(self.ys, y), locate(self.xs, x))
    }
}

/// Warp a frame with a displacement field: `out(y, x) = frame(y + dy(y, x), x + dx(y, x))`.
///
/// The field is interpolated between node rows once per image row, then between node columns per pixel; interior
/// pixels read their 16 taps without index clamping.
pub fn warp_field(frame: &[f32], h: usize, w: usize, field: &Field<'_>, border: BorderMode, out: &mut [f32]) {
    let fill = border_value(border);
    let nx = field.xs.len();
    let cols: Vec<(usize, usize, f32)> = (0..w).map(|x| {
        let (j0, j1, t) = locate(field.xs, x as f64);
        (j0, j1, t as f32)
    }).collect();
    let mut row_dy = vec![0.0f32; nx];
    let mut row_dx = vec![0.0f32; nx];
    let (hf, wf) = ((h - 1) as f32, (w - 1) as f32);
    for y in 0..h {
        let (i0, i1, ty) = locate(field.ys, y as f64);
        for j in 0..nx {
            let lerp = |v: &[f64]| (v[i0 * nx + j] * (1.0 - ty) + v[i1 * nx + j] * ty) as f32;
            row_dy[j] = lerp(field.dy);
            row_dx[j] = lerp(field.dx);
        }
        let o = &mut out[y * w..(y + 1) * w];
        for x in 0..w {
            let (j0, j1, tx) = cols[x];
            let dy = row_dy[j0] + (row_dy[j1] - row_dy[j0]) * tx;
            let dx = row_dx[j0] + (row_dx[j1] - row_dx[j0]) * tx;
            let (sy, sx) = (y as f32 + dy, x as f32 + dx);
            if let Some(f) = fill {
                if !(0.0..=hf).contains(&sy) || !(0.0..=wf).contains(&sx) {
                    o[x] = f;
                    continue;
                }
            }
            let (iy, ix) = (floor_i(sy), floor_i(sx));
            let wy = cubic_weights(sy - iy as f32);
            let wx = cubic_weights(sx - ix as f32);
            let interior = iy >= 1 && iy + 2 < h as i64 && ix >= 1 && ix + 2 < w as i64;
            let mut acc = 0.0f32;
            if interior {
                let base = (iy - 1) as usize * w + (ix - 1) as usize;
                for (a, wya) in wy.iter().enumerate() {
                    let r = &frame[base + a * w..base + a * w + 4];
                    acc += wya * (wx[0] * r[0] + wx[1] * r[1] + wx[2] * r[2] + wx[3] * r[3]);
                }
            } else {
                let c: [usize; 4] = std::array::from_fn(|b| clamp_idx(ix - 1 + b as i64, w));
                for (a, wya) in wy.iter().enumerate() {
                    let row = &frame[clamp_idx(iy - 1 + a as i64, h) * w..][..w];
                    acc += wya * (wx[0] * row[c[0]] + wx[1] * row[c[1]] + wx[2] * row[c[2]] + wx[3] * row[c[3]]);
                }
            }
            o[x] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smooth(h: usize, w: usize, cy: f64, cx: f64) -> Vec<f32> {
        (0..h * w)
            .map(|i| {
                let (y, x) = ((i / w) as f64, (i % w) as f64);
                (100.0 * (-((y - cy).powi(2) + (x - cx).powi(2)) / 18.0).exp()) as f32
            })
            .collect()
    }

    #[test]
    fn rigid_shift_moves_content_by_the_shift() {
        let (h, w) = (32, 40);
        // Frame content sits at (16.3, 21.7); shifting by (0.3, 1.7) brings it to (16, 20).
        let frame = smooth(h, w, 16.3, 21.7);
        let want = smooth(h, w, 16.0, 20.0);
        let mut out = vec![0.0; h * w];
        let mut tmp = Vec::new();
        shift_rigid(&frame, h, w, 0.3, 1.7, BorderMode::Copy, &mut tmp, &mut out);
        let err = out.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(err < 1.0, "max error {err} of peak 100");
        // The same shift as a constant field gives the same result.
        let (dy, dx) = ([0.3; 4], [1.7; 4]);
        let field = Field { ys: &[0.0, 31.0], xs: &[0.0, 39.0], dy: &dy, dx: &dx };
        let mut out2 = vec![0.0; h * w];
        warp_field(&frame, h, w, &field, BorderMode::Copy, &mut out2);
        let diff = out.iter().zip(&out2).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-3, "{diff}");
    }

    #[test]
    fn border_modes_fill_what_comes_from_outside() {
        let (h, w) = (8, 8);
        let frame = vec![5.0f32; h * w];
        let mut out = vec![0.0; h * w];
        let mut tmp = Vec::new();
        shift_rigid(&frame, h, w, -2.0, 3.0, BorderMode::Nan, &mut tmp, &mut out);
        assert!(out[0].is_nan() && out[2 * w].is_finite() && out[2 * w + 4].is_finite() && out[2 * w + 5].is_nan());
        shift_rigid(&frame, h, w, -2.0, 3.0, BorderMode::Copy, &mut tmp, &mut out);
        assert!(out.iter().all(|&v| (v - 5.0).abs() < 1e-5));
        shift_rigid(&frame, h, w, -2.0, 3.0, BorderMode::Zero, &mut tmp, &mut out);
        assert_eq!(out[0], 0.0);
    }
}
