//! butter / lfilter / lfilter_zi / filtfilt against values scipy itself computed
//! (`tests/golden/signal/make_butter_golden.py` wrote `butter_golden.json`; versions are recorded inside it).

#[path = "support/golden.rs"]
mod golden_file;

use golden_file::f64s;
use mesmerize_core::analysis::signal::butter::{BType, butter};
use mesmerize_core::analysis::signal::filtfilt::{filtfilt, filtfilt_rows, lfilter, lfilter_zi};
use serde_json::Value;

/// Relative tolerance (scaled by max(|x|, 1)) for every comparison, high orders included: measured worst cases
/// were about 2e-15 for b/a (orders 1-8, band designs have 16 roots at order 8) and 2e-12 for filtfilt.
const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("signal/butter_golden.json")
}


fn btype(s: &str) -> BType {
    match s {
        "lowpass" => BType::Lowpass,
        "highpass" => BType::Highpass,
        "bandpass" => BType::Bandpass,
        "bandstop" => BType::Bandstop,
        other => panic!("unknown btype {other}"),
    }
}

/// Largest |ours - want| / max(|want|, 1); panics on a length mismatch.
fn max_rel(ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "length mismatch");
    ours.iter().zip(want).map(|(o, w)| (o - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max)
}

#[test]
fn butter_matches_scipy() {
    let g = golden();
    eprintln!("golden versions: {}", g["versions"]);
    let cases = g["butter"].as_array().expect("butter cases");
    assert_eq!(cases.len(), 8 * 7);
    let (mut worst, mut worst_low) = (0.0f64, 0.0f64);
    for c in cases {
        let order = c["order"].as_u64().expect("order") as usize;
        let bt = c["btype"].as_str().expect("btype");
        let wn = f64s(&c["wn"]);
        let (b, a) = butter(order, &wn, btype(bt)).expect("butter");
        let e = max_rel(&b, &f64s(&c["b"])).max(max_rel(&a, &f64s(&c["a"])));
        assert!(e <= TOL, "butter({order}, {wn:?}, {bt}): max rel err {e:e} > {TOL:e}");
        worst = worst.max(e);
        if order < 7 {
            worst_low = worst_low.max(e);
        }
    }
    eprintln!("butter: max rel err {worst:.3e} (orders 1-6: {worst_low:.3e})");
}

#[test]
fn lfilter_zi_matches_scipy() {
    let g = golden();
    let mut worst = 0.0f64;
    for c in g["lfilter_zi"].as_array().expect("zi cases") {
        let zi = lfilter_zi(&f64s(&c["b"]), &f64s(&c["a"]));
        let e = max_rel(&zi, &f64s(&c["zi"]));
        assert!(e <= TOL, "lfilter_zi {}: max rel err {e:e}", c["btype"]);
        worst = worst.max(e);
    }
    eprintln!("lfilter_zi: max rel err {worst:.3e}");
}

#[test]
fn lfilter_matches_scipy() {
    let g = golden();
    let mut worst = 0.0f64;
    for c in g["lfilter"].as_array().expect("lfilter cases") {
        let (b, a, x) = (f64s(&c["b"]), f64s(&c["a"]), f64s(&c["x"]));
        let (y, zf) = lfilter(&b, &a, &x, Some(&f64s(&c["zi"])));
        let (y0, _) = lfilter(&b, &a, &x, None);
        let e = max_rel(&y, &f64s(&c["y"])).max(max_rel(&zf, &f64s(&c["zf"]))).max(max_rel(&y0, &f64s(&c["y_nozi"])));
        assert!(e <= TOL, "lfilter: max rel err {e:e}");
        worst = worst.max(e);
    }
    eprintln!("lfilter: max rel err {worst:.3e}");
}

#[test]
fn filtfilt_matches_scipy() {
    let g = golden();
    let mut worst = 0.0f64;
    let mut n = 0;
    for c in g["filtfilt"].as_array().expect("filtfilt cases") {
        let order = c["order"].as_u64().expect("order") as usize;
        let bt = c["btype"].as_str().expect("btype");
        let wn = f64s(&c["wn"]);
        let (b, a) = butter(order, &wn, btype(bt)).expect("butter");
        // Use our own design (end to end), then also the golden b/a (filtfilt alone).
        let name = c["signal"].as_str().expect("signal");
        let x = if name == "short" { f64s(&c["x"]) } else { f64s(&g["signals"][name]) };
        let want = f64s(&c["y"]);
        let e_ours = max_rel(&filtfilt(&b, &a, &x).expect("filtfilt"), &want);
        let e_gold = max_rel(&filtfilt(&f64s(&c["b"]), &f64s(&c["a"]), &x).expect("filtfilt"), &want);
        let e = e_ours.max(e_gold);
        assert!(e <= TOL, "filtfilt butter({order}, {wn:?}, {bt}) on {name}: max rel err {e:e}");
        worst = worst.max(e);
        n += 1;
    }
    assert_eq!(n, 15);
    eprintln!("filtfilt: max rel err {worst:.3e} over {n} cases");
}

#[test]
fn filtfilt_rows_equals_single() {
    let g = golden();
    let (b, a) = butter(2, &[0.1], BType::Lowpass).expect("butter");
    let rows: Vec<Vec<f64>> = ["walk300", "sine1000"].iter().map(|n| f64s(&g["signals"][*n])).collect();
    let many = filtfilt_rows(&b, &a, &rows).expect("rows");
    for (r, m) in rows.iter().zip(&many) {
        assert_eq!(&filtfilt(&b, &a, r).expect("single"), m);
    }
    let mut bad = rows.clone();
    bad.push(vec![1.0; 9]);
    assert!(filtfilt_rows(&b, &a, &bad).is_err());
}

#[test]
fn error_cases() {
    assert!(butter(0, &[0.1], BType::Lowpass).is_err());
    for w in [0.0, 1.0, -0.2, 1.5, f64::NAN] {
        assert!(butter(2, &[w], BType::Lowpass).is_err(), "wn {w} accepted");
        assert!(butter(2, &[w], BType::Highpass).is_err(), "wn {w} accepted");
    }
    assert!(butter(2, &[0.1, 0.2], BType::Lowpass).is_err());
    assert!(butter(2, &[0.1], BType::Bandpass).is_err());
    assert!(butter(2, &[0.3, 0.2], BType::Bandpass).is_err());
    assert!(butter(2, &[0.2, 0.2], BType::Bandstop).is_err());
    assert!(butter(2, &[0.2, 1.0], BType::Bandstop).is_err());

    let (b, a) = butter(2, &[0.1], BType::Lowpass).expect("butter");
    // padlen = 3 * 3 = 9: a length-9 signal is too short, length 10 is fine.
    let err = filtfilt(&b, &a, &[1.0; 9]).expect_err("too short");
    assert_eq!(err, "The length of the input vector x must be greater than padlen, which is 9.");
    assert!(filtfilt(&b, &a, &[]).is_err());
    let y = filtfilt(&b, &a, &[1.0; 10]).expect("len 10");
    assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-12), "constant input must pass through a DC-gain-1 filter");
    assert!(filtfilt(&b, &[0.0, 1.0], &[1.0; 20]).is_err());
    assert!(filtfilt(&b, &[], &[1.0; 20]).is_err());
    assert!(filtfilt(&[], &a, &[1.0; 20]).is_err());
    // lfilter never panics on a bad denominator: NaN output.
    let (y, _) = lfilter(&b, &[0.0], &[1.0, 2.0], None);
    assert!(y.iter().all(|v| v.is_nan()));
}
