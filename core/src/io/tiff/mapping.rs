//! From the file's logical array (dims + axes, the last two being a page's rows and columns) to our canonical
//! (t, z, y, x) planes.

use std::path::Path;

use crate::imaging::{Axes, Axis, ImagingError, StackShape};

/// Where each canonical axis lives in the file's array.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    dims: Vec<usize>,
    t: Option<usize>,
    z: Option<usize>,
    c: Option<usize>,
    y: usize,
    x: usize,
    channel: usize,
    shape: StackShape,
}

impl Mapping {
    pub fn new(path: &Path, dims: Vec<usize>, axes: &Axes, channel: usize) -> Result<Self, ImagingError> {
        let err = |reason: String| ImagingError::Axes { path: path.to_path_buf(), reason };
        if axes.len() != dims.len() {
            return Err(err(format!("axes '{axes}' do not match the array's {} dimensions {dims:?}", dims.len())));
        }
        let pos = |a| axes.position(a);
        let (y, x) = (pos(Axis::Y).unwrap_or(0), pos(Axis::X).unwrap_or(0));
        let c = pos(Axis::C);
        if let Some(ci) = c {
            if channel >= dims[ci] {
                return Err(err(format!("channel {channel} asked for, but the file has {} channels", dims[ci])));
            }
        } else if channel > 0 {
            return Err(err(format!("channel {channel} asked for, but the file has no channel axis")));
        }
        let (t, z) = (pos(Axis::T), pos(Axis::Z));
        let size = |i: Option<usize>| i.map_or(1, |i| dims[i]);
        let shape = StackShape { t: size(t), z: size(z), y: dims[y], x: dims[x], volumetric: z.is_some() };
        Ok(Self { dims, t, z, c, y, x, channel, shape })
    }

    pub fn shape(&self) -> StackShape {
        self.shape
    }

    fn n(&self) -> usize {
        self.dims.len()
    }

    /// Samples in one page.
    pub fn page_len(&self) -> usize {
        self.dims[self.n() - 2] * self.dims[self.n() - 1]
    }

    fn page_of(&self, idx: &[usize]) -> usize {
        idx[..self.n() - 2].iter().zip(&self.dims).fold(0, |acc, (&i, &d)| acc * d + i)
    }

    fn index(&self, t: usize, z: usize) -> Vec<usize> {
        let mut idx = vec![0; self.n()];
        if let Some(i) = self.t {
            idx[i] = t;
        }
        if let Some(i) = self.z {
            idx[i] = z;
        }
        if let Some(i) = self.c {
            idx[i] = self.channel;
        }
        idx
    }

    /// When a plane is one whole page: that page, and whether it is stored transposed (x before y).
    pub fn direct_page(&self, t: usize, z: usize) -> Option<(usize, bool)> {
        let n = self.n();
        let (ry, rx) = (n - 2, n - 1);
        let transposed = match (self.y, self.x) {
            (a, b) if a == ry && b == rx => false,
            (a, b) if a == rx && b == ry => true,
            _ => return None,
        };
        Some((self.page_of(&self.index(t, z)), transposed))
    }

    /// Page stored (x, y) -> plane (y, x).
    pub fn transpose_into(&self, page: &[f32], out: &mut [f32]) {
        let (h, w) = (self.shape.y, self.shape.x);
        for x in 0..w {
            let row = &page[x * h..(x + 1) * h];
            for (y, &v) in row.iter().enumerate() {
                out[y * w + x] = v;
            }
        }
    }

    /// For layouts where a plane spans several pages: (page, offset within page) of each plane pixel in (y, x)
    /// order.
    pub fn gather(&self, t: usize, z: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let base = self.index(t, z);
        let n = self.n();
        let w = self.dims[n - 1];
        (0..self.shape.y).flat_map(move |yy| {
            let base = base.clone();
            (0..self.shape.x).map(move |xx| {
                let mut idx = base.clone();
                idx[self.y] = yy;
                idx[self.x] = xx;
                (self.page_of(&idx), idx[n - 2] * w + idx[n - 1])
            })
        })
    }
}
