//! Our writer and reader round-trip every dtype, classic and BigTIFF, 2D and 3D; broken input gives a clear
//! error naming the file and the problem.

use std::path::{Path, PathBuf};

use mesmerize_core::io::tiff::{write_sidecar, TiffWriter};
use mesmerize_core::{Dtype, ImgData, Metadata, OpenOptions, StackShape};

fn pattern(shape: StackShape, dtype: Dtype) -> Vec<f32> {
    (0..shape.len())
        .map(|i| match dtype {
            Dtype::U8 => (i % 256) as f32,
            Dtype::U16 => (i * 37 % 65536) as f32,
            Dtype::I16 => (i * 37 % 65536) as f32 - 32768.0,
            Dtype::F32 => i as f32 * 0.125 - 7.5,
        })
        .collect()
}

fn write(path: &Path, shape: StackShape, dtype: Dtype, big: Option<bool>, data: &[f32]) -> mesmerize_core::io::tiff::WriteReport {
    let mut w = TiffWriter::create(path, shape, dtype, big).expect("create");
    for plane in data.chunks(shape.plane_len()) {
        w.write_plane(plane).expect("write");
    }
    w.finish().expect("finish")
}

fn err_of(path: &Path, opts: &OpenOptions) -> String {
    match ImgData::open(path, opts) {
        Ok(img) => panic!("{} opened but should fail: {img:?}", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_dtype_round_trips_classic_and_bigtiff_2d_and_3d() {
    let dir = tempfile::tempdir().expect("tmp");
    for dtype in [Dtype::U8, Dtype::U16, Dtype::I16, Dtype::F32] {
        for big in [false, true] {
            for shape in [StackShape::movie(7, 13, 17), StackShape::volume(3, 4, 9, 11), StackShape::movie(1, 5, 3)] {
                let path = dir.path().join(format!("{}_{big}_{}.tif", dtype.name(), shape.axes()));
                let data = pattern(shape, dtype);
                let report = write(&path, shape, dtype, Some(big), &data);
                assert_eq!(report.clipped, 0);
                assert_eq!(report.big_tiff, big);
                let img = ImgData::open(&path, &OpenOptions::default()).expect("open");
                assert_eq!(img.shape(), shape, "{}", path.display());
                assert_eq!(img.dtype(), dtype);
                let back = img.to_vec(&mesmerize_core::progress::NoProgress).expect("read");
                assert_eq!(back, data, "{}", path.display());
            }
        }
    }
}

#[test]
fn clipping_is_counted_not_silent() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("clip.tif");
    let shape = StackShape::movie(1, 1, 4);
    let report = write(&path, shape, Dtype::U8, None, &[-5.0, 12.4, 300.0, f32::NAN]);
    assert_eq!(report.clipped, 3);
    let img = ImgData::open(&path, &OpenOptions::default()).expect("open");
    assert_eq!(img.plane(0, 0).expect("plane"), vec![0.0, 12.0, 255.0, 0.0]);
}

#[test]
fn sidecar_metadata_is_found_and_round_trips() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("rec.tiff");
    write(&path, StackShape::movie(2, 3, 3), Dtype::U16, None, &[1.0; 18]);
    let mut meta = Metadata::new("test scope", 12.5, "20261125_101500");
    meta.extra.insert("orig_meta".into(), serde_json::json!({"laser": 920}));
    write_sidecar(&path, &meta).expect("sidecar");
    let img = ImgData::open(&path, &OpenOptions::default()).expect("open");
    assert_eq!(img.meta(), &meta);
}

#[test]
fn nothing_appears_until_finish() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("partial.tif");
    let shape = StackShape::movie(3, 2, 2);
    let mut w = TiffWriter::create(&path, shape, Dtype::U16, None).expect("create");
    w.write_plane(&[1.0; 4]).expect("write");
    assert!(!path.exists(), "a half-written file must not sit under the real name");
    drop(w);
    assert!(!path.exists());
    let mut w = TiffWriter::create(&path, shape, Dtype::U16, None).expect("create");
    w.write_plane(&[1.0; 4]).expect("write");
    let e = w.finish().expect_err("incomplete").to_string();
    assert!(e.contains("1 of 3 planes"), "{e}");
}

fn sample_file(dir: &Path) -> PathBuf {
    let path = dir.join("good.tif");
    let shape = StackShape::movie(10, 16, 16);
    write(&path, shape, Dtype::U16, None, &pattern(shape, Dtype::U16));
    path
}

#[test]
fn truncated_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = sample_file(dir.path());
    let bytes = std::fs::read(&good).expect("read");
    for cut in [bytes.len() / 2, bytes.len() - 100, 30] {
        let path = dir.path().join(format!("cut_{cut}.tif"));
        std::fs::write(&path, &bytes[..cut]).expect("write");
        let e = err_of(&path, &OpenOptions::default());
        assert!(e.contains(&format!("cut_{cut}.tif")), "{e}");
        assert!(e.contains("truncated"), "cut at {cut}: {e}");
    }
}

#[test]
fn corrupt_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.tif", vec![], "too short"),
        ("text.tif", b"hello world, not an image".to_vec(), "no TIFF byte-order mark"),
        ("version.tif", b"II\x2b\x00\x04\x00\x00\x00\x00\x00\x00\x00".to_vec(), "offset size"),
        ("badver.tif", b"II\x07\x00\x08\x00\x00\x00".to_vec(), "TIFF version 7"),
        ("ifd_out.tif", b"II\x2a\x00\xff\xff\x00\x00".to_vec(), "truncated"),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let e = err_of(&path, &OpenOptions::default());
        assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
    }
    // A loop in the IFD chain.
    let good = sample_file(dir.path());
    let mut bytes = std::fs::read(&good).expect("read");
    let first = u32::from_le_bytes(bytes[4..8].try_into().expect("4")) as usize;
    let n = u16::from_le_bytes(bytes[first..first + 2].try_into().expect("2")) as usize;
    let next_at = first + 2 + 12 * n;
    bytes[next_at..next_at + 4].copy_from_slice(&(first as u32).to_le_bytes());
    let path = dir.path().join("loop.tif");
    std::fs::write(&path, bytes).expect("write");
    let e = err_of(&path, &OpenOptions::default());
    assert!(e.contains("loops"), "{e}");
    let missing = err_of(&dir.path().join("nope.tif"), &OpenOptions::default());
    assert!(missing.contains("nope.tif") && missing.contains("No such file"), "{missing}");
}

#[test]
fn bad_axes_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = sample_file(dir.path());
    let e = "tqx".parse::<mesmerize_core::Axes>().expect_err("bad letter");
    assert!(e.contains("unknown axis letter 'q'"), "{e}");
    let opts = OpenOptions { axes: Some("tczyx".parse().expect("axes")), ..Default::default() };
    let e = err_of(&good, &opts);
    assert!(e.contains("good.tif") && e.contains("bad axes") && e.contains("5 letters"), "{e}");
    let opts = OpenOptions { axes: Some("tzyx".parse().expect("axes")), ..Default::default() };
    let e = err_of(&good, &opts);
    assert!(e.contains("--planes"), "{e}");
    let opts = OpenOptions { axes: Some("tzyx".parse().expect("axes")), planes: Some(3), ..Default::default() };
    let e = err_of(&good, &opts);
    assert!(e.contains("do not divide"), "{e}");
    let opts = OpenOptions { channel: 2, ..Default::default() };
    let e = err_of(&good, &opts);
    assert!(e.contains("no channel axis"), "{e}");
}

#[test]
fn malformed_metadata_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = sample_file(dir.path());
    let side = dir.path().join("good.json");
    for (text, needle) in [
        ("{not json", "not valid JSON"),
        (r#"{"origin": "x", "date": "20200101_000000"}"#, "missing required key 'fps'"),
        (r#"{"origin": "x", "fps": -3, "date": "20200101_000000"}"#, "positive"),
        (r#"{"origin": "x", "fps": 3, "date": "1 Jan 2020"}"#, "YYYYMMDD_HHMMSS"),
        ("[1, 2]", "JSON object"),
    ] {
        std::fs::write(&side, text).expect("write");
        let e = err_of(&good, &OpenOptions::default());
        assert!(e.contains("good.json") && e.contains("bad metadata") && e.contains(needle), "{text}: {e}");
    }
    std::fs::remove_file(&side).expect("rm");
    let opts = OpenOptions { meta_format: Some(mesmerize_core::io::meta::MetaFormat::OmeTiff), ..Default::default() };
    let e = err_of(&good, &opts);
    assert!(e.contains("no OME-XML"), "{e}");
}

#[test]
fn malformed_embedded_descriptions_are_clear_errors() {
    // Rewrite the description of a file we wrote with same-length bad text.
    let dir = tempfile::tempdir().expect("tmp");
    let good = sample_file(dir.path());
    let bytes = std::fs::read(&good).expect("read");
    let desc = br#"{"axes":"TYX","shape":[10,16,16]}"#;
    let at = bytes.windows(desc.len()).position(|w| w == desc).expect("description present");
    for (bad, needle) in [
        (br#"{"axes":"TYXX","shape":[10,16,6]}"#.to_vec(), "do not match shape"),
        (br#"{"axes":"TYX","shape":[12,16,16]}"#.to_vec(), "promises 12 pages"),
        (br#"ImageJ=1.5\nimages=ten\n"#.to_vec(), "images=ten"),
        (br#"{"axes":"TYX","shape":"10x16"}"#.to_vec(), "no \"shape\" list"),
    ] {
        let mut b = bytes.clone();
        let mut bad = bad.replace_literal();
        assert!(bad.len() <= desc.len());
        bad.resize(desc.len(), b' ');
        b[at..at + desc.len()].copy_from_slice(&bad);
        let path = dir.path().join("bad_desc.tif");
        std::fs::write(&path, b).expect("write");
        let e = err_of(&path, &OpenOptions::default());
        assert!(e.contains("bad_desc.tif") && e.contains(needle), "{e}");
    }
}

trait ReplaceLiteral {
    fn replace_literal(self) -> Vec<u8>;
}
impl ReplaceLiteral for Vec<u8> {
    /// Turn the two characters `\n` into a newline byte (raw string literals keep them escaped).
    fn replace_literal(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        let mut i = 0;
        while i < self.len() {
            if self[i] == b'\\' && self.get(i + 1) == Some(&b'n') {
                out.push(b'\n');
                i += 2;
            } else {
                out.push(self[i]);
                i += 1;
            }
        }
        out
    }
}

#[test]
fn a_page_off_the_regular_layout_is_still_read_from_its_ifd() {
    // Our writer (like tifffile) places pages at a fixed stride, which the reader exploits to open big files
    // without walking the IFD chain; a page that breaks the pattern must still be read where its IFD points.
    let dir = tempfile::tempdir().expect("tmp");
    let shape = StackShape::movie(8, 4, 6);
    let data = pattern(shape, Dtype::U16);
    let path = dir.path().join("irregular.tif");
    write(&path, shape, Dtype::U16, Some(false), &data);
    let mut bytes = std::fs::read(&path).expect("read");
    // Find page 5's IFD by walking the chain, then point its strip at page 0's data.
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4")) as usize;
    let mut ifd = u32_at(&bytes, 4);
    let mut strip0 = 0;
    for page in 0..=5 {
        let n = u16::from_le_bytes(bytes[ifd..ifd + 2].try_into().expect("2")) as usize;
        for e in 0..n {
            let at = ifd + 2 + 12 * e;
            if u16::from_le_bytes(bytes[at..at + 2].try_into().expect("2")) == 273 {
                if page == 0 {
                    strip0 = u32_at(&bytes, at + 8);
                } else if page == 5 {
                    bytes[at + 8..at + 12].copy_from_slice(&(strip0 as u32).to_le_bytes());
                }
            }
        }
        if page < 5 {
            ifd = u32_at(&bytes, ifd + 2 + 12 * n);
        }
    }
    std::fs::write(&path, &bytes).expect("write");
    let img = ImgData::open(&path, &OpenOptions::default()).expect("open");
    let n = shape.plane_len();
    assert_eq!(img.plane(4, 0).expect("4"), data[4 * n..5 * n].to_vec());
    assert_eq!(img.plane(5, 0).expect("5"), data[..n].to_vec(), "page 5 now points at page 0's data");
    assert_eq!(img.plane(7, 0).expect("7"), data[7 * n..8 * n].to_vec());
}
