//! NormRaw (Data): each CNMF(-E) curve min-max scaled onto the raw brightness of its component, as the original: the
//! raw maximum is a mean over the footprint's pixels (A > 0) in the movie frame where the curve peaks, the raw
//! minimum the same in the frame where it is lowest, each over the pixels `option` picks.
//!
//! The original computed these two numbers when CNMF-E ROIs were imported and stored them in the ROI state; here
//! they are computed when the node runs, from the sample's stored movie and footprints in the project (same
//! definition, so the same values).

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;

use super::columns::{read_labels, set_column, take_rows};
use super::flat::{FlatCurves, FlatOut};
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, data_err, out};
use crate::analysis::{BlockSel, UUID_CURVE};
use crate::project::{SampleCurves, WorkEnv};
use crate::roi::RoiGeometry;

/// The original's choices: mean of the 5 / 10 brightest pixels, of the brightest 5 / 10 / 25 %, or of all.
const OPTIONS: &[&str] = &["top_5", "top_10", "top_5p", "top_10p", "top_25p", "full_mean"];

/// The curves NormRaw scales (the original's fixed data column).
const DATA_COLUMN: &str = "_RAW_CURVE";

/// Where the scaled curves go.
const OUTPUT_COLUMN: &str = "_NORMRAW";

pub(super) const NORM_RAW: NodeSpec = NodeSpec {
    name: "NormRaw",
    aliases: &[],
    category: Category::Data,
    help: "scale each CNMF(-E) _RAW_CURVE onto [raw min, raw max]: its footprint's brightness in the frames where it is lowest and highest",
    inputs: IN,
    outputs: OUT,
    params: &[P::new(
        "option",
        K::Choice(OPTIONS),
        D::Text("top_5"),
        "raw values from the 5 / 10 brightest footprint pixels, the brightest 5 / 10 / 25 %, or all of them",
    )],
    run: run_norm_raw,
};

/// Mean of the `option` brightest values, as the original's `np.partition(a, -n)[-n:].mean()`; a count that rounds
/// to 0 (percentages of footprints under 20 pixels) selects the whole array there (`a[-0:]`), and so here.
pub(crate) fn raw_mean(values: &[f64], option: &str) -> f64 {
    let size = values.len();
    let p5 = size * 5 / 100;
    let count = match option {
        "top_5" => 5.min(size),
        "top_10" => 10.min(size),
        "top_5p" => p5,
        "top_10p" => 2 * p5,
        "top_25p" => 5 * p5,
        _ => size,
    };
    let count = if count == 0 { size } else { count };
    if count == 0 {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(|a, b| b.total_cmp(a));
    v[..count].iter().sum::<f64>() / count as f64
}

/// tslearn's `TimeSeriesScalerMinMax(value_range=(lo, hi))` on one curve: its own min and max (NaN ignored) map to
/// `lo` and `hi`; a constant curve (range 0, replaced by 1) maps to `lo`.
fn scale_min_max(x: &[f64], lo: f64, hi: f64, y: &mut [f64]) {
    let min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = if max - min == 0.0 { 1.0 } else { max - min };
    y.iter_mut().zip(x).for_each(|(y, v)| *y = (v - min) * (hi - lo) / range + lo);
}

/// numpy's argmax / argmin: the first extreme, or the first NaN if there is one.
fn arg_extreme(x: &[f64], larger: bool) -> Option<usize> {
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        return Some(i);
    }
    let better = |a: f64, b: f64| if larger { a > b } else { a < b };
    (0..x.len()).reduce(|best, i| if better(x[i], x[best]) { i } else { best })
}

/// One sample's movie and ROIs, with the row of each curve uuid.
struct Sample {
    env: WorkEnv,
    rows: HashMap<String, usize>,
}

impl Sample {
    fn open(root: &Path, info: &str, curves: &str) -> Result<Self, String> {
        let env = WorkEnv::load(&root.join(info)).map_err(|e| e.to_string())?;
        let c = SampleCurves::read(&root.join(curves)).map_err(|e| e.to_string())?;
        let rows = c.uuids.iter().enumerate().map(|(i, u)| (u.clone(), i)).collect();
        Ok(Self { env, rows })
    }

    /// (raw min, raw max) of the ROI with curve `uuid`, for `curve` (its _RAW_CURVE).
    fn raw_min_max(&self, uuid: &str, curve: &[f64], option: &str) -> Result<(f64, f64), String> {
        let &i = self.rows.get(uuid).ok_or_else(|| format!("the sample has no ROI with uuid_curve {uuid}"))?;
        let roi = self.env.rois.rois().get(i).ok_or_else(|| format!("the sample has no ROI {i}"))?;
        let (RoiGeometry::Cnmf { footprint, .. } | RoiGeometry::VolCnmf { footprint, .. }) = &roi.geometry else {
            return Err(format!("it is a {} ROI; NormRaw needs CNMF(-E) footprints", roi.roi_type()));
        };
        let pixels: Vec<usize> =
            footprint.indices.iter().zip(&footprint.weights).filter(|(_, w)| **w > 0.0).map(|(&p, _)| p as usize).collect();
        if pixels.is_empty() {
            return Err("its footprint has no pixel with a positive weight".into());
        }
        let frames = self.env.img.shape().t;
        if curve.len() != frames {
            return Err(format!("its curve has {} points for a movie of {frames} frames", curve.len()));
        }
        let at = |t: usize| -> Result<f64, String> {
            let frame = self.env.img.frame(t).map_err(|e| e.to_string())?;
            let values = pixels
                .iter()
                .map(|&p| frame.get(p).map(|&v| f64::from(v)).ok_or_else(|| format!("footprint pixel {p} is outside the movie")))
                .collect::<Result<Vec<f64>, String>>()?;
            Ok(raw_mean(&values, option))
        };
        let hi = arg_extreme(curve, true).ok_or("its curve is empty")?;
        let lo = arg_extreme(curve, false).ok_or("its curve is empty")?;
        Ok((at(lo)?, at(hi)?))
    }
}

fn run_norm_raw(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let option = c.params.text("option").to_string();
    let root = t.proj_path.clone().or_else(|| c.ctx.project.clone()).ok_or_else(|| {
        data_err("NormRaw reads each sample's movie and CNMF footprints from its project: the input has no project path")
    })?;
    let curves = FlatCurves::read(t, DATA_COLUMN)?;
    let infos = read_labels(t, "ImgInfoPath")?;
    let curve_paths = read_labels(t, "CurvePath")?;
    let uuids = read_labels(t, UUID_CURVE)?;
    let mut samples: HashMap<String, Sample> = HashMap::new();
    let mut kept = Vec::new();
    let mut bounds = Vec::new();
    for i in 0..curves.len() {
        let fail = |m: String| data_err(format!("NormRaw: row {i}: {m}"));
        let (Some(info), Some(cpath), Some(uuid)) = (&infos[i], &curve_paths[i], &uuids[i]) else {
            return Err(fail("no ImgInfoPath / CurvePath / uuid_curve: not a project sample's ROI".into()));
        };
        if !samples.contains_key(info) {
            samples.insert(info.clone(), Sample::open(&root, info, cpath).map_err(fail)?);
        }
        let (lo, hi) = samples[info].raw_min_max(uuid, curves.row(i), &option).map_err(fail)?;
        // The original excluded such curves (NaN, then dropped) after a warning naming how many.
        if lo < hi {
            kept.push(i);
            bounds.push((lo, hi));
        }
    }
    let excluded = curves.len() - kept.len();
    if excluded > 0 {
        tracing::warn!("NormRaw: {excluded} curves were excluded because their raw min was not below their raw max");
    }
    let mut offsets = vec![0usize];
    for &i in &kept {
        offsets.push(offsets.last().copied().unwrap_or(0) + curves.row(i).len());
    }
    let mut values = vec![0.0; offsets.last().copied().unwrap_or(0)];
    for (k, (&i, &(lo, hi))) in kept.iter().zip(&bounds).enumerate() {
        scale_min_max(curves.row(i), lo, hi, &mut values[offsets[k]..offsets[k + 1]]);
    }
    let mut t = if excluded > 0 { take_rows(t, &kept)? } else { t.clone() };
    set_column(&mut t, FlatOut { offsets, values }.into_column(OUTPUT_COLUMN)?)?;
    let params = json!({"data_column": DATA_COLUMN, "option": option, "output_column": OUTPUT_COLUMN});
    t.history.add_operation(BlockSel::All, "normrawminmax", params)?;
    t.last_output = Some(OUTPUT_COLUMN.into());
    out(t)
}
