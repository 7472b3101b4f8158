//! Plot data against hand-computed values and the original's formulas: proportions (pandas groupby/unstack
//! semantics), beeswarm groups, and the clustering metrics (centre-like member, radius, Davies-Bouldin).

use mesmerize_core::analysis::cluster::hierarchy::Metric;
use mesmerize_core::analysis::ndarray::array;
use mesmerize_core::analysis::plot_data::{beeswarm, clustering_metrics, proportions};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn proportions_match_pandas_groupby_unstack() {
    let xs = s(&["a", "a", "a", "b", "b", "c"]);
    let ys = s(&["n", "n", "g", "g", "g", "n"]);
    let p = proportions::proportions(&xs, &ys, false, true).expect("props");
    assert_eq!(p.xs, s(&["a", "b", "c"]));
    assert_eq!(p.ys, s(&["g", "n"]));
    assert!((p.values[0][0] - 100.0 / 3.0).abs() < 1e-12 && (p.values[0][1] - 200.0 / 3.0).abs() < 1e-12);
    assert_eq!(p.values[1][0], 100.0);
    assert!(p.values[1][1].is_nan(), "pandas leaves NaN where a combination never occurs");
    let c = proportions::proportions(&xs, &ys, true, false).expect("counts, swapped");
    assert_eq!(c.xs, s(&["g", "n"]));
    assert_eq!(c.values[0][0], 1.0);
    assert_eq!(c.values[0][1], 2.0);
    assert!(proportions::proportions(&xs, &ys[..2], false, true).is_err());
}

#[test]
fn beeswarm_groups_keep_order_and_uuids() {
    let labels = s(&["wt", "ko", "wt"]);
    let g = beeswarm::groups(&labels, &[("_AMP".into(), vec![1.0, 2.0, 3.0])], &s(&["u1", "u2", "u3"])).expect("groups");
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].label, "wt");
    assert_eq!(g[0].values["_AMP"], vec![1.0, 3.0]);
    assert_eq!(g[0].uuids, s(&["u1", "u3"]));
}

#[test]
fn davies_bouldin_with_centerlike_members() {
    // Two clusters on a line: {0, 1, 2} and {10, 11}. Centre-like: 1 (sum 2) and 10 (first of the tie).
    let x = array![[0.0], [1.0], [2.0], [10.0], [11.0]];
    let (score, per) = clustering_metrics::davies_bouldin(x.view(), &[0, 0, 0, 1, 1], Metric::Euclidean).expect("db");
    // radii: (1 + 1) / 2 = 1 and 1 / 1 = 1; centroid distance 9 -> each score (1 + 1) / 9.
    assert!((per[0] - 2.0 / 9.0).abs() < 1e-12 && (per[1] - 2.0 / 9.0).abs() < 1e-12, "{per:?}");
    assert!((score - 2.0 / 9.0).abs() < 1e-12);
    let d = array![[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]];
    assert_eq!(clustering_metrics::centerlike(d.view()), 1);
    assert!((clustering_metrics::cluster_radius(d.view(), 1) - 1.0).abs() < 1e-12);
}
