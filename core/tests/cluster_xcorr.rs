//! normalized_cc and the all-pairs lag / maxima matrices against tslearn and a reproduction of the original
//! Mesmerize's compute_cc_data (`tests/golden/cluster/make_xcorr_kshape_golden.py` wrote the JSON; versions inside).

#[path = "support/golden.rs"]
mod golden_file;

use golden_file::f64s;
use mesmerize_core::analysis::cluster::xcorr::{
    CcMatrixKind, XcorrError, cc_matrices, cc_pair, curves_to_matrix, fft_size, normalized_cc,
};
use ndarray::Array2;
use serde_json::Value;

/// |ours - want| / max(|want|, 1): normalised cc values lie in [-1, 1], so this is 1e-9 relative at the peaks.
const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("cluster/xcorr_kshape_golden.json")
}


fn max_rel(ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "length mismatch");
    ours.iter().zip(want).map(|(o, w)| (o - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max)
}

fn matrix(v: &Value, n: usize, m: usize) -> Array2<f64> {
    Array2::from_shape_vec((n, m), f64s(v)).expect("shape")
}

#[test]
fn fft_size_is_tslearns() {
    assert_eq!(fft_size(1), 2);
    assert_eq!(fft_size(2), 4);
    assert_eq!(fft_size(3), 8);
    assert_eq!(fft_size(5), 16);
    assert_eq!(fft_size(3000), 8192);
    assert_eq!(fft_size(4096), 8192);
    assert_eq!(fft_size(4097), 16384);
}

#[test]
fn normalized_cc_matches_tslearn() {
    let g = golden();
    eprintln!("golden versions: {}", g["versions"]);
    let mut worst = 0.0f64;
    for c in g["ncc"].as_array().expect("ncc cases") {
        let name = c["name"].as_str().expect("name");
        let (a, b, want) = (f64s(&c["s1"]), f64s(&c["s2"]), f64s(&c["cc"]));
        let ours = normalized_cc(&a, &b).expect("normalized_cc");
        assert_eq!(ours.len(), 2 * a.len() - 1, "{name}");
        let e = max_rel(&ours, &want);
        assert!(e <= TOL, "{name}: max rel err {e:e}");
        worst = worst.max(e);
        if name == "zero_vs_random" || name == "tiny_norm" {
            assert!(ours.iter().all(|v| *v == 0.0), "{name}: zero-denominator rule gives zeros");
        }
    }
    eprintln!("normalized_cc: max rel err {worst:.3e}");
}

#[test]
fn lag_and_maxima_matrices_match_the_original() {
    let g = golden();
    let m = &g["matrices"];
    let n = m["n"].as_u64().expect("n") as usize;
    let sz = m["sz"].as_u64().expect("sz") as usize;
    let curves = matrix(&m["curves"], n, sz);
    let want_lag = matrix(&m["lag"], n, n);
    let want_max = matrix(&m["maxima"], n, n);
    let ours = cc_matrices(curves.view()).expect("cc_matrices");
    let lag_f = ours.lag.mapv(|l| l as f64);
    assert_eq!(lag_f, want_lag, "lags must be identical");
    let e = max_rel(ours.maxima.as_slice().expect("std"), want_max.as_slice().expect("std"));
    eprintln!("maxima: max rel err {e:.3e}; lag range {}..{}", ours.lag.iter().min().unwrap_or(&0), ours.lag.iter().max().unwrap_or(&0));
    assert!(e <= TOL, "maxima max rel err {e:e}");

    // Lags are antisymmetric on these tie-free curves, and the diagonal is 0 with maxima 1.
    for i in 0..n {
        assert_eq!(ours.lag[(i, i)], 0);
        assert!((ours.maxima[(i, i)] - 1.0).abs() < 1e-12);
        for j in 0..n {
            assert_eq!(ours.lag[(i, j)], -ours.lag[(j, i)]);
        }
    }

    // Units and thresholds as the original's cross-correlation plot and CC_Data.get_threshold_matrix.
    let rate = m["sampling_rate"].as_f64().expect("rate");
    let (lag_thr, max_thr) = (m["lag_thr"].as_f64().expect("thr"), m["max_thr"].as_f64().expect("thr"));
    let units = ours.lag_in_units(rate).expect("units");
    assert_eq!(units, want_lag.mapv(|l| l / rate));
    for (key, kind, abs) in [
        ("threshold_lag_abs", CcMatrixKind::Lag, true),
        ("threshold_maxima_signed", CcMatrixKind::Maxima, false),
    ] {
        let got = ours.thresholded(kind, lag_thr, max_thr, abs, rate).expect("threshold");
        let want = m[key].as_array().expect("array");
        let mut nans = 0;
        for (o, w) in got.iter().zip(want) {
            match w.as_f64() {
                None => {
                    assert!(o.is_nan(), "{key}: expected NaN, got {o}");
                    nans += 1;
                }
                Some(w) => assert!((o - w).abs() <= TOL * w.abs().max(1.0), "{key}: {o} vs {w}"),
            }
        }
        eprintln!("{key}: {nans} of {} masked", n * n);
        assert!(nans > 0 && nans < n * n, "{key}: thresholds should mask some but not all entries");
    }
    assert_eq!(ours.lag_in_units(0.0), Err(XcorrError::BadSamplingRate(0.0)));

    // One pair's full function, as the plot shows it, equals normalized_cc of the rows.
    let pair = cc_pair(curves.view(), 2, 7).expect("pair");
    let direct = normalized_cc(&curves.row(2).to_vec(), &curves.row(7).to_vec()).expect("direct");
    assert_eq!(pair, direct);
    let peak = pair.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(peak, ours.maxima[(2, 7)]);
}

#[test]
fn a_zero_curve_correlates_as_zeros() {
    // tslearn divides by inf when the norm product is < 1e-9: maxima 0, argmax 0, so the original's lag is sz - 1.
    let sz = 16;
    let mut curves = Array2::<f64>::zeros((3, sz));
    for t in 0..sz {
        curves[(0, t)] = (t as f64 * 0.7).sin();
        curves[(2, t)] = (t as f64 * 0.3).cos() + 0.1;
    }
    let m = cc_matrices(curves.view()).expect("matrices");
    for j in 0..3 {
        assert_eq!(m.maxima[(1, j)], 0.0);
        assert_eq!(m.maxima[(j, 1)], 0.0);
        assert_eq!(m.lag[(1, j)], sz as i64 - 1);
        assert_eq!(m.lag[(j, 1)], sz as i64 - 1);
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    assert_eq!(normalized_cc(&[1.0, 2.0], &[1.0]), Err(XcorrError::UnequalLength { index: 1, len: 1, expected: 2 }));
    assert_eq!(normalized_cc(&[], &[]), Err(XcorrError::Empty));
    assert!(matches!(normalized_cc(&[1.0, f64::NAN], &[1.0, 2.0]), Err(XcorrError::NonFinite { curve: 0, sample: 1, .. })));
    assert!(matches!(
        normalized_cc(&[1.0, 2.0], &[f64::INFINITY, 2.0]),
        Err(XcorrError::NonFinite { curve: 1, sample: 0, .. })
    ));
    let one = Array2::<f64>::ones((1, 5));
    assert_eq!(cc_matrices(one.view()), Err(XcorrError::TooFewCurves(1)));
    let mut bad = Array2::<f64>::ones((3, 5));
    bad[(2, 3)] = f64::NAN;
    assert!(matches!(cc_matrices(bad.view()), Err(XcorrError::NonFinite { curve: 2, sample: 3, .. })));
    let rows = vec![vec![1.0, 2.0, 3.0], vec![1.0, 2.0]];
    assert_eq!(curves_to_matrix(&rows), Err(XcorrError::UnequalLength { index: 1, len: 2, expected: 3 }));
    let ok = curves_to_matrix(&[vec![1.0, 2.0], vec![3.0, 4.0]]).expect("equal lengths");
    assert_eq!(ok.dim(), (2, 2));
    assert!(matches!(cc_pair(ok.view(), 0, 2), Err(XcorrError::OutOfRange { index: 2, n: 2 })));
}

#[test]
#[ignore = "benchmark: cargo test --release -p mesmerize_core --test cluster_xcorr -- --ignored --nocapture"]
fn bench_all_pairs_500_x_3000() {
    use rand::{Rng, SeedableRng};
    let (n, sz) = (500, 3000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let curves = Array2::from_shape_fn((n, sz), |_| rng.random_range(-1.0..1.0));
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = std::time::Instant::now();
        let m = cc_matrices(curves.view()).expect("matrices");
        times.push(t0.elapsed().as_secs_f64());
        assert_eq!(m.lag.dim(), (n, n));
    }
    times.sort_by(f64::total_cmp);
    eprintln!("cc_matrices {n} x {sz}: median {:.3} s (runs {times:?}), {} threads", times[1], rayon::current_num_threads());
}
