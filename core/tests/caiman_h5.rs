//! CNMF results in CaImAn's HDF5 layout: round trips (2D, 3D, ring model), CaImAn's Fortran pixel order, reading a
//! file that carries only CaImAn's own `params` group, and clear errors on bad files.

use std::path::Path;

use hdf5_metno as hdf5;
use mesmerize_core::extraction::params::Mode;
use mesmerize_core::extraction::result::RingBackground;
use mesmerize_core::extraction::{CnmfParams, CnmfResult, SparseColumns};
use mesmerize_core::io::caiman_h5::{caiman_dims, read_result, write_result};
use ndarray::Array2;
use serde_json::json;

/// Deterministic values so every field differs from its neighbours.
fn val(i: usize, j: usize, salt: f32) -> f32 {
    ((i * 31 + j * 17) % 97) as f32 * 0.25 + salt
}

fn mat(r: usize, c: usize, salt: f32) -> Array2<f32> {
    Array2::from_shape_fn((r, c), |(i, j)| val(i, j, salt))
}

/// A result with K footprints, each a small blob centred at `centers[k]` (C-order coordinates).
fn sample(dims: &[usize], centers: &[Vec<usize>], t: usize, ring: bool) -> CnmfResult {
    let d: usize = dims.iter().product();
    let k = centers.len();
    let mode = if dims.len() == 3 { Mode::Cnmf3d } else if ring { Mode::Cnmfe } else { Mode::Cnmf };
    let mut a = SparseColumns::new(d);
    for c in centers {
        let mut col = vec![0.0f32; d];
        // Peak 1.0 at the centre, 0.5 on the in-plane neighbours that exist.
        let (z, y, x) = if c.len() == 3 { (c[0], c[1], c[2]) } else { (0, c[0], c[1]) };
        let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
        let idx = |yy: usize, xx: usize| (z * h + yy) * w + xx;
        col[idx(y, x)] = 1.0;
        for (dy, dx) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
            let (yy, xx) = (y as i64 + dy, x as i64 + dx);
            if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                col[idx(yy as usize, xx as usize)] = 0.5;
            }
        }
        a.push_dense(&col);
    }
    let mut params = CnmfParams::defaults(mode);
    params.k = 7;
    params.merge_thr = 0.75;
    params.refit = true;
    let nb = if ring { 0 } else { 2 };
    let ring_bg = ring.then(|| {
        let dims_ds: Vec<usize> = dims.iter().map(|&n| (n - 1) / 2 + 1).collect();
        let n: usize = dims_ds.iter().product();
        let mut w = SparseColumns::new(n);
        for j in 0..n {
            // Each downsampled pixel is predicted from two others (a ring would hold more).
            w.push_col(vec![(((j + 3) % n) as u32, 0.1 + j as f32 * 0.01), (((j + 7) % n) as u32, 0.2)]);
        }
        RingBackground { w, b0: (0..d).map(|i| i as f32 * 0.5).collect(), ssub_b: 2, dims_ds }
    });
    CnmfResult {
        dims: dims.to_vec(),
        a,
        c: mat(k, t, 1.0),
        s: mat(k, t, 2.0),
        yra: mat(k, t, 3.0),
        b: mat(d, nb, 4.0),
        f: mat(nb, t, 5.0),
        ring: ring_bg,
        sn: (0..d).map(|i| i as f32 + 0.5).collect(),
        g: (0..k).map(|i| vec![0.9 - i as f32 * 0.01, -0.1]).collect(),
        bl: (0..k).map(|i| i as f32).collect(),
        c1: (0..k).map(|i| i as f32 * 2.0).collect(),
        neurons_sn: (0..k).map(|i| i as f32 * 3.0).collect(),
        lam: (0..k).map(|i| i as f32 * 4.0).collect(),
        f_dff: Some(mat(k, t, 6.0)),
        idx_components: (0..k).filter(|i| i % 2 == 0).collect(),
        idx_components_bad: (0..k).filter(|i| i % 2 == 1).collect(),
        snr_comp: (0..k).map(|i| 2.0 + i as f32).collect(),
        r_values: (0..k).map(|i| 0.5 + i as f32 * 0.1).collect(),
        params,
        timings: vec![("init".into(), 1.5), ("fit".into(), 2.25)],
    }
}

fn assert_same(a: &CnmfResult, b: &CnmfResult) {
    assert_eq!(a.dims, b.dims);
    assert_eq!(a.a, b.a);
    for (x, y) in [(&a.c, &b.c), (&a.s, &b.s), (&a.yra, &b.yra), (&a.b, &b.b), (&a.f, &b.f)] {
        assert_eq!(x, y);
    }
    assert_eq!(a.ring, b.ring);
    assert_eq!(a.sn, b.sn);
    assert_eq!(a.g, b.g);
    assert_eq!((&a.bl, &a.c1, &a.neurons_sn, &a.lam), (&b.bl, &b.c1, &b.neurons_sn, &b.lam));
    assert_eq!(a.f_dff, b.f_dff);
    assert_eq!((&a.idx_components, &a.idx_components_bad), (&b.idx_components, &b.idx_components_bad));
    assert_eq!((&a.snr_comp, &a.r_values), (&b.snr_comp, &b.r_values));
    assert_eq!(a.params, b.params);
    assert_eq!(a.timings, b.timings);
}

fn round_trip(r: &CnmfResult) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("result.hdf5");
    write_result(&path, r, &json!({"tool": "test", "input": "movie.tiff"})).expect("write");
    let back = read_result(&path).expect("read");
    assert_same(r, &back);
    // Only the result is left in the directory: the temporary file was renamed into place.
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("result.hdf5")]);
}

#[test]
fn round_trip_2d() {
    round_trip(&sample(&[12, 17], &[vec![3, 5], vec![0, 16], vec![11, 0]], 20, false));
}

#[test]
fn round_trip_3d() {
    round_trip(&sample(&[4, 9, 11], &[vec![2, 3, 5], vec![0, 8, 10], vec![3, 0, 0]], 6, false));
}

#[test]
fn round_trip_ring_model() {
    round_trip(&sample(&[10, 13], &[vec![4, 4], vec![9, 12]], 8, true));
}

#[test]
fn round_trip_without_optional_fields() {
    let mut r = sample(&[8, 8], &[vec![1, 1]], 5, false);
    r.f_dff = None;
    r.idx_components.clear();
    r.idx_components_bad.clear();
    r.g = vec![Vec::new()];
    r.g.clear();
    round_trip(&r);
    let mut none = sample(&[8, 8], &[], 5, false);
    none.c = Array2::zeros((0, 5));
    none.s = Array2::zeros((0, 5));
    none.yra = Array2::zeros((0, 5));
    none.f_dff = None;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("empty.hdf5");
    write_result(&path, &none, &json!({})).expect("write");
    let back = read_result(&path).expect("read");
    assert_eq!(back.k(), 0);
    assert_eq!(back.dims, vec![8, 8]);
}

fn read_i64(f: &hdf5::File, name: &str) -> Vec<i64> {
    f.dataset(name).expect(name).read_raw::<i64>().expect(name)
}

#[test]
fn pixels_are_in_caiman_fortran_order() {
    let dir = tempfile::tempdir().expect("tmp");
    // 2D: (y, x) = (3, 5) in a 12 x 17 frame -> index y + x*H.
    let (h, w) = (12usize, 17usize);
    let mut r = sample(&[h, w], &[vec![3, 5]], 4, false);
    let mut a = SparseColumns::new(h * w);
    a.push_col(vec![((3 * w + 5) as u32, 1.0)]);
    r.a = a;
    let path = dir.path().join("order2d.hdf5");
    write_result(&path, &r, &json!({})).expect("write");
    let f = hdf5::File::open(&path).expect("open");
    assert_eq!(read_i64(&f, "estimates/A/indices"), vec![3 + 5 * h as i64]);
    assert_eq!(read_i64(&f, "estimates/A/shape"), vec![(h * w) as i64, 1]);
    assert_eq!(read_i64(&f, "dims"), vec![h as i64, w as i64]);
    assert_eq!(read_i64(&f, "estimates/dims"), vec![h as i64, w as i64]);
    // sn[pixel] keeps its pixel: our C index y*W + x holds y*W + x + 0.5.
    let sn = f.dataset("estimates/sn").expect("sn").read_raw::<f32>().expect("sn");
    assert_eq!(sn[3 + 5 * h], (3 * w + 5) as f32 + 0.5);
    // b rows are pixels too.
    let b = f.dataset("estimates/b").expect("b").read_2d::<f32>().expect("b");
    assert_eq!(b.row(3 + 5 * h), r.b.row(3 * w + 5));
    drop(f);

    // 3D: our (z, y, x) = (2, 3, 5) in a 4 x 9 x 11 volume; CaImAn's dims (H, W, Z) -> index y + x*H + z*H*W.
    let (z, h, w) = (4usize, 9usize, 11usize);
    let mut r = sample(&[z, h, w], &[vec![2, 3, 5]], 4, false);
    let mut a = SparseColumns::new(z * h * w);
    a.push_col(vec![(((2 * h + 3) * w + 5) as u32, 1.0)]);
    r.a = a;
    let path = dir.path().join("order3d.hdf5");
    write_result(&path, &r, &json!({})).expect("write");
    let f = hdf5::File::open(&path).expect("open");
    assert_eq!(read_i64(&f, "estimates/A/indices"), vec![(3 + 5 * h + 2 * h * w) as i64]);
    assert_eq!(read_i64(&f, "dims"), vec![h as i64, w as i64, z as i64]);
    assert_eq!(caiman_dims(&[z, h, w]), vec![h, w, z]);
    // CaImAn's list order in params: gSig (y, x, z).
    let gsig = read_i64(&f, "params/init/gSig");
    assert_eq!(gsig, vec![5, 5, 1]);
}

#[test]
fn params_group_is_saved_as_caiman_saves_a_dict() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("p.hdf5");
    let r = sample(&[10, 13], &[vec![4, 4]], 8, true);
    write_result(&path, &r, &json!({"who": "test"})).expect("write");
    let f = hdf5::File::open(&path).expect("open");
    use hdf5::types::VarLenUnicode;
    // Strings are attributes of their group; None is the string dataset 'NoneType'; bools are HDF5 bools.
    let mi = f.group("params/init").expect("init").attr("method_init").expect("attr").read_scalar::<VarLenUnicode>().expect("str");
    assert_eq!(mi.as_str(), "corr_pnr");
    let none = f.dataset("params/patch/rf").expect("rf").read_scalar::<VarLenUnicode>().expect("NoneType");
    assert_eq!(none.as_str(), "NoneType");
    assert!(f.dataset("params/init/center_psf").expect("bool").read_scalar::<bool>().expect("bool"));
    assert_eq!(f.dataset("params/init/K").expect("K").read_scalar::<i64>().expect("K"), 7);
    assert!((f.dataset("params/merging/merge_thr").expect("m").read_scalar::<f64>().expect("m") - 0.75).abs() < 1e-12);
    // The params group holds only CaImAn's groups (load_CNMF calls CNMFParams.set for each member).
    let mut names = f.group("params").expect("params").member_names().expect("names");
    names.sort();
    let mut groups = vec!["data", "init", "merging", "motion", "online", "patch", "preprocess", "quality", "ring_CNN", "spatial", "temporal"];
    groups.sort();
    assert_eq!(names, groups);
    assert!(f.group("params").expect("params").attr_names().expect("attrs").is_empty());
    let prov = f.attr("mesmerize_provenance").expect("prov").read_scalar::<VarLenUnicode>().expect("prov");
    assert_eq!(serde_json::from_str::<serde_json::Value>(prov.as_str()).expect("json"), json!({"who": "test"}));
    // W and b0 exist for the ring model.
    assert!(f.group("estimates/W").is_ok());
    assert_eq!(f.dataset("estimates/b0").expect("b0").shape(), vec![130]);
}

#[test]
fn caiman_params_group_is_parsed_when_ours_is_absent() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("caiman.hdf5");
    let mut r = sample(&[10, 13], &[vec![4, 4]], 8, false);
    r.params.gsig = vec![3.0, 4.0];
    r.params.gsiz = vec![7, 9];
    r.params.rf = Some(vec![20, 20]);
    r.params.stride = Some(vec![6, 6]);
    write_result(&path, &r, &json!({})).expect("write");
    {
        let f = hdf5::File::open_rw(&path).expect("rw");
        for a in ["mesmerize_params", "mesmerize_timings", "mesmerize_provenance", "mesmerize_layout"] {
            f.delete_attr(a).expect("delete");
        }
    }
    let back = read_result(&path).expect("read");
    let mut expected = r.params.clone();
    expected.refit = false; // a Mesmerize batch setting CaImAn's params do not hold
    assert_eq!(back.params, expected);
    assert!(back.timings.is_empty());
}

#[test]
fn bad_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nope.hdf5");
    let e = read_result(&missing).expect_err("missing").to_string();
    assert!(e.contains("nope.hdf5"), "{e}");

    // Truncated: a good file cut in half.
    let good = dir.path().join("good.hdf5");
    write_result(&good, &sample(&[12, 17], &[vec![3, 5]], 20, false), &json!({})).expect("write");
    let bytes = std::fs::read(&good).expect("read");
    let cut = dir.path().join("cut.hdf5");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let e = read_result(&cut).expect_err("truncated").to_string();
    assert!(e.contains("cut.hdf5"), "{e}");

    // No estimates/A.
    let no_a = dir.path().join("no_a.hdf5");
    std::fs::copy(&good, &no_a).expect("copy");
    hdf5::File::open_rw(&no_a).expect("rw").group("estimates").expect("e").unlink("A").expect("unlink");
    let e = read_result(&no_a).expect_err("no A").to_string();
    assert!(e.contains("no_a.hdf5") && e.contains("estimates/A"), "{e}");

    // C with the wrong number of components.
    let bad_c = dir.path().join("bad_c.hdf5");
    std::fs::copy(&good, &bad_c).expect("copy");
    {
        let f = hdf5::File::open_rw(&bad_c).expect("rw");
        let e = f.group("estimates").expect("e");
        e.unlink("C").expect("unlink");
        e.new_dataset_builder().with_data(&Array2::<f32>::zeros((3, 20))).create("C").expect("C");
    }
    let e = read_result(&bad_c).expect_err("bad C").to_string();
    assert!(e.contains("bad_c.hdf5") && e.contains("estimates/C") && e.contains("[3, 20]"), "{e}");

    // A whose rows do not match dims.
    let bad_a = dir.path().join("bad_a.hdf5");
    std::fs::copy(&good, &bad_a).expect("copy");
    {
        let f = hdf5::File::open_rw(&bad_a).expect("rw");
        f.unlink("dims").expect("unlink");
        f.new_dataset_builder().with_data(&[10i64, 10][..]).create("dims").expect("dims");
    }
    let e = read_result(&bad_a).expect_err("bad A").to_string();
    assert!(e.contains("estimates/A has 204 rows"), "{e}");

    // Not HDF5 at all.
    let text = dir.path().join("text.hdf5");
    std::fs::write(&text, "hello").expect("write");
    assert!(read_result(&text).expect_err("text").to_string().contains("text.hdf5"));
}

#[test]
fn inconsistent_results_are_refused_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("x.hdf5");
    let mut r = sample(&[8, 8], &[vec![1, 1]], 5, false);
    r.c = Array2::zeros((2, 5));
    assert!(write_result(&path, &r, &json!({})).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    assert!(!Path::new(&path).exists());
}

/// A file saved by CaImAn itself (`cnm.save(path)`), when one is named by MESMERIZE_CAIMAN_H5; `PATH.json` beside it
/// may give `{"K", "dims", "T", "peaks"}` as CaImAn saw them (peaks of `A[:, k].reshape(dims, order='F')`).
#[test]
fn reads_a_file_caiman_saved() {
    let Ok(path) = std::env::var("MESMERIZE_CAIMAN_H5") else {
        eprintln!("caiman_h5: MESMERIZE_CAIMAN_H5 not set; import of a CaImAn-saved file not checked");
        return;
    };
    let r = read_result(Path::new(&path)).expect("read CaImAn's file");
    let Ok(text) = std::fs::read_to_string(format!("{path}.json")) else { return };
    let want: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(r.k() as u64, want["K"].as_u64().expect("K"));
    assert_eq!(r.c.ncols() as u64, want["T"].as_u64().expect("T"));
    assert_eq!(serde_json::json!(caiman_dims(&r.dims)), want["dims"]);
    for (k, peak) in want["peaks"].as_array().expect("peaks").iter().enumerate() {
        let col = r.a.dense_col(k);
        let best = (0..col.len()).max_by(|&i, &j| col[i].total_cmp(&col[j])).expect("pixels");
        let w = r.dims[r.dims.len() - 1];
        let (y, x) = ((best / w) % r.dims[r.dims.len() - 2], best % w);
        assert_eq!(serde_json::json!([y, x]), serde_json::json!([peak[0], peak[1]]), "component {k}");
    }
    if let Some(g) = want.get("gSig") {
        // 2D: CaImAn's [y, x] is our order too.
        let ours: Vec<f64> = g.as_array().expect("gSig").iter().filter_map(serde_json::Value::as_f64).collect();
        assert_eq!(r.params.gsig, ours);
    }
}

/// A file CaImAn 1.12.1 saved itself after a refit (tests/fixtures/project/make_caiman_fixture.sh): its per-component
/// lists bl, c1, neurons_sn, lam are byte strings of numbers, F_dff is `NoneType`.
#[test]
fn reads_a_result_caiman_saved_after_refit() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/project/caiman_cnmf_2p_64x64x200_seed7.hdf5");
    let r = read_result(&path).expect("CaImAn's own file");
    assert_eq!((r.k(), r.dims.clone(), r.c.dim()), (5, vec![64, 64], (5, 200)));
    assert_eq!(r.idx_components, vec![1, 2, 3, 4]);
    assert_eq!(r.idx_components_bad, vec![0]);
    assert!((r.bl[0] - -560.460_77).abs() < 1e-3, "bl parsed from text: {:?}", r.bl);
    assert!((r.neurons_sn[1] - 17.635_517).abs() < 1e-4);
    assert!(r.f_dff.is_none());
}
