//! Detrended dF/F of CNMF traces without the movie (CaImAn's `detrend_df_f`): the baseline `F0` is a running
//! percentile of `F = C (+ YrA)` and the background under each footprint, `B = A^T b f`, enters the denominator.

use ndarray::Array2;
use rayon::prelude::*;

use super::kde::df_percentile;
use crate::extraction::sparse::SparseColumns;

/// dF/F of every component (`K x T`): with `A` scaled to unit column norm and `C`, `YrA` scaled up accordingly,
/// `F = C + YrA` (residuals only with `use_residuals`), `F0` = running `q`-th percentile of `F` over
/// `frames_window` frames (the whole trace when `frames_window` is 0 or longer than it), likewise `B0` of
/// `B = A^T b f`, and the result is `(F - F0) / (B0 + F0)`, or `F - F0` with `detrend_only`. `q` is `quantile_min`,
/// or with `flag_auto` the percentile of the density's mode over the first `frames_window` frames (Botev KDE).
/// An empty background (`b` or `f` with no components, e.g. CNMF-E's ring model) forces `detrend_only`, as in
/// CaImAn. Components with an all-zero footprint keep their unscaled traces.
#[allow(clippy::too_many_arguments)]
pub fn detrend_df_f(
    a: &SparseColumns,
    b: &Array2<f32>,
    c: &Array2<f32>,
    f: &Array2<f32>,
    yra: Option<&Array2<f32>>,
    quantile_min: f64,
    frames_window: usize,
    flag_auto: bool,
    use_residuals: bool,
    detrend_only: bool,
) -> Array2<f32> {
    let (k, t) = c.dim();
    let no_background =
        b.ncols() == 0 || f.nrows() == 0 || b.ncols() != f.nrows() || f.ncols() != t || b.nrows() != a.n_rows;
    let detrend_only = detrend_only || no_background;
    let yra = yra.filter(|r| use_residuals && r.dim() == (k, t));
    let window = if frames_window == 0 || frames_window > t { None } else { Some(frames_window) };
    let rows: Vec<Vec<f32>> = (0..k)
        .into_par_iter()
        .map(|i| {
            let (norm, bg_weights) = footprint_terms(a, b, i, no_background);
            let fr: Vec<f64> = (0..t)
                .map(|j| norm * (f64::from(c[[i, j]]) + yra.map_or(0.0, |r| f64::from(r[[i, j]]))))
                .collect();
            let br: Vec<f64> = if detrend_only {
                vec![0.0; t]
            } else {
                (0..t).map(|j| bg_weights.iter().enumerate().map(|(m, w)| w * f64::from(f[[m, j]])).sum()).collect()
            };
            let q = if flag_auto { df_percentile(&fr[..window.unwrap_or(t).min(t)]).0 } else { quantile_min };
            let f0 = baseline(&fr, q, window);
            if detrend_only {
                return fr.iter().zip(&f0).map(|(x, b0)| (x - b0) as f32).collect();
            }
            let b0 = baseline(&br, q, window);
            fr.iter().zip(&f0).zip(&b0).map(|((x, f0), b0)| ((x - f0) / (b0 + f0)) as f32).collect()
        })
        .collect();
    let mut out = Array2::<f32>::zeros((k, t));
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            out[[i, j]] = *v;
        }
    }
    out
}

/// Column norm of footprint `i` (1 when empty) and its unit-norm projection onto each background component.
fn footprint_terms(a: &SparseColumns, b: &Array2<f32>, i: usize, no_background: bool) -> (f64, Vec<f64>) {
    let (idx, val) = a.col(i);
    let norm = val.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
    let norm = if norm > 0.0 && norm.is_finite() { norm } else { 1.0 };
    if no_background {
        return (norm, Vec::new());
    }
    let w = (0..b.ncols())
        .map(|m| idx.iter().zip(val).map(|(&r, &v)| f64::from(v) * f64::from(b[[r as usize, m]])).sum::<f64>() / norm)
        .collect();
    (norm, w)
}

/// Constant `q`-th percentile (numpy's linear interpolation) without a window, else scipy's `percentile_filter`.
fn baseline(x: &[f64], q: f64, window: Option<usize>) -> Vec<f64> {
    match window {
        None => vec![percentile(x, q); x.len()],
        Some(w) => percentile_filter(x, q, w),
    }
}

/// numpy's `percentile(x, q)` (linear interpolation between order statistics).
pub fn percentile(x: &[f64], q: f64) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = (q / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

/// scipy.ndimage `percentile_filter(x, q, size)` with mode `reflect`: the `int(size q / 100)`-th smallest value of
/// the window `[i - size/2, i - size/2 + size)`, kept sorted incrementally (O(T size) moves, no re-sorting).
pub fn percentile_filter(x: &[f64], q: f64, size: usize) -> Vec<f64> {
    let n = x.len();
    if n == 0 || size == 0 {
        return x.to_vec();
    }
    let rank = if q >= 100.0 { size - 1 } else { ((size as f64 * q.max(0.0) / 100.0) as usize).min(size - 1) };
    let at = |i: isize| -> f64 {
        // 'reflect' (d c b a | a b c d | d c b a), folded until inside.
        let n = n as isize;
        let mut i = i;
        loop {
            if i < 0 {
                i = -i - 1;
            } else if i >= n {
                i = 2 * n - i - 1;
            } else {
                return x[i as usize];
            }
        }
    };
    let half = (size / 2) as isize;
    let mut win: Vec<f64> = (0..size as isize).map(|k| at(k - half)).collect();
    win.sort_by(f64::total_cmp);
    let mut out = Vec::with_capacity(n);
    out.push(win[rank]);
    for i in 1..n as isize {
        let gone = at(i - 1 - half);
        let new = at(i - half + size as isize - 1);
        let p = win.partition_point(|v| v.total_cmp(&gone).is_lt());
        if p < win.len() {
            win.remove(p);
        }
        let p = win.partition_point(|v| v.total_cmp(&new).is_lt());
        win.insert(p, new);
        out.push(win[rank]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_filter_matches_brute_force() {
        let x: Vec<f64> = (0..57).map(|i| ((i * 37 % 23) as f64) - 0.5 * i as f64).collect();
        for size in [1, 4, 5, 20] {
            for q in [8.0, 50.0, 100.0] {
                let fast = percentile_filter(&x, q, size);
                let n = x.len() as isize;
                for (i, v) in fast.iter().enumerate() {
                    let mut w: Vec<f64> = (0..size as isize)
                        .map(|k| {
                            let mut j = i as isize - (size / 2) as isize + k;
                            if j < 0 {
                                j = -j - 1;
                            }
                            if j >= n {
                                j = 2 * n - j - 1;
                            }
                            x[j as usize]
                        })
                        .collect();
                    w.sort_by(f64::total_cmp);
                    let rank = if q >= 100.0 { size - 1 } else { (size as f64 * q / 100.0) as usize };
                    assert_eq!(*v, w[rank], "size {size} q {q} i {i}");
                }
            }
        }
    }

    #[test]
    fn dff_of_scaled_trace_over_background() {
        // One footprint of two pixels (norm sqrt(2)), one background component equal to 1 on both pixels.
        let mut a = SparseColumns::new(2);
        a.push_dense(&[1.0, 1.0]);
        let b = Array2::from_shape_vec((2, 1), vec![1.0, 1.0]).unwrap_or_else(|e| panic!("{e}"));
        let t = 40;
        let c = Array2::from_shape_fn((1, t), |(_, j)| if j % 10 == 0 { 2.0 } else { 1.0 });
        let f = Array2::from_elem((1, t), 3.0_f32);
        let out = detrend_df_f(&a, &b, &c, &f, None, 8.0, 0, false, true, false);
        // F = sqrt2 * C, F0 = sqrt2, B = (2 / sqrt2) * 3 = 3 sqrt2: dF/F at a peak = sqrt2 / (4 sqrt2) = 0.25.
        assert!((out[[0, 0]] - 0.25).abs() < 1e-6, "{}", out[[0, 0]]);
        assert!(out[[0, 1]].abs() < 1e-6);
        let ring = detrend_df_f(&a, &Array2::zeros((2, 0)), &c, &Array2::zeros((0, t)), None, 8.0, 0, false, true, false);
        assert!((ring[[0, 0]] - std::f32::consts::SQRT_2).abs() < 1e-5);
    }
}
