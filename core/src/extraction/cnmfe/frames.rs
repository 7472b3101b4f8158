//! Dense per-frame products `(A C)_t` from sparse footprints, so nothing ever holds the whole `A C` movie.

use ndarray::Array2;

use crate::extraction::sparse::SparseColumns;

/// Write `sum_k A[:, k] * weights[k]` into `out` (length `a.n_rows`); `weights` is one column of `C` (or a
/// mean of columns).
pub fn ac_into(a: &SparseColumns, weights: impl Fn(usize) -> f32, out: &mut [f32]) {
    out.fill(0.0);
    for k in 0..a.n_cols() {
        let ck = weights(k);
        if ck == 0.0 {
            continue;
        }
        let (idx, val) = a.col(k);
        for (&i, &v) in idx.iter().zip(val) {
            out[i as usize] += v * ck;
        }
    }
}

/// `(A C)_t` for frame `t`.
pub fn ac_frame(a: &SparseColumns, c: &Array2<f32>, t: usize, out: &mut [f32]) {
    ac_into(a, |k| c[[k, t]], out);
}
