//! A component's spatial footprint while fitting: dense values on a box, restricted to a support mask.

use super::grid::{Grid, Region};
use super::sparse::SparseColumns;

/// Footprint of one component: `vals` on `region` (local C order), zero where `mask` is false.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// Box holding the support.
    pub region: Region,
    /// Values, one per pixel of the box.
    pub vals: Vec<f32>,
    /// Pixels the spatial update may change (the dilated support).
    pub mask: Vec<bool>,
}

impl Footprint {
    /// Footprint with all of `region` as support.
    pub fn new(region: Region, vals: Vec<f32>) -> Self {
        let mask = vec![true; vals.len()];
        Self { region, vals, mask }
    }
    /// Value at absolute (z, y, x), 0 outside the box.
    pub fn at(&self, p: [usize; 3]) -> f32 {
        self.region.local(p).map_or(0.0, |i| self.vals[i])
    }
    /// Euclidean norm.
    pub fn norm(&self) -> f32 {
        self.vals.iter().map(|v| v * v).sum::<f32>().sqrt()
    }
    /// Largest value.
    pub fn max(&self) -> f32 {
        self.vals.iter().copied().fold(0.0, f32::max)
    }
    /// Value-weighted centre (z, y, x) in absolute pixel coordinates.
    pub fn centroid(&self) -> [f64; 3] {
        let mut acc = [0f64; 3];
        let mut w = 0f64;
        for (i, &v) in self.vals.iter().enumerate() {
            if v > 0.0 {
                let p = self.region.absolute(i);
                for a in 0..3 {
                    acc[a] += v as f64 * p[a] as f64;
                }
                w += v as f64;
            }
        }
        if w > 0.0 {
            acc.map(|s| s / w)
        } else {
            let c = self.region.absolute(self.vals.len() / 2);
            [c[0] as f64, c[1] as f64, c[2] as f64]
        }
    }
    /// Dot product with another footprint (over the overlap of their boxes).
    pub fn dot(&self, o: &Footprint) -> f32 {
        let Some(r) = self.region.intersect(&o.region) else { return 0.0 };
        let mut s = 0.0;
        for i in 0..r.size() {
            let p = r.absolute(i);
            if let (Some(a), Some(b)) = (self.region.local(p), o.region.local(p)) {
                s += self.vals[a] * o.vals[b];
            }
        }
        s
    }
    /// New support: pixels above `frac` of the maximum, dilated by `radius` (per axis), clipped to `grid`; the
    /// box shrinks or grows to hold it and values are carried over.
    pub fn reshape_support(&mut self, grid: &Grid, frac: f32, radius: [usize; 3]) {
        let thr = self.max() * frac;
        if thr <= 0.0 {
            return;
        }
        let core: Vec<[usize; 3]> =
            self.vals.iter().enumerate().filter(|(_, v)| **v > thr).map(|(i, _)| self.region.absolute(i)).collect();
        let mut lo = [usize::MAX; 3];
        let mut hi = [0usize; 3];
        for p in &core {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a].saturating_sub(radius[a]));
                hi[a] = hi[a].max((p[a] + radius[a] + 1).min(grid.dims[a]));
            }
        }
        let region = Region { lo, len: [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]] };
        let mut mask = vec![false; region.size()];
        // Dilation by an ellipsoid of the given radii.
        let r2 = radius.map(|r| (r as f64 + 0.5).powi(2));
        for p in &core {
            for dz in -(radius[0] as i64)..=radius[0] as i64 {
                for dy in -(radius[1] as i64)..=radius[1] as i64 {
                    for dx in -(radius[2] as i64)..=radius[2] as i64 {
                        let e = (dz * dz) as f64 / r2[0] + (dy * dy) as f64 / r2[1] + (dx * dx) as f64 / r2[2];
                        if e > 1.0 {
                            continue;
                        }
                        let q = [p[0] as i64 + dz, p[1] as i64 + dy, p[2] as i64 + dx];
                        if q.iter().zip(grid.dims).any(|(&c, n)| c < 0 || c >= n as i64) {
                            continue;
                        }
                        if let Some(i) = region.local([q[0] as usize, q[1] as usize, q[2] as usize]) {
                            mask[i] = true;
                        }
                    }
                }
            }
        }
        let mut vals = vec![0f32; region.size()];
        for (i, v) in vals.iter_mut().enumerate() {
            if mask[i] {
                *v = self.at(region.absolute(i));
            }
        }
        self.region = region;
        self.vals = vals;
        self.mask = mask;
    }
    /// The footprint moved from a patch grid into the full grid (`offset` = patch origin).
    pub fn shifted(&self, offset: [usize; 3]) -> Self {
        let mut f = self.clone();
        for (lo, off) in f.region.lo.iter_mut().zip(offset) {
            *lo += off;
        }
        f
    }
    /// Append as a sparse column over `grid`'s C-order pixel index.
    pub fn push_into(&self, grid: &Grid, a: &mut SparseColumns) {
        let entries = self
            .vals
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, &v)| {
                let p = self.region.absolute(i);
                (grid.index(p[0], p[1], p[2]) as u32, v)
            })
            .collect();
        a.push_col(entries);
    }
    /// Footprint of sparse column `k` (support = its non-zero pixels' box).
    pub fn from_sparse(a: &SparseColumns, k: usize, grid: &Grid) -> Option<Self> {
        let (idx, val) = a.col(k);
        if idx.is_empty() {
            return None;
        }
        let mut lo = [usize::MAX; 3];
        let mut hi = [0; 3];
        for &i in idx {
            let p = grid.coords(i as usize);
            for ax in 0..3 {
                lo[ax] = lo[ax].min(p[ax]);
                hi[ax] = hi[ax].max(p[ax] + 1);
            }
        }
        let region = Region { lo, len: [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]] };
        let mut vals = vec![0f32; region.size()];
        for (&i, &v) in idx.iter().zip(val) {
            if let Some(l) = region.local(grid.coords(i as usize)) {
                vals[l] = v.max(0.0);
            }
        }
        Some(Self::new(region, vals))
    }
}
