//! Nodes without a library reference to compare against, checked against values known by construction: stimulus
//! extraction and tuning on a hand-made stimulus map, peak detection and features on curves with known peaks,
//! TVDiff recovering the derivative of a noisy sine, and the row-selecting Data / Math nodes.

use std::collections::BTreeMap;

use mesmerize_core::analysis::nodes::{self, NodeContext, Port, columns};
use mesmerize_core::analysis::polars::prelude::*;
use mesmerize_core::analysis::{HistoryTrace, Transmission};
use serde_json::{Value, json};

/// Rows of curves with SampleID, a category column, fps 10 and one stimulus map (frames) per row.
fn transmission(rows: &[Vec<f64>], samples: &[&str], cats: &[&str], stim_maps: &Value) -> Transmission {
    let n = rows.len();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("SampleID".into(), samples.to_vec()),
            Column::new("cell".into(), cats.to_vec()),
            Column::new("uuid_curve".into(), (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>()),
            Column::new("meta".into(), vec![json!({"fps": 10.0}).to_string(); n]),
            Column::new("stim_maps".into(), vec![stim_maps.to_string(); n]),
            columns::list_column("_RAW_CURVE", rows),
        ],
    )
    .expect("df");
    let mut h = HistoryTrace::new();
    h.create_data_block(&mut df).expect("block");
    let mut t = Transmission::new(df, h);
    t.last_output = Some("_RAW_CURVE".into());
    t
}

fn run(node: &str, inputs: Vec<(&str, &Transmission)>, params: Value) -> Transmission {
    let mut map: BTreeMap<String, Vec<Port>> = BTreeMap::new();
    for (term, t) in inputs {
        map.entry(term.to_string()).or_default().push(Port::from_transmission(t.clone()));
    }
    match nodes::run_node(node, &map, &params, &NodeContext::default()).unwrap_or_else(|e| panic!("{node}: {e}")).remove("Out") {
        Some(Port::Transmission(t)) => *t,
        other => panic!("{node}: {other:?}"),
    }
}

fn strs(t: &Transmission, col: &str) -> Vec<String> {
    columns::read_labels(t, col).expect("labels").into_iter().map(|v| v.unwrap_or_default()).collect()
}

fn map() -> Value {
    json!({"odor": {"units": "frames", "periods": [
        {"name": "water", "start": 2.0, "end": 5.0, "color": [0, 0, 255, 255]},
        {"name": "amino", "start": 10.0, "end": 14.0, "color": [255, 0, 0, 255]}]}})
}

#[test]
fn extract_stim_and_tuning_on_a_known_map() {
    let ramp: Vec<f64> = (0..20).map(f64::from).collect();
    let t = transmission(&[ramp.clone(), ramp.iter().map(|v| v * 2.0).collect()], &["a-_-1", "a-_-1"], &["n", "g"], &map());
    let out = run("ExtractStim", vec![("In", &t)], json!({"Stim_Type": "odor", "start_offset": -1, "end_offset": 2}));
    // Periods sorted by start, then every curve of the sample: water (1..7), amino (9..16).
    assert_eq!(strs(&out, "ST_NAME"), ["water", "water", "amino", "amino"]);
    let pieces = columns::read_curves(&out, "_ST_CURVE").expect("curves");
    assert_eq!(pieces[0], (1..7).map(f64::from).collect::<Vec<_>>());
    assert_eq!(pieces[3], (9..16).map(|v| f64::from(v) * 2.0).collect::<Vec<_>>());
    assert_eq!(columns::read_scalars(&out, "_ST_START_IX").expect("start"), [1.0, 1.0, 9.0, 9.0]);
    assert_eq!(strs(&out, "ST_TYPE"), ["odor"; 4]);

    let tuned = run("StimTuning", vec![("In", &t)], json!({"method": "mean"}));
    // Text stimuli sorted: amino (frames 10..14, mean 11.5), water (2..5, mean 3).
    let y = columns::read_curves(&tuned, "_TUNE_CURVE_odor_yvals").expect("yvals");
    assert_eq!(y[0], [11.5, 3.0]);
    assert_eq!(y[1], [23.0, 6.0]);
    assert_eq!(strs(&tuned, "TUNE_MAX_odor"), ["amino", "amino"]);
    assert_eq!(strs(&tuned, "TUNE_MIN_odor"), ["water", "water"]);
}

#[test]
fn peaks_found_inside_their_bases_with_features() {
    // Two Gaussian transients on a flat baseline, at 30 and 70.
    let sig: Vec<f64> = (0..100).map(|k| {
        let k = f64::from(k);
        3.0 * (-((k - 30.0) / 4.0).powi(2)).exp() + 2.0 * (-((k - 70.0) / 5.0).powi(2)).exp()
    }).collect();
    let t = transmission(&[sig.clone()], &["a-_-1"], &["n"], &map());
    let d = run("Derivative", vec![("In", &t)], json!({}));
    let n = run("Normalize", vec![("In", &t)], json!({}));
    let pd = run("PeakDetect", vec![("Derivative", &d), ("Normalized", &n), ("Curve", &t)], json!({"AmplThrAbs": 0.2, "AmplThrRel": 0.1}));
    let pb: Vec<Value> = serde_json::from_str(&strs(&pd, "peaks_bases")[0]).expect("json");
    let peaks: Vec<u64> = pb.iter().filter(|r| r["label"] == "peak").map(|r| r["event"].as_u64().expect("ix")).collect();
    assert_eq!(peaks, [30, 70], "{pb:?}");
    let pf = run("PeakFeatures", vec![("In", &pd)], json!({"data_column": "_RAW_CURVE"}));
    assert_eq!(pf.df.height(), 2);
    let amp = columns::read_scalars(&pf, "_pf_ampl_rel_zero").expect("amp");
    assert!((amp[0] - 3.0).abs() < 1e-9 && (amp[1] - 2.0).abs() < 1e-9, "{amp:?}");
    let (l, r) = (columns::read_scalars(&pf, "_pf_b_ix_l").expect("l"), columns::read_scalars(&pf, "_pf_b_ix_r").expect("r"));
    assert!(l[0] < 30.0 && r[0] > 30.0 && l[1] < 70.0 && r[1] > 70.0, "peaks inside their bases: {l:?} {r:?}");
    // Area of the first transient: 3 * 4 * sqrt(pi) (the bases are far enough out to hold nearly all of it).
    let area = columns::read_scalars(&pf, "_pf_area_rel_zero").expect("area");
    assert!((area[0] - 3.0 * 4.0 * std::f64::consts::PI.sqrt()).abs() < 0.5, "{area:?}");
}

#[test]
fn tvdiff_recovers_the_derivative_of_a_noisy_sine() {
    let dx = 0.05;
    let xs: Vec<f64> = (0..126).map(|k| f64::from(k) * dx).collect();
    // Deterministic pseudo-noise, sd ~0.03.
    let noisy: Vec<f64> = xs.iter().enumerate().map(|(k, x)| x.sin() + 0.03 * (((k * 7919) % 101) as f64 / 50.0 - 1.0)).collect();
    let t = transmission(&[noisy], &["a-_-1"], &["n"], &map());
    for scale in ["small", "large"] {
        let out = run("TVDiff", vec![("In", &t)], json!({"alpha": 0.1, "dx": dx, "ep": 0.01, "scale": scale, "iterations": 50}));
        let u = &columns::read_curves(&out, "_TVDIFF").expect("tvdiff")[0];
        // Compare with cos(x) away from the ends.
        let inner: Vec<f64> = (10..110).map(|k| (u[k] - xs[k].cos()).powi(2)).collect();
        let rms = (inner.iter().sum::<f64>() / inner.len() as f64).sqrt();
        assert!(rms < 0.15, "{scale}: rms error vs cos {rms}");
    }
}

#[test]
fn row_nodes_filter_group_and_drop() {
    let rows = vec![vec![1.0, 2.0], vec![3.0, 5.0], vec![0.0, 10.0], vec![4.0, 4.0]];
    let t = transmission(&rows, &["a-_-1", "a-_-1", "b-_-1", "b-_-1"], &["n", "g", "n", "n"], &map());
    let f = run("TextFilter", vec![("In", &t)], json!({"Column": "cell", "filter": "n"}));
    assert_eq!(f.df.height(), 3);
    let x = run("TextFilter", vec![("In", &t)], json!({"Column": "cell", "filter": "n", "Exclude": true}));
    assert_eq!(strs(&x, "uuid_curve"), ["u1"]);
    // ZScore per group: rows regrouped (group order of first appearance), each group standardised on its own.
    let z = run("ZScore", vec![("In", &t)], json!({"group_by": "SampleID"}));
    let zc = columns::read_curves(&z, "_ZSCORE").expect("z");
    let g0: Vec<f64> = zc[..2].iter().flatten().copied().collect();
    assert!(g0.iter().sum::<f64>().abs() < 1e-12 && (g0.iter().map(|v| v * v).sum::<f64>() / 4.0 - 1.0).abs() < 1e-12);
    // ArrayStats mean per group, and ArgGroupStat: the row with the largest value per group.
    let s = run("ArrayStats", vec![("In", &t)], json!({"function": "mean", "group_by": "SampleID", "output_col": "m"}));
    assert_eq!(columns::read_curves(&s, "_M").expect("m"), [vec![2.0, 3.5], vec![2.0, 7.0]]);
    let mx = run("ArrayStats", vec![("In", &t)], json!({"function": "amax", "output_col": "peak"}));
    let a = run("ArgGroupStat", vec![("In", &mx)], json!({"data_column": "_PEAK", "group_by": "SampleID", "return_col": "uuid_curve"}));
    assert_eq!(strs(&a, "ARG_STAT"), ["u1", "u2"]);
    // DropNa on a column with a NaN.
    let mut with_nan = mx.clone();
    with_nan.df.with_column(Column::new("_X".into(), vec![1.0, f64::NAN, 2.0, 3.0])).expect("col");
    let d = run("DropNa", vec![("In", &with_nan)], json!({"column": "_X"}));
    assert_eq!(strs(&d, "uuid_curve"), ["u0", "u2", "u3"]);
    // Merge keeps both blocks' histories.
    // Two branches of one Transmission merged: each keeps its own log under its own data block.
    let m = run("Merge", vec![("In", &f), ("In", &x)], json!({}));
    assert_eq!(m.df.height(), 4);
    let blocks = m.history.data_blocks().to_vec();
    assert_eq!(blocks.len(), 2);
    let excl: Vec<bool> =
        blocks.iter().map(|b| m.history.get_operation_params(b, "text_filter").expect("op")["exclude"].as_bool().expect("bool")).collect();
    assert_eq!(excl, [false, true]);
    assert_eq!(strs(&m, "_BLOCK_").iter().filter(|b| **b == blocks[1]).count(), 1);
}
