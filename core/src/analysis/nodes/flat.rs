//! Curves as the list column stores them: one flat f64 buffer plus row offsets, in and out. Nodes that map curves to
//! curves compute into one output buffer (rows or values in parallel) and hand it back to the DataFrame with the
//! offsets, instead of a Vec per row copied out of and back into the column (that copy was the whole cost of the
//! cheap element-wise nodes).

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::Value;

use super::columns::{flat_curves, log_curve_op};
use super::{NodeError, data_err};
use crate::analysis::Transmission;

/// Values per rayon task for element-wise maps: big enough that scheduling costs nothing next to the arithmetic.
const VALUES_PER_TASK: usize = 1 << 15;

/// A list-of-f64 column read once: row `i` is `values[offsets[i]..offsets[i + 1]]` (no per-row copies).
pub struct FlatCurves {
    values: Float64Chunked,
    offsets: Vec<usize>,
}

impl FlatCurves {
    /// Reads `column` of `t`; null rows and null values are errors naming the column, as for every curve reader.
    pub fn read(t: &Transmission, column: &str) -> Result<Self, NodeError> {
        let (values, ranges) = flat_curves(t, column)?;
        values.cont_slice()?;
        let mut offsets = Vec::with_capacity(ranges.len() + 1);
        offsets.push(ranges.first().map_or(0, |r| r.0));
        for (i, &(a, b)) in ranges.iter().enumerate() {
            if a != offsets[i] {
                return Err(data_err(format!("column '{column}': row {i} does not follow the previous one in the buffer")));
            }
            offsets.push(b);
        }
        Ok(Self { values, offsets })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value, rows one after another.
    pub fn values(&self) -> &[f64] {
        // Checked contiguous in `read`.
        self.values.cont_slice().unwrap_or(&[])
    }

    /// Row `i`'s values.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values()[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Row boundaries (`len() + 1` entries, starting at 0).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// `f` applied to every value; rows keep their lengths. Parallel over the flat buffer.
    pub fn map_values(&self, f: impl Fn(f64) -> f64 + Sync + Send) -> FlatOut {
        let values = self.values().par_iter().with_min_len(VALUES_PER_TASK).map(|&v| f(v)).collect();
        FlatOut { offsets: self.offsets.clone(), values }
    }

    /// Row `i` of the output has `out_len(i, row_len)` values, written by `f(i, row, out)`; rows run in parallel
    /// into one output buffer. A row's error comes back with its index.
    pub fn map_rows<L, F>(&self, out_len: L, f: F) -> Result<FlatOut, (usize, String)>
    where
        L: Fn(usize, usize) -> usize,
        F: Fn(usize, &[f64], &mut [f64]) -> Result<(), String> + Sync,
    {
        let n = self.len();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0usize);
        for i in 0..n {
            offsets.push(offsets[i] + out_len(i, self.offsets[i + 1] - self.offsets[i]));
        }
        let mut values = vec![0.0; offsets[n]];
        let mut outs: Vec<&mut [f64]> = Vec::with_capacity(n);
        let mut rest = values.as_mut_slice();
        for i in 0..n {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(offsets[i + 1] - offsets[i]);
            outs.push(head);
            rest = tail;
        }
        outs.into_par_iter().enumerate().try_for_each(|(i, out)| f(i, self.row(i), out).map_err(|e| (i, e)))?;
        Ok(FlatOut { offsets, values })
    }
}

/// Curves computed into one buffer: row `i` is `values[offsets[i]..offsets[i + 1]]`.
pub struct FlatOut {
    /// Row boundaries, starting at 0, ending at `values.len()`.
    pub offsets: Vec<usize>,
    /// Every output value, rows one after another.
    pub values: Vec<f64>,
}

impl FlatOut {
    /// The list-of-f64 column, built on the buffer itself (no copy).
    pub fn into_column(self, name: &str) -> Result<Column, NodeError> {
        let offsets: Vec<i64> = self.offsets.iter().map(|&o| o as i64).collect();
        let values = Float64Chunked::from_vec(PlSmallStr::EMPTY, self.values);
        let values = values.chunks().first().cloned().ok_or_else(|| data_err("an output buffer without a chunk"))?;
        let dtype = LargeListArray::default_datatype(ArrowDataType::Float64);
        let arr = LargeListArray::try_new(dtype, offsets.try_into()?, values, None)?;
        Ok(ListChunked::with_chunk(name.into(), arr).into_series().into_column())
    }
}

/// A curve-to-curve node on the flat buffer: read `column`, `compute` the output, store it in `out_column`, set
/// `last_output` and log `op` as [`super::columns::map_curves`] does.
pub fn map_flat<F>(t: &Transmission, column: &str, out_column: &str, op: &str, extra: Value, compute: F) -> Result<Transmission, NodeError>
where
    F: FnOnce(&FlatCurves) -> Result<FlatOut, (usize, String)>,
{
    let curves = FlatCurves::read(t, column)?;
    let out = compute(&curves).map_err(|(i, e)| data_err(format!("{op}: row {i} of '{column}': {e}")))?;
    log_curve_op(t, column, out.into_column(out_column)?, op, extra)
}

/// Output rows as long as the input rows (for [`FlatCurves::map_rows`]).
pub fn same_len(_: usize, n: usize) -> usize {
    n
}
