//! Clustering nodes: Linkage, FCluster, Inconsistent, MaxIncStat, MaxInconsistent (scipy.cluster.hierarchy),
//! KMeans (sklearn), KShape (tslearn).

use std::collections::BTreeMap;

use ndarray::Array2;
use polars::prelude::*;
use serde_json::{Value, json};

use super::columns::{equal_length, set_column};
use super::flat::FlatCurves;
use super::spec::{IN, OUT};
use super::{
    Category, InconsistencyData, LinkageData, MonocritData, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D,
    ParamKind as K, ParamSpec as P, Port, PortKind, Terminal, data_err, out,
};
use crate::analysis::cluster::{hierarchy, kmeans, kshape};
use crate::analysis::{BlockSel, Transmission};

pub(super) const NODES: &[&NodeSpec] = &[&KSHAPE, &KMEANS, &LINKAGE, &FCLUSTER, &INCONSISTENT, &MAX_INC_STAT, &MAX_INCONSISTENT];

/// The curves of a column as an n x t matrix (equal lengths required).
pub(crate) fn matrix(t: &Transmission, col: &str, node: &str) -> Result<Array2<f64>, NodeError> {
    let curves = FlatCurves::read(t, col)?;
    let rows: Vec<&[f64]> = (0..curves.len()).map(|i| curves.row(i)).collect();
    let len = equal_length(&rows, col, node)?;
    let flat = curves.values();
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(data_err(format!("{node}: '{col}' contains NaN or infinite values")));
    }
    Array2::from_shape_vec((flat.len() / len.max(1), len), flat.to_vec()).map_err(|e| data_err(format!("{node}: {e}")))
}

fn herr(node: &str) -> impl Fn(hierarchy::HierarchyError) -> NodeError + '_ {
    move |e| data_err(format!("{node}: {e}"))
}

const LINKAGE: NodeSpec = NodeSpec {
    name: "Linkage",
    aliases: &[],
    category: Category::Clustering,
    help: "hierarchical clustering linkage matrix (scipy linkage); feeds FCluster, Inconsistent and the dendrogram",
    inputs: IN,
    outputs: &[Terminal::of("Out", PortKind::Linkage)],
    params: &[
        P::data_column(),
        P::new("method", K::Choice(&hierarchy::METHOD_NAMES), D::Text("complete"), "linkage method"),
        P::new("metric", K::Choice(&hierarchy::METRIC_NAMES), D::Text("wasserstein"), "distance between curves"),
        P::new("optimal_order", K::Bool, D::Bool(true), "reorder leaves to minimise distances between neighbours"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let data = matrix(t, &col, "Linkage")?;
        let method = hierarchy::Method::from_name(c.params.text("method")).map_err(herr("Linkage"))?;
        let metric = hierarchy::Metric::from_name(c.params.text("metric")).map_err(herr("Linkage"))?;
        let optimal = c.params.bool("optimal_order");
        let z = hierarchy::linkage_node(data.view(), method, metric, optimal).map_err(herr("Linkage"))?;
        let params = json!({"method": method.name(), "metric": c.params.text("metric"), "optimal_ordering": optimal, "data_column": col});
        Ok(BTreeMap::from([("Out".to_string(), Port::Linkage(LinkageData { z, params }))]))
    },
};

fn linkage_in<'a>(c: &'a NodeCall) -> Result<&'a LinkageData, NodeError> {
    match c.all("Linkage").first() {
        Some(Port::Linkage(l)) => Ok(l),
        _ => Err(NodeError::Input { terminal: "Linkage".into(), message: "needs a Linkage node's output".into() }),
    }
}

const FCLUSTER: NodeSpec = NodeSpec {
    name: "FCluster",
    aliases: &[],
    category: Category::Clustering,
    help: "flat clusters from a linkage matrix (scipy fcluster, all five criteria)",
    inputs: &[
        Terminal::of("Linkage", PortKind::Linkage),
        Terminal::trn("Data"),
        Terminal::of("IncM", PortKind::Inconsistency).optional(),
        Terminal::of("Monocrit", PortKind::Monocrit).optional(),
    ],
    outputs: OUT,
    params: &[
        P::new("threshold", K::Float, D::Float(1.0), "t: distance / inconsistency threshold, or number of clusters"),
        P::new("criterion", K::Choice(&hierarchy::CRITERION_NAMES), D::Text("inconsistent"), "scipy criterion"),
        P::new("depth", K::Int { min: 1, max: 1_000_000 }, D::Int(2), "depth of the inconsistency calculation"),
    ],
    run: run_fcluster,
};

fn run_fcluster(c: &NodeCall) -> Result<Outputs, NodeError> {
    let l = linkage_in(c)?;
    let t = c.trn("Data")?;
    let n = l.z.nrows() + 1;
    if t.df.height() != n {
        return Err(data_err(format!("FCluster: the linkage has {n} observations but the Data input has {} rows", t.df.height())));
    }
    let crit = hierarchy::Criterion::from_name(c.params.text("criterion")).map_err(herr("FCluster"))?;
    let r = match c.all("IncM").first() {
        Some(Port::Inconsistency(i)) => Some(i.r.view()),
        _ => None,
    };
    let mono = match c.all("Monocrit").first() {
        Some(Port::Monocrit(m)) => Some(m.values.as_slice()),
        _ => None,
    };
    if matches!(crit, hierarchy::Criterion::Monocrit | hierarchy::Criterion::MaxclustMonocrit) && mono.is_none() {
        return Err(NodeError::Input {
            terminal: "Monocrit".into(),
            message: format!("criterion '{}' needs a MaxIncStat or MaxInconsistent output here", crit.name()),
        });
    }
    let threshold = c.params.float("threshold");
    let depth = c.params.int("depth") as usize;
    let labels = hierarchy::fcluster(l.z.view(), threshold, crit, depth, r, mono).map_err(herr("FCluster"))?;
    let mut out_t = t.clone();
    set_column(&mut out_t, Column::new("FCLUSTER_LABELS".into(), labels))?;
    let z: Vec<Value> = l.z.rows().into_iter().map(|r| Value::from(r.to_vec())).collect();
    let params = json!({"threshold": threshold, "criterion": crit.name(), "depth": depth, "linkage_matrix": z, "linkage_params": l.params});
    out_t.history.add_operation(BlockSel::All, "fcluster", params)?;
    out_t.last_output = Some("FCLUSTER_LABELS".into());
    out(out_t)
}

const INCONSISTENT: NodeSpec = NodeSpec {
    name: "Inconsistent",
    aliases: &[],
    category: Category::Clustering,
    help: "inconsistency statistics of each link (scipy inconsistent)",
    inputs: &[Terminal::of("Linkage", PortKind::Linkage)],
    outputs: &[Terminal::of("IncM", PortKind::Inconsistency)],
    params: &[P::new("levels", K::Int { min: 1, max: 1_000_000 }, D::Int(2), "number of link levels (d)")],
    run: |c| {
        let l = linkage_in(c)?;
        let depth = c.params.int("levels") as usize;
        let r = hierarchy::inconsistent(l.z.view(), depth).map_err(herr("Inconsistent"))?;
        Ok(BTreeMap::from([("IncM".to_string(), Port::Inconsistency(InconsistencyData { r, depth }))]))
    },
};

fn inc_in<'a>(c: &'a NodeCall, node: &str) -> Result<(&'a LinkageData, &'a InconsistencyData), NodeError> {
    let l = linkage_in(c)?;
    match c.all("IncM").first() {
        Some(Port::Inconsistency(i)) => Ok((l, i)),
        _ => Err(NodeError::Input { terminal: "IncM".into(), message: format!("{node} needs an Inconsistent node's output") }),
    }
}

const MAX_INC_STAT: NodeSpec = NodeSpec {
    name: "MaxIncStat",
    aliases: &[],
    category: Category::Clustering,
    help: "maximum of one inconsistency statistic over each link's subtree (scipy maxRstat), for FCluster's monocrit",
    inputs: &[Terminal::of("Linkage", PortKind::Linkage), Terminal::of("IncM", PortKind::Inconsistency)],
    outputs: &[Terminal::of("MaxStat", PortKind::Monocrit)],
    params: &[P::new("Stat", K::Choice(&["mean", "stdev", "num_links", "inc_coef"]), D::Text("inc_coef"), "column of R")],
    run: |c| {
        let (l, i) = inc_in(c, "MaxIncStat")?;
        let stat = c.params.text("Stat").to_string();
        let col = ["mean", "stdev", "num_links", "inc_coef"].iter().position(|s| *s == stat).unwrap_or(3);
        let values = hierarchy::max_r_stat(l.z.view(), i.r.view(), col).map_err(herr("MaxIncStat"))?;
        Ok(BTreeMap::from([("MaxStat".to_string(), Port::Monocrit(MonocritData { values, stat }))]))
    },
};

const MAX_INCONSISTENT: NodeSpec = NodeSpec {
    name: "MaxInconsistent",
    aliases: &[],
    category: Category::Clustering,
    help: "maximum inconsistency coefficient over each link's subtree (scipy maxinconsts), for FCluster's monocrit",
    inputs: &[Terminal::of("Linkage", PortKind::Linkage), Terminal::of("IncM", PortKind::Inconsistency)],
    outputs: &[Terminal::of("MaxInc", PortKind::Monocrit)],
    params: &[],
    run: |c| {
        let (l, i) = inc_in(c, "MaxInconsistent")?;
        let values = hierarchy::maxinconsts(l.z.view(), i.r.view()).map_err(herr("MaxInconsistent"))?;
        Ok(BTreeMap::from([("MaxInc".to_string(), Port::Monocrit(MonocritData { values, stat: "inconsistent".into() }))]))
    },
};

const KMEANS: NodeSpec = NodeSpec {
    name: "KMeans",
    aliases: &[],
    category: Category::Clustering,
    help: "k-means clustering of the curves (sklearn KMeans: k-means++, n_init runs)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("n_clusters", K::Int { min: 1, max: 100_000 }, D::Int(2), "number of clusters"),
        P::new("n_init", K::Int { min: 1, max: 10_000 }, D::Int(10), "number of seeded runs; the best is kept"),
        P::new("max_iter", K::Int { min: 1, max: 1_000_000 }, D::Int(300), "iterations per run"),
        P::new("tol", K::Float, D::Float(1e-4), "convergence tolerance (relative to the data's variance)"),
        P::new("seed", K::Int { min: 0, max: i64::MAX }, D::Int(0), "random seed (results are reproducible)"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let data = matrix(t, &col, "KMeans")?;
        let mut p = kmeans::KMeansParams::new(c.params.int("n_clusters") as usize);
        p.n_init = c.params.int("n_init") as usize;
        p.max_iter = c.params.int("max_iter") as usize;
        p.tol = c.params.float("tol");
        p.seed = c.params.int("seed") as u64;
        let fit = kmeans::KMeans::fit(data.view(), &p).map_err(|e| data_err(format!("KMeans: {e}")))?;
        let mut t = t.clone();
        let labels: Vec<i64> = fit.labels.iter().map(|&l| l as i64).collect();
        set_column(&mut t, Column::new("KMEANS_CLUSTER_LABEL".into(), labels))?;
        let params = json!({"data_column": col, "n_clusters": p.n_clusters, "n_init": p.n_init, "max_iter": p.max_iter,
            "tol": p.tol, "seed": p.seed, "inertia": fit.inertia, "n_iter": fit.n_iter});
        t.history.add_operation(BlockSel::All, "kmeans_clustering", params)?;
        t.last_output = Some("KMEANS_CLUSTER_LABEL".into());
        out(t)
    },
};

const KSHAPE: NodeSpec = NodeSpec {
    name: "KShape",
    aliases: &[],
    category: Category::Clustering,
    help: "k-Shape clustering of z-normalised curves (tslearn KShape); centroids in the history",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("n_clusters", K::Int { min: 1, max: 100_000 }, D::Int(3), "number of clusters"),
        P::new("max_iter", K::Int { min: 1, max: 1_000_000 }, D::Int(100), "iterations per run"),
        P::new("tol", K::Float, D::Float(1e-6), "convergence tolerance on the inertia"),
        P::new("n_init", K::Int { min: 1, max: 10_000 }, D::Int(1), "number of random starts; the best is kept"),
        P::new("random_state", K::Int { min: 0, max: i64::MAX }, D::Int(0), "random seed"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let data = matrix(t, &col, "KShape")?;
        let k = c.params.int("n_clusters") as usize;
        let fit = kshape::kshape(
            data.view(),
            k,
            c.params.int("max_iter") as usize,
            c.params.float("tol"),
            c.params.int("n_init") as usize,
            c.params.int("random_state") as u64,
        )
        .map_err(|e| data_err(format!("KShape: {e}")))?;
        let mut t = t.clone();
        let labels: Vec<i64> = fit.labels.iter().map(|&l| l as i64).collect();
        set_column(&mut t, Column::new("KSHAPE_CLUSTER".into(), labels))?;
        let centroids: Vec<Value> = fit.centroids.rows().into_iter().map(|r| Value::from(r.to_vec())).collect();
        let params = json!({"data_column": col, "n_clusters": k, "max_iter": c.params.int("max_iter"), "tol": c.params.float("tol"),
            "n_init": c.params.int("n_init"), "random_state": c.params.int("random_state"), "inertia": fit.inertia,
            "cluster_centers": centroids});
        t.history.add_operation(BlockSel::All, "kshape", params)?;
        t.last_output = Some("KSHAPE_CLUSTER".into());
        out(t)
    },
};
