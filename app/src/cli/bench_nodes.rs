//! `mesmerize bench nodes`: every node family on n curves x t points (default 500 x 3000), timed through
//! `run_node` exactly as flowcharts run them; the curves can be written to .npy so that the Python reference
//! (bench/nodes/peer_nodes.py) times the same data.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use mesmerize_core::analysis::nodes::{self, NodeContext, Port, columns};
use mesmerize_core::analysis::polars::prelude::*;
use mesmerize_core::analysis::{HistoryTrace, Transmission};
use serde_json::{Value, json};

/// `bench nodes` arguments.
#[derive(Debug, clap::Args)]
pub struct NodesBenchArgs {
    /// Number of curves.
    #[arg(long, default_value_t = 500)]
    pub curves: usize,
    /// Points per curve.
    #[arg(long, default_value_t = 3000)]
    pub points: usize,
    /// Timed runs per node (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Also write the curves to this .npy (float64, n x t) for bench/nodes/peer_nodes.py.
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// Only this benchmark (its name as printed).
    #[arg(long)]
    pub only: Option<String>,
}

/// Deterministic calcium-like curves: slow oscillations, transients and noise, with a 3-way group label.
fn curves(n: usize, t: usize) -> Vec<Vec<f64>> {
    let mut uniform = super::bench::uniform_stream(0x2026_1126_dead_beef);
    (0..n)
        .map(|i| {
            let f = 0.002 + 0.01 * (i % 3) as f64;
            let mut c = 0.0;
            (0..t)
                .map(|k| {
                    if uniform() < 0.004 {
                        c += 2.0;
                    }
                    c *= 0.97;
                    (k as f64 * f * std::f64::consts::TAU).sin() + c + 0.2 * (uniform() - 0.5)
                })
                .collect()
        })
        .collect()
}

fn transmission(rows: &[Vec<f64>]) -> anyhow::Result<Transmission> {
    let n = rows.len();
    let groups: Vec<String> = (0..n).map(|i| (i % 3).to_string()).collect();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("SampleID".into(), vec!["bench-_-1"; n]),
            Column::new("group".into(), groups),
            Column::new("meta".into(), vec![json!({"fps": 15.0}).to_string(); n]),
            columns::list_column("_RAW_CURVE", rows),
        ],
    )?;
    let mut h = HistoryTrace::new();
    h.create_data_block(&mut df)?;
    let mut t = Transmission::new(df, h);
    t.last_output = Some("_RAW_CURVE".into());
    t.last_unit = Some("time".into());
    Ok(t)
}

fn port(t: &Transmission) -> Vec<Port> {
    vec![Port::from_transmission(t.clone())]
}

/// Run the node benchmarks, one JSON line each: {"node", "seconds", "curves", "points"}.
pub fn run(a: &NodesBenchArgs) -> anyhow::Result<()> {
    let rows = curves(a.curves, a.points);
    if let Some(p) = &a.npy {
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        super::trn::write_npy_f64(p, &[a.curves, a.points], &flat)?;
        eprintln!("wrote {}", p.display());
    }
    let t = transmission(&rows)?;
    let positive = {
        let shifted: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(|v| v.abs() + 1.0).collect()).collect();
        transmission(&shifted)?
    };
    let ctx = NodeContext::default();
    let single = |name: &str, input: &Transmission, params: Value| -> (String, BTreeMap<String, Vec<Port>>, Value) {
        (name.to_string(), BTreeMap::from([("In".to_string(), port(input))]), params)
    };
    let one = |node: &str, input: &Transmission, params: Value| -> anyhow::Result<Transmission> {
        let out = nodes::run_node(node, &BTreeMap::from([("In".to_string(), port(input))]), &params, &ctx)?;
        match out.get("Out") {
            Some(Port::Transmission(t)) => Ok((**t).clone()),
            _ => anyhow::bail!("{node} gave no Transmission"),
        }
    };
    let rfft = one("RFFT", &t, json!({}))?;
    let deriv = one("Derivative", &t, json!({}))?;
    let norm = one("Normalize", &t, json!({}))?;
    let linkage = nodes::run_node(
        "Linkage",
        &BTreeMap::from([("In".to_string(), port(&t))]),
        &json!({"method": "complete", "metric": "euclidean", "optimal_order": false}),
        &ctx,
    )?;
    let link_port = linkage.get("Out").cloned().ok_or_else(|| anyhow::anyhow!("no linkage"))?;
    let half = format!("0:{}", a.points / 2);
    let mut cases: Vec<(String, BTreeMap<String, Vec<Port>>, Value)> = vec![
        single("Butterworth", &t, json!({"order": 2, "freq_divisor": 2.0})),
        single("SavitzkyGolay", &t, json!({"window_length": 11, "polyorder": 3})),
        single("PowSpecDens", &t, json!({})),
        single("Resample", &t, json!({"Rs": 5, "Tu": 1})),
        single("ScalerMeanVariance", &t, json!({})),
        single("Normalize", &t, json!({})),
        single("RFFT", &t, json!({})),
        single("iRFFT", &rfft, json!({})),
        single("Derivative", &t, json!({})),
        single("XpowerY", &t, json!({"Y": 2.0})),
        single("AbsoluteValue", &t, json!({})),
        single("LogTransform", &t, json!({"transform": "modln"})),
        single("ArrayStats", &t, json!({"function": "mean", "output_col": "m"})),
        single("ZScore", &t, json!({})),
        single("LinRegress", &t, json!({})),
        single("StaticDFoFo", &positive, json!({})),
        single("SigmaMAD", &t, json!({})),
        single("SpliceArrays", &t, json!({"indices": half})),
        single("Linkage euclidean", &t, json!({"method": "complete", "metric": "euclidean", "optimal_order": false})),
        single("Linkage wasserstein", &t, json!({"method": "complete", "metric": "wasserstein", "optimal_order": false})),
        ("FCluster".into(), BTreeMap::from([("Linkage".into(), vec![link_port]), ("Data".into(), port(&t))]), json!({"threshold": 5, "criterion": "maxclust"})),
        single("KMeans", &t, json!({"n_clusters": 5, "n_init": 10})),
        single("PCA", &t, json!({"n_components": 2})),
        ("LDA".into(), BTreeMap::from([("train".into(), port(&t))]), json!({"train_data": ["_RAW_CURVE"], "train_labels": "group"})),
        single("KShape", &t, json!({"n_clusters": 3, "n_init": 1})),
        (
            "PeakDetect".into(),
            BTreeMap::from([("Derivative".into(), port(&deriv)), ("Normalized".into(), port(&norm)), ("Curve".into(), port(&t))]),
            json!({"AmplThrAbs": 0.1}),
        ),
    ];
    if let Some(o) = &a.only {
        cases.retain(|c| &c.0 == o);
    }
    for (label, inputs, params) in cases {
        let node = label.split(' ').next().unwrap_or(&label).to_string();
        let mut times = Vec::new();
        for _ in 0..a.repeats.max(1) {
            let t0 = Instant::now();
            nodes::run_node(&node, &inputs, &params, &ctx).map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!("{}", json!({"node": label, "seconds": median, "curves": a.curves, "points": a.points}));
    }
    Ok(())
}
