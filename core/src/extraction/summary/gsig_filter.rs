//! CNMF-E's spatial filter of each frame with the neuron size `gSig` (as CaImAn's `correlation_pnr` applies it).
//!
//! `center_psf = true`: a 2D Gaussian (sigma `gSig`, size `2 * floor(2 gSig) + 1`) kept only where it is at least
//! its value at the middle of the kernel's first row (an elliptic disc), minus its mean over that disc: a
//! zero-sum "Mexican hat" that removes the smooth 1-photon background. `center_psf = false`: a plain Gaussian blur
//! of the same size. Borders replicate the edge pixel (OpenCV's `BORDER_REPLICATE`, which CaImAn passes as
//! `borderType=1`). Volumes are filtered plane by plane with the last two `gSig` entries, as CaImAn's 3D
//! initialisation does.
//!
//! The disc kernel is not separable, but each of its rows is a truncated Gaussian minus a box, and the rows are
//! symmetric about the centre. So each input row is filtered once per distinct row of the kernel by growing the
//! truncated Gaussian and the box one tap pair at a time, and output rows add those row results vertically:
//! O(gSig) work per pixel instead of O(gSig^2).
//!
//! Deviation: for `center_psf = false` with different y and x sizes CaImAn applies `gSig[0]` along x (OpenCV's
//! `sigmaX`); here `gsig` is in C order everywhere (`gsig[0]` along y), as for `center_psf = true`.

use rayon::prelude::*;

use crate::extraction::{ExtractionError, Movie};

/// The filter for one `gSig`, precomputed once and applied to every frame (CPU here, WGSL in `mesmerize_gpu`).
#[derive(Debug, Clone, PartialEq)]
pub struct GsigFilter {
    /// Normalised 1D Gaussian along y, `2 * cy + 1` taps.
    pub gy: Vec<f32>,
    /// Normalised 1D Gaussian along x, `2 * cx + 1` taps.
    pub gx: Vec<f32>,
    /// For kernel row offset `di = 0..=cy` from the centre, the half-width of the kept taps along x.
    pub half_widths: Vec<usize>,
    /// Constant subtracted from every kept tap (0 for the plain blur).
    pub offset: f32,
}

/// Output pixels computed together in registers (four SSE or two AVX vectors).
const LANES: usize = 16;

/// `N` values of `v` from `at`, as an array the compiler keeps in registers.
#[inline(always)]
fn chunk<const N: usize>(v: &[f32], at: usize) -> &[f32; N] {
    v[at..at + N].try_into().unwrap_or_else(|_| unreachable!("slice of length N"))
}

/// Mutable twin of [`chunk`].
#[inline(always)]
fn chunk_mut<const N: usize>(v: &mut [f32], at: usize) -> &mut [f32; N] {
    (&mut v[at..at + N]).try_into().unwrap_or_else(|_| unreachable!("slice of length N"))
}

/// [`GsigFilter::apply_plane`] compiled for AVX2 as well as the baseline, picked at run time (the same arithmetic in
/// the same order, so results are identical; the wider vectors roughly halve the filter's time).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn apply_plane_simd(f: &GsigFilter, plane: &[f32], h: usize, w: usize, out: &mut [f32], s: &mut FilterScratch) {
    f.apply_plane_inline(plane, h, w, out, s);
}

/// `N` output pixels of one row: the centre kernel row plus each symmetric pair of kernel rows.
#[inline(always)]
fn vertical_chunk<const N: usize>(ring: &[f32], centre: usize, rows: &[(usize, usize)], x0: usize, dst: &mut [f32]) {
    let mut acc: [f32; N] = *chunk(ring, centre + x0);
    for &(a, b) in rows {
        let (u, v): (&[f32; N], &[f32; N]) = (chunk(ring, a + x0), chunk(ring, b + x0));
        for l in 0..N {
            acc[l] += u[l] + v[l];
        }
    }
    dst.copy_from_slice(&acc);
}

/// Per-thread scratch of [`GsigFilter::apply_plane`], reused across frames.
#[derive(Debug, Default)]
pub struct FilterScratch {
    padded: Vec<f32>,
    /// Ring of `2 * cy + 1` filtered input rows, each holding `cy + 1` kernel-row results of width `w`.
    ring: Vec<f32>,
}

/// OpenCV's `getGaussianKernel(n, sigma)` for sigma > 0: sampled at integer offsets, normalised to sum 1.
fn gaussian_taps(half: usize, sigma: f64) -> Vec<f32> {
    let taps: Vec<f64> = (0..2 * half + 1)
        .map(|i| {
            let x = i as f64 - half as f64;
            (-x * x / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.iter().map(|v| (v / sum) as f32).collect()
}

/// The lateral `(sigma_y, sigma_x)` from a `gSig` of one entry or one per axis (C order), checked against the frame.
fn lateral_sigmas(gsig: &[f64], dims: &[usize]) -> Result<(f64, f64), ExtractionError> {
    let (sy, sx) = match gsig {
        [g] => (*g, *g),
        [.., gy, gx] if gsig.len() <= dims.len() => (*gy, *gx),
        _ => {
            return Err(ExtractionError::BadParameter(format!(
                "gSig {gsig:?} must have one entry or one per axis of the {}D movie",
                dims.len()
            )));
        }
    };
    for (name, s) in [("y", sy), ("x", sx)] {
        if !(s.is_finite() && s > 0.0) {
            return Err(ExtractionError::BadParameter(format!("gSig along {name} must be positive, got {s}")));
        }
    }
    let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    if sy > h as f64 || sx > w as f64 {
        return Err(ExtractionError::BadParameter(format!(
            "gSig {gsig:?} is larger than the {h} x {w} field of view; gSig is the neuron's half-size in pixels"
        )));
    }
    Ok((sy, sx))
}

impl GsigFilter {
    /// Build the filter for `gsig` (one entry, or one per axis in C order) on frames of `dims` (`[H, W]` or
    /// `[Z, H, W]`).
    pub fn new(gsig: &[f64], dims: &[usize], center_psf: bool) -> Result<Self, ExtractionError> {
        if !(2..=3).contains(&dims.len()) {
            return Err(ExtractionError::BadInput(format!("expected 2D or 3D frames, got dims {dims:?}")));
        }
        let (sy, sx) = lateral_sigmas(gsig, dims)?;
        // CaImAn: ksize = int(2 * gSig) * 2 + 1.
        let (cy, cx) = ((2.0 * sy) as usize, (2.0 * sx) as usize);
        let gy = gaussian_taps(cy, sy);
        let gx = gaussian_taps(cx, sx);
        if !center_psf {
            return Ok(Self { gy, gx, half_widths: vec![cx; cy + 1], offset: 0.0 });
        }
        // Keep taps of the (f32) outer product at least as large as the largest tap of its first row.
        let psf = |i: usize, j: usize| gy[i] * gx[j];
        let thr = (0..gx.len()).map(|j| psf(0, j)).fold(f32::MIN, f32::max);
        let mut half_widths = Vec::with_capacity(cy + 1);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for di in 0..=cy {
            let row = cy + di;
            let w = (0..=cx).take_while(|&k| psf(row, cx + k) >= thr).last().unwrap_or(0);
            half_widths.push(w);
            let rows = if di == 0 { 1 } else { 2 };
            for j in cx - w..=cx + w {
                sum += rows as f64 * psf(row, j) as f64;
                count += rows;
            }
        }
        let offset = (sum / count as f64) as f32;
        Ok(Self { gy, gx, half_widths, offset })
    }

    /// Half-size of the kernel along y.
    pub fn cy(&self) -> usize {
        self.gy.len() / 2
    }

    /// Half-size of the kernel along x.
    pub fn cx(&self) -> usize {
        self.gx.len() / 2
    }

    /// The full 2D kernel, row-major `(2 cy + 1) x (2 cx + 1)`: the reference for tests and the GPU twin.
    pub fn kernel_2d(&self) -> Vec<f32> {
        let (cy, cx) = (self.cy(), self.cx());
        let (ky, kx) = (2 * cy + 1, 2 * cx + 1);
        let mut k = vec![0.0f32; ky * kx];
        for i in 0..ky {
            let w = self.half_widths[i.abs_diff(cy)];
            for j in cx - w..=cx + w {
                k[i * kx + j] = self.gy[i] * self.gx[j] - self.offset;
            }
        }
        k
    }

    /// Filter one `h x w` plane into `out` (same size), with edge-replicating borders.
    pub fn apply_plane(&self, plane: &[f32], h: usize, w: usize, out: &mut [f32], s: &mut FilterScratch) {
        apply_plane_simd(self, plane, h, w, out, s);
    }

    /// The body of [`Self::apply_plane`], inlined into each CPU-feature version of [`apply_plane_simd`].
    #[inline(always)]
    fn apply_plane_inline(&self, plane: &[f32], h: usize, w: usize, out: &mut [f32], s: &mut FilterScratch) {
        let (cy, cx) = (self.cy(), self.cx());
        let nring = 2 * cy + 1;
        let nplanes = cy + 1;
        s.padded.resize(w + 2 * cx, 0.0);
        s.ring.resize(nring * nplanes * w, 0.0);
        // Kernel rows `di` sorted by half-width, so each is written once its truncated Gaussian is complete.
        let mut emit: Vec<(usize, usize)> = (0..=cy).map(|di| (self.half_widths[di], di)).collect();
        emit.sort_unstable();
        let mut next_row = 0usize;
        for y in 0..h {
            let need = (y + cy).min(h - 1);
            while next_row <= need {
                self.filter_row(&plane[next_row * w..(next_row + 1) * w], next_row % nring, &emit, s);
                next_row += 1;
            }
            let slot = |r: usize, di: usize| ((r % nring) * nplanes + di) * w;
            let rows: Vec<(usize, usize)> =
                (1..=cy).map(|di| (slot(y.saturating_sub(di), di), slot((y + di).min(h - 1), di))).collect();
            let centre = slot(y, 0);
            let dst = &mut out[y * w..(y + 1) * w];
            let full = w / LANES * LANES;
            for x0 in (0..full).step_by(LANES) {
                vertical_chunk::<LANES>(&s.ring, centre, &rows, x0, &mut dst[x0..x0 + LANES]);
            }
            for x0 in full..w {
                vertical_chunk::<1>(&s.ring, centre, &rows, x0, &mut dst[x0..x0 + 1]);
            }
        }
    }

    /// Horizontal pass of one input row: for every kernel row offset `di`, the row filtered with that kernel row.
    #[inline(always)]
    fn filter_row(&self, row: &[f32], ring_slot: usize, emit: &[(usize, usize)], s: &mut FilterScratch) {
        let (cy, cx) = (self.cy(), self.cx());
        let w = row.len();
        let (first, last) = (row[0], row[w - 1]);
        s.padded[..cx].fill(first);
        s.padded[cx..cx + w].copy_from_slice(row);
        s.padded[cx + w..].fill(last);
        let base = ring_slot * (cy + 1) * w;
        let ring = &mut s.ring[base..base + (cy + 1) * w];
        let full = w / LANES * LANES;
        for x0 in (0..full).step_by(LANES) {
            self.row_chunk::<LANES>(&s.padded, x0, w, emit, ring);
        }
        for x0 in full..w {
            self.row_chunk::<1>(&s.padded, x0, w, emit, ring);
        }
    }

    /// `N` outputs of [`Self::filter_row`] from `x0`, growing the truncated Gaussian and the box in registers.
    #[inline(always)]
    fn row_chunk<const N: usize>(&self, p: &[f32], x0: usize, w: usize, emit: &[(usize, usize)], ring: &mut [f32]) {
        let (cy, cx) = (self.cy(), self.cx());
        let m = self.offset;
        let centre: &[f32; N] = chunk(p, cx + x0);
        let g0 = self.gx[cx];
        let mut g = [0.0f32; N];
        let mut b = [0.0f32; N];
        for l in 0..N {
            g[l] = g0 * centre[l];
            b[l] = centre[l];
        }
        let mut next = 0;
        for k in 0..=cx {
            if k > 0 {
                let gk = self.gx[cx + k];
                let (left, right): (&[f32; N], &[f32; N]) = (chunk(p, cx + x0 - k), chunk(p, cx + x0 + k));
                for l in 0..N {
                    let pair = left[l] + right[l];
                    g[l] += gk * pair;
                    b[l] += pair;
                }
            }
            while next < emit.len() && emit[next].0 == k {
                let di = emit[next].1;
                let gyv = self.gy[cy + di];
                let dst: &mut [f32; N] = chunk_mut(ring, di * w + x0);
                for l in 0..N {
                    dst[l] = gyv * g[l] - m * b[l];
                }
                next += 1;
            }
        }
    }

    /// Filter one frame (`[H, W]`, or `[Z, H, W]` plane by plane) into `out`.
    pub fn apply_frame(&self, frame: &[f32], dims: &[usize], out: &mut [f32], s: &mut FilterScratch) {
        let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
        for (src, dst) in frame.chunks_exact(h * w).zip(out.chunks_exact_mut(h * w)) {
            self.apply_plane(src, h, w, dst, s);
        }
    }
}

/// Filter one frame of `dims` with `gSig` (see the module docs); the building block of [`filter_movie`].
pub fn filter_frame(frame: &[f32], dims: &[usize], gsig: &[f64], center_psf: bool) -> Result<Vec<f32>, ExtractionError> {
    let d: usize = dims.iter().product();
    if frame.len() != d {
        return Err(ExtractionError::BadInput(format!("frame has {} values, expected {dims:?} = {d}", frame.len())));
    }
    let f = GsigFilter::new(gsig, dims, center_psf)?;
    let mut out = vec![0.0f32; d];
    f.apply_frame(frame, dims, &mut out, &mut FilterScratch::default());
    Ok(out)
}

/// Filter every frame of `movie` with `f` in place (frames in parallel, one frame copied per thread): no second
/// movie-sized buffer, so neither its memory nor the page faults of allocating it.
pub(crate) fn filter_frames_in_place(f: &GsigFilter, movie: &mut Movie, progress: &dyn crate::progress::Progress) -> Result<(), ExtractionError> {
    let d = movie.d();
    let dims = movie.dims.clone();
    progress.start("spatial filter", movie.t as u64);
    movie.data.par_chunks_mut(d).try_for_each_init(
        || (FilterScratch::default(), Vec::<f32>::new()),
        |(s, copy), frame| {
            if progress.cancelled() {
                return Err(ExtractionError::Cancelled);
            }
            copy.clear();
            copy.extend_from_slice(frame);
            f.apply_frame(copy, &dims, frame, s);
            progress.advance(1);
            Ok(())
        },
    )
}

/// Filter every frame of the movie with `gSig`, frames in parallel; CNMF-E's initialisation works on the result.
pub fn filter_movie(movie: &Movie, gsig: &[f64], center_psf: bool) -> Result<Movie, ExtractionError> {
    let f = GsigFilter::new(gsig, &movie.dims, center_psf)?;
    let data = filter_frames(&f, movie, &crate::progress::NoProgress)?;
    Ok(Movie { dims: movie.dims.clone(), t: movie.t, data })
}

/// Filter all frames with a prepared filter, reporting one unit per frame and stopping when cancelled.
pub(crate) fn filter_frames(
    f: &GsigFilter,
    movie: &Movie,
    progress: &dyn crate::progress::Progress,
) -> Result<Vec<f32>, ExtractionError> {
    let d = movie.d();
    let mut data = vec![0.0f32; movie.data.len()];
    progress.start("spatial filter", movie.t as u64);
    data.par_chunks_mut(d).zip(movie.data.par_chunks(d)).try_for_each_init(FilterScratch::default, |s, (dst, src)| {
        if progress.cancelled() {
            return Err(ExtractionError::Cancelled);
        }
        f.apply_frame(src, &movie.dims, dst, s);
        progress.advance(1);
        Ok(())
    })?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 2D correlation with the full kernel and replicated borders.
    fn direct(f: &GsigFilter, img: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (cy, cx) = (f.cy() as isize, f.cx() as isize);
        let k = f.kernel_2d();
        let kx = 2 * cx + 1;
        let mut out = vec![0.0f32; h * w];
        for y in 0..h as isize {
            for x in 0..w as isize {
                let mut acc = 0.0f64;
                for i in -cy..=cy {
                    for j in -cx..=cx {
                        let yy = (y + i).clamp(0, h as isize - 1) as usize;
                        let xx = (x + j).clamp(0, w as isize - 1) as usize;
                        acc += k[((i + cy) * kx + j + cx) as usize] as f64 * img[yy * w + xx] as f64;
                    }
                }
                out[(y * w as isize + x) as usize] = acc as f32;
            }
        }
        out
    }

    #[test]
    fn matches_direct_convolution() {
        let (h, w) = (11, 17);
        let img: Vec<f32> = (0..h * w).map(|i| ((i * 37 % 23) as f32).sin() * 5.0 + (i % 7) as f32).collect();
        for (gsig, center) in [([3.0, 3.0], true), ([2.0, 4.5], true), ([3.0, 3.0], false), ([1.5, 2.0], false)] {
            let f = GsigFilter::new(&gsig, &[h, w], center).expect("valid gsig");
            let mut out = vec![0.0; h * w];
            f.apply_plane(&img, h, w, &mut out, &mut FilterScratch::default());
            let want = direct(&f, &img, h, w);
            for (a, b) in out.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{gsig:?} {center}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn centred_kernel_sums_to_zero_and_is_a_disc() {
        let f = GsigFilter::new(&[3.0], &[64, 64], true).expect("valid gsig");
        assert_eq!(f.gy.len(), 13);
        let s: f32 = f.kernel_2d().iter().sum();
        assert!(s.abs() < 1e-6, "{s}");
        assert_eq!(f.half_widths, vec![6, 5, 5, 5, 4, 3, 0]);
    }

    #[test]
    fn bad_gsig_is_refused() {
        for g in [vec![0.0], vec![-1.0], vec![f64::NAN], vec![100.0], vec![1.0, 2.0, 3.0, 4.0]] {
            assert!(matches!(GsigFilter::new(&g, &[32, 32], true), Err(ExtractionError::BadParameter(_))), "{g:?}");
        }
    }
}
