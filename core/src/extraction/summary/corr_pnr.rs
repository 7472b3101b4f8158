//! CNMF-E's seed images: the correlation image and the peak-to-noise ratio (PNR) of the `gSig`-filtered movie,
//! with CaImAn's `correlation_pnr` semantics.
//!
//! Per pixel of the filtered movie: subtract the temporal mean; noise `sn` = PSD noise (band (0.25, 0.5], mean);
//! PNR = max over time / sn, negatives set to 0. The correlation image is the 8- (2D) or 26- (3D) neighbour
//! correlation of the data divided by `sn` with values below 3 set to 0 (only events of 3 noise levels count).
//!
//! Three passes over the one filtered copy: filter (frames in parallel), per-pixel statistics on blocks of pixel
//! time series gathered from the frames (mean, max, PSD noise, moments of the thresholded data), then the
//! neighbour products (bands of rows in parallel, see `neighbours.rs`).

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::gsig_filter::{GsigFilter, filter_frames, filter_frames_in_place};
use super::neighbours::{Standardise, neighbour_correlation};
use crate::extraction::deconv::noise::{MAX_SAMPLES_FFT, psd_samples, psd_segments};
use crate::extraction::{ExtractionError, Movie};
use crate::progress::{NoProgress, Progress};

/// The two images CNMF-E seeds neurons from (`min_corr`, `min_pnr` thresholds apply to them).
#[derive(Debug, Clone, PartialEq)]
pub struct CorrPnr {
    /// Spatial dims, C order (`[H, W]` or `[Z, H, W]`).
    pub dims: Vec<usize>,
    /// Local correlation image of the thresholded filtered movie, C order.
    pub corr: Vec<f32>,
    /// Peak-to-noise ratio image, C order.
    pub pnr: Vec<f32>,
}

/// Band of the PSD that is noise (CaImAn's default `noise_range`).
pub const NOISE_RANGE: [f64; 2] = [0.25, 0.5];
/// Values below this many noise levels are ignored by the correlation image (CaImAn's fixed 3).
pub const CORR_THRESHOLD: f64 = 3.0;
/// Pixels whose time series are gathered together: 1 KiB runs per frame read (256 x T floats of scratch per thread).
const PIXEL_BLOCK: usize = 256;
/// Frames transposed together into the pixel time series (16 floats: one cache line per pixel).
const FRAME_TILE: usize = 16;

/// Filter the movie with `gSig` and compute its correlation and PNR images (CaImAn's `correlation_pnr`).
pub fn corr_pnr(movie: &Movie, gsig: &[f64], center_psf: bool, progress: &dyn Progress) -> Result<CorrPnr, ExtractionError> {
    let f = GsigFilter::new(gsig, &movie.dims, center_psf)?;
    let filtered = filter_frames(&f, movie, progress)?;
    corr_pnr_of(&filtered, &movie.dims, movie.t, progress)
}

/// [`corr_pnr`] for a caller that no longer needs the raw movie (the `corr-pnr` command): the movie is filtered in
/// place, so the computation needs no second copy of it.
pub fn corr_pnr_in_place(mut movie: Movie, gsig: &[f64], center_psf: bool, progress: &dyn Progress) -> Result<CorrPnr, ExtractionError> {
    let f = GsigFilter::new(gsig, &movie.dims, center_psf)?;
    filter_frames_in_place(&f, &mut movie, progress)?;
    corr_pnr_of(&movie.data, &movie.dims, movie.t, progress)
}

/// Correlation and PNR images of an already filtered movie (e.g. the output of `filter_movie`).
pub fn corr_pnr_from_filtered(filtered: &Movie) -> CorrPnr {
    match corr_pnr_of(&filtered.data, &filtered.dims, filtered.t, &NoProgress) {
        Ok(c) => c,
        // Only cancellation can fail, and NoProgress never cancels.
        Err(_) => CorrPnr { dims: filtered.dims.clone(), corr: vec![0.0; filtered.d()], pnr: vec![0.0; filtered.d()] },
    }
}

/// Statistics pass then correlation pass over frame-major filtered data.
pub fn corr_pnr_of(data: &[f32], dims: &[usize], t: usize, progress: &dyn Progress) -> Result<CorrPnr, ExtractionError> {
    let (pnr, z) = pixel_statistics(data, dims.iter().product(), t, progress)?;
    let corr = neighbour_correlation(data, dims, t, &z, progress)?;
    Ok(CorrPnr { dims: dims.to_vec(), corr, pnr })
}

/// PSD samples of a trace of `t` frames (`t`, or 3 x 1024 for traces longer than 3072 frames).
pub fn psd_sample_count(t: usize) -> usize {
    psd_segments(t).iter().map(ExactSizeIterator::len).sum()
}

/// The DFT bins of an `n`-sample PSD inside [`NOISE_RANGE`] (frequencies `k / n` in (0.25, 0.5]).
pub fn noise_band(n: usize) -> std::ops::Range<usize> {
    let in_band = |k: usize| {
        let f = k as f64 / n as f64;
        f > NOISE_RANGE[0] && f <= NOISE_RANGE[1]
    };
    let lo = (0..=n / 2).find(|&k| in_band(k)).unwrap_or(0);
    let hi = (lo..=n / 2).take_while(|&k| in_band(k)).last().map_or(lo, |k| k + 1);
    lo..hi
}

/// PSD noise of many traces of one length (`psd_noise` with `noise_range` [0.25, 0.5] and `mean`), in f32 with
/// the plan and buffers reused: this runs once per pixel.
pub struct BandNoise {
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    band: std::ops::Range<usize>,
}

impl BandNoise {
    /// Prepare for traces of `t` samples.
    pub fn new(t: usize) -> Self {
        let n = psd_sample_count(t);
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n.max(1));
        Self { input: fft.make_input_vec(), spec: fft.make_output_vec(), scratch: fft.make_scratch_vec(), fft, band: noise_band(n) }
    }

    /// Noise std of `x` (length `t`) after subtracting `mean` (which leaves the band unchanged, but not the rounding).
    pub fn noise(&mut self, x: &[f32], mean: f32) -> f64 {
        let n = self.input.len();
        if n < 4 || self.band.is_empty() {
            return 0.0;
        }
        if x.len() > MAX_SAMPLES_FFT {
            self.input.copy_from_slice(&psd_samples(x));
        } else {
            self.input.copy_from_slice(x);
        }
        for v in &mut self.input {
            *v -= mean;
        }
        if self.fft.process_with_scratch(&mut self.input, &mut self.spec, &mut self.scratch).is_err() {
            return 0.0;
        }
        let power: f64 = self.spec[self.band.clone()].iter().map(|c| c.norm_sqr() as f64).sum();
        (power / (n as f64 * self.band.len() as f64)).sqrt()
    }
}

/// PNR and correlation standardisation of one pixel's filtered time series (compiled for AVX2 as well as the
/// baseline, picked at run time).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub fn pixel_pnr_and_standardise(series: &[f32], noise: &mut BandNoise) -> (f32, Standardise) {
    let t = series.len() as f64;
    let mean64 = series.iter().map(|&v| v as f64).sum::<f64>() / t;
    let mean = mean64 as f32;
    let max = series.iter().copied().fold(f32::MIN, f32::max);
    let sn = noise.noise(series, mean);
    if sn <= 0.0 || !sn.is_finite() {
        return (0.0, Standardise::ZERO);
    }
    let pnr = ((max as f64 - mean64) / sn).max(0.0) as f32;
    // Moments of a = (x - mean) / sn where a >= 3, else 0.
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let thr = (CORR_THRESHOLD * sn) as f32;
    for &v in series {
        let dv = v - mean;
        if dv >= thr {
            let a = dv as f64 / sn;
            s1 += a;
            s2 += a * a;
        }
    }
    let abar = s1 / t;
    let var = (s2 / t - abar * abar).max(0.0);
    if var <= 0.0 {
        return (pnr, Standardise::ZERO);
    }
    let sd = var.sqrt();
    let z = Standardise { mean, thr, scale: (1.0 / (sn * sd)) as f32, offset: (-abar / sd) as f32 };
    (pnr, z)
}

/// PNR image and each pixel's standardisation for the correlation image, from frame-major filtered data (time
/// series gathered a few pixels at a time); the GPU path runs this CPU pass between its filter and correlation.
pub fn pixel_statistics(
    data: &[f32],
    d: usize,
    t: usize,
    progress: &dyn Progress,
) -> Result<(Vec<f32>, Vec<Standardise>), ExtractionError> {
    let mut pnr = vec![0.0f32; d];
    let mut z = vec![Standardise::ZERO; d];
    progress.start("noise and peak per pixel", d.div_ceil(PIXEL_BLOCK) as u64);
    pnr.par_chunks_mut(PIXEL_BLOCK).zip(z.par_chunks_mut(PIXEL_BLOCK)).enumerate().try_for_each_init(
        || (Vec::<f32>::new(), Vec::<f32>::new(), BandNoise::new(t)),
        |(buf, tile, noise), (b, (pnr_b, z_b))| {
            if progress.cancelled() {
                return Err(ExtractionError::Cancelled);
            }
            let p0 = b * PIXEL_BLOCK;
            let n = pnr_b.len();
            // Series `stride` apart, with stride not a multiple of 4 KiB: same-set cache conflicts otherwise make
            // the transposing stores crawl.
            let stride = t.next_multiple_of(16) + 16;
            buf.resize(n * stride, 0.0);
            // Transpose in tiles of FRAME_TILE frames: the tile's rows are first copied side by side (frames are a
            // multiple of 4 KiB apart, so reading them in place would put every row in the same L1 set), then each
            // pixel gets a whole cache line of its series per store burst.
            tile.resize(FRAME_TILE * n, 0.0);
            for f0 in (0..t).step_by(FRAME_TILE) {
                let fb = FRAME_TILE.min(t - f0);
                for k in 0..fb {
                    let f = f0 + k;
                    tile[k * n..(k + 1) * n].copy_from_slice(&data[f * d + p0..f * d + p0 + n]);
                }
                for j in 0..n {
                    let dst = &mut buf[j * stride + f0..j * stride + f0 + fb];
                    for (k, o) in dst.iter_mut().enumerate() {
                        *o = tile[k * n + j];
                    }
                }
            }
            for j in 0..n {
                let (p, s) = pixel_pnr_and_standardise(&buf[j * stride..j * stride + t], noise);
                pnr_b[j] = p;
                z_b[j] = s;
            }
            progress.advance(1);
            Ok(())
        },
    )?;
    Ok((pnr, z))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extraction::deconv::noise::{NoiseMethod, psd_noise};

    #[test]
    fn band_noise_matches_psd_noise() {
        for t in [50usize, 301, 2000, 5001] {
            let x: Vec<f32> = (0..t).map(|i| 100.0 + ((i * 7919 % 1013) as f32 * 0.37).sin() * 3.0).collect();
            let want = psd_noise(&x, NOISE_RANGE, NoiseMethod::Mean) as f64;
            let mean = x.iter().sum::<f32>() / t as f32;
            let got = BandNoise::new(t).noise(&x, mean);
            assert!((got - want).abs() < 1e-4 * want, "T={t}: {got} vs {want}");
        }
    }
}
