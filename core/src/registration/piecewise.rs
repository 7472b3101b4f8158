//! Piecewise-rigid registration: overlapping patches (`strides` + `overlaps`), each registered within
//! `max_deviation_rigid` of the frame's rigid shift, and the patch shifts turned into a smooth per-pixel field
//! (Catmull-Rom refinement of the patch grid by `upsample_factor_grid`, then bilinear to pixels).

use std::sync::Arc;

use super::fft2::Fft2;
use super::phase_corr::{RegScratch, Registrar, SearchWindow};
use super::warp::Field;

/// The patches of a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchGrid {
    /// First row of each patch row.
    pub starts_y: Vec<usize>,
    /// First column of each patch column.
    pub starts_x: Vec<usize>,
    /// Patch size (rows, columns) = strides + overlaps.
    pub size: (usize, usize),
}

fn starts(dim: usize, size: usize, stride: usize) -> Vec<usize> {
    let mut s: Vec<usize> = (0..).map(|i| i * stride).take_while(|&p| p + size <= dim).collect();
    // Cover the far edge with a last patch flush against it.
    if s.last().is_some_and(|&l| l + size < dim) {
        s.push(dim - size);
    }
    s
}

impl PatchGrid {
    /// Patches of `strides + overlaps` every `strides` px over an `h` x `w` frame.
    pub fn new(h: usize, w: usize, strides: (usize, usize), overlaps: (usize, usize)) -> Self {
        let size = (strides.0 + overlaps.0, strides.1 + overlaps.1);
        Self { starts_y: starts(h, size.0, strides.0), starts_x: starts(w, size.1, strides.1), size }
    }
    /// Patch rows.
    pub fn ny(&self) -> usize {
        self.starts_y.len()
    }
    /// Patch columns.
    pub fn nx(&self) -> usize {
        self.starts_x.len()
    }
    /// Centre of each patch (y, x), row-major.
    pub fn centers(&self) -> Vec<[f64; 2]> {
        let c = |s: usize, n: usize| s as f64 + (n as f64 - 1.0) / 2.0;
        self.starts_y.iter().flat_map(|&y| self.starts_x.iter().map(move |&x| [c(y, self.size.0), c(x, self.size.1)])).collect()
    }
    /// Copy patch (i, j) of a `w`-wide frame into `out`.
    pub fn extract(&self, frame: &[f32], w: usize, i: usize, j: usize, out: &mut Vec<f32>) {
        let (y0, x0) = (self.starts_y[i], self.starts_x[j]);
        out.clear();
        for y in y0..y0 + self.size.0 {
            out.extend_from_slice(&frame[y * w + x0..y * w + x0 + self.size.1]);
        }
    }
}

/// Registrars for every patch of a template.
pub struct PatchRegistrar {
    grid: PatchGrid,
    w: usize,
    registrars: Vec<Registrar>,
}

impl PatchRegistrar {
    /// Prepare each patch of `template` (an `h` x `w` frame).
    pub fn new(template: &[f32], w: usize, grid: PatchGrid, upsample: usize) -> Self {
        let fft = Arc::new(Fft2::new(grid.size.0, grid.size.1));
        let mut patch = Vec::new();
        let mut registrars = Vec::with_capacity(grid.ny() * grid.nx());
        for i in 0..grid.ny() {
            for j in 0..grid.nx() {
                grid.extract(template, w, i, j, &mut patch);
                registrars.push(Registrar::new(fft.clone(), &patch, upsample));
            }
        }
        Self { grid, w, registrars }
    }

    /// The patch layout.
    pub fn grid(&self) -> &PatchGrid {
        &self.grid
    }

    /// Shift of every patch (row-major), each within `max_dev` px of the rigid shift.
    pub fn estimate(&self, frame: &[f32], rigid: (f64, f64), max_dev: f64, s: &mut RegScratch, patch: &mut Vec<f32>) -> Vec<[f64; 2]> {
        let window = SearchWindow { center: rigid, radius: (max_dev, max_dev) };
        let mut out = Vec::with_capacity(self.registrars.len());
        for i in 0..self.grid.ny() {
            for j in 0..self.grid.nx() {
                self.grid.extract(frame, self.w, i, j, patch);
                let sh = self.registrars[i * self.grid.nx() + j].estimate(patch, window, s);
                out.push([sh.dy, sh.dx]);
            }
        }
        out
    }
}

/// Catmull-Rom refinement by `factor` of values along one axis (`get(i)` for i in 0..n); the ends are extended
/// linearly, so linear fields stay linear.
fn refine_axis(get: &dyn Fn(usize) -> f64, n: usize, factor: usize) -> Vec<f64> {
    if n == 1 {
        return vec![get(0)];
    }
    let at = |i: i64| -> f64 {
        if i < 0 {
            2.0 * get(0) - get(1)
        } else if i >= n as i64 {
            2.0 * get(n - 1) - get(n - 2)
        } else {
            get(i as usize)
        }
    };
    let m = (n - 1) * factor + 1;
    (0..m)
        .map(|k| {
            let i = (k / factor) as i64;
            let t = (k % factor) as f64 / factor as f64;
            let p = [at(i - 1), at(i), at(i + 1), at(i + 2)];
            0.5 * ((2.0 * p[1]) + (-p[0] + p[2]) * t + (2.0 * p[0] - 5.0 * p[1] + 4.0 * p[2] - p[3]) * t * t + (-p[0] + 3.0 * p[1] - 3.0 * p[2] + p[3]) * t * t * t)
        })
        .collect()
}

/// Refine a row-major `ny` x `nx` grid by `factor` along both axes.
fn refine(values: &[f64], ny: usize, nx: usize, factor: usize) -> (Vec<f64>, usize, usize) {
    let rows: Vec<Vec<f64>> = (0..ny).map(|i| refine_axis(&|j| values[i * nx + j], nx, factor)).collect();
    let mx = rows[0].len();
    let cols: Vec<Vec<f64>> = (0..mx).map(|j| refine_axis(&|i| rows[i][j], ny, factor)).collect();
    let my = cols[0].len();
    let mut out = vec![0.0; my * mx];
    for (j, col) in cols.iter().enumerate() {
        for (i, v) in col.iter().enumerate() {
            out[i * mx + j] = *v;
        }
    }
    (out, my, mx)
}

/// Node positions between patch centres, refined by `factor` (linear between centres).
fn refine_positions(centers: &[f64], factor: usize) -> Vec<f64> {
    if centers.len() == 1 {
        return centers.to_vec();
    }
    let mut out = Vec::with_capacity((centers.len() - 1) * factor + 1);
    for w in centers.windows(2) {
        for k in 0..factor {
            out.push(w[0] + (w[1] - w[0]) * k as f64 / factor as f64);
        }
    }
    out.push(centers[centers.len() - 1]);
    out
}

/// The per-pixel displacement field of a frame from its patch shifts.
pub struct ShiftField {
    ys: Vec<f64>,
    xs: Vec<f64>,
    dy: Vec<f64>,
    dx: Vec<f64>,
}

impl ShiftField {
    /// Field from patch shifts on `grid`, refined by `factor` (`upsample_factor_grid`).
    pub fn new(grid: &PatchGrid, shifts: &[[f64; 2]], factor: usize) -> Self {
        let f = factor.max(1);
        let (ny, nx) = (grid.ny(), grid.nx());
        let dy: Vec<f64> = shifts.iter().map(|s| s[0]).collect();
        let dx: Vec<f64> = shifts.iter().map(|s| s[1]).collect();
        let (dy, _, _) = refine(&dy, ny, nx, f);
        let (dx, _, _) = refine(&dx, ny, nx, f);
        let cy: Vec<f64> = grid.starts_y.iter().map(|&s| s as f64 + (grid.size.0 as f64 - 1.0) / 2.0).collect();
        let cx: Vec<f64> = grid.starts_x.iter().map(|&s| s as f64 + (grid.size.1 as f64 - 1.0) / 2.0).collect();
        Self { ys: refine_positions(&cy, f), xs: refine_positions(&cx, f), dy, dx }
    }

    /// Borrow as a warp field.
    pub fn field(&self) -> Field<'_> {
        Field { ys: &self.ys, xs: &self.xs, dy: &self.dy, dx: &self.dx }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_the_frame() {
        let g = PatchGrid::new(512, 500, (96, 96), (32, 32));
        assert_eq!(g.size, (128, 128));
        assert_eq!(g.starts_y, vec![0, 96, 192, 288, 384]);
        assert_eq!(*g.starts_x.last().expect("x"), 500 - 128);
    }

    #[test]
    fn refined_field_interpolates_the_patch_shifts() {
        let g = PatchGrid::new(100, 100, (30, 30), (10, 10));
        let centers = g.centers();
        let shifts: Vec<[f64; 2]> = centers.iter().map(|c| [0.01 * c[0], -0.02 * c[1]]).collect();
        let f = ShiftField::new(&g, &shifts, 4);
        let field = f.field();
        for c in &centers {
            let (dy, dx) = field.at(c[0], c[1]);
            assert!((dy - 0.01 * c[0]).abs() < 1e-9 && (dx + 0.02 * c[1]).abs() < 1e-9);
        }
        // A linear field stays linear between the nodes.
        let (dy, _) = field.at(40.0, 40.0);
        assert!((dy - 0.4).abs() < 1e-6, "{dy}");
    }
}
