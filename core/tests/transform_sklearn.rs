//! KMeans, PCA and LDA against values scikit-learn itself computed
//! (`tests/golden/transform/make_transform_golden.py` wrote `transform_golden.json`; versions are recorded inside it).
//!
//! Every float is compared as |ours - want| / max(|want|, 1) <= 1e-9. Exceptions, by design: k-means++ runs use our
//! own RNG, so their labels are compared up to a permutation (adjusted Rand index 1); LDA's `transform` is compared
//! up to one sign per component (sklearn keeps whatever sign LAPACK returns; see the lda module doc).

#[path = "support/golden.rs"]
mod golden_file;

use golden_file::f64s;
use mesmerize_core::analysis::cluster::kmeans::{KMeans, KMeansError, KMeansInit, KMeansParams};
use mesmerize_core::analysis::transform::lda::{Lda, LdaError, LdaParams, LdaSolver, Shrinkage};
use mesmerize_core::analysis::transform::pca::{Pca, PcaError, PcaParams};
use ndarray::{Array2, ArrayView2, Axis};
use serde_json::Value;

/// Relative tolerance (scaled by max(|x|, 1)) of every comparison.
const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("transform/transform_golden.json")
}


fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("rows").iter().map(f64s).collect();
    let (r, c) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect()).expect("rectangular")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x.as_str().expect("string").to_string()).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("int") as usize).collect()
}

/// Largest |ours - want| / max(|want|, 1); panics on a shape mismatch.
fn max_rel(ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "length mismatch");
    ours.iter().zip(want).map(|(o, w)| (o - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max)
}

fn max_rel2(ours: ArrayView2<'_, f64>, want: ArrayView2<'_, f64>) -> f64 {
    assert_eq!(ours.dim(), want.dim(), "shape mismatch");
    max_rel(&ours.iter().copied().collect::<Vec<_>>(), &want.iter().copied().collect::<Vec<_>>())
}

/// `a` and `b` are the same partition up to renaming (a bijection between labels), i.e. adjusted Rand index 1.
fn same_partition(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    assert_eq!(a.len(), b.len());
    let k = a.iter().chain(b).max().map_or(0, |m| m + 1);
    let (mut ab, mut ba) = (vec![usize::MAX; k], vec![usize::MAX; k]);
    for (&x, &y) in a.iter().zip(b) {
        if ab[x] == usize::MAX && ba[y] == usize::MAX {
            ab[x] = y;
            ba[y] = x;
        } else if ab[x] != y || ba[y] != x {
            return None;
        }
    }
    Some(ab)
}

/// Tiny adjusted Rand index (Hubert & Arabie), for the report's wording "ARI 1.0".
fn ari(a: &[usize], b: &[usize]) -> f64 {
    let c2 = |n: f64| n * (n - 1.0) / 2.0;
    let ka = a.iter().max().map_or(0, |m| m + 1);
    let kb = b.iter().max().map_or(0, |m| m + 1);
    let mut table = vec![vec![0.0f64; kb]; ka];
    for (&x, &y) in a.iter().zip(b) {
        table[x][y] += 1.0;
    }
    let index: f64 = table.iter().flatten().map(|&n| c2(n)).sum();
    let rows: f64 = table.iter().map(|r| c2(r.iter().sum())).sum();
    let cols: f64 = (0..kb).map(|j| c2(table.iter().map(|r| r[j]).sum())).sum();
    let expected = rows * cols / c2(a.len() as f64);
    let max = 0.5 * (rows + cols);
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

#[test]
fn kmeans_plusplus_finds_sklearn_partition_on_blobs() {
    let g = golden();
    eprintln!("golden versions: {}", g["versions"]);
    for case in g["kmeans"]["blobs"].as_array().expect("blobs") {
        let x = mat(&case["x"]);
        let k = case["n_clusters"].as_u64().expect("k") as usize;
        let want = usizes(&case["labels"]);
        for seed in [0u64, 1, 42] {
            let params = KMeansParams { seed, ..KMeansParams::new(k) };
            let km = KMeans::fit(x.view(), &params).expect("fit");
            let a = ari(&km.labels, &want);
            assert_eq!(a, 1.0, "k={k} seed={seed}: ARI {a}");
            let map = same_partition(&km.labels, &want).expect("same partition");
            let perm: Vec<usize> = (0..k).map(|j| map[j]).collect();
            let mut centers = Array2::zeros((k, x.ncols()));
            for (j, &t) in perm.iter().enumerate() {
                centers.row_mut(t).assign(&km.cluster_centers.row(j));
            }
            let ec = max_rel2(centers.view(), mat(&case["centers"]).view());
            let ei = max_rel(&[km.inertia], &[case["inertia"].as_f64().expect("inertia")]);
            assert!(ec <= TOL && ei <= TOL, "k={k} seed={seed}: centres {ec:e}, inertia {ei:e}");
            // Deterministic given the seed.
            assert_eq!(KMeans::fit(x.view(), &params).expect("refit"), km);
        }
        eprintln!("kmeans++ blobs k={k}: ARI 1.0 for seeds 0, 1, 42");
    }
}

#[test]
fn kmeans_from_explicit_init_matches_sklearn() {
    let g = golden();
    let x = mat(&g["kmeans"]["explicit_x"]);
    for case in g["kmeans"]["explicit"].as_array().expect("explicit") {
        let name = case["name"].as_str().expect("name");
        let init = mat(&case["init"]);
        let params = KMeansParams {
            n_clusters: init.nrows(),
            n_init: 10, // ignored with explicit centres, as in sklearn
            max_iter: case["max_iter"].as_u64().expect("max_iter") as usize,
            tol: case["tol"].as_f64().expect("tol"),
            init: KMeansInit::Centers(init),
            seed: 0,
        };
        let km = KMeans::fit(x.view(), &params).expect("fit");
        assert_eq!(km.labels, usizes(&case["labels"]), "{name}: labels");
        assert_eq!(km.n_iter, case["n_iter"].as_u64().expect("n_iter") as usize, "{name}: n_iter");
        let ec = max_rel2(km.cluster_centers.view(), mat(&case["centers"]).view());
        let ei = max_rel(&[km.inertia], &[case["inertia"].as_f64().expect("inertia")]);
        assert!(ec <= TOL && ei <= TOL, "{name}: centres {ec:e}, inertia {ei:e}");
        assert_eq!(km.predict(x.view()).expect("predict"), km.labels, "{name}: predict");
        eprintln!(
            "kmeans explicit {name}: labels equal, n_iter {} equal, centres {ec:.2e}, inertia {ei:.2e}",
            km.n_iter
        );
    }
}

#[test]
fn kmeans_errors() {
    let mut x = Array2::from_shape_fn((5, 2), |(i, j)| (i * 2 + j) as f64);
    assert_eq!(
        KMeans::fit(x.view(), &KMeansParams::new(6)),
        Err(KMeansError::TooFewSamples { n_samples: 5, n_clusters: 6 })
    );
    let bad_init = KMeansParams { init: KMeansInit::Centers(Array2::zeros((2, 3))), ..KMeansParams::new(2) };
    assert!(matches!(KMeans::fit(x.view(), &bad_init), Err(KMeansError::InitShape { .. })));
    assert!(matches!(KMeans::fit(x.view(), &KMeansParams::new(0)), Err(KMeansError::NoClusters)));
    x[(1, 1)] = f64::NAN;
    assert_eq!(KMeans::fit(x.view(), &KMeansParams::new(2)), Err(KMeansError::NonFinite));
    x[(1, 1)] = f64::INFINITY;
    assert_eq!(KMeans::fit(x.view(), &KMeansParams::new(2)), Err(KMeansError::NonFinite));
}

/// Max relative error over the first `k` columns of `ours` against the golden matrix `want`.
fn cols(ours: ArrayView2<'_, f64>, want: &Value, k: usize) -> f64 {
    let want = mat(want);
    assert_eq!(ours.dim(), want.dim(), "shape mismatch");
    max_rel2(ours.slice(ndarray::s![.., ..k]), want.slice(ndarray::s![.., ..k]))
}

#[test]
fn pca_matches_sklearn() {
    let g = golden();
    for case in g["pca"].as_array().expect("pca") {
        let name = case["name"].as_str().expect("name");
        let x = mat(&case["x"]);
        let params = PcaParams {
            n_components: case["n_components"].as_u64().map(|v| v as usize),
            whiten: case["whiten"].as_bool().expect("whiten"),
        };
        let (pca, t) = Pca::fit_transform(x.view(), &params).expect("fit");
        // A component with a zero singular value (wide data keep min(n, p) = n of them, but centring leaves rank
        // n - 1) spans an arbitrary direction of the null space: only the determined ones are compared.
        let smax = pca.singular_values.first().copied().unwrap_or(0.0);
        let determined = pca.singular_values.iter().filter(|&&s| s > 1e-8 * smax).count();
        let comps = mat(&case["components"]);
        let errs = [
            (
                "components",
                max_rel2(
                    pca.components.slice(ndarray::s![..determined, ..]),
                    comps.slice(ndarray::s![..determined, ..]),
                ),
            ),
            (
                "explained_variance",
                max_rel(pca.explained_variance.as_slice().expect("c"), &f64s(&case["explained_variance"])),
            ),
            (
                "ratio",
                max_rel(pca.explained_variance_ratio.as_slice().expect("c"), &f64s(&case["explained_variance_ratio"])),
            ),
            ("singular_values", max_rel(pca.singular_values.as_slice().expect("c"), &f64s(&case["singular_values"]))),
            ("mean", max_rel(pca.mean.as_slice().expect("c"), &f64s(&case["mean"]))),
            ("noise_variance", max_rel(&[pca.noise_variance], &[case["noise_variance"].as_f64().expect("nv")])),
            ("fit_transform", cols(t.view(), &case["fit_transform"], determined)),
            ("transform(x)", cols(pca.transform(x.view()).expect("t").view(), &case["fit_transform"], determined)),
            (
                "transform(new)",
                cols(pca.transform(mat(&case["x_new"]).view()).expect("t").view(), &case["transform_new"], determined),
            ),
        ];
        for (what, e) in errs {
            assert!(e <= TOL, "pca {name}: {what} max rel err {e:e}");
        }
        let worst = errs.iter().map(|e| e.1).fold(0.0, f64::max);
        eprintln!(
            "pca {name}: max rel err {worst:.2e} over {determined} determined components (signs equal to sklearn's)"
        );
    }
}

#[test]
fn pca_errors() {
    let mut x = Array2::from_shape_fn((4, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f64);
    let too_many = PcaParams { n_components: Some(4), whiten: false };
    assert_eq!(Pca::fit(x.view(), &too_many), Err(PcaError::TooManyComponents { n_components: 4, max: 3 }));
    assert!(matches!(Pca::fit(x.slice(ndarray::s![..1, ..]), &PcaParams::default()), Err(PcaError::TooSmall { .. })));
    x[(0, 0)] = f64::NAN;
    assert_eq!(Pca::fit(x.view(), &PcaParams::default()), Err(PcaError::NonFinite));
}

/// Aligns the sign of each column of `ours` with `want` (on the entry where `want` is largest) and compares.
fn max_rel_up_to_column_sign(ours: &Array2<f64>, want: &Array2<f64>) -> f64 {
    assert_eq!(ours.dim(), want.dim(), "shape mismatch");
    let mut aligned = ours.clone();
    for (mut col, wcol) in aligned.axis_iter_mut(Axis(1)).zip(want.axis_iter(Axis(1))) {
        let arg = (0..wcol.len()).fold(0, |b, i| if wcol[i].abs() > wcol[b].abs() { i } else { b });
        if col[arg] * wcol[arg] < 0.0 {
            col.mapv_inplace(|v| -v);
        }
    }
    max_rel2(aligned.view(), want.view())
}

fn lda_params(case: &Value) -> LdaParams {
    let shrinkage = match &case["shrinkage"] {
        Value::Null => None,
        Value::String(s) if s == "auto" => Some(Shrinkage::Auto),
        v => Some(Shrinkage::Fixed(v.as_f64().expect("shrinkage"))),
    };
    LdaParams {
        solver: case["solver"].as_str().expect("solver").parse().expect("solver name"),
        shrinkage,
        n_components: case["n_components"].as_u64().map(|v| v as usize),
        ..LdaParams::default()
    }
}

#[test]
fn lda_matches_sklearn() {
    let g = golden();
    let cases = g["lda"]["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20);
    let mut worst_all = 0.0f64;
    let mut worst_transform = 0.0f64;
    for case in cases {
        let data = &g["lda"]["datasets"][case["data"].as_str().expect("data")];
        let (x, y, x_test) = (mat(&data["x"]), strings(&data["y"]), mat(&data["x_test"]));
        let params = lda_params(case);
        let label = format!(
            "{} {:?} shrinkage={} n_components={}",
            case["data"], params.solver, case["shrinkage"], case["n_components"]
        );
        let lda = Lda::fit(x.view(), &y, &params).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(lda.classes, strings(&case["classes"]), "{label}: classes");
        assert_eq!(lda.predict(x.view()).expect("predict"), strings(&case["predict"]), "{label}: predict");
        assert_eq!(
            lda.predict(x_test.view()).expect("predict"),
            strings(&case["predict_test"]),
            "{label}: predict test"
        );
        let mut errs = vec![
            ("priors", max_rel(lda.priors.as_slice().expect("c"), &f64s(&case["priors"]))),
            ("means", max_rel2(lda.means.view(), mat(&case["means"]).view())),
            ("coef", max_rel2(lda.coef.view(), mat(&case["coef"]).view())),
            ("intercept", max_rel(&lda.intercept.to_vec(), &f64s(&case["intercept"]))),
            (
                "decision_function",
                max_rel2(lda.decision_function(x.view()).expect("df").view(), mat(&case["decision_function"]).view()),
            ),
            (
                "decision_function test",
                max_rel2(
                    lda.decision_function(x_test.view()).expect("df").view(),
                    mat(&case["decision_function_test"]).view(),
                ),
            ),
            ("score", max_rel(&[lda.score(x.view(), &y).expect("score")], &[case["score"].as_f64().expect("score")])),
        ];
        if !case["covariance"].is_null() {
            errs.push((
                "covariance",
                max_rel2(lda.covariance.as_ref().expect("cov").view(), mat(&case["covariance"]).view()),
            ));
        }
        if !case["xbar"].is_null() {
            errs.push(("xbar", max_rel(&lda.xbar.as_ref().expect("xbar").to_vec(), &f64s(&case["xbar"]))));
        }
        if params.solver == LdaSolver::Lsqr {
            assert_eq!(lda.transform(x.view()), Err(LdaError::TransformNotSupported));
        } else {
            let evr = lda.explained_variance_ratio.as_ref().expect("evr").to_vec();
            errs.push(("explained_variance_ratio", max_rel(&evr, &f64s(&case["explained_variance_ratio"]))));
            let t = max_rel_up_to_column_sign(&lda.transform(x.view()).expect("t"), &mat(&case["transform"]));
            let tt =
                max_rel_up_to_column_sign(&lda.transform(x_test.view()).expect("t"), &mat(&case["transform_test"]));
            errs.push(("transform (up to sign)", t));
            errs.push(("transform test (up to sign)", tt));
            worst_transform = worst_transform.max(t).max(tt);
        }
        for (what, e) in &errs {
            assert!(*e <= TOL, "{label}: {what} max rel err {e:e}");
        }
        let worst = errs.iter().map(|e| e.1).fold(0.0, f64::max);
        worst_all = worst_all.max(worst);
        eprintln!("lda {label}: max rel err {worst:.2e}");
    }
    eprintln!("lda: {} cases, max rel err {worst_all:.2e} (transform up to sign: {worst_transform:.2e})", cases.len());
}

#[test]
fn lda_errors() {
    let x = Array2::from_shape_fn((6, 3), |(i, j)| ((i * 5 + j * 3) % 7) as f64 + 0.1 * i as f64);
    let y2 = ["a", "b", "a", "b", "a", "b"];
    let one = ["a"; 6];
    assert_eq!(Lda::fit(x.view(), &one, &LdaParams::default()), Err(LdaError::OneClass));
    assert_eq!("qr".parse::<LdaSolver>(), Err(LdaError::UnknownSolver("qr".into())));
    let svd_shrunk = LdaParams { shrinkage: Some(Shrinkage::Auto), ..LdaParams::default() };
    assert_eq!(Lda::fit(x.view(), &y2, &svd_shrunk), Err(LdaError::ShrinkageWithSvd));
    let too_many = LdaParams { n_components: Some(2), ..LdaParams::default() };
    assert_eq!(Lda::fit(x.view(), &y2, &too_many), Err(LdaError::BadComponents { n_components: 2, max: 1 }));
    let bad_shrink =
        LdaParams { solver: LdaSolver::Lsqr, shrinkage: Some(Shrinkage::Fixed(1.5)), ..LdaParams::default() };
    assert_eq!(Lda::fit(x.view(), &y2, &bad_shrink), Err(LdaError::BadShrinkage(1.5)));
    assert_eq!(
        Lda::fit(x.slice(ndarray::s![..2, ..]), &y2[..2], &LdaParams::default()),
        Err(LdaError::SamplesEqualClasses)
    );
    // More features than samples: the eigen solver's within-class covariance is singular (scipy raises too).
    let wide = Array2::from_shape_fn((4, 6), |(i, j)| ((i * 5 + j * 3) % 7) as f64 + 0.01 * (i * j) as f64);
    let eigen = LdaParams { solver: LdaSolver::Eigen, ..LdaParams::default() };
    assert_eq!(Lda::fit(wide.view(), &["a", "b", "a", "b"], &eigen), Err(LdaError::SingularCovariance));
    let mut xn = x.clone();
    xn[(2, 2)] = f64::NAN;
    assert_eq!(Lda::fit(xn.view(), &y2, &LdaParams::default()), Err(LdaError::NonFinite));
    let lda = Lda::fit(x.view(), &y2, &LdaParams::default()).expect("fit");
    assert!(matches!(lda.transform(wide.view()), Err(LdaError::FeatureMismatch { got: 6, expected: 3 })));
}

/// Timing for the report (not a correctness test): 500 samples x 3000 features, median of 3.
/// Reads the raw little-endian f64 matrix written by the sklearn side of the benchmark from
/// `MESMERIZE_BENCH_DATA` (so both time the same data); otherwise makes its own. Run with
/// `cargo test --release -p mesmerize_core --test transform_sklearn -- --ignored --nocapture bench`.
#[test]
#[ignore = "benchmark"]
fn bench_500x3000() {
    use rand::{Rng, SeedableRng};
    let (n, p) = (500usize, 3000usize);
    let x = match std::env::var("MESMERIZE_BENCH_DATA") {
        Ok(path) => {
            let bytes = std::fs::read(path).expect("bench data");
            let v: Vec<f64> =
                bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
            Array2::from_shape_vec((n, p), v).expect("500 x 3000")
        }
        Err(_) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            Array2::from_shape_fn((n, p), |(i, _)| (i % 3) as f64 + rng.random::<f64>() - 0.5)
        }
    };
    let y: Vec<String> = (0..n).map(|i| format!("c{}", i % 3)).collect();
    let median = |f: &mut dyn FnMut()| {
        let mut t: Vec<f64> = (0..3)
            .map(|_| {
                let s = std::time::Instant::now();
                f();
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[1]
    };
    let km = median(&mut || {
        let r = KMeans::fit(x.view(), &KMeansParams { n_clusters: 5, n_init: 10, ..KMeansParams::new(5) }).expect("km");
        std::hint::black_box(r);
    });
    let pca = median(&mut || {
        let r = Pca::fit_transform(x.view(), &PcaParams { n_components: Some(2), whiten: false }).expect("pca");
        std::hint::black_box(r);
    });
    let lda = median(&mut || {
        let m = Lda::fit(x.view(), &y, &LdaParams::default()).expect("lda");
        let t = m.transform(x.view()).expect("t");
        let d = m.decision_function(x.view()).expect("d");
        let s = m.score(x.view(), &y).expect("s");
        std::hint::black_box((t, d, s));
    });
    eprintln!(
        "BENCH rust 500x3000 (ms, median of 3): kmeans(k=5,n_init=10) {km:.1}, pca(2) {pca:.1}, lda(svd) fit+transform+decision+score {lda:.1}"
    );
}
