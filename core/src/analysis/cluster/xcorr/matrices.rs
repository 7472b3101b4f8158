//! All-pairs lag and maxima matrices, as the original Mesmerize's `compute_cc_data` builds them
//! (mesmerize/analysis/math/cross_correlation.py), without storing the n² correlation functions.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::error::XcorrError;
use super::ncc::{NccPlan, Peak, Spectrum, check_finite};

/// Lag and maxima matrices of n curves: entry (i, j) describes `normalized_cc(curve i, curve j)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CcMatrices {
    /// Lag in samples: (sz − 1) − argmax of the correlation function (first maximum), the original's
    /// `-(argmax - len // 2)`. Positive when curve i leads curve j (j looks like i delayed by `lag` samples).
    pub lag: Array2<i64>,
    /// The maximum of the normalised correlation function (symmetric).
    pub maxima: Array2<f64>,
}

/// Which matrix [`CcMatrices::thresholded`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcMatrixKind {
    /// The lag matrix (in the units of [`CcMatrices::lag_in_units`]).
    Lag,
    /// The maxima matrix.
    Maxima,
}

impl CcMatrices {
    /// Lags divided by the sampling rate, as the original's cross-correlation plot does (seconds for a rate in Hz).
    pub fn lag_in_units(&self, sampling_rate: f64) -> Result<Array2<f64>, XcorrError> {
        if !(sampling_rate.is_finite() && sampling_rate > 0.0) {
            return Err(XcorrError::BadSamplingRate(sampling_rate));
        }
        Ok(self.lag.mapv(|l| l as f64 / sampling_rate))
    }

    /// The original's `CC_Data.get_threshold_matrix`: the lag (in units) or maxima matrix with NaN wherever the
    /// lag exceeds `lag_thr` (|lag| when `lag_thr_abs`) or the maximum is below `max_thr`.
    pub fn thresholded(
        &self,
        kind: CcMatrixKind,
        lag_thr: f64,
        max_thr: f64,
        lag_thr_abs: bool,
        sampling_rate: f64,
    ) -> Result<Array2<f64>, XcorrError> {
        let lag = self.lag_in_units(sampling_rate)?;
        let mut out = match kind {
            CcMatrixKind::Lag => lag.clone(),
            CcMatrixKind::Maxima => self.maxima.clone(),
        };
        ndarray::Zip::from(&mut out).and(&lag).and(&self.maxima).for_each(|o, &l, &m| {
            let l = if lag_thr_abs { l.abs() } else { l };
            if l > lag_thr || m < max_thr {
                *o = f64::NAN;
            }
        });
        Ok(out)
    }
}

/// Stack curves given as rows of possibly different lengths into an (n, sz) matrix; unequal lengths are an error.
pub fn curves_to_matrix<R: AsRef<[f64]>>(rows: &[R]) -> Result<Array2<f64>, XcorrError> {
    let sz = rows.first().map_or(0, |r| r.as_ref().len());
    let mut flat = Vec::with_capacity(rows.len() * sz);
    for (index, r) in rows.iter().enumerate() {
        let r = r.as_ref();
        if r.len() != sz {
            return Err(XcorrError::UnequalLength { index, len: r.len(), expected: sz });
        }
        flat.extend_from_slice(r);
    }
    Array2::from_shape_vec((rows.len(), sz), flat).map_err(|_| XcorrError::Empty)
}

/// Check an (n, sz) curve matrix (at least `min_curves` curves, sz > 0, finite values); shared with the GPU twin.
pub fn validate_curves(curves: ArrayView2<f64>, min_curves: usize) -> Result<(), XcorrError> {
    let (n, sz) = curves.dim();
    if n < min_curves {
        return Err(XcorrError::TooFewCurves(n));
    }
    if sz == 0 {
        return Err(XcorrError::Empty);
    }
    for (i, row) in curves.outer_iter().enumerate() {
        match row.as_slice() {
            Some(s) => check_finite(s, i)?,
            None => check_finite(&row.to_vec(), i)?,
        }
    }
    Ok(())
}

/// Spectra of every row, in parallel (the curve matrix must be validated).
pub(crate) fn spectra(plan: &NccPlan, curves: ArrayView2<f64>) -> Vec<Spectrum> {
    (0..curves.nrows())
        .into_par_iter()
        .map(|i| {
            let row = curves.row(i);
            match row.as_slice() {
                Some(s) => plan.spectrum(s),
                None => plan.spectrum(&row.to_vec()),
            }
        })
        .collect()
}

/// Lag and maxima matrices of the rows of `curves` (n ≥ 2 curves of sz samples, finite values).
///
/// Each unordered pair is correlated once: (j, i) is (i, j) reversed, so its lag comes from the last maximum of
/// (i, j) and equals −lag(i, j) unless the maximum is tied. An all-zero curve (norm product < 1e-9) correlates as
/// all zeros, giving maxima 0 and lag sz − 1 as in the original.
pub fn cc_matrices(curves: ArrayView2<f64>) -> Result<CcMatrices, XcorrError> {
    validate_curves(curves, 2)?;
    let (n, sz) = curves.dim();
    let plan = NccPlan::new(sz)?;
    let spec = spectra(&plan, curves);
    let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
    let peaks: Vec<Peak> = pairs
        .par_iter()
        .map_init(|| plan.work(), |work, &(i, j)| plan.peak(&spec[i], &spec[j], work))
        .collect();
    Ok(assemble(n, sz, &pairs, &peaks))
}

/// Fill both triangles from the peaks of the pairs (i ≤ j).
pub fn assemble(n: usize, sz: usize, pairs: &[(usize, usize)], peaks: &[Peak]) -> CcMatrices {
    let mut lag = Array2::<i64>::zeros((n, n));
    let mut maxima = Array2::<f64>::zeros((n, n));
    let centre = sz as i64 - 1;
    let last_index = 2 * sz as i64 - 2;
    for (&(i, j), p) in pairs.iter().zip(peaks) {
        lag[(i, j)] = centre - p.first as i64;
        maxima[(i, j)] = p.value;
        if i != j {
            // The swapped pair's function is this one reversed: its first maximum is our last one.
            lag[(j, i)] = centre - (last_index - p.last as i64);
            maxima[(j, i)] = p.value;
        }
    }
    CcMatrices { lag, maxima }
}

/// The full correlation function of curves `i` and `j` of `curves` (for plotting one pair).
pub fn cc_pair(curves: ArrayView2<f64>, i: usize, j: usize) -> Result<Vec<f64>, XcorrError> {
    let n = curves.nrows();
    for index in [i, j] {
        if index >= n {
            return Err(XcorrError::OutOfRange { index, n });
        }
    }
    let a = curves.row(i).to_vec();
    let b = curves.row(j).to_vec();
    check_finite(&a, i)?;
    check_finite(&b, j)?;
    super::ncc::normalized_cc(&a, &b)
}
