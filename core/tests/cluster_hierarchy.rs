//! analysis::cluster::hierarchy against values scipy itself computed
//! (`tests/golden/cluster/make_hierarchy_golden.py` wrote `hierarchy_golden.json`; versions are recorded inside it).
//!
//! Z: cluster ids (columns 0, 1) and counts (column 3) exactly, heights to 1e-9 relative; fcluster labels
//! identical (computed both from scipy's Z and from ours); R, maxinconsts, maxRstat, maxdists, cophenet to 1e-9.

#[path = "support/golden.rs"]
mod golden_file;

use mesmerize_core::analysis::cluster::hierarchy::{
    Criterion, HierarchyError, LinkageInput, Method, Metric, cophenet, fcluster, inconsistent, leaves_list, linkage,
    linkage_condensed, linkage_node, max_r_stat, maxdists, maxinconsts, mesmerize_wasserstein_shift,
    optimal_leaf_ordering, pdist, wasserstein_1d,
};
use ndarray::{Array2, ArrayView2};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn golden() -> Value {
    golden_file::json("cluster/hierarchy_golden.json")
}

/// A golden float: written as a string (Python repr) so it parses exactly (serde_json's default number parsing
/// can be 1 ulp off).
fn num(x: &Value) -> f64 {
    match x {
        Value::String(s) => s.parse().expect("float string"),
        other => other.as_f64().expect("number"),
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn i32s(v: &Value) -> Vec<i32> {
    v.as_array().expect("array").iter().map(|x| x.as_i64().expect("int") as i32).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("uint") as usize).collect()
}

fn mat(v: &Value, cols: usize) -> Array2<f64> {
    let d = f64s(v);
    Array2::from_shape_vec((d.len() / cols, cols), d).expect("shape")
}

/// Largest |ours - want| / max(|want|, 1e-300) (relative, zero only matched by zero); panics on a length mismatch.
fn max_rel(ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "length mismatch");
    ours.iter()
        .zip(want)
        .map(|(o, w)| if o == w { 0.0 } else { (o - w).abs() / w.abs().max(1e-300) })
        .fold(0.0, f64::max)
}

fn metric(name: &str) -> Metric {
    match name {
        "minkowski3" => Metric::Minkowski { p: 3.0 },
        other => Metric::from_name(other).expect("metric name"),
    }
}

/// Our Z for a golden linkage record (same path as the generator took).
fn our_z(x: ArrayView2<f64>, rec: &Value) -> Array2<f64> {
    let method = Method::from_name(rec["method"].as_str().expect("method")).expect("method");
    let mname = rec["metric"].as_str().expect("metric");
    let oo = rec["optimal_ordering"].as_bool().expect("oo");
    let m = metric(mname);
    match (rec["input"].as_str().unwrap_or("observations"), m) {
        ("observations", _) => linkage(LinkageInput::Observations(x), method, m, oo).expect("linkage"),
        (_, Metric::Wasserstein) => linkage_node(x, method, m, oo).expect("node linkage"),
        _ => {
            let y = pdist(x, m).expect("pdist");
            linkage_condensed(&y, method, oo).expect("linkage condensed")
        }
    }
}

/// Z equal to scipy's: ids and counts exactly, heights to TOL. Returns the height error.
fn check_z(ours: &Array2<f64>, want: &Array2<f64>, what: &str) -> f64 {
    assert_eq!(ours.dim(), want.dim(), "{what}: Z shape");
    for (i, (a, b)) in ours.rows().into_iter().zip(want.rows()).enumerate() {
        assert!(a[0] == b[0] && a[1] == b[1] && a[3] == b[3], "{what}: Z row {i} ours {a} scipy {b}");
    }
    let e = max_rel(&ours.column(2).to_vec(), &want.column(2).to_vec());
    assert!(e <= TOL, "{what}: heights max rel err {e:e}");
    e
}

fn criterion_of(fc: &Value) -> Criterion {
    Criterion::from_name(fc["criterion"].as_str().expect("criterion")).expect("criterion name")
}

fn monocrit_of(z: ArrayView2<f64>, fc: &Value) -> Option<Vec<f64>> {
    match fc.get("monocrit").and_then(Value::as_str) {
        Some("maxRstat3_d2") => {
            let r = inconsistent(z, 2).expect("R");
            Some(max_r_stat(z, r.view(), 3).expect("maxRstat"))
        }
        Some("maxdists") => Some(maxdists(z).expect("maxdists")),
        Some(other) => panic!("unknown monocrit {other}"),
        None => None,
    }
}

/// Everything analyse() recorded, checked on `z` (scipy's Z or ours). Returns (worst float err, #fcluster cases).
///
/// `tol_r` is the tolerance for R, maxinconsts and maxRstat: TOL when `z` holds scipy's exact heights. R's standard
/// deviation is scipy's one-pass formula sqrt((sum d^2 - (sum d)^2 / c) / (c - 1)), which amplifies a last-bit
/// difference in the heights by mean^2 / var (seen: 1e-8 relative for two single-linkage heights 1.3e-4 apart
/// at 0.56); so on our own Z from the Wasserstein metrics (heights ~1e-16 off scipy's, different summation
/// order) R is held to 1e-6.
fn check_analysis(z: ArrayView2<f64>, rec: &Value, y: &[f64], what: &str, tol_r: f64) -> (f64, usize) {
    let mut worst = 0.0f64;
    assert_eq!(leaves_list(z).expect("leaves"), usizes(&rec["leaves"]), "{what}: leaves_list");
    if let Some(c) = rec.get("cophenet_c") {
        let (cc, d) = cophenet(z, y).expect("cophenet");
        let e = max_rel(&[cc], &[num(c)]).max(max_rel(&d, &f64s(&rec["cophenet_d"])));
        assert!(e <= TOL, "{what}: cophenet rel err {e:e}");
        worst = worst.max(e);
    }
    if let Some(md) = rec.get("maxdists") {
        let e = max_rel(&maxdists(z).expect("maxdists"), &f64s(md));
        assert!(e <= TOL, "{what}: maxdists rel err {e:e}");
    }
    for (depth, rr) in rec["R"].as_object().expect("R map") {
        let d: usize = depth.parse().expect("depth");
        let r = inconsistent(z, d).expect("inconsistent");
        let e = max_rel(r.as_slice().expect("contiguous"), &f64s(&rr["R"]));
        assert!(e <= tol_r, "{what}: R depth {d} rel err {e:e}");
        worst = worst.max(e);
        // maxinconsts / maxRstat on scipy's own R, so they are tested independently of `inconsistent`
        let rg = mat(&rr["R"], 4);
        let e = max_rel(&maxinconsts(z, rg.view()).expect("maxinconsts"), &f64s(&rr["maxinconsts"]));
        assert!(e <= tol_r, "{what}: maxinconsts depth {d} rel err {e:e}");
        for (i, want) in rr["maxRstat"].as_array().expect("maxRstat").iter().enumerate() {
            let e = max_rel(&max_r_stat(z, rg.view(), i).expect("maxRstat"), &f64s(want));
            assert!(e <= tol_r, "{what}: maxRstat({i}) depth {d} rel err {e:e}");
            worst = worst.max(e);
        }
    }
    let fcs = rec["fcluster"].as_array().expect("fcluster cases");
    for fc in fcs {
        let crit = criterion_of(fc);
        let t = num(&fc["t"]);
        let depth = fc["depth"].as_u64().expect("depth") as usize;
        let mc = monocrit_of(z, fc);
        let labels = fcluster(z, t, crit, depth, None, mc.as_deref()).expect("fcluster");
        assert_eq!(labels, i32s(&fc["labels"]), "{what}: fcluster {} t={t} depth={depth}", crit.name());
        if crit == Criterion::Inconsistent {
            // the same with R passed explicitly
            let r = inconsistent(z, depth).expect("R");
            let l2 = fcluster(z, t, crit, 99, Some(r.view()), None).expect("fcluster with R");
            assert_eq!(l2, labels, "{what}: fcluster inconsistent with explicit R");
        }
    }
    (worst, fcs.len())
}

#[test]
fn pdist_matches_scipy() {
    let g = golden();
    eprintln!("golden versions: {}", g["versions"]);
    let mut report = Vec::new();
    for (name, ds) in g["datasets"].as_object().expect("datasets") {
        let (n, d) = (ds["n"].as_u64().expect("n") as usize, ds["d"].as_u64().expect("d") as usize);
        let x = Array2::from_shape_vec((n, d), f64s(&ds["X"])).expect("X");
        let shifted = mesmerize_wasserstein_shift(x.view());
        assert_eq!(shifted.as_slice().expect("contiguous"), f64s(&ds["X_wasserstein"]).as_slice(), "{name}: shift");
        for (mname, want) in ds["pdist"].as_object().expect("pdist") {
            let m = metric(mname);
            let input = if m == Metric::Wasserstein { shifted.view() } else { x.view() };
            let ours = pdist(input, m).expect("pdist");
            let want = f64s(want);
            let e = max_rel(&ours, &want);
            let exact = ours.iter().zip(&want).filter(|(a, b)| a == b).count();
            assert!(e <= TOL, "{name}/{mname}: pdist max rel err {e:e}");
            report.push(format!("{name}/{mname}: {e:.1e} ({exact}/{} bit-equal)", want.len()));
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn linkage_and_analysis_match_scipy() {
    let g = golden();
    let (mut n_z, mut n_fc, mut worst_h, mut worst_a) = (0usize, 0usize, 0.0f64, 0.0f64);
    let (mut n_exact, mut worst_inexact) = (0usize, 0.0f64);
    for (name, ds) in g["datasets"].as_object().expect("datasets") {
        let (n, d) = (ds["n"].as_u64().expect("n") as usize, ds["d"].as_u64().expect("d") as usize);
        let x = Array2::from_shape_vec((n, d), f64s(&ds["X"])).expect("X");
        for rec in ds["linkage"].as_array().expect("linkage records") {
            let what = format!(
                "{name}/{}/{}/oo={}",
                rec["method"].as_str().unwrap_or("?"),
                rec["metric"].as_str().unwrap_or("?"),
                rec["optimal_ordering"]
            );
            let want = mat(&rec["Z"], 4);
            let ours = our_z(x.view(), rec);
            worst_h = worst_h.max(check_z(&ours, &want, &what));
            let mname = rec["metric"].as_str().expect("metric");
            let m = metric(mname);
            let y = if m == Metric::Wasserstein {
                pdist(mesmerize_wasserstein_shift(x.view()).view(), m).expect("pdist")
            } else {
                pdist(x.view(), m).expect("pdist")
            };
            // on scipy's Z (fcluster & co. in isolation) and on ours (the whole pipeline)
            let exact = ours == want;
            n_exact += usize::from(exact);
            let (e1, k) = check_analysis(want.view(), rec, &y, &format!("{what} [scipy Z]"), TOL);
            let tol_r = if exact { TOL } else { 1e-6 };
            let (e2, _) = check_analysis(ours.view(), rec, &y, &format!("{what} [our Z]"), tol_r);
            worst_a = worst_a.max(e1);
            if exact {
                worst_a = worst_a.max(e2);
            } else {
                worst_inexact = worst_inexact.max(e2);
            }
            n_z += 1;
            n_fc += 2 * k;
        }
        for err in ds["linkage_errors"].as_array().expect("errors") {
            let method = Method::from_name(err["method"].as_str().expect("method")).expect("method");
            let m = metric(err["metric"].as_str().expect("metric"));
            match linkage(LinkageInput::Observations(x.view()), method, m, false) {
                Err(HierarchyError::NonEuclideanMetric { .. }) => {}
                other => panic!("{name}: {method} with {m}: expected NonEuclideanMetric, got {other:?}"),
            }
        }
    }
    assert!(n_z >= 400, "only {n_z} linkage records");
    eprintln!(
        "{n_z} Z matrices ({n_exact} bit-identical to scipy's), {n_fc} fcluster labelings: heights max rel err {worst_h:.1e}, \
         R/maxRstat/cophenet {worst_a:.1e} (on our non-identical Z: {worst_inexact:.1e})"
    );
}

/// optimal_leaf_ordering on its own, from scipy's plain Z (the generator's optimal_ordering=True records are
/// linkage(..., optimal_ordering=True) = optimal_leaf_ordering(linkage(...), y)).
#[test]
fn optimal_leaf_ordering_matches_scipy() {
    let g = golden();
    let mut count = 0;
    for (name, ds) in g["datasets"].as_object().expect("datasets") {
        let (n, d) = (ds["n"].as_u64().expect("n") as usize, ds["d"].as_u64().expect("d") as usize);
        let x = Array2::from_shape_vec((n, d), f64s(&ds["X"])).expect("X");
        let recs = ds["linkage"].as_array().expect("records");
        for plain in recs.iter().filter(|r| r["optimal_ordering"] == false && r["metric"] == "euclidean") {
            let ordered = recs
                .iter()
                .find(|r| r["optimal_ordering"] == true && r["metric"] == "euclidean" && r["method"] == plain["method"])
                .expect("ordered twin");
            let y = pdist(x.view(), Metric::Euclidean).expect("pdist");
            let z = optimal_leaf_ordering(mat(&plain["Z"], 4).view(), &y).expect("olo");
            check_z(&z, &mat(&ordered["Z"], 4), &format!("{name}/{} olo", plain["method"]));
            count += 1;
        }
    }
    assert_eq!(count, 4 * 7);
}

/// The deliberate tie case: a grid with many equal distances. scipy's behaviour in ties is an implementation detail;
/// ours is the same implementation, so the whole Z is asserted equal; on top, the weaker facts any correct
/// implementation must share are asserted separately (merge heights as a multiset, flat clusterings at
/// thresholds between heights as partitions).
#[test]
fn tie_case() {
    let g = golden();
    let tie = &g["tie_case"];
    let (n, d) = (tie["n"].as_u64().expect("n") as usize, tie["d"].as_u64().expect("d") as usize);
    let x = Array2::from_shape_vec((n, d), f64s(&tie["X"])).expect("X");
    let y = pdist(x.view(), Metric::Euclidean).expect("pdist");
    assert_eq!(y, f64s(&tie["pdist_euclidean"]));
    for rec in tie["linkage"].as_array().expect("records") {
        let what = format!("tie/{}/oo={}", rec["method"].as_str().unwrap_or("?"), rec["optimal_ordering"]);
        let want = mat(&rec["Z"], 4);
        let ours = our_z(x.view(), rec);
        // weak: sorted heights
        let mut h1 = ours.column(2).to_vec();
        let mut h2 = want.column(2).to_vec();
        h1.sort_by(f64::total_cmp);
        h2.sort_by(f64::total_cmp);
        assert!(max_rel(&h1, &h2) <= TOL, "{what}: merge heights");
        // weak: distance-criterion partitions equal up to relabelling
        for fc in rec["fcluster"].as_array().expect("fc").iter().filter(|f| f["criterion"] == "distance") {
            let t = num(&fc["t"]);
            let a = fcluster(ours.view(), t, Criterion::Distance, 2, None, None).expect("fcluster");
            assert!(same_partition(&a, &i32s(&fc["labels"])), "{what}: partition at t={t}");
        }
        // strong: identical Z and everything derived from it
        check_z(&ours, &want, &what);
        check_analysis(ours.view(), rec, &y, &what, TOL);
    }
}

fn same_partition(a: &[i32], b: &[i32]) -> bool {
    use std::collections::HashMap;
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    a.iter().zip(b).all(|(x, y)| *ab.entry(*x).or_insert(*y) == *y && *ba.entry(*y).or_insert(*x) == *x)
}

#[test]
fn errors_are_typed() {
    let x = Array2::from_shape_vec((3, 2), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.5]).expect("x");
    let y = pdist(x.view(), Metric::Euclidean).expect("pdist");
    let z = linkage_condensed(&y, Method::Average, false).expect("z");

    let mut bad = x.clone();
    bad[[1, 1]] = f64::NAN;
    assert!(matches!(
        linkage(LinkageInput::Observations(bad.view()), Method::Single, Metric::Euclidean, false),
        Err(HierarchyError::NonFinite { what: "observations", index: 3, .. })
    ));
    bad[[1, 1]] = f64::INFINITY;
    assert!(matches!(pdist(bad.view(), Metric::Cosine), Err(HierarchyError::NonFinite { .. })));
    assert!(matches!(
        linkage_condensed(&[1.0, f64::NAN, 2.0], Method::Complete, false),
        Err(HierarchyError::NonFinite { what: "condensed distance matrix", index: 1, .. })
    ));
    let one = Array2::<f64>::zeros((1, 4));
    assert!(matches!(
        linkage(LinkageInput::Observations(one.view()), Method::Single, Metric::Euclidean, false),
        Err(HierarchyError::TooFewObservations(1))
    ));
    assert!(matches!(linkage_condensed(&[], Method::Single, false), Err(HierarchyError::TooFewObservations(_))));
    assert!(matches!(linkage_condensed(&[1.0, 2.0], Method::Single, false), Err(HierarchyError::BadCondensedLength(2))));

    match Method::from_name("wards") {
        Err(e @ HierarchyError::UnknownMethod { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("single") && msg.contains("ward") && msg.contains("centroid"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    match Metric::from_name("mahalanobis") {
        Err(e @ HierarchyError::UnknownMetric { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("euclidean") && msg.contains("wasserstein"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(Criterion::from_name("height"), Err(HierarchyError::UnknownCriterion { .. })));
    for m in [Method::Centroid, Method::Median, Method::Ward] {
        assert!(matches!(
            linkage(LinkageInput::Observations(x.view()), m, Metric::Cityblock, false),
            Err(HierarchyError::NonEuclideanMetric { .. })
        ));
        // a condensed matrix is taken as it is, like scipy
        assert!(linkage_condensed(&y, m, false).is_ok());
    }
    assert!(matches!(pdist(x.view(), Metric::Minkowski { p: 0.0 }), Err(HierarchyError::InvalidMetricParameter(_))));
    assert!(pdist(x.view(), Metric::Wasserstein).is_ok());
    let neg = Array2::from_shape_vec((2, 2), vec![1.0, -1.0, 1.0, 1.0]).expect("neg");
    assert!(matches!(pdist(neg.view(), Metric::Wasserstein), Err(HierarchyError::InvalidWeights { row: 0, .. })));
    let zero = Array2::from_shape_vec((2, 2), vec![0.0, 0.0, 1.0, 1.0]).expect("zero");
    assert!(matches!(pdist(zero.view(), Metric::Wasserstein), Err(HierarchyError::InvalidWeights { row: 0, .. })));
    // a zero row gives a NaN cosine distance (as scipy); linkage refuses it
    assert!(matches!(
        linkage(LinkageInput::Observations(zero.view()), Method::Single, Metric::Cosine, false),
        Err(HierarchyError::NonFinite { .. })
    ));

    // fcluster
    for c in [Criterion::Maxclust, Criterion::MaxclustMonocrit] {
        let mc = [0.5, 1.0];
        assert!(matches!(
            fcluster(z.view(), 0.9, c, 2, None, Some(&mc)),
            Err(HierarchyError::MaxclustTooSmall { .. })
        ));
    }
    assert_eq!(fcluster(z.view(), 2.7, Criterion::Maxclust, 2, None, None).expect("2.7 -> 2"), fcluster(z.view(), 2.0, Criterion::Maxclust, 2, None, None).expect("2"));
    assert!(matches!(fcluster(z.view(), 1.0, Criterion::Monocrit, 2, None, None), Err(HierarchyError::MissingMonocrit(_))));
    assert!(matches!(
        fcluster(z.view(), 1.0, Criterion::Monocrit, 2, None, Some(&[1.0])),
        Err(HierarchyError::BadMonocrit { expected: 2, got: 1, .. })
    ));
    assert!(matches!(fcluster(z.view(), f64::NAN, Criterion::Distance, 2, None, None), Err(HierarchyError::NanThreshold)));
    let r_bad = Array2::<f64>::zeros((2, 3));
    assert!(matches!(
        fcluster(z.view(), 1.0, Criterion::Inconsistent, 2, Some(r_bad.view()), None),
        Err(HierarchyError::BadRShape { expected_rows: 2, rows: 2, cols: 3 })
    ));
    let r_short = Array2::<f64>::zeros((1, 4));
    assert!(matches!(maxinconsts(z.view(), r_short.view()), Err(HierarchyError::BadRShape { .. })));
    let mut r_neg = inconsistent(z.view(), 2).expect("R");
    r_neg[[0, 2]] = -1.0;
    assert!(matches!(maxinconsts(z.view(), r_neg.view()), Err(HierarchyError::InvalidR(_))));
    let r = inconsistent(z.view(), 2).expect("R");
    assert!(matches!(max_r_stat(z.view(), r.view(), 4), Err(HierarchyError::BadRColumn(4))));

    // invalid Z
    let cases: Vec<(Vec<f64>, &str)> = vec![
        (vec![0.0, 1.0, 1.0, 2.0, 0.0, 3.0, 2.0, 3.0], "reuses cluster 0"),
        (vec![0.0, 3.0, 1.0, 2.0, 1.0, 2.0, 2.0, 3.0], "uses 3 before it is formed"),
        (vec![0.0, 1.0, -1.0, 2.0, 2.0, 3.0, 2.0, 3.0], "negative distance"),
        (vec![0.0, -1.0, 1.0, 2.0, 2.0, 3.0, 2.0, 3.0], "negative index"),
        (vec![0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 2.0, 9.0], "count > n"),
        (vec![0.0, 1.5, 1.0, 2.0, 2.0, 3.0, 2.0, 3.0], "non-integer id"),
        (vec![0.0, 1.0, f64::NAN, 2.0, 2.0, 3.0, 2.0, 3.0], "NaN height"),
    ];
    for (v, why) in cases {
        let zb = Array2::from_shape_vec((2, 4), v).expect("zb");
        let e1 = fcluster(zb.view(), 1.0, Criterion::Distance, 2, None, None);
        let e2 = inconsistent(zb.view(), 2);
        let e3 = leaves_list(zb.view());
        assert!(
            matches!(e1, Err(HierarchyError::InvalidLinkage(_) | HierarchyError::NonFinite { .. })) && e2.is_err() && e3.is_err(),
            "{why}: {e1:?}"
        );
    }
    let z3 = Array2::<f64>::zeros((2, 3));
    assert!(matches!(leaves_list(z3.view()), Err(HierarchyError::InvalidLinkage(_))));
    // wrong counts: fine for fcluster (scipy does not read them), refused by cophenet (which does)
    let mut zc = z.clone();
    zc[[1, 3]] = 2.0;
    assert!(fcluster(zc.view(), 1.0, Criterion::Distance, 2, None, None).is_ok());
    assert!(matches!(cophenet(zc.view(), &y), Err(HierarchyError::InvalidLinkage(_))));
    assert!(matches!(optimal_leaf_ordering(z.view(), &[1.0, 2.0]), Err(HierarchyError::BadCondensedLength(2))));
    assert!(matches!(
        optimal_leaf_ordering(z.view(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        Err(HierarchyError::CondensedSizeMismatch { expected: 3, got: 4 })
    ));

    // the node's single-pair wasserstein agrees with pdist
    let w = wasserstein_1d(&[0.0, 1.0, 3.0], &[2.0, 1.0, 0.0]).expect("w1");
    // cdfs (0, 1/4) and (2/3, 1): |0 - 2/3| + |1/4 - 1|
    assert!((w - (2.0 / 3.0 + 0.75)).abs() < 1e-15, "{w}");
}

/// Timing of the benchmark the project reports (500 curves x 3000 points): run with
/// `cargo test --release -p mesmerize_core --test cluster_hierarchy -- --ignored --nocapture`.
/// The scipy side: `python3 tests/golden/cluster/make_hierarchy_golden.py --bench`.
#[test]
#[ignore]
fn bench_500_curves_3000_points() {
    use rand::{Rng, SeedableRng};
    let (n, d) = (500usize, 3000usize);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let x = Array2::from_shape_fn((n, d), |_| rng.random::<f64>());
    let median3 = |f: &mut dyn FnMut()| {
        let mut ts: Vec<f64> = (0..3)
            .map(|_| {
                let t0 = std::time::Instant::now();
                f();
                t0.elapsed().as_secs_f64()
            })
            .collect();
        ts.sort_by(f64::total_cmp);
        ts[1]
    };
    let t_pd = median3(&mut || {
        std::hint::black_box(pdist(x.view(), Metric::Euclidean).expect("pdist"));
    });
    let t_eu = median3(&mut || {
        let y = pdist(x.view(), Metric::Euclidean).expect("pdist");
        std::hint::black_box(linkage_condensed(&y, Method::Complete, false).expect("linkage"));
    });
    let t_w = median3(&mut || {
        std::hint::black_box(pdist(x.view(), Metric::Wasserstein).expect("pdist"));
    });
    let y = pdist(x.view(), Metric::Euclidean).expect("pdist");
    let t_oo = median3(&mut || {
        std::hint::black_box(linkage_condensed(&y, Method::Complete, true).expect("linkage"));
    });
    eprintln!(
        "500x3000 (median of 3, {} rayon threads): pdist(euclidean) {:.3} s; pdist(euclidean)+linkage(complete) {:.3} s; pdist(wasserstein) {:.3} s; linkage(complete, optimal_ordering) {:.3} s",
        rayon::current_num_threads(),
        t_pd,
        t_eu,
        t_w,
        t_oo
    );
}
