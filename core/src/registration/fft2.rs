//! 2D real FFTs of frames (rows real-to-complex, then columns complex), planned once per size. The spectrum is
//! kept transposed, `spec[kx * h + ky]` for kx in 0..=w/2, so every column pass runs over contiguous memory.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Rows transformed (and transposed) together.
const BLOCK: usize = 16;

/// Plans for one frame size.
pub struct Fft2 {
    h: usize,
    w: usize,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2r: Arc<dyn ComplexToReal<f32>>,
    col_fwd: Arc<dyn Fft<f32>>,
    col_inv: Arc<dyn Fft<f32>>,
}

/// Per-thread working memory of [`Fft2`].
#[derive(Default)]
pub struct FftScratch {
    row: Vec<f32>,
    row_c: Vec<Complex32>,
    block: Vec<Complex32>,
    r_scratch: Vec<Complex32>,
    c_scratch: Vec<Complex32>,
}

impl std::fmt::Debug for Fft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft2({}x{})", self.h, self.w)
    }
}

impl Fft2 {
    /// Plans for `h` x `w` frames.
    pub fn new(h: usize, w: usize) -> Self {
        let mut real = RealFftPlanner::<f32>::new();
        let mut cplx = FftPlanner::<f32>::new();
        Self { h, w, r2c: real.plan_fft_forward(w), c2r: real.plan_fft_inverse(w), col_fwd: cplx.plan_fft_forward(h), col_inv: cplx.plan_fft_inverse(h) }
    }

    /// Rows of the frame.
    pub fn height(&self) -> usize {
        self.h
    }
    /// Columns of the frame.
    pub fn width(&self) -> usize {
        self.w
    }
    /// Complex columns kept (w/2 + 1).
    pub fn half_width(&self) -> usize {
        self.w / 2 + 1
    }
    /// Length of a transposed half spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.half_width() * self.h
    }

    fn prepare(&self, s: &mut FftScratch) {
        let wc = self.half_width();
        s.row.resize(self.w, 0.0);
        s.row_c.resize(wc, Complex32::default());
        let rs = self.r2c.get_scratch_len().max(self.c2r.get_scratch_len());
        s.r_scratch.resize(rs, Complex32::default());
        let cs = self.col_fwd.get_inplace_scratch_len().max(self.col_inv.get_inplace_scratch_len());
        s.c_scratch.resize(cs, Complex32::default());
    }

    /// Forward transform of a row-major `h * w` frame into a transposed half spectrum.
    pub fn forward(&self, input: &[f32], spec: &mut [Complex32], s: &mut FftScratch) {
        self.prepare(s);
        let (h, w) = (self.h, self.w);
        let wc = self.half_width();
        // Rows are transformed a block at a time and the block is transposed in one go, so the scattered writes
        // into the transposed spectrum touch each cache line once per block rather than once per row.
        s.block.resize(BLOCK * wc, Complex32::default());
        for y0 in (0..h).step_by(BLOCK) {
            let rows = BLOCK.min(h - y0);
            for r in 0..rows {
                let y = y0 + r;
                s.row.copy_from_slice(&input[y * w..(y + 1) * w]);
                // Lengths are right by construction, so this cannot fail.
                let _ = self.r2c.process_with_scratch(&mut s.row, &mut s.block[r * wc..(r + 1) * wc], &mut s.r_scratch);
            }
            for kx in 0..wc {
                let dst = &mut spec[kx * h + y0..kx * h + y0 + rows];
                for (r, d) in dst.iter_mut().enumerate() {
                    *d = s.block[r * wc + kx];
                }
            }
        }
        for col in spec.chunks_exact_mut(h) {
            self.col_fwd.process_with_scratch(col, &mut s.c_scratch);
        }
    }

    /// Inverse transform (unnormalised: the result is `h * w` times the true inverse). `spec` is overwritten.
    pub fn inverse(&self, spec: &mut [Complex32], out: &mut [f32], s: &mut FftScratch) {
        self.inverse_rows(spec, out, s, |_| true);
    }

    /// Inverse transform computing only the output rows `keep` accepts (others are left untouched): a
    /// correlation searched within a few pixels of zero lag needs a few dozen rows, not all of them.
    pub fn inverse_rows(&self, spec: &mut [Complex32], out: &mut [f32], s: &mut FftScratch, keep: impl Fn(usize) -> bool) {
        self.prepare(s);
        let (h, w) = (self.h, self.w);
        let wc = self.half_width();
        for col in spec.chunks_exact_mut(h) {
            self.col_inv.process_with_scratch(col, &mut s.c_scratch);
        }
        s.block.resize(BLOCK * wc, Complex32::default());
        for y0 in (0..h).step_by(BLOCK) {
            let rows = BLOCK.min(h - y0);
            if !(y0..y0 + rows).any(&keep) {
                continue;
            }
            for kx in 0..wc {
                let src = &spec[kx * h + y0..kx * h + y0 + rows];
                for (r, v) in src.iter().enumerate() {
                    s.block[r * wc + kx] = *v;
                }
            }
            for r in 0..rows {
                if !keep(y0 + r) {
                    continue;
                }
                let row_c = &mut s.block[r * wc..(r + 1) * wc];
                row_c[0].im = 0.0;
                if w % 2 == 0 {
                    row_c[wc - 1].im = 0.0;
                }
                let y = y0 + r;
                let _ = self.c2r.process_with_scratch(row_c, &mut out[y * w..(y + 1) * w], &mut s.r_scratch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_then_inverse_is_identity_times_n() {
        for (h, w) in [(8, 8), (6, 10), (7, 9), (64, 48)] {
            let fft = Fft2::new(h, w);
            let input: Vec<f32> = (0..h * w).map(|i| ((i * 7919) % 101) as f32 - 50.0).collect();
            let mut spec = vec![Complex32::default(); fft.spectrum_len()];
            let mut s = FftScratch::default();
            fft.forward(&input, &mut spec, &mut s);
            // DC term is the sum.
            let sum: f32 = input.iter().sum();
            assert!((spec[0].re - sum).abs() < 1e-2);
            let mut out = vec![0.0; h * w];
            fft.inverse(&mut spec, &mut out, &mut s);
            for (a, b) in input.iter().zip(&out) {
                assert!((a - b / (h * w) as f32).abs() < 1e-3, "{h}x{w}");
            }
        }
    }
}
