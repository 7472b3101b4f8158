//! The project DataFrame's columns: the documented fixed columns, then one per ROI type, stimulus type and custom
//! column of the configuration; one row per ROI. Builds rows into polars columns and adapts old DataFrames when the
//! configuration gains columns.

use polars::prelude::*;

use super::ProjectError;
use super::config::{CellValue, ColumnType, ProjectConfig};

/// The fixed columns, in order. `ROI_State`, `meta`, `stim_maps` and `misc` hold JSON text (Python:
/// `json.loads`); stimulus type columns hold the list of stimulus names of the sample.
pub const RESERVED_COLUMNS: &[&str] = &[
    "SampleID",
    "AnimalID",
    "TrialID",
    "ImgPath",
    "ImgUUID",
    "ImgInfoPath",
    "CurvePath",
    "ROI_State",
    "uuid_curve",
    "meta",
    "stim_maps",
    "date",
    "comments",
    "misc",
];

/// Tag of a ROI type column and name in a stimulus type column where nothing was set (as the original).
pub const UNTAGGED: &str = "untagged";

/// One project DataFrame row (one ROI of one sample) before it becomes polars columns.
#[derive(Debug, Clone)]
pub struct Row {
    /// Values of [`RESERVED_COLUMNS`], in that order.
    pub fixed: Vec<String>,
    /// Tag per ROI type column (config order).
    pub roi_tags: Vec<String>,
    /// Stimulus names per stimulus type column (config order).
    pub stim_names: Vec<Vec<String>>,
    /// Value per custom column (config order).
    pub custom: Vec<CellValue>,
}

/// Polars dtype of a custom column.
pub fn custom_dtype(t: ColumnType) -> DataType {
    match t {
        ColumnType::Text => DataType::String,
        ColumnType::Int => DataType::Int64,
        ColumnType::Float => DataType::Float64,
    }
}

fn list_of_strings<'a>(name: &str, rows: impl ExactSizeIterator<Item = &'a [String]>) -> Column {
    let mut b = ListStringChunkedBuilder::new(name.into(), rows.len(), rows.len());
    for r in rows {
        b.append_values_iter(r.iter().map(String::as_str));
    }
    b.finish().into_series().into_column()
}

fn custom_column(name: &str, ty: ColumnType, values: impl Iterator<Item = CellValue>) -> Result<Column, ProjectError> {
    let bad = |v: &CellValue| ProjectError::Config(format!("column '{name}' is {ty:?} but got {v:?}"));
    Ok(match ty {
        ColumnType::Text => {
            let v: Result<Vec<Option<String>>, _> = values
                .map(|c| match c {
                    CellValue::Text(s) => Ok(Some(s)),
                    CellValue::Null => Ok(None),
                    other => Err(bad(&other)),
                })
                .collect();
            Column::new(name.into(), v?)
        }
        ColumnType::Int => {
            let v: Result<Vec<Option<i64>>, _> = values
                .map(|c| match c {
                    CellValue::Int(i) => Ok(Some(i)),
                    CellValue::Null => Ok(None),
                    other => Err(bad(&other)),
                })
                .collect();
            Column::new(name.into(), v?)
        }
        ColumnType::Float => {
            let v: Result<Vec<Option<f64>>, _> = values
                .map(|c| match c {
                    CellValue::Float(f) => Ok(Some(f)),
                    CellValue::Int(i) => Ok(Some(i as f64)),
                    CellValue::Null => Ok(None),
                    other => Err(bad(&other)),
                })
                .collect();
            Column::new(name.into(), v?)
        }
    })
}

/// Rows as a DataFrame with the configuration's full schema (an empty one when `rows` is empty).
pub fn rows_to_df(cfg: &ProjectConfig, rows: &[Row]) -> Result<DataFrame, ProjectError> {
    let mut cols = Vec::new();
    for (i, name) in RESERVED_COLUMNS.iter().enumerate() {
        let v: Vec<&str> = rows.iter().map(|r| r.fixed[i].as_str()).collect();
        cols.push(Column::new((*name).into(), v));
    }
    for (i, name) in cfg.roi_type_columns.iter().enumerate() {
        let v: Vec<&str> = rows.iter().map(|r| r.roi_tags[i].as_str()).collect();
        cols.push(Column::new(name.as_str().into(), v));
    }
    for (i, name) in cfg.stim_type_columns.iter().enumerate() {
        cols.push(list_of_strings(name, rows.iter().map(|r| r.stim_names[i].as_slice())));
    }
    for (i, c) in cfg.custom_columns.iter().enumerate() {
        cols.push(custom_column(&c.name, c.dtype, rows.iter().map(|r| r.custom[i].clone()))?);
    }
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// The column order a DataFrame for `cfg` has.
pub fn column_order(cfg: &ProjectConfig) -> Vec<String> {
    RESERVED_COLUMNS.iter().map(|s| s.to_string()).chain(cfg.column_names().into_iter().map(str::to_string)).collect()
}

/// Bring a DataFrame saved under an older configuration to `cfg`: every missing column is added, existing rows
/// labelled `untagged` (ROI and text columns), `[untagged]` (stimulus columns) or the custom column's replace value.
pub fn conform(df: &DataFrame, cfg: &ProjectConfig) -> Result<DataFrame, ProjectError> {
    let n = df.height();
    let mut out = df.clone();
    let have = |name: &str| df.get_column_names().iter().any(|c| c.as_str() == name);
    for name in RESERVED_COLUMNS {
        if !have(name) {
            let fill = if *name == "misc" { "{}" } else { "" };
            out.with_column(Column::new((*name).into(), vec![fill; n]))?;
        }
    }
    for name in &cfg.roi_type_columns {
        if !have(name) {
            out.with_column(Column::new(name.as_str().into(), vec![UNTAGGED; n]))?;
        }
    }
    for name in &cfg.stim_type_columns {
        if !have(name) {
            let untagged = vec![UNTAGGED.to_string()];
            out.with_column(list_of_strings(name, (0..n).map(|_| untagged.as_slice())))?;
        }
    }
    for c in &cfg.custom_columns {
        if !have(&c.name) {
            let v = c.replace_value()?;
            out.with_column(custom_column(&c.name, c.dtype, (0..n).map(|_| v.clone()))?)?;
        } else {
            let want = custom_dtype(c.dtype);
            let got = df.column(&c.name)?.dtype().clone();
            if got != want {
                return Err(ProjectError::Config(format!("column '{}' holds {got} but the configuration says {:?}", c.name, c.dtype)));
            }
        }
    }
    // Configured columns first, in order; columns a user added by hand (console edits) are kept after them.
    let mut order = column_order(cfg);
    for c in df.get_column_names() {
        if !order.iter().any(|o| o == c.as_str()) {
            order.push(c.to_string());
        }
    }
    Ok(out.select(order)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::CustomColumn;

    fn row(cfg: &ProjectConfig, sample: &str) -> Row {
        let mut fixed: Vec<String> = RESERVED_COLUMNS.iter().map(|c| format!("{c}-{sample}")).collect();
        fixed[0] = sample.into();
        Row {
            fixed,
            roi_tags: cfg.roi_type_columns.iter().map(|_| "tag".to_string()).collect(),
            stim_names: cfg.stim_type_columns.iter().map(|_| vec!["a".to_string(), "b".to_string()]).collect(),
            custom: cfg.custom_columns.iter().map(|c| c.replace_value().unwrap_or(CellValue::Null)).collect(),
        }
    }

    #[test]
    fn new_columns_label_old_rows() {
        let cfg = ProjectConfig { roi_type_columns: vec!["cell".into()], ..Default::default() };
        let df = rows_to_df(&cfg, &[row(&cfg, "a-_-1"), row(&cfg, "a-_-2")]).expect("df");
        let mut cfg2 = cfg.clone();
        cfg2.roi_type_columns.push("region".into());
        cfg2.stim_type_columns.push("odor".into());
        cfg2.custom_columns.push(CustomColumn::parse("stage:int=48").expect("c"));
        cfg2.custom_columns.push(CustomColumn::parse("promoter").expect("c"));
        let out = conform(&df, &cfg2).expect("conform");
        assert_eq!(out.get_column_names().iter().map(|s| s.as_str()).collect::<Vec<_>>(), column_order(&cfg2));
        let region = out.column("region").expect("c").str().expect("str").get(1);
        assert_eq!(region, Some("untagged"));
        assert_eq!(out.column("stage").expect("c").i64().expect("i64").get(0), Some(48));
        assert_eq!(out.column("promoter").expect("c").str().expect("str").get(0), Some("untagged"));
        let odor = out.column("odor").expect("c").list().expect("list").get_as_series(0).expect("row");
        assert_eq!(odor.str().expect("str").get(0), Some("untagged"));
        let empty = rows_to_df(&cfg2, &[]).expect("empty");
        assert_eq!(empty.height(), 0);
        assert_eq!(empty.width(), column_order(&cfg2).len());
    }
}
