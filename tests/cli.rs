//! End-to-end tests of the `mesmerize` command line (the contract in docs/cli.md), driving the release binary.

use std::path::Path;
use std::process::{Command, Output};

fn mesmerize(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesmerize")).args(args).current_dir(cwd).output().expect("run mesmerize")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn simulate_then_info_json_prints_dims_dtype_fps() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "1p", "--out", "d", "--seed", "1", "--size", "64x48", "--frames", "30"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["movie.tiff", "movie.json", "truth.h5"] {
        assert!(dir.path().join("d").join(f).is_file(), "{f} missing");
    }
    let o = mesmerize(&["info", "d/movie.tiff", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(v["shape"], serde_json::json!([30, 48, 64]));
    assert_eq!(v["axes"], "tyx");
    assert_eq!(v["dtype"], "uint16");
    assert_eq!(v["meta"]["fps"], 20.0);
    assert_eq!(v["meta"]["origin"], "mesmerize simulate");
}

#[test]
fn simulate_3d_with_motion_and_is_deterministic_by_seed() {
    let dir = tempfile::tempdir().expect("tmp");
    let args = |out: &'static str, seed: &'static str| {
        vec!["simulate", "--kind", "3d", "--out", out, "--seed", seed, "--size", "40x32", "--planes", "4", "--frames", "6", "--motion", "rigid"]
    };
    for (out, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let o = mesmerize(&args(out, seed), dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let read = |d: &str| std::fs::read(dir.path().join(d).join("movie.tiff")).expect("movie");
    assert_eq!(read("a"), read("b"), "same seed, same movie");
    assert_ne!(read("a"), read("c"), "another seed, another movie");
    let o = mesmerize(&["info", "a/movie.tiff", "--json"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["shape"], serde_json::json!([6, 4, 32, 40]));
    assert_eq!(v["axes"], "tzyx");
}

#[test]
fn bad_input_exits_non_zero_with_one_line_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("junk.tif"), b"this is not a tiff at all").expect("write");
    let cases: &[(&[&str], &str)] = &[
        (&["info", "missing.tif"], "missing.tif"),
        (&["info", "junk.tif"], "no TIFF byte-order mark"),
        (&["info", "junk.tif", "--axes", "tqx"], "unknown axis letter"),
        (&["simulate", "--kind", "5p", "--out", "x"], "5p"),
        (&["simulate", "--kind", "2p", "--out", "x", "--size", "0x10"], "x"),
        (&["view", "missing.tif", "--screenshot", "s.png"], "missing.tif"),
    ];
    for (args, needle) in cases {
        let o = mesmerize(args, dir.path());
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} should fail");
        // 1 for bad input found while running, 2 for arguments clap refuses; never 101 (a panic).
        assert!(matches!(o.status.code(), Some(1 | 2)), "{args:?}: {:?} {err}", o.status.code());
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one error line expected: {err}");
    }
}

#[test]
fn mc_writes_movie_shifts_and_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "2p", "--out", "d", "--seed", "2", "--size", "96x80", "--frames", "40", "--motion", "rigid"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(dir.path().join("p.json"), r#"{"motion": {"max_shifts": [9, 9], "niter_rig": 1, "use_cuda": false, "made_up": 1}}"#).expect("params");
    let o = mesmerize(&["mc", "d/movie.tiff", "--out", "c.tif", "--params", "p.json", "--bit-depth", "16"], dir.path());
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("made_up"), "unknown keys are named: {err}");
    let shifts: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("c.shifts.json")).expect("shifts")).expect("json");
    assert_eq!(shifts["rigid"].as_array().map(Vec::len), Some(40));
    let o = mesmerize(&["info", "c.tif", "--json"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["shape"], serde_json::json!([40, 80, 96]));
    assert_eq!(v["dtype"], "uint16");
    let entry = &v["meta"]["history_trace"][0]["caiman_motion_correction"];
    for key in ["max_shifts_x", "max_shifts_y", "iters_rigid", "name_rigid", "max_dev", "strides", "overlaps", "upsample", "name_elas", "output_bit_depth", "bord_px"] {
        assert!(!entry[key].is_null(), "history entry lacks {key}: {entry}");
    }
    assert_eq!(entry["max_shifts_x"], 9);
    assert_eq!(entry["output_bit_depth"], "16");
    assert_eq!(v["meta"]["fps"], 30.0, "input metadata carried over");

    let o = mesmerize(&["mc", "d/movie.tiff", "--out", "pw.tif", "--pw-rigid", "--strides", "32,32", "--overlaps", "16,16", "--shifts", "pw_shifts.json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let shifts: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("pw_shifts.json")).expect("shifts")).expect("json");
    let centers = shifts["patches"]["centers"].as_array().expect("centers").len();
    assert!(centers >= 4);
    assert_eq!(shifts["patches"]["shifts"].as_array().map(Vec::len), Some(40));
    assert_eq!(shifts["patches"]["shifts"][0].as_array().map(Vec::len), Some(centers));

    for (args, needle) in [
        (vec!["mc", "d/movie.tiff", "--out", "x.tif", "--max-shifts", "60,60"], "too large"),
        (vec!["mc", "d/movie.tiff", "--out", "x.tif", "--pw-rigid", "--strides", "8,8", "--overlaps", "16,16"], "smaller than overlaps"),
        (vec!["mc", "d/movie.tiff", "--out", "x.tif", "--bit-depth", "12"], "bit depth"),
        (vec!["mc", "d/movie.tiff", "--out", "x.tif", "--shifts", "x.json"], "sidecar"),
    ] {
        let o = mesmerize(&args, dir.path());
        assert!(!o.status.success());
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!dir.path().join("x.tif").exists(), "refused runs write nothing");
    }
}

#[test]
fn mc_on_the_gpu_agrees_with_the_cpu() {
    if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "2p", "--out", "d", "--seed", "4", "--size", "64x64", "--frames", "24", "--motion", "rigid"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    for dev in ["cpu", "gpu"] {
        let o = mesmerize(&["mc", "d/movie.tiff", "--out", &format!("{dev}.tif"), "--device", dev, "--max-shifts", "9,9"], dir.path());
        assert!(o.status.success(), "{dev}: {}", stderr(&o));
    }
    let read = |name: &str| -> Vec<[f64; 2]> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join(name)).expect("shifts")).expect("json");
        serde_json::from_value(v["rigid"].clone()).expect("pairs")
    };
    let (cpu, gpu) = (read("cpu.shifts.json"), read("gpu.shifts.json"));
    let worst = cpu.iter().zip(&gpu).map(|(a, b)| (a[0] - b[0]).abs().max((a[1] - b[1]).abs())).fold(0.0, f64::max);
    assert!(worst < 0.01, "GPU and CPU shifts differ by {worst} px");
    let o = mesmerize(&["mc", "d/movie.tiff", "--out", "x.tif", "--device", "gpu", "--pw-rigid", "--strides", "24,24", "--overlaps", "8,8"], dir.path());
    assert!(!o.status.success() && stderr(&o).contains("--device cpu"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_cancels_cleanly_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("big");
    let child = Command::new(env!("CARGO_BIN_EXE_mesmerize"))
        .args(["simulate", "--kind", "2p", "--size", "512x512", "--frames", "5000", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the movie is being written (its temporary file exists), then interrupt.
    let started = std::time::Instant::now();
    let writing = || std::fs::read_dir(&out).map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".movie.tiff"))).unwrap_or(false);
    while !writing() {
        assert!(started.elapsed().as_secs() < 60, "simulate never started writing");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "interrupted run must fail: {err}");
    assert!(err.contains("cancelled"), "{err}");
    let left: Vec<String> = std::fs::read_dir(&out).expect("dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(left.is_empty(), "nothing may be left behind: {left:?}");
}

#[test]
fn projections_match_a_direct_computation_on_cpu_and_gpu() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "2p", "--out", "d", "--seed", "6", "--size", "40x30", "--frames", "25"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let movie = mesmerize_core::ImgData::open(dir.path().join("d/movie.tiff"), &Default::default()).expect("movie");
    let s = movie.shape();
    let frames: Vec<Vec<f32>> = (0..s.t).map(|t| movie.plane(t, 0).expect("plane")).collect();
    let devices: &[&str] = if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_some() { &["cpu"] } else { &["cpu", "gpu"] };
    for dev in devices {
        let o = mesmerize(&["projections", "d/movie.tiff", "--out", &format!("p_{dev}"), "--device", dev], dir.path());
        assert!(o.status.success(), "{dev}: {}", stderr(&o));
        let read = |n: &str| mesmerize_core::ImgData::open(dir.path().join(format!("p_{dev}_{n}.tiff")), &Default::default()).expect("open").plane(0, 0).expect("plane");
        let (mean, max, std) = (read("mean"), read("max"), read("std"));
        for i in 0..s.plane_len() {
            let v: Vec<f64> = frames.iter().map(|f| f64::from(f[i])).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            let mx = v.iter().copied().fold(f64::MIN, f64::max);
            assert!((f64::from(mean[i]) - m).abs() < 1e-3 * m.abs().max(1.0), "{dev} mean at {i}");
            assert!((f64::from(std[i]) - sd).abs() < 1e-3 * sd.max(1.0), "{dev} std at {i}");
            assert_eq!(f64::from(max[i]), mx, "{dev} max at {i}");
        }
    }
}

#[test]
fn corr_pnr_writes_two_images_brightest_at_the_neurons() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "1p", "--out", "d", "--seed", "4", "--size", "64x48", "--frames", "300"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let truth = mesmerize_core::simulate::Truth::read_h5(&dir.path().join("d/truth.h5")).expect("truth");
    let devices: &[&str] = if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_some() { &["cpu"] } else { &["cpu", "gpu"] };
    for dev in devices {
        let o = mesmerize(&["corr-pnr", "d/movie.tiff", "--gsig", "3", "--out", &format!("s_{dev}"), "--device", dev], dir.path());
        assert!(o.status.success(), "{dev}: {}", stderr(&o));
        let read = |n: &str| {
            let img = mesmerize_core::ImgData::open(dir.path().join(format!("s_{dev}_{n}.tiff")), &Default::default()).expect("open");
            let s = img.shape();
            assert_eq!((s.t, s.y, s.x), (1, 48, 64), "{dev} {n} shape");
            assert_eq!(img.dtype().name(), "float32");
            img.plane(0, 0).expect("plane")
        };
        let (corr, pnr) = (read("corr"), read("pnr"));
        assert!(corr.iter().all(|v| v.is_finite() && *v <= 1.0 + 1e-5), "{dev}: corr out of range");
        let mut sorted = pnr.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        let at_centres: Vec<f32> = truth
            .neurons
            .iter()
            .map(|n| pnr[(n.cy.round() as usize).min(47) * 64 + (n.cx.round() as usize).min(63)])
            .collect();
        let above = at_centres.iter().filter(|&&v| v > median).count();
        assert!(above * 4 >= at_centres.len() * 3, "{dev}: only {above} of {} neuron centres above the median PNR {median}", at_centres.len());
    }
    // gSig as Y,X works; a bad gSig is a one-line error.
    let o = mesmerize(&["corr-pnr", "d/movie.tiff", "--gsig", "2,3", "--out", "yx", "--device", "cpu"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = mesmerize(&["corr-pnr", "d/movie.tiff", "--gsig", "100", "--out", "bad", "--device", "cpu"], dir.path());
    assert!(!o.status.success());
    let err = stderr(&o);
    let reasons: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(reasons.len() == 1 && reasons[0].contains("gSig"), "{err}");
}

#[test]
fn cnmf_with_caiman_grouped_params_writes_a_scoreable_result_and_refuses_bad_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "2p", "--out", "d", "--seed", "5", "--size", "96x96", "--frames", "400"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // CaImAn's grouped CNMFParams form, with one unknown key that must be named in a warning.
    let params = r#"{"data": {"decay_time": 0.5}, "init": {"K": 20, "gSig": [4, 4], "gSiz": [11, 11], "nb": 1},
        "preprocess": {"p": 2}, "merging": {"merge_thr": 0.8}, "quality": {"min_SNR": 2.5, "rval_thr": 0.8, "use_cnn": false},
        "init_typo": 3}"#;
    std::fs::write(dir.path().join("p.json"), params).expect("write");
    let o = mesmerize(&["cnmf", "d/movie.tiff", "--params", "p.json", "--out", "r.hdf5", "--device", "cpu", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("init_typo"), "unknown key not reported: {}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document on stdout");
    assert!(summary["components"].as_u64().unwrap_or(0) > 0);
    let r = mesmerize_core::io::caiman_h5::read_result(&dir.path().join("r.hdf5")).expect("read result");
    let truth = mesmerize_core::simulate::Truth::read_h5(&dir.path().join("d/truth.h5")).expect("truth");
    let s = mesmerize_core::extraction::score::score(&r, &truth, true, 4.0);
    assert!(s.f1 >= 0.9 && s.median_trace_r >= 0.9, "{s:?}");
    assert_eq!(r.params.fr, 30.0, "fr comes from the movie's metadata when the params leave it out");
    // The WGSL products (lavapipe in CI) give the same components.
    if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_none() {
        let o = mesmerize(&["cnmf", "d/movie.tiff", "--params", "p.json", "--out", "g.hdf5", "--device", "gpu"], dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let g = mesmerize_core::io::caiman_h5::read_result(&dir.path().join("g.hdf5")).expect("read gpu result");
        let sg = mesmerize_core::extraction::score::score(&g, &truth, true, 4.0);
        assert_eq!((g.k(), sg.matched), (r.k(), s.matched), "gpu {sg:?} vs cpu {s:?}");
        assert!((sg.median_trace_r - s.median_trace_r).abs() < 1e-3);
    }
    // gSig larger than the field of view, and a constant movie: one-line errors, no result file.
    std::fs::write(dir.path().join("big.json"), r#"{"gSig": [400, 400]}"#).expect("write");
    let o = mesmerize(&["cnmf", "d/movie.tiff", "--params", "big.json", "--out", "bad.hdf5", "--device", "cpu"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).to_lowercase().contains("gsig"), "{}", stderr(&o));
    assert!(!dir.path().join("bad.hdf5").exists());
    let mut w = mesmerize_core::io::tiff::TiffWriter::create(&dir.path().join("flat.tiff"), mesmerize_core::StackShape::movie(20, 16, 16), mesmerize_core::Dtype::U16, None).expect("w");
    for _ in 0..20 {
        w.write_plane(&[7.0f32; 256]).expect("write");
    }
    w.finish().expect("finish");
    let o = mesmerize(&["cnmfe", "flat.tiff", "--out", "flat.hdf5", "--device", "cpu"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("constant"), "{}", stderr(&o));
}

/// `cnmfe --device gpu` runs its heavy products in WGSL (lavapipe in CI): the ring fits' covariance images, the ring
/// subtraction, `A^T Y`, `Y C^T`, `A^T A` and the HALS sweeps, with no fallback to the CPU, and finds the same
/// neurons as the CPU path.
#[test]
fn cnmfe_on_the_gpu_matches_the_cpu() {
    if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let o = mesmerize(&["simulate", "--kind", "1p", "--out", "d", "--seed", "2", "--size", "112x112", "--frames", "400"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let params = r#"{"fr": 20, "decay_time": 0.6, "p": 1, "K": 300, "gSig": [5, 5], "gSiz": [21, 21], "ring_size_factor": 1.4,
        "ssub_B": 2, "min_corr": 0.8, "min_pnr": 10, "merge_thr": 0.7, "min_SNR": 1.5, "rval_thr": 0.7}"#;
    std::fs::write(dir.path().join("p.json"), params).expect("write");
    let truth = mesmerize_core::simulate::Truth::read_h5(&dir.path().join("d/truth.h5")).expect("truth");
    let mut scores = Vec::new();
    for dev in ["cpu", "gpu"] {
        let out = format!("{dev}.hdf5");
        let o = mesmerize(&["-v", "cnmfe", "d/movie.tiff", "--params", "p.json", "--out", &out, "--device", dev], dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("products on {dev}")), "{}", stderr(&o));
        if dev == "gpu" {
            assert!(stderr(&o).contains("on the CPU by rule, 0 on the CPU after a device failure"), "{}", stderr(&o));
        }
        let r = mesmerize_core::io::caiman_h5::read_result(&dir.path().join(&out)).expect("read result");
        let s = mesmerize_core::extraction::score::score(&r, &truth, true, 4.0);
        eprintln!("{dev}: K {} {s:?}", r.k());
        scores.push((r.k(), s));
    }
    let ((kc, sc), (kg, sg)) = (&scores[0], &scores[1]);
    assert!(sc.f1 >= 0.9, "{sc:?}");
    assert_eq!((kg, sg.matched), (kc, sc.matched), "gpu {sg:?} vs cpu {sc:?}");
    assert!((sg.median_trace_r - sc.median_trace_r).abs() < 1e-3, "gpu {sg:?} vs cpu {sc:?}");
}
