//! tslearn's `normalized_cc`: the cross-correlation of two series over all 2·sz−1 lags, by FFT, divided by the
//! product of their Euclidean norms.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::error::XcorrError;

/// Norm products below this give an all-zero correlation function (tslearn's guard against NaNs).
pub const MIN_DENOM: f64 = 1e-9;

/// FFT length tslearn uses for series of `sz` samples: 2^(1 + floor(log2(2·sz − 1))).
pub fn fft_size(sz: usize) -> usize {
    let m = (2 * sz).saturating_sub(1).max(1);
    let floor_log2 = (usize::BITS - 1 - m.leading_zeros()) as usize;
    1 << (1 + floor_log2)
}

/// A series' spectrum (zero-padded to the plan's FFT length) and its norm, computed once per curve.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// Euclidean norm of the series (tslearn's `np.linalg.norm`).
    pub norm: f64,
    /// Its nfft/2 + 1 complex bins.
    pub bins: Vec<Complex<f64>>,
}

/// The maximum of one correlation function: its value and the first and last lag index where it occurs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The largest normalised correlation.
    pub value: f64,
    /// First index (in tslearn's 0..2·sz−1 order) holding it: what `np.argmax` returns.
    pub first: usize,
    /// Last index holding it: the first one of the reversed function, i.e. of the swapped pair.
    pub last: usize,
}

/// Per-thread buffers for [`NccPlan::correlate_raw`], so that the all-pairs loop does not allocate.
pub struct NccWork {
    product: Vec<Complex<f64>>,
    raw: Vec<f64>,
    scratch: Vec<Complex<f64>>,
}

/// FFT plans for one series length, built once and shared by every pair (realfft plans are thread safe).
#[derive(Clone)]
pub struct NccPlan {
    sz: usize,
    nfft: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
}

impl std::fmt::Debug for NccPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NccPlan").field("sz", &self.sz).field("nfft", &self.nfft).finish()
    }
}

impl NccPlan {
    /// Plans for series of `sz` samples (> 0).
    pub fn new(sz: usize) -> Result<Self, XcorrError> {
        if sz == 0 {
            return Err(XcorrError::Empty);
        }
        let nfft = fft_size(sz);
        let mut planner = RealFftPlanner::<f64>::new();
        Ok(Self { sz, nfft, r2c: planner.plan_fft_forward(nfft), c2r: planner.plan_fft_inverse(nfft) })
    }

    /// Series length this plan is for.
    pub fn series_len(&self) -> usize {
        self.sz
    }

    /// Length of a correlation function: 2·sz − 1.
    pub fn cc_len(&self) -> usize {
        2 * self.sz - 1
    }

    /// The FFT length (tslearn's choice, see [`fft_size`]).
    pub fn nfft(&self) -> usize {
        self.nfft
    }

    /// Buffers for one thread.
    pub fn work(&self) -> NccWork {
        NccWork {
            product: vec![Complex::default(); self.nfft / 2 + 1],
            raw: vec![0.0; self.nfft],
            scratch: vec![Complex::default(); self.c2r.get_scratch_len().max(self.r2c.get_scratch_len())],
        }
    }

    /// Spectrum and norm of `x` (length must be the plan's; callers validate).
    pub fn spectrum(&self, x: &[f64]) -> Spectrum {
        debug_assert_eq!(x.len(), self.sz);
        let mut padded = vec![0.0; self.nfft];
        padded[..x.len()].copy_from_slice(x);
        let mut bins = self.r2c.make_output_vec();
        // Lengths come from this plan, so processing cannot fail.
        let _ = self.r2c.process(&mut padded, &mut bins);
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        Spectrum { norm, bins }
    }

    /// Unnormalised circular correlation sum_t a[t+tau] b[t] for every tau in 0..nfft, times nfft, into `work.raw`.
    fn correlate_raw(&self, a: &Spectrum, b: &Spectrum, work: &mut NccWork) {
        for ((p, x), y) in work.product.iter_mut().zip(&a.bins).zip(&b.bins) {
            *p = x * y.conj();
        }
        // The DC and Nyquist bins of real signals are real; realfft insists on exact zeros there.
        if let Some(first) = work.product.first_mut() {
            first.im = 0.0;
        }
        if let Some(last) = work.product.last_mut() {
            last.im = 0.0;
        }
        let _ = self.c2r.process_with_scratch(&mut work.product, &mut work.raw, &mut work.scratch);
    }

    /// Position in `raw` of lag index `m` (0..2·sz−1, tslearn order: lag −(sz−1) first).
    fn raw_index(&self, m: usize) -> usize {
        if m + 1 < self.sz { self.nfft + 1 + m - self.sz } else { m + 1 - self.sz }
    }

    fn denom(a: &Spectrum, b: &Spectrum) -> f64 {
        let d = a.norm * b.norm;
        if d < MIN_DENOM { f64::INFINITY } else { d }
    }

    /// The full normalised correlation function of `a` with `b` (tslearn's `normalized_cc(a, b)`).
    pub fn cc(&self, a: &Spectrum, b: &Spectrum, work: &mut NccWork) -> Vec<f64> {
        self.correlate_raw(a, b, work);
        let denom = Self::denom(a, b);
        let n = self.nfft as f64;
        (0..self.cc_len()).map(|m| work.raw[self.raw_index(m)] / n / denom).collect()
    }

    /// The maximum of the normalised correlation function of `a` with `b`, without materialising it.
    pub fn peak(&self, a: &Spectrum, b: &Spectrum, work: &mut NccWork) -> Peak {
        let len = self.cc_len();
        let denom = Self::denom(a, b);
        if denom.is_infinite() {
            // tslearn divides by inf: every value is 0, np.argmax gives index 0.
            return Peak { value: 0.0, first: 0, last: len - 1 };
        }
        self.correlate_raw(a, b, work);
        // Dividing by the positive constant nfft·denom keeps the order, so compare raw values.
        let (mut best, mut first, mut last) = (f64::NEG_INFINITY, 0, 0);
        let tail = self.sz - 1;
        let segments = [(0usize, self.nfft - tail, tail), (tail, 0, self.sz)];
        for (m0, r0, count) in segments {
            for (k, &v) in work.raw[r0..r0 + count].iter().enumerate() {
                if v > best {
                    best = v;
                    first = m0 + k;
                    last = m0 + k;
                } else if v == best {
                    last = m0 + k;
                }
            }
        }
        Peak { value: best / self.nfft as f64 / denom, first, last }
    }
}

/// Reject empty series and NaN / infinite samples; `curve` names the series in the error.
pub(crate) fn check_finite(x: &[f64], curve: usize) -> Result<(), XcorrError> {
    if x.is_empty() {
        return Err(XcorrError::Empty);
    }
    match x.iter().position(|v| !v.is_finite()) {
        Some(sample) => Err(XcorrError::NonFinite { curve, sample, value: x[sample] }),
        None => Ok(()),
    }
}

/// Normalised cross-correlation of two 1-D series, exactly as `tslearn.metrics.normalized_cc` on (sz, 1) arrays:
/// length 2·sz − 1, lag −(sz−1) first, divided by ‖s1‖·‖s2‖, all zeros when that product is below 1e-9.
///
/// One deliberate difference: for sz = 1 tslearn returns 3 values (a slicing quirk); we return the one value.
pub fn normalized_cc(s1: &[f64], s2: &[f64]) -> Result<Vec<f64>, XcorrError> {
    check_finite(s1, 0)?;
    check_finite(s2, 1)?;
    if s2.len() != s1.len() {
        return Err(XcorrError::UnequalLength { index: 1, len: s2.len(), expected: s1.len() });
    }
    let plan = NccPlan::new(s1.len())?;
    let mut work = plan.work();
    Ok(plan.cc(&plan.spectrum(s1), &plan.spectrum(s2), &mut work))
}
