//! `mesmerize node` and `mesmerize flowchart` end to end on .trn files: signal nodes, the hierarchical-clustering
//! chain with linkage / inconsistency / monocrit JSON files between nodes, `--list`, the docs' example flowchart fed
//! with `--input`, and one-line errors for bad names, parameters and inputs.

use std::path::Path;

#[path = "support/cli.rs"]
mod support;
use support::{err, json, ok};

/// A little-endian float64 C-order .npy file.
fn write_npy(path: &Path, rows: &[Vec<f64>]) {
    let (n, t) = (rows.len(), rows[0].len());
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {t}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for r in rows {
        for v in r {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).expect("write npy");
}

/// Two families of curves (slow and fast oscillations) with a little deterministic noise.
fn curves() -> Vec<Vec<f64>> {
    (0..12)
        .map(|i| {
            let f = if i % 2 == 0 { 0.02 } else { 0.15 };
            (0..300).map(|k| ((k as f64) * f * std::f64::consts::TAU + 0.05 * i as f64).sin() + 0.05 * ((k * 7 + i * 13) % 11) as f64).collect()
        })
        .collect()
}

fn ops(show: &serde_json::Value) -> Vec<String> {
    let h = &show["history"];
    let block = h["datablocks"][0].as_str().expect("block").to_string();
    h["history"][&block].as_array().expect("ops").iter().map(|o| o.as_object().expect("op").keys().next().expect("name").clone()).collect()
}

#[test]
fn nodes_and_flowcharts_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    write_npy(&d.join("c.npy"), &curves());
    ok(&["trn", "import-npy", "c.npy", "--out", "in.trn", "--fps", "15"], d);

    ok(&["node", "Butterworth", "in.trn", "b.trn", "--params", r#"{"order": 2, "cutoff_hz": 3.0}"#], d);
    ok(&["node", "Normalize", "b.trn", "n.trn"], d);
    let show = json(&ok(&["trn", "show", "n.trn", "--json"], d));
    assert_eq!(ops(&show), ["import_npy", "butterworth", "normalize"]);
    assert_eq!(show["last_output"], "_NORMALIZE");

    // Linkage writes JSON; FCluster takes it on its Linkage terminal, with every criterion.
    ok(&["node", "Linkage", "n.trn", "link.json", "--params", r#"{"method": "average", "metric": "euclidean", "optimal_order": false}"#], d);
    let link: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("link.json")).expect("read")).expect("json");
    assert_eq!(link["kind"], "linkage");
    assert_eq!(link["Z"].as_array().expect("Z").len(), 11);
    ok(&["node", "FCluster", "n.trn", "f.trn", "--in", "Linkage=link.json", "--params", r#"{"threshold": 2, "criterion": "maxclust"}"#], d);
    ok(&["trn", "export", "f.trn", "--column", "FCLUSTER_LABELS", "--npy", "labels.npy"], d);
    let raw = std::fs::read(d.join("labels.npy")).expect("labels");
    let labels: Vec<f64> = raw[raw.len() - 12 * 8..].chunks(8).map(|b| f64::from_le_bytes(b.try_into().expect("8"))).collect();
    // The two families separate: even rows in one cluster, odd rows in the other.
    for i in 0..12 {
        assert_eq!(labels[i] == labels[0], i % 2 == 0, "labels {labels:?}");
    }
    ok(&["node", "Inconsistent", "-", "inc.json", "--in", "Linkage=link.json", "--params", r#"{"levels": 2}"#], d);
    ok(&["node", "FCluster", "n.trn", "f2.trn", "--in", "Linkage=link.json", "--in", "IncM=inc.json", "--params", r#"{"threshold": 1.0, "criterion": "inconsistent"}"#], d);
    ok(&["node", "MaxIncStat", "-", "ms.json", "--in", "Linkage=link.json", "--in", "IncM=inc.json", "--params", r#"{"Stat": "mean"}"#], d);
    ok(&["node", "MaxInconsistent", "-", "mi.json", "--in", "Linkage=link.json", "--in", "IncM=inc.json"], d);
    ok(&["node", "FCluster", "n.trn", "f3.trn", "--in", "Linkage=link.json", "--in", "Monocrit=mi.json", "--params", r#"{"threshold": 2, "criterion": "maxclust_monocrit"}"#], d);
    let show = json(&ok(&["trn", "show", "f3.trn", "--json"], d));
    assert_eq!(ops(&show).last().map(String::as_str), Some("fcluster"));

    // Errors are one line naming what is wrong.
    assert!(err(&["node", "Butterwort", "in.trn", "x.trn"], d).contains("unknown node 'Butterwort'"));
    assert!(err(&["node", "Butterworth", "in.trn", "x.trn", "--params", r#"{"ordr": 2}"#], d).contains("no such parameter"));
    assert!(err(&["node", "Butterworth", "in.trn", "x.trn", "--params", r#"{"order": "two"}"#], d).contains("order"));
    assert!(err(&["node", "FCluster", "n.trn", "x.trn", "--in", "Linkage=inc.json"], d).contains("takes 'linkage'"));
    assert!(err(&["node", "FCluster", "n.trn", "x.trn", "--params", r#"{"criterion": "monocrit"}"#, "--in", "Linkage=link.json"], d).contains("Monocrit"));
    assert!(!d.join("x.trn").exists(), "nothing written on error");

    let list = json(&ok(&["node", "--list", "--json"], d));
    let names: Vec<&str> = list.as_array().expect("list").iter().map(|n| n["name"].as_str().expect("name")).collect();
    for n in ["LoadProjDF", "Butterworth", "PowSpecDens", "PeakDetect", "TVDiff", "ZScore", "ExtractStim", "KShape", "FCluster", "LDA", "PCA", "PadArrays", "SigmaMAD"] {
        assert!(names.contains(&n), "{n} missing from --list");
    }

    // The docs' example flowchart, fed with a saved Transmission instead of the project.
    let fc = concat!(env!("CARGO_MANIFEST_DIR"), "/../resources/flowcharts/hierarchical_clustering.fc");
    ok(&["flowchart", "check", fc], d);
    ok(&["flowchart", "run", fc, "--input", "in.trn", "--out", "fc.trn"], d);
    let show = json(&ok(&["trn", "show", "fc.trn", "--json"], d));
    assert_eq!(ops(&show), ["import_npy", "splice_arrays", "normalize", "rfft", "absolute_value", "log_transform", "splice_arrays", "fcluster"]);
    assert!(err(&["flowchart", "run", fc, "--out", "fc2.trn"], d).contains("project"));
}
