//! The movie stored pixel-major (`d x T`): every product of the CNMF updates (A^T Y, Y C^T on supports, b^T Y)
//! then reads contiguous time series.

use rayon::prelude::*;

use super::movie::Movie;

/// Pixel-major movie: `data[p * t + i]` is pixel `p` at time `i`.
#[derive(Debug, Clone)]
pub struct PixelMajor {
    /// Pixels.
    pub d: usize,
    /// Time points.
    pub t: usize,
    /// Time series one after the other.
    pub data: Vec<f32>,
}

impl PixelMajor {
    /// Transpose a frame-major movie (cache-blocked, parallel over pixel blocks).
    pub fn from_movie(m: &Movie) -> Self {
        let (d, t) = (m.d(), m.t);
        let mut data = vec![0f32; d * t];
        const PB: usize = 64;
        data.par_chunks_mut(PB * t).enumerate().for_each(|(blk, out)| {
            let p0 = blk * PB;
            let np = out.len() / t;
            for ti in 0..t {
                let row = &m.data[ti * d + p0..ti * d + p0 + np];
                for (j, &v) in row.iter().enumerate() {
                    out[j * t + ti] = v;
                }
            }
        });
        Self { d, t, data }
    }
    /// Time series of pixel `p`.
    pub fn series(&self, p: usize) -> &[f32] {
        &self.data[p * self.t..(p + 1) * self.t]
    }
    /// Copy of the listed pixels, in that order (a patch).
    pub fn gather(&self, pixels: &[usize]) -> Self {
        let t = self.t;
        let mut data = vec![0f32; pixels.len() * t];
        data.par_chunks_mut(t).zip(pixels.par_iter()).for_each(|(out, &p)| out.copy_from_slice(self.series(p)));
        Self { d: pixels.len(), t, data }
    }
}
