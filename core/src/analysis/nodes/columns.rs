//! Reading and writing the DataFrame columns nodes work on: list-of-f64 curves, scalar numbers, categories, fps.

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::Value;

use super::{NodeError, data_err};
use crate::analysis::{BlockSel, Transmission, trn_file::ListParts};

/// A list column of numbers as one flat f64 buffer plus each row's range (no per-row copies); null rows and null
/// values are errors naming the column.
pub fn flat_curves(t: &Transmission, column: &str) -> Result<(Float64Chunked, Vec<(usize, usize)>), NodeError> {
    let c = t.df.column(column).map_err(|_| missing(t, column))?;
    let DataType::List(inner) = c.dtype() else {
        return Err(data_err(format!("column '{column}' holds {} values, not arrays", crate::analysis::dtype_name(c.dtype()))));
    };
    if !inner.is_primitive_numeric() {
        return Err(data_err(format!("column '{column}' holds lists of {}, not numbers", crate::analysis::dtype_name(inner))));
    }
    let parts = ListParts::of(c.list()?)?;
    let values = parts.values.cast(&DataType::Float64)?;
    let values = values.f64()?.rechunk().into_owned();
    if values.null_count() > 0 {
        return Err(data_err(format!("column '{column}': an array contains null values")));
    }
    let ranges = (0..parts.len())
        .map(|i| {
            if !parts.is_valid(i) {
                return Err(data_err(format!("column '{column}': row {i} has no array (null)")));
            }
            Ok(parts.range(i))
        })
        .collect::<Result<_, _>>()?;
    Ok((values, ranges))
}

/// Every row of a list column as f64 values; null rows or null values are errors.
pub fn read_curves(t: &Transmission, column: &str) -> Result<Vec<Vec<f64>>, NodeError> {
    let (values, ranges) = flat_curves(t, column)?;
    let flat = values.cont_slice()?;
    Ok(ranges.iter().map(|&(a, b)| flat[a..b].to_vec()).collect())
}

/// A numeric scalar column as f64 (null -> NaN).
pub fn read_scalars(t: &Transmission, column: &str) -> Result<Vec<f64>, NodeError> {
    let c = t.df.column(column).map_err(|_| missing(t, column))?;
    if !c.dtype().is_primitive_numeric() && c.dtype() != &DataType::Boolean {
        return Err(data_err(format!(
            "column '{column}' holds {} values, not single numbers",
            crate::analysis::dtype_name(c.dtype())
        )));
    }
    let s = c.as_materialized_series().cast(&DataType::Float64)?;
    Ok(s.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// Any column as text labels (numbers formatted, null -> None), for grouping and categorical filters.
pub fn read_labels(t: &Transmission, column: &str) -> Result<Vec<Option<String>>, NodeError> {
    let c = t.df.column(column).map_err(|_| missing(t, column))?;
    if matches!(c.dtype(), DataType::List(_)) {
        return Err(data_err(format!("column '{column}' holds arrays, not categories")));
    }
    let s = c.as_materialized_series().cast(&DataType::String)?;
    Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// A list-of-f64 column from rows.
pub fn list_column(name: &str, rows: &[Vec<f64>]) -> Column {
    let total = rows.iter().map(Vec::len).sum();
    let mut b = ListPrimitiveChunkedBuilder::<Float64Type>::new(name.into(), rows.len(), total, DataType::Float64);
    for r in rows {
        b.append_slice(r);
    }
    b.finish().into_series().into_column()
}

/// Set (add or replace) a column.
pub fn set_column(t: &mut Transmission, column: Column) -> Result<(), NodeError> {
    t.df.with_column(column)?;
    Ok(())
}

/// The sampling rate of each row: the `output_rate` of a `resample` in its data block's history if there is one
/// (what the original's RFFT looked up), else `fps` from the row's `meta` JSON; None when neither is known.
pub fn row_rates(t: &Transmission) -> Result<Vec<Option<f64>>, NodeError> {
    let n = t.df.height();
    let meta: Vec<Option<f64>> = match t.df.column("meta") {
        Ok(c) if c.dtype() == &DataType::String => c
            .str()?
            .iter()
            .map(|m| {
                m.and_then(|m| serde_json::from_str::<Value>(m).ok())
                    .and_then(|v| v.get("fps").and_then(Value::as_f64))
                    .filter(|f| f.is_finite() && *f > 0.0)
            })
            .collect(),
        _ => vec![None; n],
    };
    let blocks: Vec<Option<String>> = match t.df.column(crate::analysis::BLOCK_COLUMN) {
        Ok(c) if c.dtype() == &DataType::String => c.str()?.iter().map(|b| b.map(str::to_string)).collect(),
        _ => vec![None; n],
    };
    Ok((0..n)
        .map(|i| {
            let resampled = blocks[i].as_deref().and_then(|b| {
                t.history
                    .get_operation_params(b, "resample")
                    .ok()
                    .and_then(|p| p.get("output_rate").and_then(Value::as_f64))
            });
            resampled.or(meta[i])
        })
        .collect())
}

/// One sampling rate for the whole Transmission: rows must agree within 0.1 Hz (the original's tolerance).
pub fn common_rate(t: &Transmission, node: &str) -> Result<f64, NodeError> {
    let rates = row_rates(t)?;
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    if known.len() < rates.len() {
        return Err(data_err(format!(
            "{node} needs the sampling rate: {} of {} rows have no fps in their 'meta' column",
            rates.len() - known.len(),
            rates.len()
        )));
    }
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi - lo > 0.1 {
        return Err(data_err(format!("{node}: sampling rates of the rows differ by more than 0.1 Hz ({lo} to {hi})")));
    }
    Ok(known.iter().sum::<f64>() / known.len() as f64)
}

/// The common length of all curves, or an error saying which lengths occur.
pub fn equal_length<C: AsRef<[f64]>>(curves: &[C], column: &str, node: &str) -> Result<usize, NodeError> {
    let n = curves.first().map_or(0, |c| c.as_ref().len());
    if let Some((i, c)) = curves.iter().enumerate().find(|(_, c)| c.as_ref().len() != n) {
        return Err(data_err(format!(
            "{node}: arrays in '{column}' must all have the same length (row 0 has {n}, row {i} has {}); use SpliceArrays or PadArrays",
            c.as_ref().len()
        )));
    }
    Ok(n)
}

/// Apply `f` to every curve of `column` in parallel, store the results in `out_column`, set `last_output`, and log
/// `op` with `{"data_column": column, ...extra, "units": last_unit}` on all blocks (the original's history shape).
pub fn map_curves<F>(
    t: &Transmission,
    column: &str,
    out_column: &str,
    op: &str,
    extra: Value,
    f: F,
) -> Result<Transmission, NodeError>
where
    F: Fn(usize, &[f64]) -> Result<Vec<f64>, String> + Sync,
{
    let (values, ranges) = flat_curves(t, column)?;
    let flat = values.cont_slice()?;
    let out: Vec<Vec<f64>> = ranges
        .par_iter()
        .enumerate()
        .map(|(i, &(a, b))| f(i, &flat[a..b]).map_err(|e| data_err(format!("{op}: row {i} of '{column}': {e}"))))
        .collect::<Result<_, _>>()?;
    log_curve_op(t, column, list_column(out_column, &out), op, extra)
}

/// A copy of `t` with `out` added, `last_output` set to it, and `op` logged on all blocks with
/// `{"data_column": column, ...extra, "units": last_unit}` (the original's history shape for curve-to-curve nodes).
pub(super) fn log_curve_op(t: &Transmission, column: &str, out: Column, op: &str, extra: Value) -> Result<Transmission, NodeError> {
    let out_column = out.name().to_string();
    let mut t = t.clone();
    set_column(&mut t, out)?;
    let mut params = serde_json::Map::new();
    params.insert("data_column".into(), Value::from(column));
    if let Value::Object(m) = extra {
        params.extend(m);
    }
    if !params.contains_key("units") {
        params.insert("units".into(), t.last_unit.clone().map_or(Value::Null, Value::from));
    }
    t.history.add_operation(BlockSel::All, op, Value::Object(params))?;
    t.last_output = Some(out_column);
    Ok(t)
}

/// "no column 'x' in the input (columns: ...)", shared by column readers and column parameters.
pub(crate) fn missing_message(t: &Transmission, column: &str) -> String {
    let names: Vec<&str> = t.df.get_column_names().into_iter().map(|s| s.as_str()).collect();
    format!("no column '{column}' in the input (columns: {})", names.join(", "))
}

fn missing(t: &Transmission, column: &str) -> NodeError {
    data_err(missing_message(t, column))
}

/// Row indices per distinct label, in order of first appearance (pandas' `unique()` order); nulls form one group.
pub fn groups(labels: &[Option<String>]) -> Vec<(Option<String>, Vec<usize>)> {
    let mut out: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    let mut index: std::collections::HashMap<Option<&str>, usize> = std::collections::HashMap::new();
    for (i, l) in labels.iter().enumerate() {
        match index.get(&l.as_deref()) {
            Some(&g) => out[g].1.push(i),
            None => {
                index.insert(l.as_deref(), out.len());
                out.push((l.clone(), vec![i]));
            }
        }
    }
    out
}

/// The rows of `t` at `rows`, in that order (history and context kept).
pub fn take_rows(t: &Transmission, rows: &[usize]) -> Result<Transmission, NodeError> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    let mut out = t.clone();
    out.df = t.df.take(&idx)?;
    Ok(out)
}
