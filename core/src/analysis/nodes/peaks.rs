//! PeakDetect and PeakFeatures. A row's peaks and bases are stored in the `peaks_bases` column as JSON text of
//! records `[{"event": index, "label": "peak" | "base"}, ...]` sorted by index (pandas: `pd.DataFrame(json.loads(s))`
//! gives the original's per-row DataFrame).

use polars::prelude::*;
use serde_json::{Value, json};

use super::columns::{list_column, read_curves, set_column, take_rows};
use super::spec::OUT;
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, Terminal, data_err, out};
use crate::analysis::BlockSel;
use crate::analysis::signal::gradient::gradient;

pub(super) const NODES: &[&NodeSpec] = &[&PEAK_DETECT, &PEAK_FEATURES];

/// One detected event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Index in the curve.
    pub event: usize,
    /// Peak (true) or base.
    pub peak: bool,
}

/// Thresholds of [`detect_peaks`].
#[derive(Debug, Clone, Copy)]
pub struct PeakThresholds {
    /// Peaks whose second derivative is above this are dropped (peaks must be sharp enough).
    pub slope: f64,
    /// Peaks whose normalised amplitude is below this are dropped.
    pub ampl_abs: f64,
    /// Peaks whose mean rise/fall from their bases is not above this are dropped.
    pub ampl_rel: f64,
    /// Add bases at the curve's ends when the first/last peak has none.
    pub fictional_bases: bool,
}

/// Peaks and bases from zero crossings of the derivative `d1`, thresholded on `norm` (normalised curve) and the
/// second derivative, each peak then moved to the maximum of `sig` between its own bases (never outside them: the
/// original searched the whole curve for that value).
pub fn detect_peaks(d1: &[f64], sig: &[f64], norm: &[f64], th: &PeakThresholds) -> Result<Vec<Event>, String> {
    if d1.len() < 2 || sig.len() < d1.len() || norm.len() < d1.len() {
        return Err(format!(
            "derivative ({}), curve ({}) and normalised curve ({}) must have matching lengths of at least 2",
            d1.len(),
            sig.len(),
            norm.len()
        ));
    }
    // A derivative of exactly zero (the top of a smooth peak landing on a sample) continues the previous sign, so a
    // rise-then-fall is one crossing; numpy's sign 0 there made the original report two adjacent peaks.
    let mut sign: Vec<f64> = d1.iter().map(|v| if *v > 0.0 { 1.0 } else if *v < 0.0 { -1.0 } else { 0.0 }).collect();
    let first = sign.iter().copied().find(|s| *s != 0.0).unwrap_or(0.0);
    let mut prev = first;
    for s in sign.iter_mut() {
        if *s == 0.0 {
            *s = prev;
        } else {
            prev = *s;
        }
    }
    let sc: Vec<f64> = sign.windows(2).map(|w| w[1] - w[0]).collect();
    let s2 = gradient(d1)?;
    let mut peaks: Vec<usize> = (0..sc.len()).filter(|&i| sc[i] < 0.0).collect();
    let mut bases: Vec<usize> = (0..sc.len()).filter(|&i| sc[i] > 0.0).collect();
    peaks.retain(|&p| !(norm[p] < th.ampl_abs) && !(s2[p] > th.slope));
    if peaks.is_empty() {
        return Ok(Vec::new());
    }
    if th.fictional_bases {
        if bases.is_empty() {
            bases = vec![0, sc.len()];
        } else {
            if bases[0] > peaks[0] {
                bases.insert(0, 0);
            }
            if bases[bases.len() - 1] < peaks[peaks.len() - 1] {
                bases.push(sc.len());
            }
        }
    }
    let mut ev: Vec<Event> =
        peaks.iter().map(|&e| Event { event: e, peak: true }).chain(bases.iter().map(|&e| Event { event: e, peak: false })).collect();
    ev.sort_by_key(|e| e.event);
    // Revise each flanked peak to the curve's maximum between its bases, or drop it below the relative threshold.
    let mut keep = vec![true; ev.len()];
    for i in 1..ev.len().saturating_sub(1) {
        if !(ev[i].peak && !ev[i - 1].peak && !ev[i + 1].peak) {
            continue;
        }
        let (l, r) = (ev[i - 1].event, ev[i + 1].event.min(sig.len() - 1));
        if r <= l {
            continue;
        }
        let rev = (l..r).fold(l, |best, k| if sig[k] > sig[best] { k } else { best });
        let rise = sig[rev] - sig[l];
        let fall = sig[rev] - sig[r];
        if (rise + fall) / 2.0 > th.ampl_rel {
            ev[i].event = rev;
        } else {
            keep[i] = false;
        }
    }
    let ev: Vec<Event> = ev.into_iter().zip(keep).filter(|(_, k)| *k).map(|(e, _)| e).collect();
    // Drop bases that flank no peak.
    let n = ev.len();
    let ev = (0..n)
        .filter(|&i| ev[i].peak || i == 0 || i + 1 >= n || ev[i - 1].peak || ev[i + 1].peak)
        .map(|i| ev[i])
        .collect();
    Ok(ev)
}

/// The `peaks_bases` JSON text of a row.
pub fn events_to_json(ev: &[Event]) -> String {
    Value::Array(ev.iter().map(|e| json!({"event": e.event, "label": if e.peak { "peak" } else { "base" }})).collect())
        .to_string()
}

/// Parse a `peaks_bases` cell.
pub fn events_from_json(s: &str) -> Result<Vec<Event>, String> {
    let v: Vec<Value> = serde_json::from_str(s).map_err(|e| format!("peaks_bases is not JSON records: {e}"))?;
    v.iter()
        .map(|r| {
            let event = r.get("event").and_then(Value::as_u64).ok_or("a peaks_bases record has no integer 'event'")? as usize;
            let peak = match r.get("label").and_then(Value::as_str) {
                Some("peak") => true,
                Some("base") => false,
                _ => return Err("a peaks_bases record's label is not 'peak' or 'base'".to_string()),
            };
            Ok(Event { event, peak })
        })
        .collect()
}

const PEAK_DETECT: NodeSpec = NodeSpec {
    name: "PeakDetect",
    aliases: &[],
    category: Category::Signal,
    help: "peaks and bases from zero crossings of the derivative, with absolute, relative and slope thresholds",
    inputs: &[
        Terminal::trn("Derivative").optional(),
        Terminal::trn("Normalized").optional(),
        Terminal::trn("Curve").optional(),
        Terminal::trn("PB_Input").optional(),
    ],
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("Fictional_Bases", K::Bool, D::Bool(true), "add bases at the ends for lonely first/last peaks"),
        P::new("SlopeThr", K::Float, D::Float(0.0), "second-derivative threshold"),
        P::new("AmplThrAbs", K::Float, D::Float(0.0), "absolute amplitude threshold on the normalised curve"),
        P::new("AmplThrRel", K::Float, D::Float(0.0), "relative amplitude threshold (mean rise/fall from the bases)"),
    ],
    run: run_peak_detect,
};

fn run_peak_detect(c: &NodeCall) -> Result<Outputs, NodeError> {
    if let Some(pb) = c.opt_trn("PB_Input")? {
        if pb.df.column("peaks_bases").is_err() {
            return Err(NodeError::Input { terminal: "PB_Input".into(), message: "has no peaks_bases column".into() });
        }
        return out(pb.clone());
    }
    let (td, tn, tc) = (c.trn("Derivative")?, c.trn("Normalized")?, c.trn("Curve")?);
    if td.df.height() != tc.df.height() || tn.df.height() != tc.df.height() {
        return Err(data_err(format!(
            "PeakDetect: Derivative ({}), Normalized ({}) and Curve ({}) must have the same rows",
            td.df.height(),
            tn.df.height(),
            tc.df.height()
        )));
    }
    let col = c.data_column(tc)?;
    let d1 = read_curves(td, "_DERIVATIVE")?;
    let norm_col = tn.last_output.clone().ok_or_else(|| data_err("PeakDetect: the Normalized input has no last output column"))?;
    let norm = read_curves(tn, &norm_col)?;
    let sig = read_curves(tc, &col)?;
    let th = PeakThresholds {
        slope: c.params.float("SlopeThr"),
        ampl_abs: c.params.float("AmplThrAbs"),
        ampl_rel: c.params.float("AmplThrRel"),
        fictional_bases: c.params.bool("Fictional_Bases"),
    };
    let pb: Vec<String> = (0..sig.len())
        .map(|i| detect_peaks(&d1[i], &sig[i], &norm[i], &th).map(|e| events_to_json(&e)).map_err(|e| data_err(format!("PeakDetect: row {i}: {e}"))))
        .collect::<Result<_, _>>()?;
    let mut t = tc.clone();
    set_column(&mut t, list_column("_DERIVATIVE", &d1))?;
    set_column(&mut t, Column::new("peaks_bases".into(), pb))?;
    set_column(&mut t, list_column("curve", &sig))?;
    let params = json!({"data_column": col, "SlopeThr": th.slope, "AmplThrRel": th.ampl_rel, "AmplThrAbs": th.ampl_abs,
        "Fictional_Bases": th.fictional_bases,
        "derivative_input_history_trace": td.history.to_json(), "normalized_input_history_trace": tn.history.to_json(),
        "units": tc.last_unit});
    t.history.add_operation(BlockSel::All, "peak_detect", params)?;
    out(t)
}

/// scipy.integrate.simpson(y) with unit spacing (scipy >= 1.11: an even number of samples ends with Cartwright's
/// 3-point correction for the last interval).
pub fn simpson(y: &[f64]) -> f64 {
    let n = y.len();
    let basic = |y: &[f64]| -> f64 {
        // Composite Simpson over an odd number of points.
        let mut s = y[0] + y[y.len() - 1];
        for (k, v) in y.iter().enumerate().take(y.len() - 1).skip(1) {
            s += if k % 2 == 1 { 4.0 * v } else { 2.0 * v };
        }
        s / 3.0
    };
    match n {
        0 => 0.0,
        1 => 0.0,
        2 => (y[0] + y[1]) / 2.0,
        _ if n % 2 == 1 => basic(y),
        _ => basic(&y[..n - 1]) + 5.0 / 12.0 * y[n - 1] + 2.0 / 3.0 * y[n - 2] - 1.0 / 12.0 * y[n - 3],
    }
}

const PEAK_FEATURES: NodeSpec = NodeSpec {
    name: "PeakFeatures",
    aliases: &[],
    category: Category::Signal,
    help: "one row per peak with its amplitude, area, slopes and duration",
    inputs: &[Terminal::trn("In")],
    outputs: OUT,
    params: &[P::data_column()],
    run: run_peak_features,
};

fn run_peak_features(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let curves = read_curves(t, &col)?;
    let pb_col = t.df.column("peaks_bases").map_err(|_| data_err("PeakFeatures: the input has no peaks_bases column (run PeakDetect first)"))?;
    let pbs: Vec<Option<String>> = pb_col.str()?.iter().map(|v| v.map(str::to_string)).collect();
    let mut rows = Vec::new();
    let mut f: [Vec<f64>; 9] = Default::default();
    let (mut pcurves, mut pix, mut bl, mut br, mut uuids) = (vec![], vec![], vec![], vec![], vec![]);
    let mut skipped = 0usize;
    for (r, curve) in curves.iter().enumerate() {
        let ev = events_from_json(pbs[r].as_deref().unwrap_or("[]")).map_err(|e| data_err(format!("PeakFeatures: row {r}: {e}")))?;
        for i in 0..ev.len() {
            if !ev[i].peak {
                continue;
            }
            let flanked = i > 0 && i + 1 < ev.len() && !ev[i - 1].peak && !ev[i + 1].peak;
            let (p, l, rr) = (ev[i].event, ev.get(i.wrapping_sub(1)).map_or(0, |e| e.event), ev.get(i + 1).map_or(0, |e| e.event));
            let max_ix = curve.len().saturating_sub(1);
            if !flanked || l > max_ix || rr > max_ix || p > max_ix || rr <= l || p == l || p == rr {
                skipped += 1;
                continue;
            }
            let pc = &curve[l..rr];
            let min = pc.iter().copied().fold(f64::INFINITY, f64::min);
            let vals = [
                curve[p] - curve[l],
                curve[p] - curve[rr],
                curve[p] - (curve[l] + curve[rr]) / 2.0,
                curve[p],
                simpson(pc),
                simpson(&pc.iter().map(|v| v - min).collect::<Vec<_>>()),
                (curve[l] - curve[p]).abs() / (p as f64 - l as f64).abs(),
                (curve[rr] - curve[p]).abs() / (p as f64 - rr as f64).abs(),
                pc.len() as f64,
            ];
            for (k, v) in vals.into_iter().enumerate() {
                f[k].push(v);
            }
            rows.push(r);
            pcurves.push(pc.to_vec());
            pix.push(p as i64);
            bl.push(l as i64);
            br.push(rr as i64);
            uuids.push(uuid::Uuid::new_v4().to_string());
        }
    }
    if skipped > 0 {
        tracing::warn!("PeakFeatures: {skipped} peaks not flanked by bases inside the curve were ignored");
    }
    let mut t = take_rows(t, &rows)?;
    let names = [
        "_pf_ampl_rel_b_ix_l",
        "_pf_ampl_rel_b_ix_r",
        "_pf_ampl_rel_b_mean",
        "_pf_ampl_rel_zero",
        "_pf_area_rel_zero",
        "_pf_area_rel_min",
        "_pf_rising_slope_avg",
        "_pf_falling_slope_avg",
        "_pf_duration_base",
    ];
    for (name, v) in names.iter().zip(f) {
        set_column(&mut t, Column::new((*name).into(), v))?;
    }
    set_column(&mut t, list_column("_pf_peak_curve", &pcurves))?;
    set_column(&mut t, Column::new("_pf_uuid".into(), uuids))?;
    set_column(&mut t, Column::new("_pf_p_ix".into(), pix))?;
    set_column(&mut t, Column::new("_pf_b_ix_l".into(), bl))?;
    set_column(&mut t, Column::new("_pf_b_ix_r".into(), br))?;
    t.history.add_operation(BlockSel::All, "peak-features", json!({"data_column": col}))?;
    t.last_output = None;
    out(t)
}
