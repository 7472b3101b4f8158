//! Project configuration: the categorical columns a project groups its data by (ROI type, stimulus type and custom
//! columns, the last with a data type), stored as `config.json` in the project directory.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ProjectError;
use super::schema::RESERVED_COLUMNS;

/// Data type of a custom column; fixed once the column exists (as in the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// Standard text.
    Text,
    /// Whole numbers (sortable numerically, e.g. developmental stage).
    Int,
    /// Decimal numbers.
    Float,
}

impl std::str::FromStr for ColumnType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" | "str" | "string" => Ok(Self::Text),
            "int" | "integer" | "whole" => Ok(Self::Int),
            "float" | "decimal" => Ok(Self::Float),
            other => Err(format!("unknown column type '{other}': expected text, int or float")),
        }
    }
}

/// A per-sample column with its type and the value existing rows get when the column is added later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomColumn {
    /// Column name.
    pub name: String,
    /// Data type.
    pub dtype: ColumnType,
    /// Value for rows that existed before the column (text default "untagged"; numbers default to missing).
    #[serde(default)]
    pub replace: Option<String>,
}

impl CustomColumn {
    /// Parse `NAME:text|int|float[=REPLACE]` (the CLI's `--custom-column`).
    pub fn parse(spec: &str) -> Result<Self, ProjectError> {
        let (head, replace) = match spec.split_once('=') {
            Some((h, r)) => (h, Some(r.to_string())),
            None => (spec, None),
        };
        let (name, ty) = head.split_once(':').unwrap_or((head, "text"));
        let dtype = ty.parse::<ColumnType>().map_err(|e| ProjectError::Config(format!("custom column '{spec}': {e}")))?;
        let col = Self { name: name.trim().to_string(), dtype, replace };
        col.replace_value()?;
        Ok(col)
    }

    /// The replace value as a typed cell, checked against the column type.
    pub fn replace_value(&self) -> Result<CellValue, ProjectError> {
        match (&self.replace, self.dtype) {
            (None, ColumnType::Text) => Ok(CellValue::Text("untagged".into())),
            (None, _) => Ok(CellValue::Null),
            (Some(r), ty) => CellValue::parse(r, ty).map_err(|e| ProjectError::Config(format!("column '{}': replace value {e}", self.name))),
        }
    }
}

/// One typed value of a custom column.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    /// Text.
    Text(String),
    /// Whole number.
    Int(i64),
    /// Decimal number.
    Float(f64),
    /// Missing.
    Null,
}

impl CellValue {
    /// Parse user text for a column of type `ty`.
    pub fn parse(s: &str, ty: ColumnType) -> Result<Self, String> {
        match ty {
            ColumnType::Text => Ok(Self::Text(s.to_string())),
            ColumnType::Int => s.trim().parse::<i64>().map(Self::Int).map_err(|_| format!("'{s}' is not a whole number")),
            ColumnType::Float => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| !v.is_nan())
                .map(Self::Float)
                .ok_or_else(|| format!("'{s}' is not a decimal number")),
        }
    }
}

/// The project configuration (`config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectConfig {
    /// Format version of this file.
    pub version: u32,
    /// ROI-bound categories (each ROI gets a tag per column).
    pub roi_type_columns: Vec<String>,
    /// Stimulus/behaviour types (each sample gets a stimulus map per column).
    pub stim_type_columns: Vec<String>,
    /// Per-sample categories with data types.
    pub custom_columns: Vec<CustomColumn>,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self { version: 1, roi_type_columns: vec![], stim_type_columns: vec![], custom_columns: vec![] }
    }
}

impl ProjectConfig {
    /// Every categorical column name, in DataFrame order (ROI types, stimulus types, custom).
    pub fn column_names(&self) -> Vec<&str> {
        self.roi_type_columns
            .iter()
            .chain(&self.stim_type_columns)
            .map(String::as_str)
            .chain(self.custom_columns.iter().map(|c| c.name.as_str()))
            .collect()
    }

    /// Check names: non-empty, not reserved, no duplicates, no `-_-`.
    pub fn validate(&self) -> Result<(), ProjectError> {
        let mut seen = std::collections::HashSet::new();
        for name in self.column_names() {
            let bad = |m: &str| Err(ProjectError::Config(format!("column '{name}': {m}")));
            if name.trim().is_empty() || name != name.trim() {
                return bad("names must be non-empty without leading or trailing spaces");
            }
            if RESERVED_COLUMNS.contains(&name) || name.starts_with('_') {
                return bad("is a reserved column name (project columns and names starting with '_' are taken)");
            }
            if !seen.insert(name) {
                return bad("is defined twice");
            }
        }
        for c in &self.custom_columns {
            c.replace_value()?;
        }
        Ok(())
    }

    /// A custom column by name.
    pub fn custom(&self, name: &str) -> Option<&CustomColumn> {
        self.custom_columns.iter().find(|c| c.name == name)
    }

    /// Read `config.json`.
    pub fn load(path: &Path) -> Result<Self, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProjectError::io(path, e))?;
        let cfg: Self = serde_json::from_str(&text).map_err(|e| ProjectError::corrupt(path, format!("not a project configuration: {e}")))?;
        if cfg.version != 1 {
            return Err(ProjectError::corrupt(path, format!("configuration version {} is newer than this program (1)", cfg.version)));
        }
        cfg.validate().map_err(|e| ProjectError::corrupt(path, e.to_string()))?;
        Ok(cfg)
    }

    /// Write `config.json` atomically.
    pub fn save(&self, path: &Path) -> Result<(), ProjectError> {
        self.validate()?;
        let text = serde_json::to_string_pretty(self).map_err(|e| ProjectError::Config(e.to_string()))?;
        crate::io::atomic::write_atomic(path, text.as_bytes()).map_err(|e| ProjectError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_column_specs_parse() {
        let c = CustomColumn::parse("stage:int=48").expect("int");
        assert_eq!((c.name.as_str(), c.dtype, c.replace_value().expect("v")), ("stage", ColumnType::Int, CellValue::Int(48)));
        assert_eq!(CustomColumn::parse("promoter").expect("text").replace_value().expect("v"), CellValue::Text("untagged".into()));
        assert_eq!(CustomColumn::parse("dose:float").expect("float").replace_value().expect("v"), CellValue::Null);
        assert!(CustomColumn::parse("stage:int=abc").is_err());
        assert!(CustomColumn::parse("x:date").is_err());
    }

    #[test]
    fn reserved_and_duplicate_names_are_refused() {
        let mut c = ProjectConfig { roi_type_columns: vec!["cell".into(), "cell".into()], ..Default::default() };
        assert!(c.validate().expect_err("dup").to_string().contains("twice"));
        c.roi_type_columns = vec!["SampleID".into()];
        assert!(c.validate().expect_err("reserved").to_string().contains("reserved"));
        c.roi_type_columns = vec!["_x".into()];
        assert!(c.validate().is_err());
    }
}
