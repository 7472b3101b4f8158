//! Pixel grids and axis-aligned boxes in (z, y, x), so that 2D (z = 1) and 3D share one code path.

/// Shape of a frame as (Z, H, W); 2D frames have `Z = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Planes, rows, columns.
    pub dims: [usize; 3],
}

impl Grid {
    /// Grid of C-order `dims` (`[H, W]` or `[Z, H, W]`).
    pub fn from_dims(dims: &[usize]) -> Self {
        match dims {
            [h, w] => Self { dims: [1, *h, *w] },
            [z, h, w] => Self { dims: [*z, *h, *w] },
            _ => Self { dims: [1, 1, dims.iter().product()] },
        }
    }
    /// Pixels per frame.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }
    /// Whether the grid has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Linear C-order index of (z, y, x).
    pub fn index(&self, z: usize, y: usize, x: usize) -> usize {
        (z * self.dims[1] + y) * self.dims[2] + x
    }
    /// (z, y, x) of a linear index.
    pub fn coords(&self, i: usize) -> [usize; 3] {
        let x = i % self.dims[2];
        let y = (i / self.dims[2]) % self.dims[1];
        [i / (self.dims[1] * self.dims[2]), y, x]
    }
    /// The whole grid as a box.
    pub fn full(&self) -> Region {
        Region { lo: [0; 3], len: self.dims }
    }
}

/// Axis-aligned box: `lo[a] .. lo[a] + len[a]` on each axis (z, y, x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First index per axis.
    pub lo: [usize; 3],
    /// Extent per axis.
    pub len: [usize; 3],
}

impl Region {
    /// Box of half-widths `half` around `centre`, clipped to `grid`.
    pub fn around(grid: &Grid, centre: [usize; 3], half: [usize; 3]) -> Self {
        let mut lo = [0; 3];
        let mut len = [0; 3];
        for a in 0..3 {
            let l = centre[a].saturating_sub(half[a]);
            let h = (centre[a] + half[a] + 1).min(grid.dims[a]);
            lo[a] = l;
            len[a] = h - l;
        }
        Self { lo, len }
    }
    /// Number of pixels.
    pub fn size(&self) -> usize {
        self.len.iter().product()
    }
    /// Linear index inside the box of absolute (z, y, x), if inside.
    pub fn local(&self, p: [usize; 3]) -> Option<usize> {
        let mut r = [0; 3];
        for a in 0..3 {
            if p[a] < self.lo[a] || p[a] >= self.lo[a] + self.len[a] {
                return None;
            }
            r[a] = p[a] - self.lo[a];
        }
        Some((r[0] * self.len[1] + r[1]) * self.len[2] + r[2])
    }
    /// Absolute (z, y, x) of a local index.
    pub fn absolute(&self, i: usize) -> [usize; 3] {
        let x = i % self.len[2];
        let y = (i / self.len[2]) % self.len[1];
        let z = i / (self.len[1] * self.len[2]);
        [self.lo[0] + z, self.lo[1] + y, self.lo[2] + x]
    }
    /// Global linear indices of every pixel of the box, in local order.
    pub fn pixels(&self, grid: &Grid) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.size());
        for z in 0..self.len[0] {
            for y in 0..self.len[1] {
                let start = grid.index(self.lo[0] + z, self.lo[1] + y, self.lo[2]);
                out.extend(start..start + self.len[2]);
            }
        }
        out
    }
    /// Intersection of two boxes, if not empty.
    pub fn intersect(&self, o: &Region) -> Option<Region> {
        let mut lo = [0; 3];
        let mut len = [0; 3];
        for a in 0..3 {
            let l = self.lo[a].max(o.lo[a]);
            let h = (self.lo[a] + self.len[a]).min(o.lo[a] + o.len[a]);
            if h <= l {
                return None;
            }
            lo[a] = l;
            len[a] = h - l;
        }
        Some(Region { lo, len })
    }
    /// Whether the two boxes share a pixel.
    pub fn overlaps(&self, o: &Region) -> bool {
        self.intersect(o).is_some()
    }
}
