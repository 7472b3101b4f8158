//! Biology nodes: ExtractStim, DetrendDFoF, StaticDFoFo, StimTuning.

use polars::prelude::*;
use serde_json::{Value, json};

use super::columns::{groups, list_column, read_curves, read_labels, set_column, take_rows};
use super::flat::{map_flat, same_len};
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, data_err, out};
use crate::analysis::{BlockSel, Transmission};
use crate::stimulus::StimulusMap;

pub(super) const NODES: &[&NodeSpec] = &[&EXTRACT_STIM, &DETREND_DFOF, &STATIC_DFOFO, &STIM_TUNING];

const EXTRACT_STIM: NodeSpec = NodeSpec {
    name: "ExtractStim",
    aliases: &[],
    category: Category::Biology,
    help: "one row per stimulus period and curve, with the part of the curve during the period",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("Stim_Type", K::Text, D::Required, "stimulus type (a stimulus column of the project)"),
        P::new("start_offset", K::Int { min: -999_999, max: 999_999 }, D::Int(0), "frames added to the start"),
        P::new("end_offset", K::Int { min: -999_999, max: 999_999 }, D::Int(0), "frames added to the end"),
        P::new("zero_pos", K::Choice(&["start_offset", "stim_end", "stim_center"]), D::Text("start_offset"), "where extraction starts"),
    ],
    run: run_extract_stim,
};

/// The periods of `stim_type` in one row's `stim_maps` JSON, in frames, sorted by start.
fn periods_of(json_text: Option<&str>, stim_type: &str, sample: &str) -> Result<Vec<(String, i64, i64)>, NodeError> {
    let v: Value = json_text
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| data_err(format!("ExtractStim: sample '{sample}' has no readable stim_maps")))?;
    let m = v.get(stim_type).filter(|m| !m.is_null()).ok_or_else(|| {
        data_err(format!("ExtractStim: sample '{sample}' has no stimulus map of type '{stim_type}'"))
    })?;
    let map: StimulusMap = serde_json::from_value(m.clone())
        .map_err(|e| data_err(format!("ExtractStim: sample '{sample}': bad '{stim_type}' map: {e}")))?;
    let map = map.in_frames(stim_type, None).map_err(|e| data_err(format!("ExtractStim: sample '{sample}': {e}")))?;
    let mut p: Vec<(String, i64, i64)> = map.periods.iter().map(|p| (p.name.clone(), p.start as i64, p.end as i64)).collect();
    p.sort_by_key(|x| x.1);
    Ok(p)
}

/// Each row's `stim_maps` JSON text (None where null); a Transmission without the column is an error for `node`.
fn stim_map_texts(t: &Transmission, node: &str) -> Result<Vec<Option<String>>, NodeError> {
    match t.df.column("stim_maps") {
        Ok(c) if c.dtype() == &DataType::String => Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect()),
        _ => Err(data_err(format!("{node}: the input has no 'stim_maps' column (spawn it from a project)"))),
    }
}

fn run_extract_stim(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let stim_type = c.params.text("Stim_Type").to_string();
    let (so, eo) = (c.params.int("start_offset"), c.params.int("end_offset"));
    let zero_pos = c.params.text("zero_pos").to_string();
    let curves = read_curves(t, &col)?;
    let samples = read_labels(t, "SampleID")?;
    let maps = stim_map_texts(t, "ExtractStim")?;
    let (mut rows, mut names, mut starts, mut ends, mut pieces) = (vec![], vec![], vec![], vec![], vec![]);
    for (sample, sample_rows) in groups(&samples) {
        let sample = sample.unwrap_or_default();
        for (name, st, en) in periods_of(maps[sample_rows[0]].as_deref(), &stim_type, &sample)? {
            for &r in &sample_rows {
                let max_ix = curves[r].len() as i64 - 1;
                let (a, b) = match zero_pos.as_str() {
                    "start_offset" => ((st + so).max(0), (en + eo).min(max_ix)),
                    "stim_end" => (en, (en + eo).min(max_ix)),
                    _ => ((st + en) / 2 + so, (en + eo).min(max_ix)),
                };
                let (lo, hi) = (a.clamp(0, max_ix + 1) as usize, b.clamp(0, max_ix + 1) as usize);
                rows.push(r);
                names.push(name.clone());
                starts.push(a);
                ends.push(b);
                pieces.push(if hi > lo { curves[r][lo..hi].to_vec() } else { Vec::new() });
            }
        }
    }
    let n = rows.len();
    let mut t = take_rows(t, &rows)?;
    set_column(&mut t, Column::new("ST_TYPE".into(), vec![stim_type.as_str(); n]))?;
    set_column(&mut t, Column::new("ST_NAME".into(), names))?;
    set_column(&mut t, Column::new("_ST_START_IX".into(), starts))?;
    set_column(&mut t, Column::new("_ST_END_IX".into(), ends))?;
    set_column(&mut t, list_column("_ST_CURVE", &pieces))?;
    let uuids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    set_column(&mut t, Column::new("ST_uuid".into(), uuids))?;
    let params = json!({"data_column": col, "stim_type": stim_type, "start_offset": so, "end_offset": eo, "zero_pos": zero_pos});
    t.history.add_operation(BlockSel::All, "extract_stim", params)?;
    t.last_output = Some("_ST_CURVE".into());
    out(t)
}

const STATIC_DFOFO: NodeSpec = NodeSpec {
    name: "StaticDFoFo",
    aliases: &[],
    category: Category::Biology,
    help: "(F - F0) / F0 with F0 the minimum of each curve",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: |c| {
        let t = c.trn("In")?;
        let col = c.data_column(t)?;
        let t = map_flat(t, &col, "_STATIC_DF_O_F", "static_df_o_f", json!({}), |c| {
            c.map_rows(same_len, |_, f, y| {
                let f0 = f.iter().copied().fold(f64::INFINITY, f64::min);
                y.iter_mut().zip(f).for_each(|(y, v)| *y = (v - f0) / f0);
                Ok(())
            })
        })?;
        out(t)
    },
};

const TUNING_METHODS: &[&str] = &["mean", "max", "min", "median", "std", "var", "ptp", "nanmean", "nanmax", "nanmin", "nanmedian"];

const STIM_TUNING: NodeSpec = NodeSpec {
    name: "StimTuning",
    aliases: &[],
    category: Category::Biology,
    help: "per curve and stimulus type, the tuning curve (a statistic of the curve during each stimulus) and its argmax / argmin",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("method", K::Choice(TUNING_METHODS), D::Text("mean"), "statistic of the curve during each stimulus"),
        P::new("start_offset", K::Int { min: -999_999, max: 999_999 }, D::Int(0), "frames added to each period's start"),
        P::new("end_offset", K::Int { min: -999_999, max: 999_999 }, D::Int(0), "frames added to each period's end"),
        P::new("include_unlabelled", K::Bool, D::Bool(false), "also a 'None' entry for frames outside every period"),
    ],
    run: run_stim_tuning,
};

/// A stimulus name as a number, if it is one (numeric names sort after text names, numerically).
fn numeric(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Tuning curve of one curve for one map: (stimulus names in the original's order, statistic per stimulus).
fn tuning(curve: &[f64], periods: &[(String, i64, i64)], method: &str, so: i64, eo: i64, unlabelled: bool) -> (Vec<String>, Vec<f64>) {
    let n = curve.len() as i64;
    let mut label: Vec<Option<&str>> = vec![None; curve.len()];
    for (name, st, en) in periods {
        let (a, b) = ((st + so).clamp(0, n), (en + eo).clamp(0, n));
        for l in label.iter_mut().take(b as usize).skip(a as usize) {
            *l = Some(name.as_str());
        }
    }
    let mut names: Vec<String> = label.iter().filter_map(|l| l.map(str::to_string)).collect();
    names.sort();
    names.dedup();
    let (mut nums, mut texts): (Vec<String>, Vec<String>) = names.into_iter().partition(|s| numeric(s).is_some());
    texts.sort();
    nums.sort_by(|a, b| numeric(a).unwrap_or(0.0).total_cmp(&numeric(b).unwrap_or(0.0)));
    let mut xs: Vec<String> = texts.into_iter().chain(nums).collect();
    if unlabelled && label.iter().any(Option::is_none) {
        xs.insert(0, "None".into());
    }
    let ys = xs
        .iter()
        .map(|x| {
            let vals: Vec<f64> = curve
                .iter()
                .zip(&label)
                .filter(|(_, l)| l.map_or(x == "None", |l| l == x))
                .map(|(v, _)| *v)
                .collect();
            super::math::reduce(method, &vals)
        })
        .collect();
    (xs, ys)
}

fn run_stim_tuning(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let method = c.params.text("method").to_string();
    let (so, eo) = (c.params.int("start_offset"), c.params.int("end_offset"));
    let unlabelled = c.params.bool("include_unlabelled");
    let curves = read_curves(t, &col)?;
    let samples = read_labels(t, "SampleID").unwrap_or_else(|_| vec![None; curves.len()]);
    let maps = stim_map_texts(t, "StimTuning")?;
    let mut t = t.clone();
    let stim_types = if t.stim_defs.is_empty() {
        // Without project context, every type found in the first row's maps.
        maps.first()
            .and_then(|m| m.as_deref())
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    } else {
        t.stim_defs.clone()
    };
    for st in &stim_types {
        let mut xl: Vec<Series> = Vec::with_capacity(curves.len());
        let mut yv = Vec::with_capacity(curves.len());
        let (mut tmax, mut tmin) = (Vec::new(), Vec::new());
        for (i, curve) in curves.iter().enumerate() {
            let sample = samples[i].clone().unwrap_or_default();
            let periods = periods_of(maps[i].as_deref(), st, &sample).unwrap_or_default();
            let (xs, ys) = tuning(curve, &periods, &method, so, eo, unlabelled);
            let arg = |better: fn(f64, f64) -> bool| {
                (0..ys.len()).filter(|&k| !ys[k].is_nan()).reduce(|a, b| if better(ys[b], ys[a]) { b } else { a }).map(|k| xs[k].clone())
            };
            tmax.push(arg(|a, b| a > b));
            tmin.push(arg(|a, b| a < b));
            xl.push(Series::new("".into(), xs));
            yv.push(ys);
        }
        let xcol = Series::new(format!("TUNE_CURVE_{st}_xlabels").into(), xl);
        set_column(&mut t, xcol.into_column())?;
        set_column(&mut t, list_column(&format!("_TUNE_CURVE_{st}_yvals"), &yv))?;
        set_column(&mut t, Column::new(format!("TUNE_MAX_{st}").into(), tmax))?;
        set_column(&mut t, Column::new(format!("TUNE_MIN_{st}").into(), tmin))?;
    }
    if stim_types.is_empty() {
        return Err(data_err("StimTuning: no stimulus types in the input (no stimulus maps)"));
    }
    let params = json!({"data_column": col, "method": method, "start_offset": so, "end_offset": eo, "include_unlabelled": unlabelled});
    t.history.add_operation(BlockSel::All, "tuning_curves", params)?;
    t.last_output = Some(format!("_TUNE_CURVE_{}_yvals", stim_types[0]));
    out(t)
}

const DETREND_DFOF: NodeSpec = NodeSpec {
    name: "DetrendDFoF",
    aliases: &[],
    category: Category::Biology,
    help: "CNMF's detrended dF/F (CaImAn detrend_df_f) of each curve, from the sample's CNMF output, not from a data column",
    inputs: IN,
    outputs: OUT,
    params: &[],
    run: |c| {
        let t = c.trn("In")?;
        let root = t.proj_path.clone().or_else(|| c.ctx.project.clone()).ok_or_else(|| {
            data_err("DetrendDFoF reads each sample's CNMF output from its project: the input has no project path")
        })?;
        let paths = read_labels(t, "CurvePath")?;
        let uuids = read_labels(t, crate::analysis::UUID_CURVE)?;
        let rows = crate::project::cnmf_dfof(&root, &paths, &uuids).map_err(|e| data_err(format!("DetrendDFoF: {e}")))?;
        let samples = read_labels(t, "SampleID").unwrap_or_else(|_| vec![None; rows.len()]);
        let dfof: Vec<Vec<f64>> = rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| {
                    data_err(format!(
                        "DetrendDFoF: row {i} (sample {}) has no CNMF dF/F: its ROIs are not from a CNMF result with F_dff",
                        samples[i].as_deref().unwrap_or("?")
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut t = t.clone();
        set_column(&mut t, list_column("_DETREND_DF_O_F", &dfof))?;
        t.history.add_operation(BlockSel::All, "detrend_df_o_f", json!({"source": "cnmf F_dff (CaImAn detrend_df_f)"}))?;
        t.last_output = Some("_DETREND_DF_O_F".into());
        out(t)
    },
};
