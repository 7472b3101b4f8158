//! Python users read our outputs with tifffile and h5py: movie axes/shape/values and the truth.h5 layout.
//! Runs when MESMERIZE_PYTHON (set by scripts/test.sh) or python3 has numpy, tifffile and h5py; otherwise it says
//! so and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use mesmerize_core::{ImgData, OpenOptions};

fn python() -> Option<String> {
    let candidates = std::env::var("MESMERIZE_PYTHON").into_iter().chain(["python3".to_string()]);
    for py in candidates {
        let ok = Command::new(&py).args(["-c", "import numpy, tifffile, h5py"]).output().map(|o| o.status.success());
        if ok.unwrap_or(false) {
            return Some(py);
        }
    }
    eprintln!("python_interop: no Python with numpy, tifffile and h5py; skipped (scripts/test.sh sets one up)");
    None
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/read_outputs.py")
}

fn simulate(dir: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_mesmerize")).arg("simulate").args(args).arg("--out").arg(dir).output().expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn tifffile_and_h5py_read_what_we_write() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    for (name, args, axes, truth_fp) in [
        ("still", vec!["--kind", "2p", "--size", "40x32", "--frames", "10", "--seed", "5"], "TYX", 3),
        ("2p", vec!["--kind", "2p", "--size", "48x40", "--frames", "12", "--motion", "piecewise", "--seed", "3"], "TYX", 3),
        ("3d", vec!["--kind", "3d", "--size", "32x24", "--planes", "3", "--frames", "5", "--seed", "4"], "TZYX", 4),
    ] {
        let dir = tmp.path().join(name);
        simulate(&dir, &args);
        let o = Command::new(&py).arg(script()).arg(&dir).output().expect("python");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let img = ImgData::open(dir.join("movie.tiff"), &OpenOptions::default()).expect("open");
        let s = img.shape();
        assert_eq!(v["axes"], axes, "{name}");
        assert_eq!(v["shape"], serde_json::json!(s.dims()), "{name}");
        assert_eq!(v["dtype"], "uint16");
        let sum = |t: usize, z: usize| img.plane(t, z).expect("plane").iter().map(|&x| f64::from(x)).sum::<f64>();
        assert_eq!(v["first_plane_sum"].as_f64(), Some(sum(0, 0)), "{name}");
        assert_eq!(v["last_plane_sum"].as_f64(), Some(sum(s.t - 1, s.z - 1)), "{name}");
        let fp = v["truth"]["footprints"].as_array().expect("footprints dataset");
        assert_eq!(fp.len(), truth_fp, "{name}: footprints rank");
        assert_eq!(v["truth"]["traces"][1], s.t, "{name}: traces are (K, T)");
        assert_eq!(v["truth"]["shifts"], serde_json::json!([s.t, 2]), "{name}");
        assert!(v["truth_attrs"]["fps"].as_f64().is_some());
        assert_eq!(v["meta"]["fps"], img.meta().fps.expect("fps"));
        if let Some(rec) = v.get("reconstruction") {
            // docs/simulator.md's Python reconstruction explains the movie up to noise.
            let (mean, std, noise) = (rec["mean"].as_f64().expect("mean"), rec["std"].as_f64().expect("std"), rec["noise_std"].as_f64().expect("noise"));
            assert!(mean.abs() < 0.5 && std < 2.0 * noise, "{name}: residual mean {mean} std {std} vs noise {noise}");
        }
    }
}

/// A CNMF result with one-pixel-peaked footprints at known C-order positions, built through the public API.
fn cnmf_result(dims: &[usize], centers: &[Vec<usize>], gsig: Vec<f64>) -> mesmerize_core::extraction::CnmfResult {
    use mesmerize_core::extraction::params::Mode;
    use mesmerize_core::extraction::{CnmfParams, CnmfResult, SparseColumns};
    let d: usize = dims.iter().product();
    let (k, t) = (centers.len(), 9);
    let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let mut a = SparseColumns::new(d);
    for c in centers {
        let (z, y, x) = if c.len() == 3 { (c[0], c[1], c[2]) } else { (0, c[0], c[1]) };
        let at = |yy: usize, xx: usize| ((z * h + yy) * w + xx) as u32;
        let mut col = vec![(at(y, x), 1.0)];
        if y + 1 < h {
            col.push((at(y + 1, x), 0.4));
        }
        if x + 1 < w {
            col.push((at(y, x + 1), 0.3));
        }
        a.push_col(col);
    }
    let mut params = CnmfParams::defaults(if dims.len() == 3 { Mode::Cnmf3d } else { Mode::Cnmf });
    params.gsiz = gsig.iter().map(|s| (2.0 * s + 1.0) as usize).collect();
    params.gsig = gsig;
    params.k = 4;
    let mut r = CnmfResult {
        dims: dims.to_vec(),
        a,
        c: Default::default(),
        s: Default::default(),
        yra: Default::default(),
        b: Default::default(),
        f: Default::default(),
        ring: None,
        sn: vec![1.0; d],
        g: vec![vec![0.9]; k],
        bl: vec![0.0; k],
        c1: vec![0.0; k],
        neurons_sn: vec![0.1; k],
        lam: vec![0.0; k],
        f_dff: None,
        idx_components: vec![0, k - 1],
        idx_components_bad: (1..k - 1).collect(),
        snr_comp: vec![3.0; k],
        r_values: vec![0.9; k],
        params,
        timings: Vec::new(),
    };
    // Empty (0, n) arrays to push rows onto (this crate does not name ndarray).
    let zero = r.c.clone();
    let empty = |n: usize| zero.clone().into_shape_with_order((0, n)).expect("empty");
    r.c = empty(t);
    r.s = empty(t);
    r.yra = empty(t);
    r.b = empty(1);
    r.f = empty(t);
    for i in 0..k {
        let row: Vec<f32> = (0..t).map(|j| (i * t + j) as f32).collect();
        r.c.push_row((&row[..]).into()).expect("C row");
        r.s.push_row((&row[..]).into()).expect("S row");
        r.yra.push_row((&row[..]).into()).expect("YrA row");
    }
    for _ in 0..d {
        r.b.push_row((&[1.0f32][..]).into()).expect("b row");
    }
    r.f.push_row((&vec![1.0f32; t][..]).into()).expect("f row");
    r
}

#[test]
fn h5py_and_scipy_read_cnmf_results_in_caiman_layout() {
    let Some(py) = python() else { return };
    let has_scipy = Command::new(&py).args(["-c", "import scipy.sparse"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !has_scipy {
        eprintln!("python_interop: {py} has no scipy; CNMF layout check skipped (scripts/test.sh installs it)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/check_cnmf_h5.py");
    let tmp = tempfile::tempdir().expect("tmp");
    // (dims C order, centres C order, gSig C order, expected peaks in CaImAn's F-order dims, expected dims, gSig)
    let cases = [
        (vec![20, 30], vec![vec![4, 25], vec![15, 3], vec![10, 10]], vec![3.0, 4.0], vec![vec![4, 25], vec![15, 3], vec![10, 10]], vec![20, 30], vec![3, 4]),
        (vec![3, 12, 14], vec![vec![2, 3, 11], vec![0, 9, 1]], vec![1.0, 2.0, 3.0], vec![vec![3, 11, 2], vec![9, 1, 0]], vec![12, 14, 3], vec![2, 3, 1]),
    ];
    for (i, (dims, centers, gsig, peaks, fdims, caiman_gsig)) in cases.into_iter().enumerate() {
        let path = tmp.path().join(format!("result{i}.hdf5"));
        let r = cnmf_result(&dims, &centers, gsig);
        mesmerize_core::io::caiman_h5::write_result(&path, &r, &serde_json::json!({"case": i})).expect("write");
        let o = Command::new(&py).arg(&script).arg(&path).output().expect("python");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let k = centers.len();
        assert_eq!(v["dims"], serde_json::json!(fdims), "case {i}");
        assert_eq!(v["peaks"], serde_json::json!(peaks), "case {i}: A[:, k].reshape(dims, order='F') peaks");
        assert_eq!(v["A_shape"], serde_json::json!([dims.iter().product::<usize>(), k]));
        assert_eq!(v["C_shape"], serde_json::json!([k, 9]));
        assert_eq!(v["b_shape"], serde_json::json!([dims.iter().product::<usize>(), 1]));
        assert_eq!(v["idx_components"], serde_json::json!([0, k - 1]));
        assert_eq!(v["params"]["gSig"], serde_json::json!(caiman_gsig), "case {i}: CaImAn's gSig order");
        assert_eq!(v["params"]["K"], 4);
        assert_eq!(v["params"]["method_init"], "greedy_roi");
        assert_eq!(v["params"]["rf"], serde_json::Value::Null);
        assert_eq!(v["params"]["center_psf"], false);
        assert_eq!(v["provenance"], serde_json::json!({"case": i}));
        if let Some(c) = v.get("caiman") {
            // CaImAn itself was importable: load_CNMF sees the same thing.
            assert_eq!(c["A_shape"], v["A_shape"], "case {i}");
            assert_eq!(c["C_shape"], v["C_shape"]);
            assert_eq!(c["dims"], v["dims"]);
            assert_eq!(c["peaks"], v["peaks"]);
            assert_eq!(c["gSig"], serde_json::json!(caiman_gsig));
            assert_eq!(c["K"], 4);
            assert_eq!(c["idx_components"], v["idx_components"]);
        }
    }
}

#[test]
fn h5py_and_pandas_read_transmission_files() {
    use mesmerize_core::analysis::polars::prelude::*;
    use mesmerize_core::analysis::{BlockSel, HistoryTrace, Transmission};
    let Some(py) = python() else { return };
    let has_pandas = Command::new(&py).args(["-c", "import pandas"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !has_pandas {
        eprintln!("python_interop: {py} has no pandas; .trn check skipped (scripts/test.sh installs it)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/check_trn.py");
    let mut curves = ListPrimitiveChunkedBuilder::<Float64Type>::new("_RAW_CURVE".into(), 3, 8, DataType::Float64);
    curves.append_slice(&[1.0, 2.0, 3.5]);
    curves.append_null();
    curves.append_slice(&[]);
    let mut df = DataFrame::new(
        3,
        vec![
            Column::new("SampleID".into(), &[Some("a2-_-1"), None, Some("ünï / %")]),
            Column::new("cnmf_idx".into(), &[Some(4i64), Some(-7), None]),
            Column::new("_AREA".into(), &[1.5f64, 2.25, -3.0]),
            Column::new("dF/F".into(), &[Some(0.5f64), None, Some(1.0)]),
            Column::new("accepted".into(), &[true, false, true]),
            curves.finish().into_series().into_column(),
        ],
    )
    .expect("df");
    let mut h = HistoryTrace::new();
    let block = h.create_data_block(&mut df).expect("block");
    h.add_operation(BlockSel::All, "normalize", serde_json::json!({"data_column": "_RAW_CURVE", "units": "time"})).expect("op");
    let t = Transmission {
        proj_path: Some("/data/proj".into()),
        last_output: Some("_RAW_CURVE".into()),
        last_unit: Some("time".into()),
        roi_defs: vec!["cell_name".into()],
        ..Transmission::new(df, h)
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("t.trn");
    t.to_hdf5(&path).expect("write");
    let o = Command::new(&py).arg(&script).arg(&path).output().expect("python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    use serde_json::json;
    assert_eq!(v["columns"], json!(["SampleID", "cnmf_idx", "_AREA", "dF/F", "accepted", "_RAW_CURVE", "_BLOCK_"]));
    assert_eq!(v["n_rows"], 3);
    assert_eq!(v["dtypes"]["_RAW_CURVE"], "List(Float64)");
    assert_eq!(v["dtypes"]["cnmf_idx"], "Int64");
    assert_eq!(v["first"]["SampleID"], "a2-_-1");
    assert_eq!(v["first"]["cnmf_idx"], 4);
    assert_eq!(v["first"]["_AREA"], 1.5);
    assert_eq!(v["first"]["dF/F"], 0.5);
    assert_eq!(v["first"]["accepted"], true);
    assert_eq!(v["first"]["_RAW_CURVE"], json!([1.0, 2.0, 3.5]));
    assert_eq!(v["first"]["_BLOCK_"], block);
    assert_eq!(v["nulls"], json!({"SampleID": 1, "cnmf_idx": 1, "_AREA": 0, "dF/F": 1, "accepted": 0, "_RAW_CURVE": 1, "_BLOCK_": 0}));
    assert_eq!(v["list_sums"]["_RAW_CURVE"], 6.5);
    assert_eq!(v["list_lengths"]["_RAW_CURVE"], json!([3, null, 0]));
    assert_eq!(v["history_keys"], json!(["datablocks", "history"]));
    assert_eq!(v["datablocks"], json!([block]));
    assert_eq!(v["operations"][&block], json!(["normalize"]));
    assert_eq!(v["attrs"]["mesmerize_format"], "trn-v1");
    assert_eq!(v["attrs"]["proj_path"], "/data/proj");
    assert_eq!(v["attrs"]["last_output"], "_RAW_CURVE");
    assert_eq!(v["attrs"]["ROI_DEFS"], "[\"cell_name\"]");
}

#[test]
fn pandas_and_h5py_read_a_project() {
    let Some(py) = python() else { return };
    let ok = Command::new(&py).args(["-c", "import pandas, pyarrow"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        eprintln!("python_interop: {py} has no pandas/pyarrow; project check skipped (scripts/test.sh installs them)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_mesmerize")).args(args).current_dir(d).output().expect("run");
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["simulate", "--kind", "2p", "--out", "m", "--seed", "4", "--size", "48x40", "--frames", "30"]);
    run(&["project", "new", "p", "--roi-type-column", "cell", "--stim-type-column", "odor", "--custom-column", "stage:int"]);
    std::fs::write(d.join("odor.csv"), "name,start,end\nwater,0,10\namino,10,20\n").expect("csv");
    let rois = r#"[{"roi_type": "ManualROI", "shape": "PolyLineROI", "roi_xs": [5, 15, 15, 5], "roi_ys": [5, 5, 15, 15], "tags": {"cell": "a"}},
                   {"roi_type": "ManualROI", "shape": "PolyLineROI", "roi_xs": [20, 30, 25], "roi_ys": [20, 20, 30], "tags": {}}]"#;
    std::fs::write(d.join("rois.json"), rois).expect("rois");
    run(&["project", "add-sample", "p", "--image", "m/movie.tiff", "--animal", "f1", "--trial", "1", "--rois", "rois.json", "--stim-map", "odor=odor.csv", "--set", "stage=48"]);
    run(&["project", "add-sample", "p", "--image", "m/movie.tiff", "--animal", "f2", "--trial", "1", "--rois", "rois.json"]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/check_project.py");
    let o = Command::new(&py).arg(script).arg(d.join("p")).output().expect("python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["rows"], 4);
    assert_eq!(v["sample_ids"], serde_json::json!(["f1-_-1", "f2-_-1"]));
    assert_eq!(v["stage"], serde_json::json!([48, 48, null, null]));
    assert_eq!(v["odor_first"], serde_json::json!(["amino", "water"]));
    assert_eq!(v["roi_type"], "ManualROI");
    assert_eq!(v["tags"]["cell"], "a");
    // The curves Python reads are the ones the library stores.
    let p = mesmerize_core::project::Project::open(&d.join("p")).expect("open");
    let env = p.open_sample("f1-_-1").expect("sample");
    for (i, roi) in env.rois.rois().iter().enumerate() {
        let sum: f64 = roi.curve.as_ref().expect("curve").iter().map(|&x| f64::from(x)).sum();
        let py_sum = v["curve_sums"][i].as_f64().expect("sum");
        assert!((sum - py_sum).abs() <= 1e-6 * sum.abs().max(1.0), "ROI {i}: {sum} vs {py_sum}");
    }
    assert!(v["columns"].as_array().expect("cols").iter().any(|c| c == "ROI_State"));
}
