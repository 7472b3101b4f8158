//! Files we did not make open correctly: stacks written by Python's tifffile (classic, BigTIFF, ImageJ hyperstack,
//! OME-TIFF, plain pages, LZW / deflate+predictor / PackBits, tiled) for uint8, uint16, int16 and float32.
//! The fixtures and the script that made them are in tests/fixtures/tiff/.

use std::path::PathBuf;

use mesmerize_core::{ImgData, OpenOptions};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiff")
}

/// Mirror of `value()` in make_fixtures.py.
fn value(t: usize, z: usize, y: usize, x: usize, dtype: &str) -> f32 {
    let raw = t * 1000 + z * 100 + y * 10 + x;
    match dtype {
        "uint8" => (raw % 251) as f32,
        "int16" => raw as f32 - 2000.0,
        "float32" => raw as f32 * 0.25 - 3.0,
        _ => raw as f32,
    }
}

#[test]
fn every_tifffile_fixture_opens_with_the_right_shape_and_values() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest")).expect("json");
    let dim = |k: &str| manifest[k].as_u64().expect("dim") as usize;
    let (t_n, z_n, y_n, x_n) = (dim("T"), dim("Z"), dim("Y"), dim("X"));
    let files = manifest["files"].as_object().expect("files");
    assert!(files.len() >= 30, "expected the full fixture set, found {}", files.len());
    for (name, info) in files {
        let dtype = info["dtype"].as_str().expect("dtype");
        let volume = info["volume"].as_bool().expect("volume");
        let img = ImgData::open(fixtures().join(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = img.shape();
        assert_eq!(img.dtype().name(), dtype, "{name}");
        assert_eq!(s.axes(), info["axes"].as_str().expect("axes"), "{name}");
        let expect_z = if volume { z_n } else { 1 };
        assert_eq!((s.t, s.z, s.y, s.x), (t_n, expect_z, y_n, x_n), "{name}");
        for t in 0..s.t {
            for z in 0..s.z {
                let plane = img.plane(t, z).expect("plane");
                for y in 0..s.y {
                    for x in 0..s.x {
                        assert_eq!(plane[y * s.x + x], value(t, z, y, x, dtype), "{name} at t={t} z={z} y={y} x={x}");
                    }
                }
            }
        }
        if let Some(fps) = info.get("fps").and_then(Value::as_f64) {
            let got = img.meta().fps.unwrap_or_else(|| panic!("{name}: no fps read"));
            assert!((got - fps).abs() < 1e-6, "{name}: fps {got} != {fps}");
        }
    }
}

#[test]
fn ome_metadata_is_organised_as_the_docs_say() {
    let img = ImgData::open(fixtures().join("ome_tzyx_uint16.ome.tif"), &OpenOptions::default()).expect("open");
    let m = img.meta();
    assert_eq!(m.origin, "ome_tiff");
    assert!((m.fps.expect("fps") - 2.0).abs() < 1e-9, "volume rate from DeltaT");
    assert!(m.extra["fps_std"].as_f64().expect("fps_std") < 1e-9);
    assert!(m.extra["fps_max_dev"].as_f64().expect("fps_max_dev") < 1e-9);
    assert!(m.extra["orig_meta"]["OME"]["Image"]["Pixels"]["@DimensionOrder"].is_string());
}

#[test]
fn axes_option_reinterprets_plain_pages() {
    // Plain pages (no description) read as t,y,x by default; 'txy' swaps rows and columns.
    let path = fixtures().join("plain_uint16.tif");
    let opts = OpenOptions { axes: Some("txy".parse().expect("axes")), ..Default::default() };
    let img = ImgData::open(&path, &opts).expect("open");
    let s = img.shape();
    assert_eq!((s.t, s.y, s.x), (6, 14, 10));
    let plane = img.plane(2, 0).expect("plane");
    // file (t, r, c) = value(t, 0, r, c); with 'txy' our y is the file's column, our x its row.
    assert_eq!(plane[3 * s.x + 7], value(2, 0, 7, 3, "uint16"));
    // A flat run of pages reshaped into volumes with --planes.
    let opts = OpenOptions { axes: Some("tzyx".parse().expect("axes")), planes: Some(3), ..Default::default() };
    let img = ImgData::open(&path, &opts).expect("open");
    assert_eq!(img.shape().dims(), vec![2, 3, 10, 14]);
    assert_eq!(img.plane(1, 2).expect("plane")[0], value(5, 0, 0, 0, "uint16"));
    // An axes order that puts x and y among the pages gathers across pages.
    let opts = OpenOptions { axes: Some("yxt".parse().expect("axes")), ..Default::default() };
    let img = ImgData::open(&path, &opts).expect("open");
    let s = img.shape();
    assert_eq!((s.t, s.y, s.x), (14, 6, 10));
    // our (t=c, y=page, x=row)
    assert_eq!(img.plane(4, 0).expect("plane")[2 * s.x + 9], value(2, 0, 9, 4, "uint16"));
}
