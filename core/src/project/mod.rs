//! Projects: configuration, the project DataFrame, samples, work environments and browser filters.
//!
//! A project is one directory:
//! ```text
//! config.json             ROI type, stimulus type and custom columns (ProjectConfig)
//! dataframes/root.parquet the project DataFrame, one row per ROI; backups/ holds a copy from before every change
//! dataframes/tabs.json    named child DataFrames of the browser, each a list of filters
//! images/                 per sample: image TIFF (+ metadata sidecar) and work-environment info JSON
//! curves/                 per sample: every ROI's curve in one HDF5 file
//! batches/ flowcharts/ plots/
//! ```
//! File names are `<SampleID>-_-<ImgUUID>-<rev>`: every save of a sample writes new files and the DataFrame is
//! switched over atomically, so a crash at any point leaves the previous state whole.

mod config;
mod curves;
mod error;
mod filter;
mod sample;
mod schema;
mod store;
mod tabs;
mod work_env;

use std::path::{Path, PathBuf};

use polars::prelude::*;

pub use config::{CellValue, ColumnType, CustomColumn, ProjectConfig};
pub use curves::SampleCurves;
pub use error::ProjectError;
pub use filter::{FilterExpr, FilterStep, Modifier, apply_all};
pub use sample::{NewSample, cnmf_dfof, sample_id};
pub use schema::{RESERVED_COLUMNS, UNTAGGED};
pub use tabs::Tab;
pub use work_env::{WorkEnv, WorkEnvPaths};

use crate::analysis::Transmission;
use crate::progress::Progress;

/// Sub-directories every project has.
pub const SUBDIRS: &[&str] = &["dataframes", "images", "curves", "batches", "flowcharts", "plots"];

/// An open project: its directory, configuration and DataFrame.
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
    config: ProjectConfig,
    df: DataFrame,
}

impl Project {
    /// Create a project in `dir` (new or empty) with the documented layout and an empty DataFrame.
    pub fn create(dir: &Path, config: ProjectConfig) -> Result<Self, ProjectError> {
        config.validate()?;
        if dir.exists() && std::fs::read_dir(dir).map_err(|e| ProjectError::io(dir, e))?.next().is_some() {
            return Err(ProjectError::Exists(dir.to_path_buf()));
        }
        for sub in SUBDIRS {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| ProjectError::io(&p, e))?;
        }
        let df = schema::rows_to_df(&config, &[])?;
        store::save_df(&dir.join("dataframes").join(store::ROOT_FILE), &df)?;
        // The config is written last: a directory without it is not a project yet.
        config.save(&dir.join("config.json"))?;
        Ok(Self { root: dir.to_path_buf(), config, df })
    }

    /// Open a project; its DataFrame is brought up to the configuration (new columns labelled as documented).
    pub fn open(dir: &Path) -> Result<Self, ProjectError> {
        let cfg_path = dir.join("config.json");
        if !cfg_path.exists() {
            return Err(ProjectError::NotAProject(dir.to_path_buf()));
        }
        let config = ProjectConfig::load(&cfg_path)?;
        let df_path = dir.join("dataframes").join(store::ROOT_FILE);
        let df = store::load_df(&df_path)?;
        let df = schema::conform(&df, &config).map_err(|e| ProjectError::corrupt(&df_path, e.to_string()))?;
        Ok(Self { root: dir.to_path_buf(), config, df })
    }

    /// Project directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// Configuration.
    pub fn config(&self) -> &ProjectConfig {
        &self.config
    }
    /// The whole project DataFrame (the browser's root tab).
    pub fn dataframe(&self) -> &DataFrame {
        &self.df
    }
    fn dataframes_dir(&self) -> PathBuf {
        self.root.join("dataframes")
    }

    /// Replace the project DataFrame (the console's `set_root_dataframe`): conformed to the configuration, the
    /// previous one backed up, written atomically.
    pub fn set_root_dataframe(&mut self, df: DataFrame) -> Result<(), ProjectError> {
        let df = schema::conform(&df, &self.config)?;
        store::backup(&self.dataframes_dir())?;
        store::save_df(&self.dataframes_dir().join(store::ROOT_FILE), &df)?;
        self.df = df;
        Ok(())
    }

    /// Change the configuration. Columns can be added (existing rows get `untagged`, `[untagged]` or the custom
    /// column's replace value); removing a column or changing a custom column's type is refused, as in the original.
    pub fn set_config(&mut self, new: ProjectConfig) -> Result<(), ProjectError> {
        new.validate()?;
        for name in self.config.column_names() {
            if !new.column_names().contains(&name) {
                return Err(ProjectError::Config(format!("column '{name}' cannot be removed from the configuration")));
            }
        }
        for c in &self.config.custom_columns {
            if new.custom(&c.name).is_some_and(|n| n.dtype != c.dtype) {
                return Err(ProjectError::Config(format!("the data type of column '{}' cannot be changed", c.name)));
            }
        }
        let df = schema::conform(&self.df, &new)?;
        store::backup(&self.dataframes_dir())?;
        store::save_df(&self.dataframes_dir().join(store::ROOT_FILE), &df)?;
        new.save(&self.root.join("config.json"))?;
        self.df = df;
        self.config = new;
        Ok(())
    }

    /// Saved backups of the DataFrame, oldest first.
    pub fn backups(&self) -> Vec<PathBuf> {
        store::list_backups(&self.dataframes_dir())
    }

    /// Make a backup the project DataFrame again (the current one is backed up first).
    pub fn restore_backup(&mut self, backup: &Path) -> Result<(), ProjectError> {
        let path = if backup.is_absolute() || backup.exists() { backup.to_path_buf() } else { self.dataframes_dir().join("backups").join(backup) };
        let df = store::load_df(&path)?;
        self.set_root_dataframe(df)
    }

    /// SampleIDs in the project, in order of first appearance.
    pub fn sample_ids(&self) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        if let Ok(c) = self.df.column("SampleID").and_then(|c| c.str().cloned()) {
            for s in c.iter().flatten() {
                if !seen.iter().any(|x| x == s) {
                    seen.push(s.to_string());
                }
            }
        }
        seen
    }

    /// The rows of one sample.
    pub fn sample_rows(&self, sample_id: &str) -> Result<DataFrame, ProjectError> {
        let ids = self.df.column("SampleID")?.str()?.clone();
        let mask: BooleanChunked = ids.iter().map(|s| Some(s == Some(sample_id))).collect();
        Ok(self.df.filter(&mask)?)
    }

    /// Open a sample as a work environment (image, ROIs with curves and tags, stimulus maps, history).
    pub fn open_sample(&self, sample_id: &str) -> Result<WorkEnv, ProjectError> {
        let rows = self.sample_rows(sample_id)?;
        let info = rows
            .column("ImgInfoPath")?
            .str()?
            .get(0)
            .ok_or_else(|| ProjectError::Sample(format!("no sample '{sample_id}' in the project")))?
            .to_string();
        WorkEnv::load(&self.root.join(info))
    }

    /// Save a DataFrame change: backup, atomic write, then adopt it.
    fn commit(&mut self, df: DataFrame) -> Result<(), ProjectError> {
        store::backup(&self.dataframes_dir())?;
        store::save_df(&self.dataframes_dir().join(store::ROOT_FILE), &df)?;
        self.df = df;
        Ok(())
    }

    /// Remove a sample's rows and then its files.
    pub fn delete_sample(&mut self, sample_id: &str) -> Result<(), ProjectError> {
        let rows = self.sample_rows(sample_id)?;
        if rows.height() == 0 {
            return Err(ProjectError::Sample(format!("no sample '{sample_id}' in the project")));
        }
        let ids = self.df.column("SampleID")?.str()?.clone();
        let keep: BooleanChunked = ids.iter().map(|s| Some(s != Some(sample_id))).collect();
        let df = self.df.filter(&keep)?;
        self.commit(df)?;
        sample::remove_files(&self.root, &rows, None);
        Ok(())
    }

    /// Named child DataFrames (browser tabs).
    pub fn tabs(&self) -> Result<Vec<Tab>, ProjectError> {
        tabs::load(&self.dataframes_dir())
    }

    /// Save a tab (replacing one of the same name).
    pub fn save_tab(&self, tab: Tab) -> Result<(), ProjectError> {
        tab.check(&self.df)?;
        let mut all = self.tabs()?;
        all.retain(|t| t.name != tab.name);
        all.push(tab);
        tabs::save(&self.dataframes_dir(), &all)
    }

    /// A tab by name (`root` is the whole DataFrame).
    pub fn tab(&self, name: &str) -> Result<Tab, ProjectError> {
        if name == "root" {
            return Ok(Tab { name: "root".into(), filters: vec![] });
        }
        self.tabs()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| ProjectError::Config(format!("no tab named '{name}' in this project")))
    }

    /// A Transmission from a tab (or `filters` applied to the root): its rows plus `_RAW_CURVE` read from the
    /// curves files, one data block, and `spawn_transmission` with the tab name and filter history.
    pub fn spawn_transmission(&self, tab: &Tab, progress: &dyn Progress) -> Result<Transmission, ProjectError> {
        let df = tab.dataframe(&self.df)?;
        let df = sample::with_raw_curves(&self.root, df, progress)?;
        let custom: Vec<String> = self.config.custom_columns.iter().map(|c| c.name.clone()).collect();
        Ok(Transmission::spawn(
            df,
            Some(self.root.clone()),
            &tab.name,
            &tab.filter_history(),
            self.config.roi_type_columns.clone(),
            self.config.stim_type_columns.clone(),
            custom,
        )?)
    }
}
