//! The docs' hierarchical-clustering flowchart (LoadProjDF -> SpliceArrays -> Normalize -> RFFT -> AbsoluteValue ->
//! LogTransform -> SpliceArrays -> Linkage -> FCluster, resources/flowcharts/hierarchical_clustering.fc) run headless
//! on a simulated project: its history matches the documented operation list; per-node caching recomputes only what
//! lies downstream of a parameter change; `.fc` files round-trip; cycles and kind mismatches are refused.

mod support;

use std::collections::BTreeMap;

use mesmerize_core::analysis::flowchart::{self, Endpoint, Flowchart, FlowchartError, Runner};
use mesmerize_core::analysis::nodes::{NodeContext, Port, columns};
use mesmerize_core::progress::NoProgress;
use mesmerize_core::project::{NewSample, Project, ProjectConfig, WorkEnv};
use mesmerize_core::roi::{Roi, RoiGeometry};
use serde_json::json;

const T: usize = 240;

fn work_env(seed: u64, n: usize) -> WorkEnv {
    let (img, truth) = support::movie(seed, 64, T);
    let mut env = WorkEnv::new(img);
    for nrn in truth.neurons.iter().filter(|n| n.cx > 5.0 && n.cy > 5.0 && n.cx < 58.0 && n.cy < 58.0).take(n) {
        let mut roi = Roi::new(RoiGeometry::Ellipse { cx: nrn.cx, cy: nrn.cy, rx: 2.5, ry: 2.5, angle_deg: 0.0 });
        roi.tags.insert("cell_type".into(), "neuron".into());
        env.rois.push(roi).expect("push");
    }
    env.compute_curves(&NoProgress).expect("curves");
    env
}

fn project(dir: &std::path::Path) -> Project {
    let cfg = ProjectConfig { roi_type_columns: vec!["cell_type".into()], ..Default::default() };
    let mut p = Project::create(dir, cfg).expect("create");
    for (i, animal) in ["a1", "a2", "a3"].iter().enumerate() {
        let env = work_env(40 + i as u64, 4);
        let s = NewSample { animal_id: animal.to_string(), trial_id: "1".into(), work_env: &env, custom: BTreeMap::new(), comments: String::new() };
        p.add_sample(&s, &NoProgress).expect("add");
    }
    p
}

fn example() -> Flowchart {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../resources/flowcharts/hierarchical_clustering.fc");
    flowchart::load(std::path::Path::new(path)).expect("example flowchart loads")
}

#[test]
fn docs_example_runs_headless_with_documented_history_and_caching() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("proj");
    let p = project(&dir);
    let n = p.dataframe().height();
    assert!(n >= 10, "three samples with ROIs: {n} rows");

    let mut chart = example();
    let ctx = NodeContext { project: Some(dir.clone()), base_dir: None };
    let mut runner = Runner::new();
    let report = runner.run(&chart, &ctx).expect("run");
    assert_eq!(report.computed.len(), 9, "every node computed once: {report:?}");
    assert!(report.cached.is_empty());

    let t = match runner.outputs("FCluster.0").and_then(|o| o.get("Out")) {
        Some(Port::Transmission(t)) => t.clone(),
        other => panic!("FCluster produced {other:?}"),
    };
    assert_eq!(t.df.height(), n);
    let block = t.history.data_blocks()[0].clone();
    assert_eq!(
        t.history.get_operations_list(&block).expect("ops"),
        ["spawn_transmission", "splice_arrays", "normalize", "rfft", "absolute_value", "log_transform", "splice_arrays", "fcluster"]
    );
    let fp = t.history.get_operation_params(&block, "fcluster").expect("fcluster params");
    assert_eq!(fp["criterion"], "maxclust");
    assert_eq!(fp["linkage_params"]["method"], "complete");
    assert_eq!(fp["linkage_params"]["metric"], "wasserstein");
    assert_eq!(fp["linkage_params"]["optimal_ordering"], true);
    assert_eq!(fp["linkage_matrix"].as_array().expect("Z").len(), n - 1, "n - 1 merges");
    let rfft = t.history.get_operation_params(&block, "rfft").expect("rfft params");
    assert_eq!(rfft["frequencies"].as_array().expect("freqs").len(), 200);
    let labels = t.df.column("FCLUSTER_LABELS").expect("labels").i32().expect("i32").into_no_null_iter().collect::<Vec<_>>();
    let mut distinct = labels.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(!distinct.is_empty() && distinct.len() <= 3 && distinct[0] == 1, "maxclust 3 labels: {labels:?}");
    let spliced = columns::read_curves(&t, "_SPLICE_ARRAYS").expect("spliced");
    assert!(spliced.iter().all(|c| c.len() == 100));

    // Nothing changed: everything comes from the cache.
    let again = runner.run(&chart, &ctx).expect("rerun");
    assert!(again.computed.is_empty() && again.cached.len() == 9, "{again:?}");

    // A parameter change recomputes that node and what lies downstream, nothing upstream.
    chart.set_params("FCluster.0", json!({"threshold": 2, "criterion": "maxclust", "depth": 1})).expect("params");
    assert_eq!(runner.run(&chart, &ctx).expect("run").computed, ["FCluster.0"]);
    chart.set_params("SpliceArrays.1", json!({"data_column": "_LOG_TRANSFORM", "indices": "1:80"})).expect("params");
    assert_eq!(runner.run(&chart, &ctx).expect("run").computed, ["SpliceArrays.1", "Linkage.0", "FCluster.0"]);
    chart.set_params("LogTransform.0", json!({"data_column": "_ABSOLUTE_VALUE", "transform": "modln"})).expect("params");
    assert_eq!(runner.run(&chart, &ctx).expect("run").computed, ["LogTransform.0", "SpliceArrays.1", "Linkage.0", "FCluster.0"]);

    // Bad parameters are refused before anything changes.
    let err = chart.set_params("FCluster.0", json!({"criterion": "sometimes"})).expect_err("bad criterion");
    assert!(err.to_string().contains("FCluster.0") && err.to_string().contains("criterion"), "{err}");

    // Save and load round trip.
    let fc = tmp.path().join("saved.fc");
    flowchart::save(&fc, &chart).expect("save");
    assert_eq!(flowchart::load(&fc).expect("load"), chart);
}

#[test]
fn cycles_kind_mismatches_and_bad_files_are_refused() {
    let mut f = Flowchart::new();
    let a = f.add("Normalize", json!({})).expect("a");
    let b = f.add("AbsoluteValue", json!({})).expect("b");
    f.connect(Endpoint::new(&a, "Out"), Endpoint::new(&b, "In")).expect("a->b");
    let err = f.connect(Endpoint::new(&b, "Out"), Endpoint::new(&a, "In")).expect_err("cycle");
    assert!(matches!(err, FlowchartError::Cycle(_)), "{err}");
    assert!(err.to_string().contains("Normalize.0") && err.to_string().contains("AbsoluteValue.0"), "{err}");
    assert_eq!(f.connections().len(), 1, "the refused connection is not kept");

    let l = f.add("Linkage", json!({})).expect("linkage");
    let err = f.connect(Endpoint::new(&l, "Out"), Endpoint::new(&b, "In")).expect_err("kind");
    assert!(matches!(err, FlowchartError::KindMismatch { .. }), "{err}");
    let err = f.connect(Endpoint::new(&a, "Out"), Endpoint::new(&b, "In")).expect_err("taken");
    assert!(matches!(err, FlowchartError::InputTaken(_)), "{err}");
    let err = f.connect(Endpoint::new(&a, "Nope"), Endpoint::new(&l, "In")).expect_err("terminal");
    assert!(err.to_string().contains("no output terminal 'Nope'"), "{err}");
    assert!(f.add("Butterworthh", json!({})).expect_err("unknown type").to_string().contains("unknown node"));

    let tmp = tempfile::tempdir().expect("tmp");
    let bad = tmp.path().join("bad.fc");
    std::fs::write(&bad, "{not json").expect("write");
    let err = flowchart::load(&bad).expect_err("bad json");
    assert!(err.to_string().contains("bad.fc"), "{err}");
    std::fs::write(&bad, r#"{"format": "mesmerize-flowchart-v1", "nodes": [{"name": "x", "type": "Normalize", "params": {"order": 3}}]}"#).expect("write");
    let err = flowchart::load(&bad).expect_err("bad param");
    assert!(err.to_string().contains("order"), "{err}");
}
