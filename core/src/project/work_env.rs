//! The work environment: what the viewer works on and what a project sample stores (image data, ROIs with their
//! curves and tags, stimulus maps, history trace, sample id), saved and loaded whole.
//!
//! On disk: the image as a TIFF (plus its `json_minimal` metadata sidecar), an info JSON (`ImgInfoPath`: metadata,
//! ROI states without curves, stimulus maps, history, ids, comments, custom values) and the curves HDF5
//! ([`SampleCurves`]); the info JSON names the other two relative to its own directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde_json::{Map, Value, json};

use super::ProjectError;
use super::curves::SampleCurves;
use crate::imaging::{ImgData, OpenOptions};
use crate::io::meta::Metadata;
use crate::progress::Progress;
use crate::roi::{Roi, RoiMode, RoiSet};
use crate::stimulus::StimulusMaps;

/// Format tag of the info JSON.
pub const INFO_FORMAT: &str = "mesmerize-workenv-v1";

/// Image, ROIs, stimulus maps and analysis history of one recording.
#[derive(Debug, Clone)]
pub struct WorkEnv {
    /// The image sequence and its metadata.
    pub img: ImgData,
    /// ROIs (one mode per sample: manual and CNMF ROIs do not mix).
    pub rois: RoiSet,
    /// Stimulus maps by stimulus type.
    pub stim_maps: StimulusMaps,
    /// Processing history as the original's list of `{operation: params}` (motion correction, CNMF, ...).
    pub history: Vec<Value>,
    /// SampleID when opened from a project sample.
    pub sample_id: Option<String>,
    /// ImgUUID when opened from a project sample.
    pub img_uuid: Option<String>,
    /// Free-text comments.
    pub comments: String,
    /// Custom-column values of the sample (as entered).
    pub custom_cols: BTreeMap<String, String>,
    /// Anything else a user or module wants kept with the sample.
    pub misc: Map<String, Value>,
}

impl WorkEnv {
    /// A fresh work environment on an image, with no ROIs.
    pub fn new(img: ImgData) -> Self {
        Self {
            img,
            rois: RoiSet::new(RoiMode::Manual),
            stim_maps: StimulusMaps::new(),
            history: vec![],
            sample_id: None,
            img_uuid: None,
            comments: String::new(),
            custom_cols: BTreeMap::new(),
            misc: Map::new(),
        }
    }

    /// Replace the ROIs with those of a CNMF / CNMF-E / 3D CNMF result file (CaImAn's layout, as CaImAn or
    /// `mesmerize cnmf` writes it) and log the extraction in the history.
    pub fn set_cnmf_rois(&mut self, path: &Path, accepted_only: bool) -> Result<(), ProjectError> {
        // The reader's errors already name the file.
        let r = crate::io::caiman_h5::read_result(path).map_err(|e| ProjectError::Sample(e.to_string()))?;
        let s = self.img.shape();
        let dims: Vec<usize> = if s.volumetric { vec![s.z, s.y, s.x] } else { vec![s.y, s.x] };
        if r.dims != dims {
            return Err(ProjectError::Sample(format!(
                "{}: result dims {:?} do not match the image's {:?}",
                path.display(),
                r.dims,
                dims
            )));
        }
        if r.c.ncols() != s.t {
            return Err(ProjectError::Sample(format!("{}: traces have {} frames, the image {}", path.display(), r.c.ncols(), s.t)));
        }
        self.rois = crate::roi::rois_from_cnmf(&r, accepted_only);
        self.history.push(json!({ r.params.mode.history_key(): r.params.to_caiman_json() }));
        Ok(())
    }

    /// Replace the ROIs with manual or scatter ROIs from states (`[{...}, ...]` or `{"rois": [...]}`).
    pub fn set_rois_from_states(&mut self, states: &Value) -> Result<(), ProjectError> {
        let list = states.get("rois").unwrap_or(states);
        let list = list.as_array().ok_or_else(|| ProjectError::Sample("ROI file: expected a list of ROI states".into()))?;
        let rois: Vec<Roi> = list.iter().map(Roi::from_state).collect::<Result<_, _>>()?;
        let mode = rois.first().map(Roi::mode).unwrap_or(RoiMode::Manual);
        let mut set = RoiSet::new(mode);
        for r in rois {
            set.push(r)?;
        }
        self.rois = set;
        Ok(())
    }

    /// Extract the curves of manual and scatter ROIs from the image (CNMF ROIs carry theirs).
    pub fn compute_curves(&mut self, progress: &dyn Progress) -> Result<(), ProjectError> {
        if matches!(self.rois.mode(), RoiMode::Cnmf | RoiMode::VolCnmf) || self.rois.is_empty() {
            return Ok(());
        }
        let s = self.img.shape();
        let dims: Vec<usize> = if s.volumetric { vec![s.z, s.y, s.x] } else { vec![s.y, s.x] };
        let masks = self.rois.rois().iter().map(|r| r.mask(&dims)).collect::<Result<Vec<_>, _>>()?;
        let curves = crate::roi::extract_curves(&self.img, &masks, progress)?;
        for (roi, row) in self.rois.rois_mut().iter_mut().zip(curves.rows()) {
            roi.curve = Some(row.to_vec());
        }
        Ok(())
    }

    /// The ROIs' curves as one array, with fresh or given uuids; every ROI must have a curve of the image's length.
    pub fn curves(&self, uuids: Vec<String>) -> Result<SampleCurves, ProjectError> {
        let t = self.img.shape().t;
        let n = self.rois.len();
        let mut curves = Array2::<f32>::zeros((n, t));
        let mut spikes = None::<Array2<f32>>;
        let mut dfof = None::<Array2<f32>>;
        for (i, roi) in self.rois.rois().iter().enumerate() {
            let c = roi.curve.as_ref().ok_or_else(|| ProjectError::Sample(format!("ROI {i} has no curve; compute curves first")))?;
            if c.len() != t {
                return Err(ProjectError::Sample(format!("ROI {i} has a curve of {} points for {t} frames", c.len())));
            }
            curves.row_mut(i).assign(&ndarray::ArrayView1::from(c.as_slice()));
            for (src, dst) in [(&roi.spikes, &mut spikes), (&roi.dfof, &mut dfof)] {
                if let Some(v) = src.as_ref().filter(|v| v.len() == t) {
                    dst.get_or_insert_with(|| Array2::from_elem((n, t), f32::NAN)).row_mut(i).assign(&ndarray::ArrayView1::from(v.as_slice()));
                }
            }
        }
        Ok(SampleCurves { uuids, curves, spikes, dfof })
    }

    /// The info JSON (everything but pixels and curves).
    pub fn info_json(&self, image_rel: &str, curves_rel: &str, uuids: &[String]) -> Value {
        let rois: Vec<Value> = self.rois.rois().iter().map(|r| r.to_state(false)).collect();
        json!({
            "format": INFO_FORMAT,
            "image": image_rel,
            "curves": curves_rel,
            "meta": self.img.meta().to_json(),
            "roi_mode": self.rois.mode().name(),
            "roi_states": rois,
            "uuid_curves": uuids,
            "stim_maps": serde_json::to_value(&self.stim_maps).unwrap_or(Value::Null),
            "history_trace": self.history,
            "sample_id": self.sample_id,
            "uuid": self.img_uuid,
            "comments": self.comments,
            "custom_cols": self.custom_cols,
            "misc": self.misc,
        })
    }

    /// Save whole: the image (copied as it is on disk, or written from memory) unless `write_image` is false and
    /// the file already exists, the curves and the info JSON, each atomically. Returns the curve uuids used.
    pub fn save(&self, paths: &WorkEnvPaths, write_image: bool, uuids: Option<Vec<String>>, progress: &dyn Progress) -> Result<Vec<String>, ProjectError> {
        let uuids = uuids.unwrap_or_else(|| (0..self.rois.len()).map(|_| uuid::Uuid::new_v4().to_string()).collect());
        if write_image || !paths.image.exists() {
            save_image(&self.img, &paths.image, progress)?;
        }
        crate::io::tiff::write_sidecar(&paths.image, self.img.meta())?;
        self.curves(uuids.clone())?.write(&paths.curves)?;
        let base = paths.info.parent().unwrap_or(Path::new("."));
        let info = self.info_json(&relative(base, &paths.image), &relative(base, &paths.curves), &uuids);
        let text = serde_json::to_string(&info).map_err(|e| ProjectError::Sample(e.to_string()))?;
        crate::io::atomic::write_atomic(&paths.info, text.as_bytes()).map_err(|e| ProjectError::io(&paths.info, e))?;
        Ok(uuids)
    }

    /// Load a saved work environment from its info JSON.
    pub fn load(info_path: &Path) -> Result<Self, ProjectError> {
        let text = std::fs::read_to_string(info_path).map_err(|e| ProjectError::io(info_path, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| ProjectError::corrupt(info_path, format!("not JSON: {e}")))?;
        if v.get("format").and_then(Value::as_str) != Some(INFO_FORMAT) {
            return Err(ProjectError::corrupt(info_path, format!("not a work environment file (format is not {INFO_FORMAT})")));
        }
        let base = info_path.parent().unwrap_or(Path::new("."));
        let field = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(|| ProjectError::corrupt(info_path, format!("missing '{k}'")));
        let image = base.join(field("image")?);
        let curves_path = base.join(field("curves")?);
        let mut img = ImgData::open(&image, &OpenOptions::default())?;
        let meta: Metadata = serde_json::from_value(v["meta"].clone()).map_err(|e| ProjectError::corrupt(info_path, format!("meta: {e}")))?;
        img.set_meta(meta);
        let mode: RoiMode = field("roi_mode")?.parse().map_err(|e: crate::roi::RoiError| ProjectError::corrupt(info_path, e.to_string()))?;
        let states = v["roi_states"].as_array().ok_or_else(|| ProjectError::corrupt(info_path, "missing 'roi_states'"))?;
        let curves = SampleCurves::read(&curves_path)?;
        if curves.uuids.len() != states.len() {
            return Err(ProjectError::corrupt(&curves_path, format!("{} curves for {} ROIs", curves.uuids.len(), states.len())));
        }
        let mut set = RoiSet::new(mode);
        for (i, s) in states.iter().enumerate() {
            let mut roi = Roi::from_state(s).map_err(|e| ProjectError::corrupt(info_path, format!("ROI {i}: {e}")))?;
            roi.curve = Some(curves.curves.row(i).to_vec());
            let row = |m: &Option<Array2<f32>>| m.as_ref().map(|m| m.row(i).to_vec()).filter(|r| r.iter().any(|x| !x.is_nan()));
            roi.spikes = row(&curves.spikes);
            roi.dfof = row(&curves.dfof);
            set.push(roi)?;
        }
        let obj = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
        Ok(Self {
            img,
            rois: set,
            stim_maps: serde_json::from_value(obj("stim_maps")).map_err(|e| ProjectError::corrupt(info_path, format!("stim_maps: {e}")))?,
            history: obj("history_trace").as_array().cloned().unwrap_or_default(),
            sample_id: obj("sample_id").as_str().map(str::to_string),
            img_uuid: obj("uuid").as_str().map(str::to_string),
            comments: obj("comments").as_str().unwrap_or("").to_string(),
            custom_cols: serde_json::from_value(obj("custom_cols")).unwrap_or_default(),
            misc: obj("misc").as_object().cloned().unwrap_or_default(),
        })
    }
}

/// Where a work environment's three files go.
#[derive(Debug, Clone)]
pub struct WorkEnvPaths {
    /// Image TIFF.
    pub image: PathBuf,
    /// Info JSON.
    pub info: PathBuf,
    /// Curves HDF5.
    pub curves: PathBuf,
}

impl WorkEnvPaths {
    /// `DIR/STEM.tiff`, `DIR/STEM_info.json`, `DIR/STEM_curves.h5`: a work environment saved outside a project.
    pub fn beside(dir: &Path, stem: &str) -> Self {
        Self {
            image: dir.join(format!("{stem}.tiff")),
            info: dir.join(format!("{stem}_info.json")),
            curves: dir.join(format!("{stem}_curves.h5")),
        }
    }
}

fn relative(base: &Path, p: &Path) -> String {
    if let Ok(r) = p.strip_prefix(base) {
        return r.to_string_lossy().into_owned();
    }
    // One level up (images/ -> curves/) is the only other case a project produces.
    match (base.parent(), p.parent()) {
        (Some(bp), Some(_)) if p.starts_with(bp) => {
            Path::new("..").join(p.strip_prefix(bp).unwrap_or(p)).to_string_lossy().into_owned()
        }
        _ => p.to_string_lossy().into_owned(),
    }
}

/// Copy the image file (same bytes, same dtype) or write it from memory, atomically.
fn save_image(img: &ImgData, dest: &Path, progress: &dyn Progress) -> Result<(), ProjectError> {
    if let Some(src) = img.path() {
        if src == dest {
            return Ok(());
        }
        let ext_ok = src.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"));
        // A plain copy only when the file reads back the same without the options it was opened with.
        let same = || ImgData::open(src, &OpenOptions::default()).is_ok_and(|d| d.shape() == img.shape() && d.dtype() == img.dtype());
        if ext_ok && same() {
            return crate::io::atomic::replace_via_temp(dest, |tmp| std::fs::copy(src, tmp).map(|_| ()), std::convert::identity)
                .map_err(|e| ProjectError::io(dest, e));
        }
    }
    let shape = img.shape();
    let mut w = crate::io::tiff::TiffWriter::create(dest, shape, img.dtype(), None)?;
    let mut buf = vec![0f32; shape.plane_len()];
    progress.start("saving image", shape.t as u64);
    for t in 0..shape.t {
        if progress.cancelled() {
            return Err(ProjectError::Cancelled);
        }
        for z in 0..shape.z {
            img.read_plane(t, z, &mut buf)?;
            w.write_plane(&buf)?;
        }
        progress.advance(1);
    }
    w.finish()?;
    Ok(())
}
