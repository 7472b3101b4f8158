//! k-Shape against tslearn.clustering.KShape (`tests/golden/cluster/make_xcorr_kshape_golden.py` wrote the JSON;
//! versions inside): label agreement (ARI 1.0) from our own random init, exact runs from tslearn's explicit init,
//! and SBD distances to tslearn's centroids; adjusted_rand_index against sklearn.

#[path = "support/golden.rs"]
mod golden_file;

use golden_file::f64s;
use mesmerize_core::analysis::cluster::kshape::{KShapeError, kshape, kshape_with_init, sbd_matrix, z_normalize};
use mesmerize_core::analysis::cluster::metrics::adjusted_rand_index;
use mesmerize_core::analysis::cluster::xcorr::XcorrError;
use ndarray::{Array2, Axis};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("cluster/xcorr_kshape_golden.json")
}


fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("int") as usize).collect()
}

fn max_rel(ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "length mismatch");
    ours.iter().zip(want).map(|(o, w)| (o - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max)
}

fn dataset(g: &Value, name: &str) -> (Array2<f64>, Vec<usize>) {
    let d = &g["kshape_data"][name];
    let (n, sz) = (d["n"].as_u64().expect("n") as usize, d["sz"].as_u64().expect("sz") as usize);
    (Array2::from_shape_vec((n, sz), f64s(&d["data"])).expect("shape"), usizes(&d["true_labels"]))
}

#[test]
fn ari_matches_sklearn() {
    let g = golden();
    for c in g["ari"].as_array().expect("ari") {
        let ours = adjusted_rand_index(&usizes(&c["a"]), &usizes(&c["b"])).expect("same length");
        let want = c["ari"].as_f64().expect("ari");
        assert!((ours - want).abs() <= 1e-12, "ARI {ours} vs sklearn {want}");
    }
    assert_eq!(adjusted_rand_index(&[0, 1], &[0]), None);
}

#[test]
fn sbd_to_tslearns_centroids_matches() {
    let g = golden();
    let mut worst = 0.0f64;
    for c in g["kshape"].as_array().expect("cases") {
        let (x, _) = dataset(&g, c["dataset"].as_str().expect("dataset"));
        let k = c["n_clusters"].as_u64().expect("k") as usize;
        let centroids = Array2::from_shape_vec((k, x.ncols()), f64s(&c["centroids"])).expect("centroids");
        let d = sbd_matrix(x.view(), centroids.view()).expect("sbd");
        let e = max_rel(d.as_slice().expect("std"), &f64s(&c["sbd"]));
        worst = worst.max(e);
        assert!(e <= TOL, "{}: SBD max rel err {e:e}", c["name"]);
    }
    eprintln!("SBD vs tslearn (same centroids): max rel err {worst:.3e}");
}

#[test]
fn random_init_agrees_with_tslearn_labels() {
    let g = golden();
    for c in g["kshape"].as_array().expect("cases") {
        if !c["init_idx"].is_null() {
            continue;
        }
        let name = c["name"].as_str().expect("name");
        let (x, truth) = dataset(&g, c["dataset"].as_str().expect("dataset"));
        let want = usizes(&c["labels"]);
        // A single random start can land in a local minimum (two start curves from one cluster), for tslearn too;
        // ten starts, kept by inertia, make every seed find the well-separated partition.
        let n_init = 10;
        for seed in [0u64, 1, 2, 3, 42] {
            let r = kshape(x.view(), 3, 100, 1e-6, n_init, seed).expect("kshape");
            let ari = adjusted_rand_index(&r.labels, &want).expect("len");
            let ari_truth = adjusted_rand_index(&r.labels, &truth).expect("len");
            let tsl = c["inertia"].as_f64().expect("inertia");
            eprintln!("{name} seed {seed}: ARI vs tslearn {ari}, vs truth {ari_truth}, inertia {:.6e} (tslearn {tsl:.6e}), n_iter {}", r.inertia, r.n_iter);
            assert_eq!(ari, 1.0, "{name} seed {seed}");
            // Same partition, but the centroids depend on the path (the start curves): same order of magnitude.
            assert!(r.inertia < 3.0 * tsl && r.inertia > tsl / 3.0, "{name}: inertia {} vs {tsl}", r.inertia);
            assert_eq!(r.centroids.dim(), (3, x.ncols()));
            // Determinism for a seed.
            assert_eq!(kshape(x.view(), 3, 100, 1e-6, n_init, seed).expect("again"), r);
        }
    }
}

#[test]
fn explicit_init_reproduces_tslearn_exactly() {
    let g = golden();
    for c in g["kshape"].as_array().expect("cases") {
        if c["init_idx"].is_null() {
            continue;
        }
        let name = c["name"].as_str().expect("name");
        let (x, _) = dataset(&g, c["dataset"].as_str().expect("dataset"));
        let init = x.select(Axis(0), &usizes(&c["init_idx"]));
        let r = kshape_with_init(x.view(), init.view(), 100, 1e-6).expect("kshape");
        assert_eq!(r.labels, usizes(&c["labels"]), "{name}: labels");
        let want_inertia = c["inertia"].as_f64().expect("inertia");
        let ie = (r.inertia - want_inertia).abs() / want_inertia;
        let ce = max_rel(r.centroids.as_slice().expect("std"), &f64s(&c["centroids"]));
        eprintln!("{name}: inertia {:.12e} vs {want_inertia:.12e} (rel {ie:.2e}), centroids max err {ce:.2e}, n_iter {}", r.inertia, r.n_iter);
        assert_eq!(r.n_iter, c["n_iter"].as_u64().expect("n_iter") as usize, "{name}: n_iter");
        assert!(ie <= 1e-8, "{name}: inertia rel err {ie:e}");
        assert!(ce <= 1e-8, "{name}: centroid err {ce:e}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = Array2::from_shape_fn((4, 8), |(i, t)| ((i + 1) as f64 * t as f64 * 0.4).sin());
    assert_eq!(kshape(x.view(), 5, 10, 1e-6, 1, 0), Err(KShapeError::TooManyClusters { k: 5, n: 4 }));
    assert_eq!(kshape(x.view(), 0, 10, 1e-6, 1, 0), Err(KShapeError::NoClusters));
    assert_eq!(kshape(x.view(), 2, 0, 1e-6, 1, 0), Err(KShapeError::BadParameter("max_iter")));
    assert_eq!(kshape(x.view(), 2, 10, 1e-6, 0, 0), Err(KShapeError::BadParameter("n_init")));
    let mut flat = x.clone();
    flat.row_mut(2).fill(3.0);
    assert_eq!(kshape(flat.view(), 2, 10, 1e-6, 1, 0), Err(KShapeError::ZeroVariance(2)));
    let mut nan = x.clone();
    nan[(1, 4)] = f64::NAN;
    assert!(matches!(kshape(nan.view(), 2, 10, 1e-6, 1, 0), Err(KShapeError::Input(XcorrError::NonFinite { curve: 1, sample: 4, .. }))));
    let empty = Array2::<f64>::zeros((0, 8));
    assert_eq!(kshape(empty.view(), 1, 10, 1e-6, 1, 0), Err(KShapeError::Input(XcorrError::TooFewCurves(0))));
    let wrong = Array2::<f64>::zeros((2, 7));
    assert!(matches!(kshape_with_init(x.view(), wrong.view(), 10, 1e-6), Err(KShapeError::BadInit { .. })));
    let z = z_normalize(x.view()).expect("z");
    for row in z.outer_iter() {
        let mean = row.sum() / 8.0;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 8.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
    }
}
