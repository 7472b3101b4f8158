//! Serialisable ROI states: JSON objects with the keys of the original Mesmerize's ROI states (`roi_xs`/`roi_ys`,
//! `contour`, `curve_data`, `tags`, `roi_type`, `cnmf_idx`), so projects can store ROIs and importers can map them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Footprint, Roi, RoiError, RoiGeometry};

/// Points sampled on an ellipse's outline for `roi_xs` / `roi_ys` (the exact shape is in `pos`/`size`/`angle`).
pub const ELLIPSE_OUTLINE_POINTS: usize = 64;

/// Outline of an ellipse sampled at [`ELLIPSE_OUTLINE_POINTS`] angles, as (xs, ys).
pub fn ellipse_outline(cx: f64, cy: f64, rx: f64, ry: f64, angle_deg: f64) -> (Vec<f64>, Vec<f64>) {
    let (s, c) = angle_deg.to_radians().sin_cos();
    (0..ELLIPSE_OUTLINE_POINTS)
        .map(|k| {
            let th = std::f64::consts::TAU * k as f64 / ELLIPSE_OUTLINE_POINTS as f64;
            let (u, v) = (rx * th.cos(), ry * th.sin());
            (cx + u * c - v * s, cy + u * s + v * c)
        })
        .unzip()
}

fn points(pts: &[[f64; 2]]) -> Value {
    Value::Array(pts.iter().map(|p| json!([p[0], p[1]])).collect())
}

fn f32s(v: &[f32]) -> Value {
    Value::Array(v.iter().map(|&x| Value::from(x)).collect())
}

/// Serialise an ROI (see [`Roi::to_state`]).
pub(crate) fn to_state(roi: &Roi, include_curves: bool) -> Value {
    let mut m = Map::new();
    m.insert("roi_type".into(), roi.roi_type().into());
    match &roi.geometry {
        RoiGeometry::Polygon { xs, ys } => {
            m.insert("shape".into(), "PolyLineROI".into());
            m.insert("roi_xs".into(), json!(xs));
            m.insert("roi_ys".into(), json!(ys));
        }
        RoiGeometry::Ellipse { cx, cy, rx, ry, angle_deg } => {
            let (xs, ys) = ellipse_outline(*cx, *cy, *rx, *ry, *angle_deg);
            m.insert("shape".into(), "EllipseROI".into());
            m.insert("roi_xs".into(), json!(xs));
            m.insert("roi_ys".into(), json!(ys));
            m.insert("pos".into(), json!([cx, cy]));
            m.insert("size".into(), json!([2.0 * rx, 2.0 * ry]));
            m.insert("angle".into(), json!(angle_deg));
        }
        RoiGeometry::Scatter { xs, ys } => {
            m.insert("roi_xs".into(), json!(xs));
            m.insert("roi_ys".into(), json!(ys));
        }
        RoiGeometry::Cnmf { cnmf_idx, contour, footprint } => {
            m.insert("cnmf_idx".into(), json!(cnmf_idx));
            m.insert("contour".into(), json!({"coordinates": points(contour)}));
            m.insert("footprint".into(), footprint_state(footprint));
        }
        RoiGeometry::VolCnmf { cnmf_idx, contours, footprint } => {
            let planes: Vec<Value> = contours.iter().map(|(z, c)| json!({"z": z, "coordinates": points(c)})).collect();
            m.insert("cnmf_idx".into(), json!(cnmf_idx));
            m.insert("contour".into(), json!({"planes": planes}));
            m.insert("footprint".into(), footprint_state(footprint));
        }
    }
    m.insert("tags".into(), json!(roi.tags));
    if include_curves {
        if let Some(c) = &roi.curve {
            m.insert("curve_data".into(), json!([(0..c.len()).collect::<Vec<_>>(), f32s(c)]));
        }
        if let Some(s) = &roi.spikes {
            m.insert("spike_data".into(), f32s(s));
        }
        if let Some(d) = &roi.dfof {
            m.insert("dfof_data".into(), f32s(d));
        }
    }
    Value::Object(m)
}

fn footprint_state(f: &Footprint) -> Value {
    json!({"indices": f.indices, "weights": f32s(&f.weights)})
}

fn bad(msg: impl Into<String>) -> RoiError {
    RoiError::BadState(msg.into())
}

/// Value under `key`, or an error naming the missing key.
fn key<'a>(m: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value, RoiError> {
    m.get(key).ok_or_else(|| bad(format!("{what} state has no '{key}'")))
}

fn number(v: &Value, what: &str) -> Result<f64, RoiError> {
    v.as_f64().ok_or_else(|| bad(format!("'{what}' must be a number, found {}", kind(v))))
}

fn index(v: &Value, what: &str) -> Result<u64, RoiError> {
    v.as_u64().ok_or_else(|| bad(format!("'{what}' must be a non-negative integer, found {v}")))
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, RoiError> {
    v.as_array().ok_or_else(|| bad(format!("'{what}' must be an array, found {}", kind(v))))
}

fn numbers(v: &Value, what: &str) -> Result<Vec<f64>, RoiError> {
    array(v, what)?.iter().map(|x| number(x, what)).collect()
}

/// f32 samples; `null` (how serde_json writes NaN) reads back as NaN.
fn samples(v: &Value, what: &str) -> Result<Vec<f32>, RoiError> {
    array(v, what)?.iter().map(|x| if x.is_null() { Ok(f32::NAN) } else { number(x, what).map(|f| f as f32) }).collect()
}

fn pair(v: &Value, what: &str) -> Result<[f64; 2], RoiError> {
    match numbers(v, what)?.as_slice() {
        &[a, b] => Ok([a, b]),
        other => Err(bad(format!("'{what}' must hold 2 numbers, found {}", other.len()))),
    }
}

fn point_list(v: &Value, what: &str) -> Result<Vec<[f64; 2]>, RoiError> {
    array(v, what)?.iter().map(|p| pair(p, what)).collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `roi_xs` and `roi_ys`, of equal length.
fn xs_ys(m: &Map<String, Value>, what: &str) -> Result<(Vec<f64>, Vec<f64>), RoiError> {
    let xs = numbers(key(m, "roi_xs", what)?, "roi_xs")?;
    let ys = numbers(key(m, "roi_ys", what)?, "roi_ys")?;
    if xs.len() != ys.len() {
        return Err(bad(format!("{what} state has {} roi_xs but {} roi_ys", xs.len(), ys.len())));
    }
    Ok((xs, ys))
}

fn footprint(m: &Map<String, Value>, what: &str) -> Result<Footprint, RoiError> {
    let f = key(m, "footprint", what)?.as_object().ok_or_else(|| bad("'footprint' must be an object"))?;
    let indices = array(key(f, "indices", "footprint")?, "footprint.indices")?
        .iter()
        .map(|v| {
            let i = index(v, "footprint.indices")?;
            u32::try_from(i).map_err(|_| bad(format!("footprint index {i} does not fit a pixel index")))
        })
        .collect::<Result<Vec<u32>, RoiError>>()?;
    let weights = samples(key(f, "weights", "footprint")?, "footprint.weights")?;
    if indices.len() != weights.len() {
        return Err(bad(format!("footprint has {} indices but {} weights", indices.len(), weights.len())));
    }
    Ok(Footprint { indices, weights })
}

fn cnmf_idx(m: &Map<String, Value>, what: &str) -> Result<usize, RoiError> {
    let i = index(key(m, "cnmf_idx", what)?, "cnmf_idx")?;
    usize::try_from(i).map_err(|_| bad(format!("cnmf_idx {i} is too large")))
}

fn contour_obj<'a>(m: &'a Map<String, Value>, what: &str) -> Result<&'a Map<String, Value>, RoiError> {
    key(m, "contour", what)?.as_object().ok_or_else(|| bad("'contour' must be an object"))
}

/// Optional key: absent or `null` is `None`.
fn optional<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

/// Parse an ROI state (see [`Roi::from_state`]).
pub(crate) fn from_state(v: &Value) -> Result<Roi, RoiError> {
    let m = v.as_object().ok_or_else(|| bad(format!("an ROI state must be a JSON object, found {}", kind(v))))?;
    let roi_type = key(m, "roi_type", "ROI")?.as_str().ok_or_else(|| bad("'roi_type' must be a string"))?;
    let geometry = match roi_type {
        "ManualROI" => {
            let shape = match optional(m, "shape") {
                None => "PolyLineROI",
                Some(s) => s.as_str().ok_or_else(|| bad("'shape' must be a string"))?,
            };
            match shape {
                "PolyLineROI" => {
                    let (xs, ys) = xs_ys(m, "ManualROI")?;
                    RoiGeometry::Polygon { xs, ys }
                }
                "EllipseROI" => {
                    let [cx, cy] = pair(key(m, "pos", "EllipseROI")?, "pos")?;
                    let [w, h] = pair(key(m, "size", "EllipseROI")?, "size")?;
                    let angle_deg = number(key(m, "angle", "EllipseROI")?, "angle")?;
                    RoiGeometry::Ellipse { cx, cy, rx: w / 2.0, ry: h / 2.0, angle_deg }
                }
                other => return Err(bad(format!("unknown ManualROI shape '{other}' (expected PolyLineROI or EllipseROI)"))),
            }
        }
        "ScatterROI" => {
            let (xs, ys) = xs_ys(m, "ScatterROI")?;
            RoiGeometry::Scatter { xs, ys }
        }
        "CNMFROI" => {
            let c = contour_obj(m, "CNMFROI")?;
            let contour = point_list(key(c, "coordinates", "contour")?, "contour.coordinates")?;
            RoiGeometry::Cnmf { cnmf_idx: cnmf_idx(m, "CNMFROI")?, contour, footprint: footprint(m, "CNMFROI")? }
        }
        "VolCNMF" => {
            let c = contour_obj(m, "VolCNMF")?;
            let contours = array(key(c, "planes", "contour")?, "contour.planes")?
                .iter()
                .map(|p| {
                    let p = p.as_object().ok_or_else(|| bad("each of 'contour.planes' must be an object"))?;
                    let z = index(key(p, "z", "contour plane")?, "z")? as usize;
                    Ok((z, point_list(key(p, "coordinates", "contour plane")?, "coordinates")?))
                })
                .collect::<Result<Vec<_>, RoiError>>()?;
            RoiGeometry::VolCnmf { cnmf_idx: cnmf_idx(m, "VolCNMF")?, contours, footprint: footprint(m, "VolCNMF")? }
        }
        other => {
            return Err(bad(format!("unknown roi_type '{other}' (expected ManualROI, ScatterROI, CNMFROI or VolCNMF)")));
        }
    };
    let tags = key(m, "tags", roi_type)?
        .as_object()
        .ok_or_else(|| bad("'tags' must be an object of column -> tag"))?
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(bad(format!("tag of column '{k}' must be a string, found {}", kind(v)))),
        })
        .collect::<Result<BTreeMap<String, String>, RoiError>>()?;
    let curve = match optional(m, "curve_data") {
        None => None,
        Some(c) => {
            let arr = array(c, "curve_data")?;
            match arr.as_slice() {
                // The original's (xs, ys) pair; a plain array of samples is accepted too.
                [xs, ys] if xs.is_array() && ys.is_array() => {
                    let ys = samples(ys, "curve_data")?;
                    let n = array(xs, "curve_data")?.len();
                    if n != ys.len() {
                        return Err(bad(format!("curve_data has {n} x but {} y values", ys.len())));
                    }
                    Some(ys)
                }
                _ if arr.iter().all(|x| !x.is_array()) => Some(samples(c, "curve_data")?),
                _ => return Err(bad("'curve_data' must be [xs, ys] or an array of samples")),
            }
        }
    };
    let spikes = optional(m, "spike_data").map(|s| samples(s, "spike_data")).transpose()?;
    let dfof = optional(m, "dfof_data").map(|s| samples(s, "dfof_data")).transpose()?;
    Ok(Roi { geometry, curve, spikes, dfof, tags })
}
