//! The three metadata organizers of the original Mesmerize, with the keys its docs specify.

use std::path::Path;

use serde_json::{Map, Value};

use super::{xml_dict, Metadata};
use crate::imaging::ImagingError;

fn bad(path: &Path, reason: impl Into<String>) -> ImagingError {
    ImagingError::Metadata { path: path.to_path_buf(), reason: reason.into() }
}

/// True for "YYYYMMDD_HHMMSS".
pub(crate) fn is_mesmerize_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15 && b[8] == b'_' && b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit())
}

fn required_str(path: &Path, obj: &Map<String, Value>, key: &str) -> Result<String, ImagingError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(bad(path, format!("'{key}' must be a string, found {other}"))),
        None => Err(bad(path, format!("missing required key '{key}' (json_minimal needs origin, fps and date)"))),
    }
}

fn required_fps(path: &Path, v: Option<&Value>, key: &str) -> Result<f64, ImagingError> {
    let fps = v
        .ok_or_else(|| bad(path, format!("missing required key '{key}' (the sampling rate in Hz)")))?
        .as_f64()
        .ok_or_else(|| bad(path, format!("'{key}' must be a number")))?;
    if !(fps.is_finite() && fps > 0.0) {
        return Err(bad(path, format!("'{key}' must be a positive number, found {fps}")));
    }
    Ok(fps)
}

fn checked_date(path: &Path, date: String) -> Result<String, ImagingError> {
    if is_mesmerize_date(&date) {
        Ok(date)
    } else {
        Err(bad(path, format!("'date' must be formatted \"YYYYMMDD_HHMMSS\", found \"{date}\"")))
    }
}

/// `json_minimal`: a JSON object with at least `origin` (string), `fps` (number) and `date` ("YYYYMMDD_HHMMSS");
/// all other keys go into `orig_meta` (a file that already has `orig_meta`, as we write them, keeps its layout).
pub fn json_minimal(path: &Path, value: &Value) -> Result<Metadata, ImagingError> {
    let obj = value.as_object().ok_or_else(|| bad(path, "metadata must be a JSON object"))?;
    let origin = required_str(path, obj, "origin")?;
    let fps = required_fps(path, obj.get("fps"), "fps")?;
    let date = checked_date(path, required_str(path, obj, "date")?)?;
    let rest: Map<String, Value> =
        obj.iter().filter(|(k, _)| !matches!(k.as_str(), "origin" | "fps" | "date")).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut meta = Metadata::new(origin, fps, date);
    if rest.contains_key("orig_meta") {
        meta.extra = rest;
    } else {
        meta.extra.insert("orig_meta".into(), Value::Object(rest));
    }
    Ok(meta)
}

/// `AwesomeImager`: `framerate` -> `fps`, `date` + "_" + `time` -> `date`, `level_min`/`level_max` -> `vmin`/`vmax`,
/// `version` kept, the whole original under `orig_meta`.
pub fn awesome_imager(path: &Path, value: &Value) -> Result<Metadata, ImagingError> {
    let obj = value.as_object().ok_or_else(|| bad(path, "AwesomeImager metadata must be a JSON object"))?;
    let fps = required_fps(path, obj.get("framerate"), "framerate")?;
    let day = required_str(path, obj, "date")?;
    let time = required_str(path, obj, "time")?;
    let date = checked_date(path, format!("{day}_{time}"))?;
    let mut meta = Metadata::new("AwesomeImager", fps, date);
    let get = |k: &str| obj.get(k).cloned().ok_or_else(|| bad(path, format!("missing required key '{k}'")));
    meta.extra.insert("version".into(), get("version")?);
    meta.extra.insert("vmin".into(), get("level_min")?);
    meta.extra.insert("vmax".into(), get("level_max")?);
    meta.extra.insert("orig_meta".into(), value.clone());
    Ok(meta)
}

/// Sampling-rate statistics computed from OME `Plane/@DeltaT`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OmeTiming {
    /// Mean sampling rate (Hz): volumes per second for 3D, frames per second for 2D.
    pub fps: f64,
    /// Population standard deviation of the per-interval rates.
    pub fps_std: f64,
    /// Largest |rate - mean| (the docs' definition; the original computed the peak-to-peak range instead).
    pub fps_max_dev: f64,
}

impl OmeTiming {
    /// The docs' warning thresholds: std > 0.01 Hz or max deviation > 0.1 Hz.
    pub fn is_irregular(&self) -> bool {
        self.fps_std > 0.01 || self.fps_max_dev > 0.1
    }
}

/// Rates between successive time points of each plane (channel 0), pooled over planes, as the original did.
fn ome_timing(planes: &[(usize, usize, f64)], size_z: usize) -> Option<OmeTiming> {
    let mut rates = Vec::new();
    for z in 0..size_z.max(1) {
        let mut ts: Vec<(usize, f64)> = planes.iter().filter(|p| p.0 == z).map(|p| (p.1, p.2)).collect();
        ts.sort_by_key(|p| p.0);
        rates.extend(ts.windows(2).filter(|w| w[1].1 > w[0].1).map(|w| 1.0 / (w[1].1 - w[0].1)));
    }
    if rates.is_empty() {
        return None;
    }
    let n = rates.len() as f64;
    let fps = rates.iter().sum::<f64>() / n;
    let fps_std = (rates.iter().map(|r| (r - fps).powi(2)).sum::<f64>() / n).sqrt();
    let fps_max_dev = rates.iter().map(|r| (r - fps).abs()).fold(0.0, f64::max);
    Some(OmeTiming { fps, fps_std, fps_max_dev })
}

/// OME date ("2019-04-26T15:20:34[.fff][Z|+hh:mm]") -> "20190426_152034".
fn ome_date(s: &str) -> Option<String> {
    let digits: String = s.chars().take(19).filter(char::is_ascii_digit).collect();
    (digits.len() == 14 && s.len() >= 19).then(|| format!("{}_{}", &digits[..8], &digits[8..]))
}

/// `ome_tiff`: date from `Image/AcquisitionDate`, `fps`, `fps_std`, `fps_max_dev` from the planes' `DeltaT` (or
/// `Pixels/@TimeIncrement` when planes carry no times), the whole OME block as a dict under `orig_meta`.
/// Irregular sampling (std > 0.01 Hz or max deviation > 0.1 Hz) is logged as a warning.
pub fn ome_tiff(path: &Path, xml: &str) -> Result<Metadata, ImagingError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| bad(path, format!("OME-XML does not parse: {e}")))?;
    let image = doc
        .descendants()
        .find(|n| n.has_tag_name(("http://www.openmicroscopy.org/Schemas/OME/2016-06", "Image")) || n.tag_name().name() == "Image")
        .ok_or_else(|| bad(path, "OME-XML has no Image element"))?;
    let pixels = image.children().find(|n| n.tag_name().name() == "Pixels").ok_or_else(|| bad(path, "OME Image has no Pixels element"))?;
    let attr_usize = |name: &str| pixels.attribute(name).and_then(|v| v.parse::<usize>().ok());
    let size_z = attr_usize("SizeZ").unwrap_or(1);
    let date = image
        .children()
        .find(|n| n.tag_name().name() == "AcquisitionDate")
        .and_then(|n| n.text())
        .and_then(|s| ome_date(s.trim()));
    let planes: Vec<(usize, usize, f64)> = pixels
        .children()
        .filter(|n| n.tag_name().name() == "Plane")
        .filter(|n| n.attribute("TheC").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0) == 0)
        .filter_map(|n| {
            let z = n.attribute("TheZ")?.parse().ok()?;
            let t = n.attribute("TheT")?.parse().ok()?;
            let dt = n.attribute("DeltaT")?.parse().ok()?;
            Some((z, t, dt))
        })
        .collect();
    let timing = ome_timing(&planes, size_z).or_else(|| {
        let ti: f64 = pixels.attribute("TimeIncrement")?.parse().ok()?;
        (ti > 0.0).then_some(OmeTiming { fps: 1.0 / ti, fps_std: 0.0, fps_max_dev: 0.0 })
    });
    let mut meta = Metadata::unknown();
    meta.origin = "ome_tiff".into();
    meta.date = date;
    if let Some(t) = timing {
        meta.fps = Some(t.fps);
        meta.extra.insert("fps_std".into(), t.fps_std.into());
        meta.extra.insert("fps_max_dev".into(), t.fps_max_dev.into());
        if t.is_irregular() {
            tracing::warn!(
                "{}: the sampling rate looks irregular: mean {:.5} Hz, standard deviation {:.5} Hz, maximum deviation \
                 from the mean {:.5} Hz (warned past 0.01 / 0.1 Hz)",
                path.display(),
                t.fps,
                t.fps_std,
                t.fps_max_dev
            );
        }
    } else {
        tracing::warn!("{}: OME-XML gives no plane times (DeltaT) nor TimeIncrement: frame rate unknown", path.display());
    }
    meta.extra.insert("orig_meta".into(), xml_dict::to_dict(doc.root_element()));
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_minimal_keeps_other_keys_in_orig_meta() {
        let v = json!({"origin": "scope", "fps": 17.25, "date": "20201123_172345", "scanner_pos": [0, 1]});
        let m = json_minimal(Path::new("m.json"), &v).expect("valid");
        assert_eq!(m.fps, Some(17.25));
        assert_eq!(m.extra["orig_meta"]["scanner_pos"], json!([0, 1]));
    }

    #[test]
    fn json_minimal_names_the_missing_key() {
        let v = json!({"origin": "scope", "date": "20201123_172345"});
        let e = json_minimal(Path::new("m.json"), &v).unwrap_err().to_string();
        assert!(e.contains("m.json") && e.contains("'fps'"), "{e}");
        let v = json!({"origin": "scope", "fps": 10, "date": "2020-11-23"});
        let e = json_minimal(Path::new("m.json"), &v).unwrap_err().to_string();
        assert!(e.contains("YYYYMMDD_HHMMSS"), "{e}");
    }

    #[test]
    fn awesome_imager_matches_the_docs_example() {
        let v = json!({"source": "AwesomeImager", "version": "4107ff58", "level_min": 323, "stims": {},
                       "time": "152034", "date": "20190426", "framerate": 10.0, "level_max": 1529});
        let m = awesome_imager(Path::new("a.json"), &v).expect("valid");
        assert_eq!(m.origin, "AwesomeImager");
        assert_eq!(m.date.as_deref(), Some("20190426_152034"));
        assert_eq!(m.fps, Some(10.0));
        assert_eq!(m.extra["vmin"], json!(323));
        assert_eq!(m.extra["vmax"], json!(1529));
        assert_eq!(m.extra["orig_meta"], v);
    }

    #[test]
    fn ome_timing_from_delta_t() {
        let mut planes = Vec::new();
        for t in 0..5 {
            for z in 0..2 {
                planes.push((z, t, t as f64 * 0.5 + z as f64 * 0.01));
            }
        }
        let timing = ome_timing(&planes, 2).expect("timing");
        assert!((timing.fps - 2.0).abs() < 1e-9);
        assert!(timing.fps_std < 1e-9 && !timing.is_irregular());
    }

    #[test]
    fn ome_dates() {
        assert_eq!(ome_date("2019-04-26T15:20:34Z").as_deref(), Some("20190426_152034"));
        assert_eq!(ome_date("2019-04-26T15:20:34.123+01:00").as_deref(), Some("20190426_152034"));
        assert_eq!(ome_date("yesterday"), None);
    }
}
