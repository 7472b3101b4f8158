//! Transform nodes: LDA (sklearn LinearDiscriminantAnalysis with its four outputs) and PCA (sklearn PCA, full SVD).

use std::collections::BTreeMap;

use ndarray::Array2;
use polars::prelude::*;
use serde_json::{Value, json};

use super::columns::{list_column, read_curves, read_labels, read_scalars, set_column};
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, Port, Terminal, data_err, out};
use crate::analysis::transform::{lda, pca};
use crate::analysis::{BlockSel, HistoryTrace, Transmission};

pub(super) const NODES: &[&NodeSpec] = &[&LDA, &PCA];

/// Features from several columns side by side (arrays contribute their values, number columns one value each), as
/// the original's `np.hstack([np.vstack(df[c]) for c in columns])`.
fn features(t: &Transmission, columns: &[String], node: &str) -> Result<Array2<f64>, NodeError> {
    if columns.is_empty() {
        return Err(NodeError::Param { param: "train_data".into(), message: format!("{node} needs at least one data column") });
    }
    let n = t.df.height();
    let mut blocks: Vec<Vec<Vec<f64>>> = Vec::new();
    for c in columns {
        let col = t.df.column(c).map_err(|_| data_err(format!("{node}: no column '{c}' in the input")))?;
        let rows = if matches!(col.dtype(), DataType::List(_)) {
            let r = read_curves(t, c)?;
            super::columns::equal_length(&r, c, node)?;
            r
        } else {
            read_scalars(t, c)?.into_iter().map(|v| vec![v]).collect()
        };
        blocks.push(rows);
    }
    let width: usize = blocks.iter().map(|b| b.first().map_or(0, Vec::len)).sum();
    let mut x = Array2::zeros((n, width));
    for i in 0..n {
        let mut k = 0;
        for b in &blocks {
            for v in &b[i] {
                x[[i, k]] = *v;
                k += 1;
            }
        }
    }
    Ok(x)
}

fn rows_of(m: &Array2<f64>) -> Vec<Vec<f64>> {
    m.rows().into_iter().map(|r| r.to_vec()).collect()
}

const LDA: NodeSpec = NodeSpec {
    name: "LDA",
    aliases: &[],
    category: Category::Transform,
    help: "linear discriminant analysis: transformed data, decision function, coefficients, means, predictions",
    inputs: &[Terminal::trn("train"), Terminal::trn("predict").optional()],
    outputs: &[Terminal::trn("T"), Terminal::trn("coef"), Terminal::trn("means"), Terminal::trn("predicted")],
    params: &[
        P::new("train_data", K::Columns, D::Required, "data columns holding the features"),
        P::new("train_labels", K::Column, D::Required, "categorical column with the class labels"),
        P::new("solver", K::Choice(&["svd", "lsqr", "eigen"]), D::Text("svd"), "sklearn solver"),
        P::new("shrinkage", K::Choice(&["None", "auto", "value"]), D::Text("None"), "covariance shrinkage (lsqr, eigen)"),
        P::new("shrinkage_val", K::Float, D::Float(0.5), "shrinkage amount when shrinkage is 'value'"),
        P::new("n_components", K::Int { min: 1, max: 1_000_000 }, D::Null, "components of the transform (default: classes - 1)"),
        P::new("tol", K::Int { min: -50, max: 0 }, D::Int(-4), "tolerance exponent: the svd solver's rank threshold is 10^tol"),
        P::new("predict_on", K::Columns, D::Null, "columns of the predict input to classify (default: train_data)"),
    ],
    run: run_lda,
};

fn run_lda(c: &NodeCall) -> Result<Outputs, NodeError> {
    let train = c.trn("train")?;
    let cols = c.params.columns("train_data");
    let label_col = c.column_param("train_labels", train)?;
    let x = features(train, &cols, "LDA")?;
    let y: Vec<String> = read_labels(train, &label_col)?.into_iter().map(|l| l.unwrap_or_default()).collect();
    let solver: lda::LdaSolver = c.params.text("solver").parse().map_err(|e: lda::LdaError| data_err(format!("LDA: {e}")))?;
    let shrinkage = match c.params.text("shrinkage") {
        "auto" => Some(lda::Shrinkage::Auto),
        "value" => Some(lda::Shrinkage::Fixed(c.params.float("shrinkage_val"))),
        _ => None,
    };
    let tol = 10f64.powi(c.params.int("tol") as i32);
    let n_components = c.params.value("n_components").as_u64().map(|v| v as usize);
    let params = lda::LdaParams {
        solver,
        shrinkage,
        n_components,
        tol,
        priors: None,
        store_covariance: solver == lda::LdaSolver::Svd,
    };
    let model = lda::Lda::fit(x.view(), &y, &params).map_err(|e| data_err(format!("LDA: {e}")))?;
    let score = model.score(x.view(), &y).map_err(|e| data_err(format!("LDA: {e}")))?;
    let shrink_log = match shrinkage {
        None => Value::Null,
        Some(lda::Shrinkage::Auto) => json!("auto"),
        Some(lda::Shrinkage::Fixed(v)) => json!(v),
    };
    let log = json!({"train_data": cols, "train_labels": label_col, "solver": c.params.text("solver"), "shrinkage": shrink_log,
        "n_components": model.n_components, "tol": tol, "store_covariance": params.store_covariance, "score": score,
        "classes": model.classes});
    let mut t = train.clone();
    // lsqr has no transform in sklearn; the column is then left out.
    if let Ok(xt) = model.transform(x.view()) {
        set_column(&mut t, list_column("_LDA_TRANSFORM", &rows_of(&xt)))?;
    }
    let dfunc = model.decision_function(x.view()).map_err(|e| data_err(format!("LDA: {e}")))?;
    set_column(&mut t, list_column("_LDA_DFUNC", &rows_of(&dfunc)))?;
    t.history.add_operation(BlockSel::All, "lda", log.clone())?;
    t.last_output = Some("_LDA_TRANSFORM".into());
    let side = |name: &str, m: &Array2<f64>, history: &HistoryTrace| -> Result<Transmission, NodeError> {
        // Two classes give one coefficient row (class 1 against class 0): it is labelled with class 1. (The
        // original's DataFrame of 2 class names and 1 row raised an error there.)
        let classes = if m.nrows() == 1 && model.classes.len() == 2 { vec![model.classes[1].clone()] } else { model.classes.clone() };
        let df = DataFrame::new(m.nrows(), vec![Column::new("classes".into(), classes), list_column(name, &rows_of(m))])?;
        let mut s = Transmission::new(df, history.clone());
        s.proj_path = train.proj_path.clone();
        s.last_output = Some(name.to_string());
        Ok(s)
    };
    // The coefficient and mean tables have one row per class, outside any data block, and share the log.
    let coef = side("_COEF", &model.coef, &t.history)?;
    let means = side("_MEANS", &model.means, &t.history)?;
    let mut outputs = BTreeMap::from([
        ("T".to_string(), Port::from_transmission(t)),
        ("coef".to_string(), Port::from_transmission(coef)),
        ("means".to_string(), Port::from_transmission(means)),
    ]);
    if let Some(p) = c.opt_trn("predict")? {
        let pcols = match c.params.columns("predict_on") {
            v if v.is_empty() => cols.clone(),
            v => v,
        };
        let xp = features(p, &pcols, "LDA")?;
        if xp.ncols() != x.ncols() {
            return Err(data_err(format!("LDA: predict_on gives {} features, the training data {}", xp.ncols(), x.ncols())));
        }
        let labels = model.predict(xp.view()).map_err(|e| data_err(format!("LDA: {e}")))?;
        let mut pt = p.clone();
        set_column(&mut pt, Column::new("LDA_PREDICTED_LABELS".into(), labels))?;
        if let Ok(xt) = model.transform(xp.view()) {
            set_column(&mut pt, list_column("_LDA_TRANSFORM", &rows_of(&xt)))?;
        }
        let mut plog = log;
        plog["predict_columns"] = json!(pcols);
        pt.history.add_operation(BlockSel::All, "lda-predict", plog)?;
        pt.last_output = Some("LDA_PREDICTED_LABELS".into());
        outputs.insert("predicted".into(), Port::from_transmission(pt));
    }
    Ok(outputs)
}

const PCA: NodeSpec = NodeSpec {
    name: "PCA",
    aliases: &[],
    category: Category::Transform,
    help: "principal component analysis of the curves (sklearn PCA, full SVD)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("n_components", K::Int { min: 1, max: 1_000_000 }, D::Int(2), "components kept"),
        P::new("whiten", K::Bool, D::Bool(false), "scale components to unit variance"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let x = super::clustering::matrix(t, &col, "PCA")?;
        let p = pca::PcaParams { n_components: Some(c.params.int("n_components") as usize), whiten: c.params.bool("whiten") };
        let (model, xt) = pca::Pca::fit_transform(x.view(), &p).map_err(|e| data_err(format!("PCA: {e}")))?;
        let mut t = t.clone();
        set_column(&mut t, list_column("_PCA_TRANSFORM", &rows_of(&xt)))?;
        let log = json!({"data_column": col, "n_components": p.n_components, "whiten": p.whiten, "svd_solver": "full",
            "exp_var": model.explained_variance.to_vec(), "exp_var_p": model.explained_variance_ratio.to_vec(),
            "singular_values": model.singular_values.to_vec()});
        t.history.add_operation(BlockSel::All, "pca", log)?;
        t.last_output = Some("_PCA_TRANSFORM".into());
        out(t)
    },
};
