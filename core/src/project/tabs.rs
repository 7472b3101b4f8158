//! Browser tabs: named child DataFrames, each the root filtered by a sequence of column filters, kept in
//! `dataframes/tabs.json` so scripts, the CLI and the GUI see the same groups.

use std::path::Path;

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::ProjectError;
use super::filter::{FilterStep, apply_all};

/// A named child DataFrame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tab {
    /// Tab name (`root` is the unfiltered DataFrame and cannot be redefined).
    pub name: String,
    /// Filters applied one after another to the root DataFrame.
    pub filters: Vec<FilterStep>,
}

impl Tab {
    /// A tab from filters.
    pub fn new(name: impl Into<String>, filters: Vec<FilterStep>) -> Self {
        Self { name: name.into(), filters }
    }
    /// Its rows of `root`.
    pub fn dataframe(&self, root: &DataFrame) -> Result<DataFrame, ProjectError> {
        apply_all(root, &self.filters)
    }
    /// Its filter history as readable pandas commands (what `spawn_transmission` records).
    pub fn filter_history(&self) -> Vec<String> {
        self.filters.iter().map(FilterStep::describe).collect()
    }
    /// Check name and filters against `root`.
    pub fn check(&self, root: &DataFrame) -> Result<(), ProjectError> {
        if self.name.trim().is_empty() || self.name == "root" {
            return Err(ProjectError::Config(format!("'{}' cannot be a tab name", self.name)));
        }
        self.dataframe(root).map(|_| ())
    }
}

const FILE: &str = "tabs.json";

/// Tabs saved in `dataframes/`.
pub fn load(dataframes: &Path) -> Result<Vec<Tab>, ProjectError> {
    let path = dataframes.join(FILE);
    if !path.exists() {
        return Ok(vec![]);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ProjectError::corrupt(&path, format!("not a list of tabs: {e}")))
}

/// Write the tabs atomically.
pub fn save(dataframes: &Path, tabs: &[Tab]) -> Result<(), ProjectError> {
    let path = dataframes.join(FILE);
    let text = serde_json::to_string_pretty(tabs).map_err(|e| ProjectError::Config(e.to_string()))?;
    crate::io::atomic::write_atomic(&path, text.as_bytes()).map_err(|e| ProjectError::io(&path, e))
}
