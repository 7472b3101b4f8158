//! Samples: a work environment added to the project as one DataFrame row per ROI, with its files under
//! `images/` and `curves/`; overwrite (with or without the image data) and delete.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use super::config::{CellValue, ColumnType};
use super::curves::SampleCurves;
use super::schema::{self, RESERVED_COLUMNS, Row, UNTAGGED};
use super::work_env::{WorkEnv, WorkEnvPaths};
use super::{Project, ProjectError};
use crate::progress::Progress;

/// Separator between AnimalID and TrialID in a SampleID (and so forbidden inside either).
pub const SEPARATOR: &str = "-_-";

/// SampleID = AnimalID + "-_-" + TrialID, after checking both parts.
pub fn sample_id(animal: &str, trial: &str) -> Result<String, ProjectError> {
    for (what, v) in [("AnimalID", animal), ("TrialID", trial)] {
        if v.trim().is_empty() {
            return Err(ProjectError::Sample(format!("{what} is empty")));
        }
        if v.contains(SEPARATOR) {
            return Err(ProjectError::Sample(format!("{what} '{v}' contains '{SEPARATOR}', which separates AnimalID and TrialID")));
        }
        if v.contains(['/', '\\', '\0']) || v == "." || v == ".." {
            return Err(ProjectError::Sample(format!("{what} '{v}' contains a path separator; it is used in file names")));
        }
    }
    Ok(format!("{animal}{SEPARATOR}{trial}"))
}

/// What to add: a work environment (with ROIs that have curves) and the sample's identity and column values.
#[derive(Debug)]
pub struct NewSample<'a> {
    /// Animal identifier.
    pub animal_id: String,
    /// Trial identifier.
    pub trial_id: String,
    /// The work environment to store.
    pub work_env: &'a WorkEnv,
    /// Custom-column values as entered (parsed by column type; unset text columns get `untagged`).
    pub custom: BTreeMap<String, String>,
    /// Comments.
    pub comments: String,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned()
}

impl Project {
    /// Add a sample; a SampleID already in the project is refused (use [`Project::overwrite_sample`]).
    pub fn add_sample(&mut self, s: &NewSample, progress: &dyn Progress) -> Result<String, ProjectError> {
        let id = sample_id(&s.animal_id, &s.trial_id)?;
        if self.sample_ids().contains(&id) {
            return Err(ProjectError::Sample(format!("sample '{id}' is already in the project; overwrite it instead")));
        }
        self.store_sample(s, &id, None, true, progress)?;
        Ok(id)
    }

    /// Replace a sample's data with a new work environment; with `write_image` false the stored image is kept
    /// (useful for large movies when only ROIs, tags or maps changed).
    pub fn overwrite_sample(&mut self, s: &NewSample, write_image: bool, progress: &dyn Progress) -> Result<String, ProjectError> {
        let id = sample_id(&s.animal_id, &s.trial_id)?;
        let old = self.sample_rows(&id)?;
        if old.height() == 0 {
            return Err(ProjectError::Sample(format!("no sample '{id}' to overwrite")));
        }
        self.store_sample(s, &id, Some(old), write_image, progress)?;
        Ok(id)
    }

    fn store_sample(&mut self, s: &NewSample, id: &str, old: Option<DataFrame>, write_image: bool, progress: &dyn Progress) -> Result<(), ProjectError> {
        let env = s.work_env;
        if env.rois.is_empty() {
            return Err(ProjectError::Sample(format!("sample '{id}' has no ROIs; a sample is stored as one row per ROI")));
        }
        self.check_columns(s)?;
        let first = |df: &DataFrame, c: &str| -> Option<String> { df.column(c).ok()?.str().ok()?.get(0).map(str::to_string) };
        let img_uuid = old.as_ref().and_then(|o| first(o, "ImgUUID")).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let rev = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let stem = format!("{id}{SEPARATOR}{img_uuid}-{rev}");
        let paths = WorkEnvPaths {
            image: self.root.join("images").join(format!("{stem}.tiff")),
            info: self.root.join("images").join(format!("{stem}_info.json")),
            curves: self.root.join("curves").join(format!("{stem}.h5")),
        };
        // Keep the stored image: point the new files at it instead of writing a new one.
        let kept_image = match (&old, write_image) {
            (Some(o), false) => first(o, "ImgPath").map(|p| self.root.join(p)),
            _ => None,
        };
        let paths = WorkEnvPaths { image: kept_image.clone().unwrap_or(paths.image), ..paths };
        let mut env = env.clone();
        env.sample_id = Some(id.to_string());
        env.img_uuid = Some(img_uuid.clone());
        env.comments = s.comments.clone();
        env.custom_cols = s.custom.clone();
        let written = |p: &WorkEnvPaths| {
            let mut v = vec![p.info.clone(), p.curves.clone()];
            if kept_image.is_none() {
                v.push(p.image.clone());
                v.push(p.image.with_extension("json"));
            }
            v
        };
        let result = (|| {
            let uuids = env.save(&paths, kept_image.is_none(), None, progress)?;
            let rows = self.rows_for(&env, id, &img_uuid, &paths, &uuids, s)?;
            let new = schema::rows_to_df(&self.config, &rows)?;
            // An overwritten sample keeps its place in the DataFrame.
            let ids = self.df.column("SampleID")?.str()?.clone();
            let at = ids.iter().position(|x| x == Some(id)).unwrap_or(self.df.height());
            let keep: BooleanChunked = ids.iter().map(|x| Some(x != Some(id))).collect();
            let keep_before = keep.slice(0, at);
            let keep_after = keep.slice(at as i64, self.df.height() - at);
            let before = self.df.slice(0, at).filter(&keep_before)?;
            let after = self.df.slice(at as i64, self.df.height() - at).filter(&keep_after)?;
            let df = before.vstack(&new)?.vstack(&after)?;
            self.commit(df)
        })();
        match result {
            Ok(()) => {
                if let Some(o) = old {
                    remove_files(&self.root, &o, kept_image.as_deref());
                }
                Ok(())
            }
            Err(e) => {
                for p in written(&paths) {
                    let _ = std::fs::remove_file(p);
                }
                Err(e)
            }
        }
    }

    fn check_columns(&self, s: &NewSample) -> Result<(), ProjectError> {
        for k in s.custom.keys() {
            if self.config.custom(k).is_none() {
                return Err(ProjectError::Config(format!("'{k}' is not a custom column of this project ({})", custom_names(self))));
            }
        }
        for k in s.work_env.stim_maps.keys() {
            if !self.config.stim_type_columns.contains(k) {
                return Err(ProjectError::Config(format!(
                    "stimulus type '{k}' is not in this project's configuration (stimulus type columns: {})",
                    self.config.stim_type_columns.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn rows_for(&self, env: &WorkEnv, id: &str, img_uuid: &str, paths: &WorkEnvPaths, uuids: &[String], s: &NewSample) -> Result<Vec<Row>, ProjectError> {
        let meta = env.img.meta().to_json();
        let fps = env.img.meta().fps;
        let mut maps_frames = serde_json::Map::new();
        let mut stim_names = Vec::new();
        for col in &self.config.stim_type_columns {
            match env.stim_maps.get(col) {
                Some(m) if !m.periods.is_empty() => {
                    let f = m.in_frames(col, fps)?;
                    stim_names.push(f.names());
                    maps_frames.insert(col.clone(), serde_json::to_value(&f).unwrap_or(Value::Null));
                }
                _ => stim_names.push(vec![UNTAGGED.to_string()]),
            }
        }
        let custom: Vec<CellValue> = self
            .config
            .custom_columns
            .iter()
            .map(|c| match s.custom.get(&c.name) {
                Some(v) => CellValue::parse(v, c.dtype).map_err(|e| ProjectError::Config(format!("column '{}': {e}", c.name))),
                None if c.dtype == ColumnType::Text => Ok(CellValue::Text(UNTAGGED.into())),
                None => Ok(CellValue::Null),
            })
            .collect::<Result<_, _>>()?;
        let (animal, trial) = (s.animal_id.as_str(), s.trial_id.as_str());
        let date = env.img.meta().date.clone().unwrap_or_else(|| UNTAGGED.into());
        let comments = if s.comments.is_empty() { UNTAGGED.to_string() } else { s.comments.clone() };
        let meta_text = meta.to_string();
        let maps_text = Value::Object(maps_frames).to_string();
        let misc = Value::Object(env.misc.clone()).to_string();
        let rows = env
            .rois
            .rois()
            .iter()
            .zip(uuids)
            .map(|(roi, u)| {
                let fixed = [
                    id,
                    animal,
                    trial,
                    &rel(&self.root, &paths.image),
                    img_uuid,
                    &rel(&self.root, &paths.info),
                    &rel(&self.root, &paths.curves),
                    &roi.to_state(false).to_string(),
                    u,
                    &meta_text,
                    &maps_text,
                    &date,
                    &comments,
                    &misc,
                ];
                debug_assert_eq!(fixed.len(), RESERVED_COLUMNS.len());
                Row {
                    fixed: fixed.iter().map(|s| s.to_string()).collect(),
                    roi_tags: self.config.roi_type_columns.iter().map(|c| roi.tag(c).to_string()).collect(),
                    stim_names: stim_names.clone(),
                    custom: custom.clone(),
                }
            })
            .collect();
        Ok(rows)
    }
}

fn custom_names(p: &Project) -> String {
    let v: Vec<&str> = p.config.custom_columns.iter().map(|c| c.name.as_str()).collect();
    if v.is_empty() { "none configured".into() } else { v.join(", ") }
}

/// Delete the files a sample's rows point to (all but `keep`); best effort, after the DataFrame no longer
/// references them.
pub(super) fn remove_files(root: &Path, rows: &DataFrame, keep: Option<&Path>) {
    let mut paths = std::collections::BTreeSet::new();
    for col in ["ImgPath", "ImgInfoPath", "CurvePath"] {
        if let Ok(c) = rows.column(col).and_then(|c| c.str().cloned()) {
            for p in c.iter().flatten() {
                paths.insert(root.join(p));
            }
        }
    }
    for p in paths {
        if Some(p.as_path()) == keep {
            continue;
        }
        if p.extension().is_some_and(|e| e == "tiff") {
            let _ = std::fs::remove_file(p.with_extension("json"));
        }
        let _ = std::fs::remove_file(&p);
    }
}

/// `df` with a `_RAW_CURVE` column (List(Float64)) read from each row's curves file (each file read once).
pub(super) fn with_raw_curves(root: &Path, df: DataFrame, progress: &dyn Progress) -> Result<DataFrame, ProjectError> {
    let paths = df.column("CurvePath")?.str()?.clone();
    let uuids = df.column("uuid_curve")?.str()?.clone();
    let mut files: HashMap<String, SampleCurves> = HashMap::new();
    progress.start("loading curves", df.height() as u64);
    let mut b = ListPrimitiveChunkedBuilder::<Float64Type>::new("_RAW_CURVE".into(), df.height(), df.height() * 64, DataType::Float64);
    for (p, u) in paths.iter().zip(uuids.iter()) {
        if progress.cancelled() {
            return Err(ProjectError::Cancelled);
        }
        let (Some(p), Some(u)) = (p, u) else {
            b.append_null();
            continue;
        };
        if !files.contains_key(p) {
            files.insert(p.to_string(), SampleCurves::read(&root.join(p))?);
        }
        let c = &files[p];
        let i = c.row_of(u).ok_or_else(|| ProjectError::corrupt(root.join(p), format!("no curve for uuid_curve {u}")))?;
        let row: Vec<f64> = c.curves.row(i).iter().map(|&x| f64::from(x)).collect();
        b.append_slice(&row);
        progress.advance(1);
    }
    let mut df = df;
    df.with_column(b.finish().into_series().into_column())?;
    Ok(df)
}

/// Each row's CNMF dF/F (CaImAn's `detrend_df_f`, stored with the sample's curves when the ROIs came from a CNMF
/// result): the rows' `CurvePath` / `uuid_curve` looked up under the project `root`. A row whose sample has no dF/F
/// (manual ROIs, or a result without `F_dff`) gives None.
pub fn cnmf_dfof(root: &Path, curve_paths: &[Option<String>], uuids: &[Option<String>]) -> Result<Vec<Option<Vec<f64>>>, ProjectError> {
    let mut files: HashMap<String, SampleCurves> = HashMap::new();
    let mut out = Vec::with_capacity(curve_paths.len());
    for (p, u) in curve_paths.iter().zip(uuids) {
        let (Some(p), Some(u)) = (p, u) else {
            out.push(None);
            continue;
        };
        if !files.contains_key(p) {
            files.insert(p.clone(), SampleCurves::read(&root.join(p))?);
        }
        let c = &files[p];
        let i = c.row_of(u).ok_or_else(|| ProjectError::corrupt(root.join(p), format!("no curve for uuid_curve {u}")))?;
        let row = c.dfof.as_ref().map(|d| d.row(i).iter().map(|&x| f64::from(x)).collect::<Vec<f64>>());
        out.push(row.filter(|r| r.iter().any(|v| !v.is_nan())));
    }
    Ok(out)
}
