//! The `.trn` file: a Transmission in HDF5, readable with plain h5py (no pytables), written atomically.
//!
//! Layout `trn-v1` (docs/formats.md, "Transmission files (.trn)"):
//! - root attributes (variable-length UTF-8 strings): `mesmerize_format` = `trn-v1`; `history_trace` (JSON of
//!   [`HistoryTrace::to_json`]); `proj_path`, `last_output`, `last_unit` (empty string = None); `ROI_DEFS`,
//!   `STIM_DEFS`, `CUSTOM_COLUMNS` (JSON lists of strings); `plot_state` (JSON, absent = None);
//! - group `df`, attributes `columns` (JSON list of the column names, in order) and `n_rows` (int64);
//! - one entry per column in `df`, named after the column with `%` -> `%25` and `/` -> `%2F` (`.` -> `%2E`, the
//!   empty name -> `%`), each with attributes `name` (the column name), `dtype` ([`dtype_name`]: `Float64`,
//!   `Float32`, `Int64`, `Int32`, `UInt32`, `UInt64`, `Boolean`, `String`, `List(Float64)`, `List(Float32)`,
//!   `List(Int64)`, `List(Int32)`) and `kind`:
//!   - `array`: a 1-D dataset of the values (strings variable-length UTF-8, booleans HDF5's bool enum) - a column
//!     without nulls;
//!   - `masked`: a group with `data` (the values, nulls filled with 0 / "" / false) and `valid` (uint8, 1 = present);
//!   - `list`: a group with `values` (all curves concatenated, one flat dataset) and `offsets` (int64, n_rows + 1;
//!     row i is `values[offsets[i]:offsets[i+1]]`), plus `valid` (uint8) when some rows are null (a null row's span
//!     holds no meaningful values).
//!
//! Other dtypes are refused when writing (an error naming the column and its dtype): a file never silently differs
//! from the DataFrame it came from. Nulls inside a list (as opposed to a null row) are refused too.

use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5_metno as hdf5;
use ndarray::ArrayView1;
use polars::prelude::*;
use serde_json::Value;

use super::{AnalysisError, HistoryTrace, Transmission, dtype_name};

/// Names the layout in the root attribute `mesmerize_format`.
pub const FORMAT: &str = "trn-v1";

const SUPPORTED: &str = "Float64, Float32, Int64, Int32, UInt32, UInt64, Boolean, String, List(Float64), List(Float32), \
     List(Int64), List(Int32), List(String)";

/// Scalar element types stored in `.trn` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    F64,
    F32,
    I64,
    I32,
    U32,
    U64,
    Bool,
    Str,
}

impl Elem {
    fn of(d: &DataType) -> Option<Elem> {
        Some(match d {
            DataType::Float64 => Elem::F64,
            DataType::Float32 => Elem::F32,
            DataType::Int64 => Elem::I64,
            DataType::Int32 => Elem::I32,
            DataType::UInt32 => Elem::U32,
            DataType::UInt64 => Elem::U64,
            DataType::Boolean => Elem::Bool,
            DataType::String => Elem::Str,
            _ => return None,
        })
    }

    fn dtype(self) -> DataType {
        match self {
            Elem::F64 => DataType::Float64,
            Elem::F32 => DataType::Float32,
            Elem::I64 => DataType::Int64,
            Elem::I32 => DataType::Int32,
            Elem::U32 => DataType::UInt32,
            Elem::U64 => DataType::UInt64,
            Elem::Bool => DataType::Boolean,
            Elem::Str => DataType::String,
        }
    }
}

/// How a column is stored: scalars of one type, or lists of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Scalar(Elem),
    List(Elem),
}

impl Stored {
    fn of(d: &DataType) -> Option<Stored> {
        match d {
            DataType::List(inner) => match Elem::of(inner)? {
                e @ (Elem::F64 | Elem::F32 | Elem::I64 | Elem::I32 | Elem::Str) => Some(Stored::List(e)),
                _ => None,
            },
            d => Elem::of(d).map(Stored::Scalar),
        }
    }

    fn from_name(name: &str) -> Option<Stored> {
        let scalar = |n: &str| {
            [Elem::F64, Elem::F32, Elem::I64, Elem::I32, Elem::U32, Elem::U64, Elem::Bool, Elem::Str]
                .into_iter()
                .find(|e| dtype_name(&e.dtype()) == n)
        };
        match name.strip_prefix("List(").and_then(|r| r.strip_suffix(')')) {
            Some(inner) => Stored::of(&DataType::List(Box::new(scalar(inner)?.dtype()))),
            None => scalar(name).map(Stored::Scalar),
        }
    }
}

/// The name of a column's entry in the `df` group (HDF5 link names cannot contain `/` nor be `.`).
pub fn entry_name(column: &str) -> String {
    match column {
        "" => "%".into(),
        "." => "%2E".into(),
        c => c.replace('%', "%25").replace('/', "%2F"),
    }
}

/// A list column taken apart: offsets from 0, the inner values they index, and which rows are present.
pub(crate) struct ListParts {
    offsets: Vec<i64>,
    /// The inner values covered by the offsets (one chunk).
    pub(crate) values: Series,
    valid: Option<Vec<bool>>,
}

impl ListParts {
    /// Split a list column into flat values + offsets without copying the values row by row.
    pub(crate) fn of(ca: &ListChunked) -> Result<Self, AnalysisError> {
        let ca = ca.rechunk();
        let inner_dtype = ca.inner_dtype().clone();
        let Some(arr) = ca.downcast_iter().next() else {
            return Ok(Self { offsets: vec![0], values: Series::new_empty(PlSmallStr::EMPTY, &inner_dtype), valid: None });
        };
        let raw = arr.offsets().as_slice();
        let first = raw.first().copied().unwrap_or(0);
        let last = raw.last().copied().unwrap_or(0);
        let offsets: Vec<i64> = raw.iter().map(|&o| o - first).collect();
        let values = ca.get_inner().slice(first, (last - first).max(0) as usize).rechunk();
        let valid = (ca.null_count() > 0).then(|| ca.is_not_null().iter().map(|v| v.unwrap_or(false)).collect());
        Ok(Self { offsets, values, valid })
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether row `i` holds a list (not null).
    pub(crate) fn is_valid(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.get(i).copied().unwrap_or(false))
    }

    /// The value range of row `i` in `values`.
    pub(crate) fn range(&self, i: usize) -> (usize, usize) {
        (self.offsets[i] as usize, self.offsets[i + 1] as usize)
    }
}

// ------------------------------------------------------------------------------------------------------------------
// Writing

/// Write `t` to `path` atomically: a temporary file in the same directory, fsync, rename, fsync of the directory.
pub(crate) fn write(path: &Path, t: &Transmission) -> Result<(), AnalysisError> {
    let err = |m: String| AnalysisError::File { path: path.to_path_buf(), message: m };
    // Refuse what cannot be stored before touching the disk.
    let mut plan = Vec::with_capacity(t.df.width());
    for c in t.df.columns() {
        let stored = Stored::of(c.dtype()).ok_or_else(|| AnalysisError::UnsupportedColumn {
            column: c.name().to_string(),
            dtype: dtype_name(c.dtype()),
            supported: SUPPORTED,
        })?;
        plan.push((c, stored));
    }
    if path.file_name().is_none() {
        return Err(err("not a file name".into()));
    }
    let result = crate::io::atomic::replace_via_temp(path, |tmp| write_file(tmp, t, &plan), |e| err(format!("finishing the write: {e}")));
    result.map_err(|e| match e {
        // Errors about the temporary file are reported against the file the user asked for.
        AnalysisError::File { message, .. } => err(message),
        other => other,
    })
}

fn write_file(path: &Path, t: &Transmission, plan: &[(&Column, Stored)]) -> Result<(), AnalysisError> {
    let h5 = |ctx: &str| {
        let ctx = ctx.to_string();
        move |e: hdf5::Error| AnalysisError::File { path: path.to_path_buf(), message: format!("{ctx}: {e}") }
    };
    let file = hdf5::File::create(path).map_err(h5("cannot create HDF5 file"))?;
    let json_list = |v: &[String]| Value::from(v.to_vec()).to_string();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let proj = match &t.proj_path {
        None => String::new(),
        Some(p) => p
            .to_str()
            .ok_or_else(|| AnalysisError::BadInput(format!("project path {} is not valid UTF-8", p.display())))?
            .to_string(),
    };
    let mut attrs = vec![
        ("mesmerize_format", FORMAT.to_string()),
        ("history_trace", t.history.to_json().to_string()),
        ("proj_path", proj),
        ("last_output", opt(&t.last_output)),
        ("last_unit", opt(&t.last_unit)),
        ("ROI_DEFS", json_list(&t.roi_defs)),
        ("STIM_DEFS", json_list(&t.stim_defs)),
        ("CUSTOM_COLUMNS", json_list(&t.custom_columns)),
    ];
    if let Some(p) = &t.plot_state {
        attrs.push(("plot_state", p.to_string()));
    }
    for (k, v) in &attrs {
        write_attr(&file, k, v).map_err(h5(&format!("writing attribute {k}")))?;
    }
    let g = file.create_group("df").map_err(h5("creating group df"))?;
    let names: Vec<String> = t.df.columns().iter().map(|c| c.name().to_string()).collect();
    write_attr(&g, "columns", &Value::from(names).to_string()).map_err(h5("writing df/columns"))?;
    g.new_attr::<i64>().create("n_rows").and_then(|a| a.write_scalar(&(t.df.height() as i64))).map_err(h5("writing df/n_rows"))?;
    for (c, stored) in plan {
        write_column(&g, c, *stored).map_err(|e| match e {
            AnalysisError::File { path, message } => {
                AnalysisError::File { path, message: format!("column '{}': {message}", c.name()) }
            }
            other => other,
        })?;
    }
    file.close().map_err(h5("closing"))
}

/// Tags an HDF5 error with the file later (the caller knows the user-facing path).
fn h5e(e: hdf5::Error) -> AnalysisError {
    AnalysisError::File { path: PathBuf::new(), message: e.to_string() }
}

fn text(v: &str) -> hdf5::Result<VarLenUnicode> {
    v.parse().map_err(|e| hdf5::Error::from(format!("text {v:?} cannot be stored: {e}").as_str()))
}

fn write_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&text(value)?)
}

fn write_1d<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, v: &[T]) -> hdf5::Result<hdf5::Dataset> {
    g.new_dataset_builder().with_data(ArrayView1::from(v)).create(name)
}

fn write_column(g: &hdf5::Group, c: &Column, stored: Stored) -> Result<(), AnalysisError> {
    let entry = entry_name(c.name());
    let s = c.as_materialized_series();
    let tag = |loc: &hdf5::Location, kind: &str| -> hdf5::Result<()> {
        write_attr(loc, "name", c.name())?;
        write_attr(loc, "dtype", &dtype_name(c.dtype()))?;
        write_attr(loc, "kind", kind)
    };
    match stored {
        Stored::List(e) => {
            let parts = ListParts::of(s.list()?)?;
            if parts.values.null_count() > 0 {
                return Err(AnalysisError::Column {
                    column: c.name().to_string(),
                    message: "null values inside lists cannot be stored in a .trn file".into(),
                });
            }
            let lg = g.create_group(&entry).map_err(h5e)?;
            tag(&lg, "list").map_err(h5e)?;
            match e {
                Elem::F64 => write_1d(&lg, "values", parts.values.f64()?.cont_slice()?),
                Elem::F32 => write_1d(&lg, "values", parts.values.f32()?.cont_slice()?),
                Elem::I64 => write_1d(&lg, "values", parts.values.i64()?.cont_slice()?),
                Elem::I32 => write_1d(&lg, "values", parts.values.i32()?.cont_slice()?),
                Elem::Str => {
                    let v = parts.values.str()?.iter().map(|v| text(v.unwrap_or(""))).collect::<hdf5::Result<Vec<_>>>();
                    v.and_then(|v| write_1d(&lg, "values", &v))
                }
                _ => return Err(AnalysisError::BadInput(format!("lists of {e:?} are not stored"))),
            }
            .map_err(h5e)?;
            write_1d(&lg, "offsets", &parts.offsets).map_err(h5e)?;
            if let Some(v) = &parts.valid {
                write_1d(&lg, "valid", &v.iter().map(|&b| u8::from(b)).collect::<Vec<u8>>()).map_err(h5e)?;
            }
        }
        Stored::Scalar(e) => {
            let masked = s.null_count() > 0;
            let (target, name) = if masked {
                let mg = g.create_group(&entry).map_err(h5e)?;
                tag(&mg, "masked").map_err(h5e)?;
                let valid: Vec<u8> = s.is_not_null().iter().map(|v| u8::from(v.unwrap_or(false))).collect();
                write_1d(&mg, "valid", &valid).map_err(h5e)?;
                (mg, "data".to_string())
            } else {
                (g.clone(), entry)
            };
            let ds = match e {
                Elem::F64 => write_numeric(&target, &name, s.f64()?),
                Elem::F32 => write_numeric(&target, &name, s.f32()?),
                Elem::I64 => write_numeric(&target, &name, s.i64()?),
                Elem::I32 => write_numeric(&target, &name, s.i32()?),
                Elem::U32 => write_numeric(&target, &name, s.u32()?),
                Elem::U64 => write_numeric(&target, &name, s.u64()?),
                Elem::Bool => {
                    let v: Vec<bool> = s.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
                    write_1d(&target, &name, &v)
                }
                Elem::Str => {
                    let v = s.str()?.iter().map(|v| text(v.unwrap_or(""))).collect::<hdf5::Result<Vec<_>>>();
                    v.and_then(|v| write_1d(&target, &name, &v))
                }
            }
            .map_err(h5e)?;
            if !masked {
                tag(&ds, "array").map_err(h5e)?;
            }
        }
    }
    Ok(())
}

fn write_numeric<T>(g: &hdf5::Group, name: &str, ca: &ChunkedArray<T>) -> hdf5::Result<hdf5::Dataset>
where
    T: PolarsNumericType,
    T::Native: hdf5::H5Type,
{
    let ca = ca.rechunk();
    match ca.cont_slice() {
        Ok(v) => write_1d(g, name, v),
        Err(_) => write_1d(g, name, &ca.iter().map(|v| v.unwrap_or_default()).collect::<Vec<_>>()),
    }
}

// ------------------------------------------------------------------------------------------------------------------
// Reading

struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn err(&self, m: impl Into<String>) -> AnalysisError {
        AnalysisError::File { path: self.path.to_path_buf(), message: m.into() }
    }

    fn h5<'b>(&'b self, ctx: &'b str) -> impl Fn(hdf5::Error) -> AnalysisError + 'b {
        move |e| self.err(format!("{ctx}: {e}"))
    }

    fn attr_opt(&self, loc: &hdf5::Location, name: &str) -> Result<Option<String>, AnalysisError> {
        if !loc.attr_names().map_err(self.h5("listing attributes"))?.iter().any(|n| n == name) {
            return Ok(None);
        }
        let a = loc.attr(name).map_err(self.h5(&format!("attribute {name}")))?;
        read_string(&a).map(Some).map_err(|e| self.err(format!("attribute {name} is not a string: {e}")))
    }

    fn attr(&self, loc: &hdf5::Location, what: &str, name: &str) -> Result<String, AnalysisError> {
        self.attr_opt(loc, name)?.ok_or_else(|| self.err(format!("{what} has no attribute '{name}'")))
    }

    fn json(&self, name: &str, s: &str) -> Result<Value, AnalysisError> {
        serde_json::from_str(s).map_err(|e| self.err(format!("attribute {name} is not valid JSON: {e}")))
    }

    fn string_list(&self, loc: &hdf5::Location, name: &str) -> Result<Vec<String>, AnalysisError> {
        let Some(s) = self.attr_opt(loc, name)? else { return Ok(Vec::new()) };
        match self.json(name, &s)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(self.err(format!("attribute {name}: {other} is not a string"))),
                })
                .collect(),
            other => Err(self.err(format!("attribute {name} is not a JSON list: {other}"))),
        }
    }

    fn dataset(&self, g: &hdf5::Group, what: &str, name: &str, n: usize) -> Result<hdf5::Dataset, AnalysisError> {
        let ds = g.dataset(name).map_err(|_| self.err(format!("{what}: missing dataset '{name}'")))?;
        let shape = ds.shape();
        if shape.len() != 1 || shape[0] != n {
            return Err(self.err(format!("{what}/{name} has shape {shape:?}, expected ({n},)")));
        }
        Ok(ds)
    }

    fn numbers<T: hdf5::H5Type>(&self, ds: &hdf5::Dataset, what: &str) -> Result<Vec<T>, AnalysisError> {
        ds.read_raw::<T>().map_err(|e| self.err(format!("{what}: cannot read values: {e}")))
    }
}

fn read_string(a: &hdf5::Attribute) -> hdf5::Result<String> {
    match a.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenAscii => Ok(a.read_scalar::<VarLenAscii>()?.to_string()),
        _ => Ok(a.read_scalar::<VarLenUnicode>()?.to_string()),
    }
}

/// Read a `.trn` file written by [`write`]; every problem is an error naming the file.
pub(crate) fn read(path: &Path) -> Result<Transmission, AnalysisError> {
    let r = Reader { path };
    let f = hdf5::File::open(path)
        .map_err(|e| r.err(format!("cannot open as HDF5 (missing, truncated or not an HDF5 file): {e}")))?;
    match r.attr_opt(&f, "mesmerize_format")? {
        None => {
            return Err(r.err(
                "not a Mesmerize-RS .trn file (no 'mesmerize_format' attribute; files written by the original \
                 Mesmerize with pytables are not read)",
            ));
        }
        Some(v) if v != FORMAT => return Err(r.err(format!("format '{v}' is not supported (this version reads {FORMAT})"))),
        Some(_) => {}
    }
    let history = HistoryTrace::from_json(&r.json("history_trace", &r.attr(&f, "the file", "history_trace")?)?)
        .map_err(|e| r.err(format!("attribute history_trace: {e}")))?;
    let none_if_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let proj_path = none_if_empty(r.attr_opt(&f, "proj_path")?).map(PathBuf::from);
    let last_output = none_if_empty(r.attr_opt(&f, "last_output")?);
    let last_unit = none_if_empty(r.attr_opt(&f, "last_unit")?);
    let plot_state = match none_if_empty(r.attr_opt(&f, "plot_state")?) {
        Some(s) => Some(r.json("plot_state", &s)?),
        None => None,
    };
    let roi_defs = r.string_list(&f, "ROI_DEFS")?;
    let stim_defs = r.string_list(&f, "STIM_DEFS")?;
    let custom_columns = r.string_list(&f, "CUSTOM_COLUMNS")?;

    let g = f.group("df").map_err(|_| r.err("no 'df' group"))?;
    let names: Vec<String> = match r.json("df/columns", &r.attr(&g, "group df", "columns")?)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| r.err(format!("df/columns: {v} is not a string"))))
            .collect::<Result<_, _>>()?,
        other => return Err(r.err(format!("df/columns is not a JSON list: {other}"))),
    };
    let n_rows = g
        .attr("n_rows")
        .and_then(|a| a.read_scalar::<i64>())
        .map_err(|e| r.err(format!("df has no readable 'n_rows' attribute: {e}")))?;
    let n = usize::try_from(n_rows).map_err(|_| r.err(format!("df/n_rows is negative ({n_rows})")))?;
    let mut columns = Vec::with_capacity(names.len());
    for name in &names {
        columns.push(read_column(&r, &g, name, n)?);
    }
    let df = DataFrame::new(n, columns).map_err(|e| r.err(format!("assembling the DataFrame: {e}")))?;
    Ok(Transmission {
        df,
        history,
        proj_path,
        last_output,
        last_unit,
        roi_defs,
        stim_defs,
        custom_columns,
        plot_state,
    })
}

fn read_column(r: &Reader, g: &hdf5::Group, name: &str, n: usize) -> Result<Column, AnalysisError> {
    let entry = entry_name(name);
    let what = format!("column '{name}' (df/{entry})");
    if !g.link_exists(&entry) {
        return Err(r.err(format!("{what} is listed in df/columns but missing")));
    }
    let is_group = matches!(g.loc_type_by_name(&entry), Ok(hdf5::LocationType::Group));
    let (loc, group): (hdf5::Location, Option<hdf5::Group>) = if is_group {
        let sub = g.group(&entry).map_err(r.h5("opening column group"))?;
        ((*sub).clone(), Some(sub))
    } else {
        let ds = g.dataset(&entry).map_err(r.h5("opening column dataset"))?;
        ((**ds).clone(), None)
    };
    let dtype = r.attr(&loc, &what, "dtype")?;
    let kind = r.attr(&loc, &what, "kind")?;
    let stored = Stored::from_name(&dtype).ok_or_else(|| r.err(format!("{what}: unsupported dtype '{dtype}'")))?;
    let name_ps = PlSmallStr::from(name);
    let series = match (kind.as_str(), stored, group) {
        ("array", Stored::Scalar(e), None) => {
            let ds = r.dataset(g, &what, &entry, n)?;
            read_scalars(r, &ds, &what, e, name_ps, None)?
        }
        ("masked", Stored::Scalar(e), Some(sub)) => {
            let valid = read_valid(r, &sub, &what, n)?;
            let ds = r.dataset(&sub, &what, "data", n)?;
            read_scalars(r, &ds, &what, e, name_ps, Some(&valid))?
        }
        ("list", Stored::List(e), Some(sub)) => read_list(r, &sub, &what, e, name_ps, n)?,
        _ => return Err(r.err(format!("{what}: kind '{kind}' does not match dtype '{dtype}' and entry type"))),
    };
    Ok(series.into_column())
}

fn read_valid(r: &Reader, g: &hdf5::Group, what: &str, n: usize) -> Result<Vec<bool>, AnalysisError> {
    let ds = r.dataset(g, what, "valid", n)?;
    Ok(r.numbers::<u8>(&ds, what)?.into_iter().map(|v| v != 0).collect())
}

fn read_scalars(
    r: &Reader,
    ds: &hdf5::Dataset,
    what: &str,
    e: Elem,
    name: PlSmallStr,
    valid: Option<&[bool]>,
) -> Result<Series, AnalysisError> {
    fn num<T>(r: &Reader, ds: &hdf5::Dataset, what: &str, name: PlSmallStr, valid: Option<&[bool]>) -> Result<Series, AnalysisError>
    where
        T: PolarsNumericType,
        T::Native: hdf5::H5Type,
    {
        let v = r.numbers::<T::Native>(ds, what)?;
        Ok(match valid {
            None => ChunkedArray::<T>::from_vec(name, v).into_series(),
            Some(m) => ChunkedArray::<T>::from_iter_options(name, v.into_iter().zip(m).map(|(x, &ok)| ok.then_some(x)))
                .into_series(),
        })
    }
    let mask = |i: usize| valid.is_none_or(|m| m[i]);
    Ok(match e {
        Elem::F64 => num::<Float64Type>(r, ds, what, name, valid)?,
        Elem::F32 => num::<Float32Type>(r, ds, what, name, valid)?,
        Elem::I64 => num::<Int64Type>(r, ds, what, name, valid)?,
        Elem::I32 => num::<Int32Type>(r, ds, what, name, valid)?,
        Elem::U32 => num::<UInt32Type>(r, ds, what, name, valid)?,
        Elem::U64 => num::<UInt64Type>(r, ds, what, name, valid)?,
        Elem::Bool => {
            let v = r.numbers::<bool>(ds, what)?;
            BooleanChunked::from_iter_options(name, v.into_iter().enumerate().map(|(i, x)| mask(i).then_some(x))).into_series()
        }
        Elem::Str => {
            let v = ds.read_raw::<VarLenUnicode>().map_err(|e| r.err(format!("{what}: cannot read strings: {e}")))?;
            StringChunked::from_iter_options(name, v.iter().enumerate().map(|(i, x)| mask(i).then_some(x.as_str())))
                .into_series()
        }
    })
}

fn read_list(r: &Reader, g: &hdf5::Group, what: &str, e: Elem, name: PlSmallStr, n: usize) -> Result<Series, AnalysisError> {
    let offsets: Vec<i64> = r.numbers(&r.dataset(g, what, "offsets", n + 1)?, what)?;
    let valid = if g.link_exists("valid") { Some(read_valid(r, g, what, n)?) } else { None };
    let vds = g.dataset("values").map_err(|_| r.err(format!("{what}: missing dataset 'values'")))?;
    let n_values = match vds.shape().as_slice() {
        [m] => *m,
        s => return Err(r.err(format!("{what}/values has shape {s:?}, expected 1-D"))),
    };
    if offsets.first() != Some(&0)
        || offsets.last().is_none_or(|&l| l as usize != n_values)
        || offsets.windows(2).any(|w| w[1] < w[0])
    {
        return Err(r.err(format!("{what}: offsets do not go from 0 up to {n_values} (the number of values)")));
    }
    fn build<T>(r: &Reader, ds: &hdf5::Dataset, what: &str, name: PlSmallStr, offsets: &[i64], valid: Option<&[bool]>) -> Result<Series, AnalysisError>
    where
        T: PolarsNumericType,
        T::Native: hdf5::H5Type,
    {
        let values = r.numbers::<T::Native>(ds, what)?;
        let n = offsets.len() - 1;
        let mut b = ListPrimitiveChunkedBuilder::<T>::new(name, n, values.len(), T::get_static_dtype());
        for i in 0..n {
            if valid.is_some_and(|m| !m[i]) {
                b.append_null();
            } else {
                b.append_slice(&values[offsets[i] as usize..offsets[i + 1] as usize]);
            }
        }
        Ok(b.finish().into_series())
    }
    let valid = valid.as_deref();
    match e {
        Elem::F64 => build::<Float64Type>(r, &vds, what, name, &offsets, valid),
        Elem::F32 => build::<Float32Type>(r, &vds, what, name, &offsets, valid),
        Elem::I64 => build::<Int64Type>(r, &vds, what, name, &offsets, valid),
        Elem::I32 => build::<Int32Type>(r, &vds, what, name, &offsets, valid),
        Elem::Str => {
            let values = vds.read_raw::<VarLenUnicode>().map_err(|e| r.err(format!("{what}: cannot read strings: {e}")))?;
            let n = offsets.len() - 1;
            let mut b = ListStringChunkedBuilder::new(name, n, values.len());
            for i in 0..n {
                if valid.is_some_and(|m| !m[i]) {
                    b.append_null();
                } else {
                    b.append_values_iter(values[offsets[i] as usize..offsets[i + 1] as usize].iter().map(|v| v.as_str()));
                }
            }
            Ok(b.finish().into_series())
        }
        _ => Err(r.err(format!("{what}: lists of {e:?} are not stored"))),
    }
}
