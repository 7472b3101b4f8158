//! Signal / Math / Data nodes against golden values from numpy 2.4.6, scipy 1.17.1 and tslearn 0.10.0
//! (tests/golden/nodes/make_nodes_golden.py): every case runs through `run_node` as the flowchart and
//! `mesmerize node` do, on a Transmission carrying the fps in `meta`.

#[path = "support/golden.rs"]
mod golden_file;

use std::collections::BTreeMap;

use mesmerize_core::analysis::nodes::{self, NodeContext, Port, columns};
use mesmerize_core::analysis::polars::prelude::*;
use mesmerize_core::analysis::{HistoryTrace, Transmission};
use serde_json::{Value, json};

fn golden() -> Value {
    golden_file::json("nodes/nodes_golden.json")
}

fn rows_of(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect()
}

/// A Transmission with `_RAW_CURVE` = rows (lengths may differ), fps in `meta`, one data block.
fn transmission(rows: &[Vec<f64>], fps: f64) -> Transmission {
    let n = rows.len();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("SampleID".into(), vec!["a-_-1"; n]),
            Column::new("meta".into(), vec![json!({"fps": fps}).to_string(); n]),
            columns::list_column("_RAW_CURVE", rows),
        ],
    )
    .unwrap();
    let mut h = HistoryTrace::new();
    h.create_data_block(&mut df).unwrap();
    let mut t = Transmission::new(df, h);
    t.last_output = Some("_RAW_CURVE".into());
    t.last_unit = Some("time".into());
    t
}

fn run(node: &str, t: Transmission, params: &Value) -> Transmission {
    let inputs = BTreeMap::from([("In".to_string(), vec![Port::from_transmission(t)])]);
    let out = nodes::run_node(node, &inputs, params, &NodeContext::default()).unwrap_or_else(|e| panic!("{node} {params}: {e}"));
    match out.get("Out") {
        Some(Port::Transmission(t)) => *t.clone(),
        other => panic!("{node}: no Transmission out: {other:?}"),
    }
}

fn close(got: f64, want: f64, scale: f64) -> f64 {
    if got == want || (got.is_nan() && want.is_nan()) {
        return 0.0;
    }
    (got - want).abs() / want.abs().max(1e-6 * scale).max(f64::MIN_POSITIVE)
}

#[test]
fn nodes_match_numpy_scipy_tslearn() {
    let g = golden();
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    for c in g["cases"].as_array().unwrap() {
        let node = c["node"].as_str().unwrap();
        let rows = rows_of(&c["rows"]);
        let out = run(node, transmission(&rows, c["fps"].as_f64().unwrap()), &c["params"]);
        let col = c["column"].as_str().unwrap();
        let expected = c["expected"].as_array().unwrap();
        let label = format!("{node} {}", c["params"]);
        let err = if expected[0].is_number() {
            let want: Vec<f64> = expected.iter().map(|v| v.as_f64().unwrap()).collect();
            let got = columns::read_scalars(&out, col).unwrap();
            assert_eq!(got.len(), want.len(), "{label}: rows");
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            got.iter().zip(&want).map(|(g, w)| close(*g, *w, scale)).fold(0.0, f64::max)
        } else {
            let want = rows_of(&c["expected"]);
            let got = columns::read_curves(&out, col).unwrap();
            assert_eq!(got.len(), want.len(), "{label}: rows");
            let mut e = 0.0f64;
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.len(), w.len(), "{label}: length");
                let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                e = g.iter().zip(w).map(|(a, b)| close(*a, *b, scale)).fold(e, f64::max);
            }
            e
        };
        assert!(err <= 1e-9, "{label}: column {col}: max relative error {err:.3e} > 1e-9");
        let w = worst.entry(node.to_string()).or_insert(0.0);
        *w = w.max(err);
        // The history logs the operation with its data column.
        let block = out.history.data_blocks()[0].clone();
        assert!(out.history.get_operations_list(&block).unwrap().len() == 1, "{label}: one operation logged");
        if let Some(f) = c.get("frequencies") {
            let ops = out.history.get_data_block_history(&block).unwrap();
            let logged = ops[0].params["frequencies"].as_array().expect("frequencies logged");
            let want = f.as_array().unwrap();
            assert_eq!(logged.len(), want.len(), "{label}: frequency axis length");
            for (a, b) in logged.iter().zip(want) {
                assert!((a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 1e-12 * b.as_f64().unwrap().abs().max(1.0));
            }
        }
    }
    eprintln!("max relative error per node: {worst:?}");
    assert!(worst.len() >= 19, "every numeric node covered: {worst:?}");
}

#[test]
fn simpson_matches_scipy() {
    let g = golden();
    for s in g["simpson"].as_array().unwrap() {
        let y: Vec<f64> = s["y"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let want = s["area"].as_f64().unwrap();
        let got = nodes::simpson(&y);
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "n={}: {got} vs {want}", y.len());
    }
}
