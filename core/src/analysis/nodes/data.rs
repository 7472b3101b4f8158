//! Data nodes: LoadFile, LoadProjDF, Save, Merge, TextFilter, SpliceArrays, DropNa, PadArrays (and NormRaw, in its own
//! module).

use std::collections::BTreeMap;
use std::path::PathBuf;

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::columns::{list_column, read_curves, read_labels, set_column, take_rows};
use super::flat::map_flat;
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, Port, Terminal, data_err, out};
use crate::analysis::{BlockSel, Transmission};

pub(super) const NODES: &[&NodeSpec] =
    &[&LOAD_FILE, &LOAD_PROJ_DF, &SAVE, &MERGE, &TEXT_FILTER, &SPLICE_ARRAYS, &DROP_NA, &PAD_ARRAYS, &super::norm_raw::NORM_RAW];

const LOAD_FILE: NodeSpec = NodeSpec {
    name: "LoadFile",
    aliases: &[],
    category: Category::Data,
    help: "load a saved Transmission (.trn)",
    inputs: &[],
    outputs: OUT,
    params: &[
        P::new("path", K::Text, D::Required, ".trn file (relative paths: from the flowchart's folder)"),
        P::new("proj_path", K::Text, D::Null, "project the Transmission belongs to (default: the open project)"),
    ],
    run: |c| {
        let path = c.ctx.resolve(c.params.text("path"));
        let mut t = Transmission::from_hdf5(&path)?;
        if let Some(p) = c.params.opt_text("proj_path") {
            t.proj_path = Some(c.ctx.resolve(p));
        } else if let Some(p) = &c.ctx.project {
            t.proj_path = Some(p.clone());
        }
        out(t)
    },
};

const LOAD_PROJ_DF: NodeSpec = NodeSpec {
    name: "LoadProjDF",
    aliases: &["Load_Proj_DF"],
    category: Category::Data,
    help: "a Transmission from the project DataFrame (root) or one of its tabs, with _RAW_CURVE",
    inputs: &[],
    outputs: OUT,
    params: &[P::new("DF_Name", K::Text, D::Text("root"), "project browser tab, or root")],
    run: |c| {
        let root = c.ctx.project.as_ref().ok_or_else(|| NodeError::Param {
            param: "DF_Name".into(),
            message: "LoadProjDF needs a project (mesmerize flowchart run --project DIR)".into(),
        })?;
        let proj = crate::project::Project::open(root).map_err(|e| data_err(e.to_string()))?;
        let tab = proj.tab(c.params.text("DF_Name")).map_err(|e| data_err(e.to_string()))?;
        let t = proj.spawn_transmission(&tab, &crate::progress::NoProgress).map_err(|e| data_err(e.to_string()))?;
        out(t)
    },
};

const SAVE: NodeSpec = NodeSpec {
    name: "Save",
    aliases: &[],
    category: Category::Data,
    help: "save the input Transmission to a new .trn file (an existing file is never overwritten)",
    inputs: IN,
    outputs: &[],
    params: &[P::new("path", K::Text, D::Required, "new .trn file")],
    run: |c| {
        let t = c.trn("In")?;
        let path: PathBuf = c.ctx.resolve(c.params.text("path"));
        if path.exists() {
            return Err(data_err(format!("{}: file already exists; Save writes new files only", path.display())));
        }
        t.to_hdf5(&path)?;
        Ok(BTreeMap::new())
    },
};

const MERGE: NodeSpec = NodeSpec {
    name: "Merge",
    aliases: &[],
    category: Category::Data,
    help: "concatenate Transmissions; each data block keeps its own history",
    inputs: &[Terminal::trn("In").multi()],
    outputs: OUT,
    params: &[],
    run: |c| {
        let mut ts: Vec<Transmission> = c
            .all("In")
            .iter()
            .filter_map(|p| match p {
                Port::Transmission(t) => Some((**t).clone()),
                _ => None,
            })
            .collect();
        for i in 1..ts.len() {
            let (earlier, rest) = ts.split_at_mut(i);
            split_diverged_blocks(earlier, &mut rest[0])?;
        }
        out(Transmission::merge(ts)?)
    },
};

/// Two streams that branched from the same Transmission share data block ids but have different logs by the time
/// they meet again. The original kept only one of the logs; here the later stream's diverged blocks get fresh ids
/// (in `_BLOCK_` and its HistoryTrace), so each stream's own log survives the merge.
fn split_diverged_blocks(earlier: &[Transmission], t: &mut Transmission) -> Result<(), NodeError> {
    let mut renamed: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut history = crate::analysis::HistoryTrace::new();
    for b in t.history.data_blocks().to_vec() {
        let ops = t.history.get_data_block_history(&b)?.to_vec();
        let diverged = earlier.iter().any(|e| e.history.get_data_block_history(&b).is_ok_and(|o| o != ops.as_slice()));
        let id = if diverged {
            let new = uuid::Uuid::new_v4().to_string();
            renamed.insert(b.clone(), new.clone());
            new
        } else {
            b.clone()
        };
        history.add_data_block(&id, ops)?;
    }
    if renamed.is_empty() {
        return Ok(());
    }
    let blocks = read_labels(t, crate::analysis::BLOCK_COLUMN)?;
    let new: Vec<Option<String>> = blocks.into_iter().map(|b| b.map(|b| renamed.get(&b).cloned().unwrap_or(b))).collect();
    set_column(t, Column::new(crate::analysis::BLOCK_COLUMN.into(), new))?;
    t.history = history;
    Ok(())
}

const TEXT_FILTER: NodeSpec = NodeSpec {
    name: "TextFilter",
    aliases: &[],
    category: Category::Data,
    help: "keep (Include) or drop (Exclude) the rows whose categorical column equals the filter text",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::new("Column", K::Column, D::Required, "categorical column"),
        P::new("filter", K::Text, D::Required, "text to match exactly"),
        P::new("Include", K::Bool, D::Bool(true), "keep matching rows"),
        P::new("Exclude", K::Bool, D::Bool(false), "drop matching rows (overrides Include)"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.column_param("Column", t)?;
        let filt = c.params.text("filter").to_string();
        let exclude = c.params.bool("Exclude");
        let include = !exclude && c.params.bool("Include");
        let labels = read_labels(t, &col)?;
        let rows: Vec<usize> =
            (0..labels.len()).filter(|&i| (labels[i].as_deref() == Some(filt.as_str())) != exclude).collect();
        let mut t = take_rows(t, &rows)?;
        let params = json!({"column": col, "filter": filt, "include": include, "exclude": exclude});
        t.history.add_operation(BlockSel::All, "text_filter", params)?;
        out(t)
    },
};

/// Python slice bounds for a sequence of length n (negative indices count from the end; out of range clamps).
fn py_slice(start: i64, end: i64, n: usize) -> (usize, usize) {
    let n = n as i64;
    let fix = |i: i64| if i < 0 { (i + n).max(0) } else { i.min(n) };
    let (a, b) = (fix(start), fix(end));
    (a as usize, b.max(a) as usize)
}

const SPLICE_ARRAYS: NodeSpec = NodeSpec {
    name: "SpliceArrays",
    aliases: &[],
    category: Category::Data,
    help: "cut every array to start_index:end_index (Python slice semantics)",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column(), P::new("indices", K::Text, D::Required, "\"start_index:end_index\"")],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let text = c.params.text("indices");
        let bad = || NodeError::Param { param: "indices".into(), message: format!("expected \"start:end\" with whole numbers, got '{text}'") };
        let (a, b) = text.split_once(':').ok_or_else(bad)?;
        let start: i64 = if a.trim().is_empty() { 0 } else { a.trim().parse().map_err(|_| bad())? };
        let end: i64 = if b.trim().is_empty() { i64::MAX } else { b.trim().parse().map_err(|_| bad())? };
        let extra = json!({"start_ix": start, "end_ix": if end == i64::MAX { serde_json::Value::Null } else { json!(end) }});
        out(map_flat(t, &col, "_SPLICE_ARRAYS", "splice_arrays", extra, |c| {
            let len = |_, n| {
                let (s, e) = py_slice(start, end, n);
                e - s
            };
            c.map_rows(len, |_, x, y| {
                let (s, e) = py_slice(start, end, x.len());
                y.copy_from_slice(&x[s..e]);
                Ok(())
            })
        })?)
    },
};

/// Whether each row of a column is "NaN or None" as pandas' isna sees it (null, or a float NaN).
fn is_na(c: &Column) -> Result<Vec<bool>, NodeError> {
    let nulls: Vec<bool> = c.is_null().iter().map(|v| v.unwrap_or(true)).collect();
    if c.dtype().is_float() {
        let s = c.as_materialized_series().cast(&DataType::Float64)?;
        return Ok(s.f64()?.iter().zip(nulls).map(|(v, n)| n || v.is_some_and(f64::is_nan)).collect());
    }
    Ok(nulls)
}

const DROP_NA: NodeSpec = NodeSpec {
    name: "DropNa",
    aliases: &["DropNaNs"],
    category: Category::Data,
    help: "drop rows (or columns) holding NaN / null values",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::new("axis", K::Choice(&["row", "columns"]), D::Text("row"), "drop rows or columns"),
        P::new("how", K::Choice(&["any", "all"]), D::Text("any"), "drop if any / all values are NaN"),
        P::new("column", K::Column, D::Null, "only look at this column (drops the rows where it is NaN)"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let axis = c.params.text("axis").to_string();
        let how = c.params.text("how").to_string();
        let any = how == "any";
        let mut t = t.clone();
        let mut params = json!({"axis": axis, "how": how});
        if c.params.opt_text("column").is_some() {
            let col = c.column_param("column", &t)?;
            let na = is_na(t.df.column(&col)?)?;
            let rows: Vec<usize> = (0..na.len()).filter(|&i| !na[i]).collect();
            t = take_rows(&t, &rows)?;
            params["axis"] = json!(col);
        } else if axis == "row" {
            let masks: Vec<Vec<bool>> = t.df.columns().iter().map(is_na).collect::<Result<_, _>>()?;
            let rows: Vec<usize> = (0..t.df.height())
                .filter(|&i| {
                    let mut it = masks.iter().map(|m| m[i]);
                    !(if any { it.any(|v| v) } else { it.all(|v| v) })
                })
                .collect();
            t = take_rows(&t, &rows)?;
        } else {
            let mut drop = Vec::new();
            for col in t.df.columns() {
                let m = is_na(col)?;
                if (any && m.iter().any(|&v| v)) || (!any && m.iter().all(|&v| v)) {
                    drop.push(col.name().to_string());
                }
            }
            for d in drop {
                t.df.drop_in_place(&d)?;
            }
        }
        t.history.add_operation(BlockSel::All, "dropna", params)?;
        out(t)
    },
};

const PAD_MODES: &[&str] = &["minimum", "constant", "edge", "maximum", "mean", "median", "reflect", "symmetric", "wrap"];

const PAD_ARRAYS: NodeSpec = NodeSpec {
    name: "PadArrays",
    aliases: &[],
    category: Category::Data,
    help: "pad every array to the length of the longest one (numpy.pad modes)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("method", K::Choice(&["fill-size", "random"]), D::Text("fill-size"), "pad at the end, or a random split"),
        P::new("mode", K::Choice(PAD_MODES), D::Text("minimum"), "numpy.pad mode"),
        P::new("constant", K::Float, D::Float(1.0), "value for mode 'constant'"),
        P::new("pad_with_nans", K::Bool, D::Bool(false), "pad with NaN (mode 'constant' only)"),
        P::new("seed", K::Int { min: 0, max: i64::MAX }, D::Int(0), "random seed for method 'random'"),
    ],
    run: run_pad,
};

/// numpy.pad of a 1-D array by (pre, post) in `mode`.
fn pad(x: &[f64], pre: usize, post: usize, mode: &str, constant: f64) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return vec![constant; pre + post];
    }
    let stat = |f: &str| super::math::reduce(f, x);
    let index = |k: i64| -> usize {
        // k is the position relative to x[0]; map it back into 0..n for the periodic modes.
        let n = n as i64;
        match mode {
            "reflect" if n > 1 => {
                let p = 2 * (n - 1);
                let m = k.rem_euclid(p);
                (if m < n { m } else { p - m }) as usize
            }
            "symmetric" => {
                let p = 2 * n;
                let m = k.rem_euclid(p);
                (if m < n { m } else { p - 1 - m }) as usize
            }
            "wrap" => k.rem_euclid(n) as usize,
            _ => 0,
        }
    };
    let fill = |k: i64| -> f64 {
        match mode {
            "constant" => constant,
            "edge" => {
                if k < 0 {
                    x[0]
                } else {
                    x[n - 1]
                }
            }
            "minimum" => stat("amin"),
            "maximum" => stat("amax"),
            "mean" => stat("mean"),
            "median" => stat("median"),
            _ => x[index(k)],
        }
    };
    let mut out = Vec::with_capacity(pre + n + post);
    out.extend((0..pre).map(|i| fill(i as i64 - pre as i64)));
    out.extend_from_slice(x);
    out.extend((0..post).map(|i| fill((n + i) as i64)));
    out
}

fn run_pad(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let method = c.params.text("method").to_string();
    let mode = c.params.text("mode").to_string();
    let nans = c.params.bool("pad_with_nans");
    let constant = if mode == "constant" && nans { f64::NAN } else { c.params.float("constant") };
    let curves = read_curves(t, &col)?;
    let longest = curves.iter().map(Vec::len).max().unwrap_or(0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(c.params.int("seed") as u64);
    let padded: Vec<Vec<f64>> = curves
        .iter()
        .map(|x| {
            let room = longest - x.len();
            let pre = if method == "random" && room > 0 { rng.random_range(0..room) } else { 0 };
            pad(x, pre, room - pre, &mode, constant)
        })
        .collect();
    let mut t = t.clone();
    set_column(&mut t, list_column("_PADDED", &padded))?;
    let params = json!({"data_column": col, "method": method, "mode": mode, "constant": constant, "pad_with_nans": nans,
        "seed": c.params.int("seed")});
    t.history.add_operation(BlockSel::All, "pad_arrays", params)?;
    t.last_output = Some("_PADDED".into());
    out(t)
}
