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
