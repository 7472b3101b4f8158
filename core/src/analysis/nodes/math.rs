//! Math nodes: Derivative, TVDiff, XpowerY, AbsoluteValue, LogTransform, ArrayStats, ArgGroupStat, ZScore, LinRegress.

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::{Value, json};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::columns::{equal_length, groups, map_curves, read_curves, read_labels, read_scalars, set_column, take_rows};
use super::flat::{FlatCurves, FlatOut, map_flat, same_len};
use super::signal::median;
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, data_err, out};
use crate::analysis::BlockSel;
use crate::analysis::signal::{gradient::gradient_into, tvdiff};

pub(super) const NODES: &[&NodeSpec] =
    &[&DERIVATIVE, &TVDIFF, &X_POWER_Y, &ABSOLUTE_VALUE, &LOG_TRANSFORM, &ARRAY_STATS, &ARG_GROUP_STAT, &ZSCORE, &LIN_REGRESS];

const DERIVATIVE: NodeSpec = NodeSpec {
    name: "Derivative",
    aliases: &[],
    category: Category::Math,
    help: "first derivative (numpy.gradient)",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        out(map_flat(t, &col, "_DERIVATIVE", "derivative", json!({}), |c| c.map_rows(same_len, |_, x, g| gradient_into(x, g)))?)
    },
};

const TVDIFF: NodeSpec = NodeSpec {
    name: "TVDiff",
    aliases: &[],
    category: Category::Math,
    help: "total-variation regularised derivative of noisy data (Chartrand 2011)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("iterations", K::Int { min: 1, max: 100_000 }, D::Int(100), "number of iterations"),
        P::new("alpha", K::Float, D::Float(0.1), "regularisation strength"),
        P::new("dx", K::Float, D::Float(0.05), "grid spacing"),
        P::new("ep", K::Float, D::Float(0.01), "keeps the TV term differentiable at zero"),
        P::new("scale", K::Choice(&["large", "small"]), D::Text("large"), "'large' (integral formulation) or 'small'"),
    ],
    run: run_tvdiff,
};

fn run_tvdiff(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let p = tvdiff::TvDiffParams {
        iterations: c.params.int("iterations") as usize,
        alpha: c.params.float("alpha"),
        dx: c.params.float("dx"),
        ep: c.params.float("ep"),
        large: c.params.text("scale") == "large",
    };
    if !(p.dx > 0.0 && p.ep > 0.0 && p.alpha > 0.0) {
        return Err(NodeError::Param { param: "alpha/dx/ep".into(), message: "must all be > 0".into() });
    }
    let extra = json!({"iterations": p.iterations, "alpha": p.alpha, "dx": p.dx, "ep": p.ep, "scale": c.params.text("scale")});
    out(map_curves(t, &col, "_TVDIFF", "tvdiff", extra, |_, x| tvdiff::tvdiff(x, &p))?)
}

const X_POWER_Y: NodeSpec = NodeSpec {
    name: "XpowerY",
    aliases: &[],
    category: Category::Math,
    help: "raise every value to the power Y",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column(), P::new("Y", K::Float, D::Float(2.0), "exponent")],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let y = c.params.float("Y");
        // Whole exponents use repeated multiplication (as numpy's fast paths for 2, 3, 0.5 ...), others powf.
        let whole = (y.fract() == 0.0 && y.abs() <= 64.0).then_some(y as i32);
        out(map_flat(t, &col, "_X_POWER_Y", "x_power_y", json!({"exponent": y}), |c| {
            Ok(match whole {
                Some(2) => c.map_values(|v| v * v),
                Some(k) => c.map_values(|v| v.powi(k)),
                None if y == 0.5 => c.map_values(f64::sqrt),
                None => c.map_values(|v| v.powf(y)),
            })
        })?)
    },
};

const ABSOLUTE_VALUE: NodeSpec = NodeSpec {
    name: "AbsoluteValue",
    aliases: &[],
    category: Category::Math,
    help: "element-wise absolute value",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        out(map_flat(t, &col, "_ABSOLUTE_VALUE", "absolute_value", json!({}), |c| Ok(c.map_values(f64::abs)))?)
    },
};

const LOG_TRANSFORM: NodeSpec = NodeSpec {
    name: "LogTransform",
    aliases: &[],
    category: Category::Math,
    help: "log10, ln, or the sign-preserving modlog10 / modln = sign(x) * log(|x| + 1)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("transform", K::Choice(&["log10", "ln", "modlog10", "modln"]), D::Text("log10"), "which logarithm"),
    ],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let tr = c.params.text("transform").to_string();
        out(map_flat(t, &col, "_LOG_TRANSFORM", "log_transform", json!({"transform": tr.clone()}), |c| {
            Ok(match tr.as_str() {
                "log10" => c.map_values(f64::log10),
                "ln" => c.map_values(f64::ln),
                "modlog10" => c.map_values(|v| sign(v) * (v.abs() + 1.0).log10()),
                _ => c.map_values(|v| sign(v) * (v.abs() + 1.0).ln()),
            })
        })?)
    },
};

/// numpy.sign: -1, 0 or 1 (NaN stays NaN).
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        v
    }
}

const STAT_FUNCTIONS: &[&str] =
    &["amin", "amax", "nanmin", "nanmax", "ptp", "median", "mean", "std", "var", "nanmedian", "nanmean", "nanstd", "nanvar"];

/// A numpy reduction by name (population std/var, as numpy's default ddof=0).
pub(crate) fn reduce(name: &str, x: &[f64]) -> f64 {
    let finite: Vec<f64>;
    let (vals, nan_aware) = if name.starts_with("nan") {
        finite = x.iter().copied().filter(|v| !v.is_nan()).collect();
        (finite.as_slice(), true)
    } else {
        (x, false)
    };
    if !nan_aware && vals.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    if vals.is_empty() {
        return f64::NAN;
    }
    // Only the statistic asked for is computed (each in the same order of operations as numpy's pairwise-free path).
    let n = vals.len() as f64;
    let mean = || vals.iter().sum::<f64>() / n;
    let var = || {
        let m = mean();
        vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n
    };
    let min = || vals.iter().copied().fold(f64::INFINITY, f64::min);
    let max = || vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match name.trim_start_matches("nan") {
        "amin" | "min" => min(),
        "amax" | "max" => max(),
        "ptp" => max() - min(),
        "median" => median(vals),
        "mean" => mean(),
        "std" => var().sqrt(),
        _ => var(),
    }
}

const ARRAY_STATS: NodeSpec = NodeSpec {
    name: "ArrayStats",
    aliases: &[],
    category: Category::Math,
    help: "a statistic of each array (one number per row), or element-wise over the arrays of each group",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("function", K::Choice(STAT_FUNCTIONS), D::Text("mean"), "numpy function"),
        P::new("group_by", K::Column, D::Null, "optional categorical column: one output row per group"),
        P::new("group_by_sec", K::Column, D::Null, "optional secondary categorical column"),
        P::new("output_col", K::Text, D::Required, "output column name (upper-cased, '_' prefixed)"),
    ],
    run: run_array_stats,
};

fn run_array_stats(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let func = c.params.text("function").to_string();
    let mut out_col = c.params.text("output_col").trim().to_uppercase();
    if out_col.is_empty() {
        return Err(NodeError::Param { param: "output_col".into(), message: "cannot be empty".into() });
    }
    if !out_col.starts_with('_') {
        out_col.insert(0, '_');
    }
    let group_by = c.params.opt_text("group_by").map(|g| c.column_param("group_by", t).map(|_| g.to_string())).transpose()?;
    let group_sec =
        c.params.opt_text("group_by_sec").map(|g| c.column_param("group_by_sec", t).map(|_| g.to_string())).transpose()?;
    let curves = FlatCurves::read(t, &col)?;
    let params = json!({"data_column": col, "output_column": out_col, "function": func,
        "group_by": group_by.clone().map_or(Value::Bool(false), Value::from),
        "group_by_sec": group_sec.clone().map_or(Value::Bool(false), Value::from)});
    let mut t = match &group_by {
        None => {
            let v: Vec<f64> = (0..curves.len()).into_par_iter().map(|i| reduce(&func, curves.row(i))).collect();
            let mut t = t.clone();
            set_column(&mut t, Column::new(out_col.as_str().into(), v))?;
            t
        }
        Some(g) => {
            let primary = read_labels(t, g)?;
            let secondary = group_sec.as_deref().map(|s| read_labels(t, s)).transpose()?;
            let mut firsts = Vec::new();
            let mut offsets = vec![0usize];
            let mut results = Vec::new();
            for (_, rows) in groups(&primary) {
                let subgroups = match &secondary {
                    None => vec![(None, rows)],
                    Some(sec) => {
                        let labels: Vec<Option<String>> = rows.iter().map(|&r| sec[r].clone()).collect();
                        groups(&labels).into_iter().map(|(l, ix)| (l, ix.iter().map(|&i| rows[i]).collect())).collect()
                    }
                };
                for (_, rows) in subgroups {
                    let sub: Vec<&[f64]> = rows.iter().map(|&r| curves.row(r)).collect();
                    let len = equal_length(&sub, &col, "ArrayStats")?;
                    let stat: Vec<f64> = (0..len)
                        .into_par_iter()
                        .map(|k| reduce(&func, &sub.iter().map(|r| r[k]).collect::<Vec<_>>()))
                        .collect();
                    firsts.push(rows[0]);
                    offsets.push(offsets.last().copied().unwrap_or(0) + stat.len());
                    results.extend(stat);
                }
            }
            let mut t = take_rows(t, &firsts)?;
            set_column(&mut t, FlatOut { offsets, values: results }.into_column(&out_col)?)?;
            t
        }
    };
    t.history.add_operation(BlockSel::All, "array_stats", params)?;
    t.last_output = Some(out_col);
    out(t)
}

const ARG_GROUP_STAT: NodeSpec = NodeSpec {
    name: "ArgGroupStat",
    aliases: &[],
    category: Category::Math,
    help: "per group, the value of return_col in the row where data_column is largest (or smallest)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("group_by", K::Column, D::Required, "categorical column to group by"),
        P::new("return_col", K::Column, D::Required, "column whose value is returned"),
        P::new("stat", K::Choice(&["max", "min"]), D::Text("max"), "which extreme"),
    ],
    run: run_arg_group_stat,
};

fn run_arg_group_stat(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let group_by = c.column_param("group_by", t)?;
    let return_col = c.column_param("return_col", t)?;
    let stat = c.params.text("stat").to_string();
    let values = read_scalars(t, &col)?;
    let mut picked = Vec::new();
    for (label, rows) in groups(&read_labels(t, &group_by)?) {
        let best = rows
            .iter()
            .copied()
            .filter(|&r| !values[r].is_nan())
            .reduce(|a, b| {
                let better = if stat == "max" { values[b] > values[a] } else { values[b] < values[a] };
                if better { b } else { a }
            })
            .ok_or_else(|| data_err(format!("ArgGroupStat: group {label:?} has only NaN values in '{col}'")))?;
        picked.push(best);
    }
    let mut t = take_rows(t, &picked)?;
    let arg = t.df.column(&return_col)?.clone().with_name("ARG_STAT".into());
    set_column(&mut t, arg)?;
    let params = json!({"data_column": col, "group_by": group_by, "return_col": return_col, "stat": stat, "output_column": "ARG_STAT"});
    t.history.add_operation(BlockSel::All, "arg-group-stat", params)?;
    out(t)
}

const ZSCORE: NodeSpec = NodeSpec {
    name: "ZScore",
    aliases: &[],
    category: Category::Math,
    help: "z-score (scipy.stats.zscore over all values of a group), per group of a categorical column",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column(), P::new("group_by", K::Column, D::Null, "categorical column; omitted: all rows form one group")],
    run: run_zscore,
};

fn run_zscore(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let group_by = c.params.opt_text("group_by").map(|_| c.column_param("group_by", t)).transpose()?;
    let curves = FlatCurves::read(t, &col)?;
    let labels = match &group_by {
        Some(g) => read_labels(t, g)?,
        None => vec![None; curves.len()],
    };
    // Rows come out grouped, groups in order of first appearance (as the original's concat of sub-DataFrames).
    let mut order = Vec::with_capacity(curves.len());
    let mut stats = vec![(0.0, 0.0); curves.len()];
    for (_, rows) in groups(&labels) {
        // One pass per moment over the group's values in row order, as scipy.stats.zscore(axis=None) sums them.
        let all = || rows.iter().flat_map(|&r| curves.row(r).iter().copied());
        let n = rows.iter().map(|&r| curves.row(r).len()).sum::<usize>() as f64;
        let mean = all().sum::<f64>() / n;
        let sd = (all().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        for &r in &rows {
            order.push(r);
            stats[r] = (mean, sd);
        }
    }
    let identity = order.iter().enumerate().all(|(i, &r)| i == r);
    let mut t = if identity { t.clone() } else { take_rows(t, &order)? };
    let reordered;
    let src = if identity {
        &curves
    } else {
        reordered = FlatCurves::read(&t, &col)?;
        &reordered
    };
    let row_stats: Vec<(f64, f64)> = order.iter().map(|&r| stats[r]).collect();
    let z = src
        .map_rows(same_len, |i, x, z| {
            let (mean, sd) = row_stats[i];
            z.iter_mut().zip(x).for_each(|(z, v)| *z = (v - mean) / sd);
            Ok(())
        })
        .map_err(|(i, e)| data_err(format!("ZScore: row {i}: {e}")))?;
    set_column(&mut t, z.into_column("_ZSCORE")?)?;
    let params = json!({"data_column": col, "group_by": group_by, "output_column": "_ZSCORE"});
    t.history.add_operation(BlockSel::All, "zscore", params)?;
    t.last_output = Some("_ZSCORE".into());
    out(t)
}

const LIN_REGRESS: NodeSpec = NodeSpec {
    name: "LinRegress",
    aliases: &[],
    category: Category::Math,
    help: "least-squares line through each array against its indices (scipy.stats.linregress)",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: run_linregress,
};

/// scipy.stats.linregress(x, y): slope, intercept, r, two-sided p-value, standard error of the slope.
pub(crate) fn linregress(x: &[f64], y: &[f64]) -> [f64; 5] {
    let n = x.len() as f64;
    let xm = x.iter().sum::<f64>() / n;
    let ym = y.iter().sum::<f64>() / n;
    let (mut ssxm, mut ssym, mut ssxym) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        ssxm += (a - xm) * (a - xm);
        ssym += (b - ym) * (b - ym);
        ssxym += (a - xm) * (b - ym);
    }
    let (ssxm, ssym, ssxym) = (ssxm / n, ssym / n, ssxym / n);
    let r = if ssxm == 0.0 || ssym == 0.0 { 0.0 } else { (ssxym / (ssxm * ssym).sqrt()).clamp(-1.0, 1.0) };
    let slope = ssxym / ssxm;
    let intercept = ym - slope * xm;
    if x.len() == 2 {
        let r = if ssym == 0.0 { 0.0 } else { r.signum() };
        return [slope, intercept, r, if ssym == 0.0 { 1.0 } else { 0.0 }, 0.0];
    }
    let df = n - 2.0;
    const TINY: f64 = 1.0e-20;
    let tstat = r * (df / ((1.0 - r + TINY) * (1.0 + r + TINY))).sqrt();
    let p = StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| 2.0 * d.sf(tstat.abs()));
    let stderr = ((1.0 - r * r) * ssym / ssxm / df).sqrt();
    [slope, intercept, r, p, stderr]
}

fn run_linregress(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let curves = read_curves(t, &col)?;
    let mut cols: [Vec<f64>; 5] = Default::default();
    for (i, y) in curves.iter().enumerate() {
        if y.len() < 2 {
            return Err(data_err(format!("LinRegress: row {i} of '{col}' has {} values; a line needs 2", y.len())));
        }
        let x: Vec<f64> = (0..y.len()).map(|k| k as f64).collect();
        for (k, v) in linregress(&x, y).into_iter().enumerate() {
            cols[k].push(v);
        }
    }
    let mut t = t.clone();
    for (name, v) in ["_SLOPE", "_INTERCEPT", "_R-VALUE", "_P-VALUE", "_STDERR"].iter().zip(cols) {
        set_column(&mut t, Column::new((*name).into(), v))?;
    }
    t.history.add_operation(BlockSel::All, "linreg", json!({"data_column": col}))?;
    t.last_output = None;
    out(t)
}
