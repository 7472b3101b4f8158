//! The Transmission: the DataFrame and HistoryTrace that every flowchart node takes and returns.

use std::path::{Path, PathBuf};

use ndarray::ArrayView2;
use polars::prelude::*;
use serde_json::{Value, json};

use super::{AnalysisError, BlockSel, HistoryTrace, RAW_CURVE, UUID_CURVE, trn_file};

/// A DataFrame of curves plus its analysis log and the context plots need (project, last output column).
#[derive(Debug, Clone)]
pub struct Transmission {
    /// One row per curve; column conventions in [`crate::analysis`].
    pub df: DataFrame,
    /// Per data block, the operations applied so far.
    pub history: HistoryTrace,
    /// Project root, so the datapoint tracer can find the images behind a curve.
    pub proj_path: Option<PathBuf>,
    /// The data column the last node wrote (what the next node reads by default).
    pub last_output: Option<String>,
    /// Units of `last_output` (`time`, `frequency`, ...).
    pub last_unit: Option<String>,
    /// ROI tag columns of the project (the original's `ROI_DEFS`).
    pub roi_defs: Vec<String>,
    /// Stimulus-type columns of the project (`STIM_DEFS`).
    pub stim_defs: Vec<String>,
    /// User-added columns of the project (`CUSTOM_COLUMNS`).
    pub custom_columns: Vec<String>,
    /// Saved state of an interactive plot (data and label columns and the like).
    pub plot_state: Option<Value>,
}

impl Transmission {
    /// A Transmission from a DataFrame and its history, with no project context.
    pub fn new(df: DataFrame, history: HistoryTrace) -> Self {
        Self {
            df,
            history,
            proj_path: None,
            last_output: None,
            last_unit: None,
            roi_defs: Vec::new(),
            stim_defs: Vec::new(),
            custom_columns: Vec::new(),
            plot_state: None,
        }
    }

    /// What LoadProjDF / `from_proj` do once the caller has loaded `_RAW_CURVE`: one new data block for all rows
    /// and the operation `spawn_transmission` with params `{"sub_dataframe_name": name, "dataframe_filter_history":
    /// {"dataframe_filter_history": [filter texts...]}}` (the original's exact nesting); last_output =
    /// `_RAW_CURVE`, last_unit = `time`.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn(
        mut df: DataFrame,
        proj_path: Option<PathBuf>,
        sub_dataframe_name: &str,
        filter_history: &[String],
        roi_defs: Vec<String>,
        stim_defs: Vec<String>,
        custom_columns: Vec<String>,
    ) -> Result<Self, AnalysisError> {
        let mut history = HistoryTrace::new();
        history.create_data_block(&mut df)?;
        let params = json!({
            "sub_dataframe_name": sub_dataframe_name,
            "dataframe_filter_history": {"dataframe_filter_history": filter_history},
        });
        history.add_operation(BlockSel::All, "spawn_transmission", params)?;
        Ok(Self {
            proj_path,
            last_output: Some(RAW_CURVE.to_string()),
            last_unit: Some("time".to_string()),
            roi_defs,
            stim_defs,
            custom_columns,
            ..Self::new(df, history)
        })
    }

    /// n curves (an n x t array) -> a Transmission with the curves as one list column `column` (a numerical data
    /// column, so its name starts with `_`), a `uuid_curve` column of fresh UUIDs, a `meta` column (`{"fps": fps}`
    /// as JSON text) when the frame rate is given, one data block, and the operation `import_npy` with params
    /// `{"source": source, "fps": fps or null}`.
    pub fn from_curves(curves: ArrayView2<f64>, column: &str, fps: Option<f64>, source: &str) -> Result<Self, AnalysisError> {
        if !column.starts_with('_') || column == super::BLOCK_COLUMN {
            return Err(AnalysisError::BadInput(format!(
                "curve column '{column}': numerical data columns start with '_' (e.g. {RAW_CURVE}) and cannot be {}",
                super::BLOCK_COLUMN
            )));
        }
        if let Some(f) = fps
            && !(f.is_finite() && f > 0.0)
        {
            return Err(AnalysisError::BadInput(format!("frame rate {f} is not a positive number")));
        }
        let (n, t) = curves.dim();
        let mut lists = ListPrimitiveChunkedBuilder::<Float64Type>::new(column.into(), n, n * t, DataType::Float64);
        for row in curves.rows() {
            match row.as_slice() {
                Some(s) => lists.append_slice(s),
                None => lists.append_slice(&row.to_vec()),
            }
        }
        let uuids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let mut columns = vec![Column::new(UUID_CURVE.into(), uuids)];
        if let Some(f) = fps {
            let meta = json!({"fps": f}).to_string();
            columns.push(Column::new("meta".into(), vec![meta; n]));
        }
        columns.push(lists.finish().into_series().into_column());
        let mut df = DataFrame::new(n, columns)?;
        let mut history = HistoryTrace::new();
        history.create_data_block(&mut df)?;
        history.add_operation(BlockSel::All, "import_npy", json!({"source": source, "fps": fps}))?;
        Ok(Self {
            last_output: Some(column.to_string()),
            last_unit: Some("time".to_string()),
            ..Self::new(df, history)
        })
    }

    /// Concatenate Transmissions (the Merge node): rows stacked, a column missing from one gets nulls there, the
    /// same column with two dtypes is an error; histories merged with [`HistoryTrace::merge`]; ROI / stimulus /
    /// custom column definitions unioned. Transmissions from different projects are refused.
    pub fn merge(ts: Vec<Transmission>) -> Result<Self, AnalysisError> {
        if ts.is_empty() {
            return Err(AnalysisError::BadInput("nothing to merge: no transmissions given".into()));
        }
        let mut proj_path: Option<PathBuf> = None;
        for p in ts.iter().filter_map(|t| t.proj_path.as_ref()) {
            match &proj_path {
                Some(q) if q != p => return Err(AnalysisError::ProjectMismatch(q.clone(), p.clone())),
                Some(_) => {}
                None => proj_path = Some(p.clone()),
            }
        }
        // Union of the columns, in order of first appearance, with one dtype each.
        let mut schema: Vec<(PlSmallStr, DataType)> = Vec::new();
        for t in &ts {
            for c in t.df.columns() {
                match schema.iter().find(|(n, _)| n == c.name()) {
                    Some((_, d)) if d != c.dtype() => {
                        return Err(AnalysisError::ColumnTypeConflict {
                            column: c.name().to_string(),
                            a: dtype_name(d),
                            b: dtype_name(c.dtype()),
                        });
                    }
                    Some(_) => {}
                    None => schema.push((c.name().clone(), c.dtype().clone())),
                }
            }
        }
        let mut df: Option<DataFrame> = None;
        for t in &ts {
            let h = t.df.height();
            let cols = schema
                .iter()
                .map(|(name, dtype)| match t.df.column(name.as_str()) {
                    Ok(c) => c.clone(),
                    Err(_) => Column::full_null(name.clone(), h, dtype),
                })
                .collect();
            let part = DataFrame::new(h, cols)?;
            match &mut df {
                None => df = Some(part),
                Some(acc) => {
                    acc.vstack_mut_owned(part)?;
                }
            }
        }
        let mut df = df.unwrap_or_default();
        df.rechunk_mut();
        let history = HistoryTrace::merge(&ts.iter().map(|t| t.history.clone()).collect::<Vec<_>>())?;
        let same = |f: fn(&Transmission) -> &Option<String>| {
            let first = f(&ts[0]);
            if ts.iter().all(|t| f(t) == first) { first.clone() } else { None }
        };
        let union = |f: fn(&Transmission) -> &Vec<String>| {
            let mut out: Vec<String> = Vec::new();
            for s in ts.iter().flat_map(f) {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            out
        };
        Ok(Self {
            df,
            history,
            proj_path,
            last_output: same(|t| &t.last_output),
            last_unit: same(|t| &t.last_unit),
            roi_defs: union(|t| &t.roi_defs),
            stim_defs: union(|t| &t.stim_defs),
            custom_columns: union(|t| &t.custom_columns),
            plot_state: None,
        })
    }

    /// Save as a `.trn` file (HDF5, layout in [`trn_file`]), atomically: a failed write leaves any previous file
    /// intact.
    pub fn to_hdf5(&self, path: &Path) -> Result<(), AnalysisError> {
        trn_file::write(path, self)
    }

    /// Load a `.trn` file; a missing, truncated, corrupt or foreign file is an error naming the file and problem.
    pub fn from_hdf5(path: &Path) -> Result<Self, AnalysisError> {
        trn_file::read(path)
    }

    /// A column as rows of numbers (for `trn export`): a list column gives one row per curve (values cast to
    /// float64; a null curve or a null inside a curve is an error), a numeric scalar column one single-value row per
    /// DataFrame row (null -> NaN). The flag says whether all rows have the same length (a 2-D array is possible).
    pub fn column_as_matrix(&self, column: &str) -> Result<(Vec<Vec<f64>>, bool), AnalysisError> {
        let col_err = |m: String| AnalysisError::Column { column: column.to_string(), message: m };
        let c = self.df.column(column).map_err(|_| col_err("no such column".into()))?;
        let rows: Vec<Vec<f64>> = match c.dtype() {
            DataType::List(inner) if inner.is_primitive_numeric() => {
                let parts = trn_file::ListParts::of(c.list()?)?;
                if parts.values.null_count() > 0 {
                    return Err(col_err("a curve contains null values".into()));
                }
                let values = parts.values.cast(&DataType::Float64)?;
                let values = values.f64()?.rechunk();
                let values = values.cont_slice()?;
                let mut rows = Vec::with_capacity(parts.len());
                for i in 0..parts.len() {
                    if !parts.is_valid(i) {
                        return Err(col_err(format!("row {i} is null (no curve)")));
                    }
                    let (a, b) = parts.range(i);
                    rows.push(values[a..b].to_vec());
                }
                rows
            }
            d if d.is_primitive_numeric() => {
                let s = c.as_materialized_series().cast(&DataType::Float64)?;
                s.f64()?.iter().map(|v| vec![v.unwrap_or(f64::NAN)]).collect()
            }
            d => return Err(col_err(format!("dtype {} is not numeric (nor a list of numbers)", dtype_name(d)))),
        };
        let equal = rows.first().is_none_or(|r0| rows.iter().all(|r| r.len() == r0.len()));
        Ok((rows, equal))
    }

    /// One JSON document describing the Transmission (what `mesmerize trn show --json` prints): columns with
    /// dtypes, number of rows, the history trace in the original's shape, last output/unit and project path.
    pub fn summary(&self) -> Value {
        let columns: Vec<Value> =
            self.df.columns().iter().map(|c| json!({"name": c.name().as_str(), "dtype": dtype_name(c.dtype())})).collect();
        json!({
            "columns": columns,
            "rows": self.df.height(),
            "history": self.history.to_json(),
            "last_output": self.last_output,
            "last_unit": self.last_unit,
            "proj_path": self.proj_path.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// The name a dtype has in `.trn` files and `trn show` (`Float64`, `String`, `List(Float64)`), stable across polars
/// versions for the stored dtypes.
pub fn dtype_name(d: &DataType) -> String {
    match d {
        DataType::Boolean => "Boolean".into(),
        DataType::UInt8 => "UInt8".into(),
        DataType::UInt16 => "UInt16".into(),
        DataType::UInt32 => "UInt32".into(),
        DataType::UInt64 => "UInt64".into(),
        DataType::Int8 => "Int8".into(),
        DataType::Int16 => "Int16".into(),
        DataType::Int32 => "Int32".into(),
        DataType::Int64 => "Int64".into(),
        DataType::Float32 => "Float32".into(),
        DataType::Float64 => "Float64".into(),
        DataType::String => "String".into(),
        DataType::Binary => "Binary".into(),
        DataType::Null => "Null".into(),
        DataType::List(inner) => format!("List({})", dtype_name(inner)),
        other => format!("{other}"),
    }
}
