//! `analysis::signal::savgol` against scipy golden values (`tests/golden/signal/make_savgol_golden.py`).
#![allow(clippy::unwrap_used)]

#[path = "support/golden.rs"]
mod golden_file;

use mesmerize_core::analysis::signal::savgol::{savgol_coeffs, savgol_filter, savgol_rows};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("signal/savgol_golden.json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn usize_of(v: &Value, k: &str) -> usize {
    v[k].as_u64().unwrap() as usize
}

/// Max of |a - b| / max(|b|, 1); panics on length mismatch.
fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f64::max)
}

#[test]
fn coeffs_match_scipy() {
    let g = golden();
    let mut worst = 0.0f64;
    for case in g["coeffs"].as_array().unwrap() {
        let (wl, po, d) = (usize_of(case, "window_length"), usize_of(case, "polyorder"), usize_of(case, "deriv"));
        let delta = case["delta"].as_f64().unwrap();
        let want = floats(&case["coeffs"]);
        let got = savgol_coeffs(wl, po, d, delta).unwrap();
        let e = max_rel(&got, &want);
        eprintln!("coeffs ({wl},{po},deriv={d},delta={delta}): max rel err {e:.3e}");
        assert!(e <= TOL, "coeffs ({wl},{po},{d},{delta}): {e:e}");
        worst = worst.max(e);
    }
    eprintln!("coeffs worst {worst:.3e}");
}

#[test]
fn filter_matches_scipy() {
    let g = golden();
    let mut worst = 0.0f64;
    for case in g["filters"].as_array().unwrap() {
        let name = case["signal"].as_str().unwrap();
        let x = floats(&g["signals"][name]);
        let (wl, po, d) = (usize_of(case, "window_length"), usize_of(case, "polyorder"), usize_of(case, "deriv"));
        let delta = case["delta"].as_f64().unwrap();
        let want = floats(&case["y"]);
        let got = savgol_filter(&x, wl, po, d, delta).unwrap();
        let e = max_rel(&got, &want);
        eprintln!("filter {name} ({wl},{po},deriv={d},delta={delta}): max rel err {e:.3e}");
        assert!(e <= TOL, "filter {name} ({wl},{po},{d},{delta}): {e:e}");
        worst = worst.max(e);
    }
    eprintln!("filter worst {worst:.3e}");
}

#[test]
fn rows_match_single() {
    let g = golden();
    let rows: Vec<Vec<f64>> = ["walk", "sine", "exact11"].iter().map(|k| floats(&g["signals"][*k])).collect();
    let out = savgol_rows(&rows, 11, 3, 1, 0.5).unwrap();
    for (row, y) in rows.iter().zip(&out) {
        assert_eq!(y, &savgol_filter(row, 11, 3, 1, 0.5).unwrap());
    }
    let err = savgol_rows(&rows, 13, 3, 0, 1.0).unwrap_err();
    assert!(err.contains("row 2"), "{err}");
}

#[test]
fn polynomial_is_reproduced() {
    // A cubic is reproduced exactly (up to rounding) by polyorder >= 3, derivatives included.
    let x: Vec<f64> = (0..50).map(|i| {
        let t = i as f64 * 0.1;
        1.0 - 2.0 * t + 0.5 * t * t + 0.25 * t * t * t
    }).collect();
    let y = savgol_filter(&x, 9, 3, 0, 0.1).unwrap();
    assert!(max_rel(&y, &x) < 1e-10);
    let dy = savgol_filter(&x, 9, 4, 1, 0.1).unwrap();
    let want: Vec<f64> = (0..50).map(|i| {
        let t = i as f64 * 0.1;
        -2.0 + t + 0.75 * t * t
    }).collect();
    assert!(max_rel(&dy, &want) < 1e-9, "{}", max_rel(&dy, &want));
}

#[test]
fn error_cases() {
    assert_eq!(savgol_coeffs(5, 5, 0, 1.0).unwrap_err(), "polyorder must be less than window_length.");
    assert!(savgol_coeffs(0, 0, 0, 1.0).is_err());
    assert!(savgol_coeffs(5, 2, 1, 0.0).is_err());
    assert!(savgol_coeffs(5, 2, 1, f64::NAN).is_err());
    // deriv > polyorder: zeros, as scipy.
    assert_eq!(savgol_coeffs(5, 1, 2, 1.0).unwrap(), vec![0.0; 5]);
    assert_eq!(savgol_filter(&[1.0, 2.0, 4.0, 8.0, 16.0, 32.0], 5, 1, 2, 1.0).unwrap(), vec![0.0; 6]);
    let x = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(
        savgol_filter(&x, 5, 2, 0, 1.0).unwrap_err(),
        "If mode is 'interp', window_length must be less than or equal to the size of x."
    );
    assert!(savgol_filter(&[], 1, 0, 0, 1.0).is_err());
    assert!(savgol_filter(&x, 3, 3, 0, 1.0).is_err());
    // window_length 1, polyorder 0: identity.
    assert_eq!(savgol_filter(&x, 1, 0, 0, 1.0).unwrap(), x.to_vec());
}
