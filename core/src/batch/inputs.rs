//! Item parameters and inputs: checked when an item is added (so a bad parameter file is refused then), and
//! resolved when it runs (another item's output movie, a reused prepared input, `Ain` seeds by UUID).
//!
//! Parameters use CaImAn's names, in every form the CLI accepts (flat, CaImAn's groups, Mesmerize's
//! `cnmf_kwargs`/`eval_kwargs`). Batch-level keys sit beside them, as in the original's batch items:
//! `use_memmap` + `memmap_uuid` (reuse another item's prepared input), `Ain` (a CNMF-E item's UUID or a result
//! file), `output_bit_depth` (motion correction: "Do not convert", "8", "16"), and for `corr_pnr` items `gSig` and
//! `center_psf`.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::item::{Input, Item, Module, Status};
use super::table::{Batch, Table};
use super::BatchError;
use crate::extraction::params::{CnmfParams, Mode};
use crate::registration::MotionParams;

/// Keys of the batch, not of the algorithm: removed before the parameters reach the module.
const BATCH_KEYS: [&str; 3] = ["use_memmap", "memmap_uuid", "output_bit_depth"];

/// An item ready to run: its input movie and the parameters the module gets.
#[derive(Debug, Clone)]
pub struct ResolvedItem {
    /// The movie to process.
    pub input: PathBuf,
    /// Module parameters with batch keys removed and `Ain` turned into a file path.
    pub params: Value,
    /// Motion correction's output bit depth (`float32`, `16`, `8`).
    pub bit_depth: String,
    /// What was resolved, for the item's log.
    pub notes: Vec<String>,
}

/// Check an item's parameters for its module; returns warnings (unknown names). Refuses bad values, bad JSON
/// shapes and references to items that do not exist or cannot serve.
pub fn validate_params(module: Module, params: &Value, table: &Table) -> Result<Vec<String>, BatchError> {
    let obj = params.as_object().ok_or_else(|| BatchError::Invalid(format!("{module} parameters must be a JSON object, found {params}")))?;
    let bad = |e: &dyn std::fmt::Display| BatchError::Invalid(format!("{module} parameters: {e}"));
    check_memmap(obj, table)?;
    let clean = strip(obj);
    let mut warnings = Vec::new();
    match module {
        Module::CaimanMotionCorrection => {
            if let Some(v) = obj.get("output_bit_depth") {
                bit_depth(v).map_err(|e| bad(&e))?;
            }
            let (_, unknown) = MotionParams::from_json(&clean).map_err(|e| bad(&e))?;
            warnings.extend(unknown.into_iter().map(|k| format!("unknown motion parameter '{k}' ignored")));
        }
        Module::Cnmf | Module::Cnmf3d | Module::Cnmfe => {
            let mode = match module {
                Module::Cnmf => Mode::Cnmf,
                Module::Cnmf3d => Mode::Cnmf3d,
                _ => Mode::Cnmfe,
            };
            let (p, w) = CnmfParams::from_json(mode, &clean).map_err(|e| bad(&e))?;
            warnings.extend(w);
            if let Some(ain) = &p.ain {
                check_ain(ain, table)?;
            }
        }
        Module::CorrPnr => {
            gsig(&clean).map_err(|e| bad(&e))?;
            warnings.extend(clean.as_object().into_iter().flatten().filter(|(k, _)| !matches!(k.as_str(), "gSig" | "center_psf")).map(|(k, _)| format!("unknown parameter '{k}' ignored")));
            if let Some(c) = obj.get("center_psf")
                && !c.is_boolean()
            {
                return Err(bad(&format!("'center_psf' must be true or false, found {c}")));
            }
        }
    }
    Ok(warnings)
}

/// The UUIDs of other items a parameter set reads from (`memmap_uuid`, `Ain`).
pub(crate) fn referenced_items(params: &Value) -> Vec<String> {
    ["memmap_uuid", "Ain"].iter().filter_map(|k| params.get(*k).and_then(Value::as_str)).filter(|s| looks_like_uuid(s)).map(str::to_string).collect()
}

/// `corr_pnr` items: gSig as a number or [y, x], positive.
pub fn gsig(params: &Value) -> Result<Vec<f64>, String> {
    let v = params.get("gSig").ok_or("'gSig' is required (a number or [y, x])")?;
    let g: Vec<f64> = match v {
        Value::Number(n) => n.as_f64().into_iter().collect(),
        Value::Array(a) => a.iter().map(Value::as_f64).collect::<Option<Vec<_>>>().ok_or(format!("'gSig' must be numbers, found {v}"))?,
        _ => return Err(format!("'gSig' must be a number or [y, x], found {v}")),
    };
    if g.is_empty() || g.len() > 2 || g.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
        return Err(format!("'gSig' must be one or two positive numbers, found {v}"));
    }
    Ok(g)
}

/// Motion correction's `output_bit_depth`: the original's "Do not convert", 8 or 16 (also "float32").
fn bit_depth(v: &Value) -> Result<String, String> {
    let s = match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Ok("float32".into()),
        other => return Err(format!("'output_bit_depth' must be \"Do not convert\", 8 or 16, found {other}")),
    };
    match s.as_str() {
        "do not convert" | "float32" | "32" => Ok("float32".into()),
        "16" | "uint16" => Ok("16".into()),
        "8" | "uint8" => Ok("8".into()),
        _ => Err(format!("'output_bit_depth' must be \"Do not convert\", 8 or 16, found {v}")),
    }
}

fn strip(obj: &Map<String, Value>) -> Value {
    Value::Object(obj.iter().filter(|(k, _)| !BATCH_KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn looks_like_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

fn check_memmap(obj: &Map<String, Value>, table: &Table) -> Result<(), BatchError> {
    let use_memmap = match obj.get("use_memmap") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(BatchError::Invalid(format!("'use_memmap' must be true or false, found {other}"))),
    };
    match (use_memmap, obj.get("memmap_uuid")) {
        (true, Some(Value::String(u))) => match table.get(u) {
            Some(_) => Ok(()),
            None => Err(BatchError::Invalid(format!("'memmap_uuid' {u}: no such item in this batch"))),
        },
        (true, other) => Err(BatchError::Invalid(format!("'use_memmap' needs 'memmap_uuid', the UUID of the item whose input to reuse, found {}", other.cloned().unwrap_or(Value::Null)))),
        (false, _) => Ok(()),
    }
}

/// `Ain` is the UUID of a CNMF-E item of this batch, or a result file.
fn check_ain(ain: &str, table: &Table) -> Result<(), BatchError> {
    if looks_like_uuid(ain) {
        return match table.get(ain) {
            Some(i) if i.module == Module::Cnmfe => Ok(()),
            Some(i) => Err(BatchError::Invalid(format!("'Ain' {ain}: item '{}' is {}, seeds come from a {} item", i.name, i.module, Module::Cnmfe))),
            None => Err(BatchError::Invalid(format!("'Ain' {ain}: no such item in this batch"))),
        };
    }
    if !std::path::Path::new(ain).is_file() {
        return Err(BatchError::Invalid(format!("'Ain' {ain}: neither an item of this batch nor a result file")));
    }
    Ok(())
}

/// The input movie and module parameters of `item`, read from the batch now (the parameter file as it is on disk,
/// so a parameter file corrupted after `add` fails this item only).
pub fn resolve_item(batch: &Batch, item: &Item) -> Result<ResolvedItem, BatchError> {
    let table = batch.read()?;
    let params = batch.params(&item.uuid)?;
    let obj = params.as_object().ok_or_else(|| BatchError::Invalid(format!("{}: parameters must be a JSON object", batch.params_path(&item.uuid).display())))?;
    let mut notes = Vec::new();
    let input = if obj.get("use_memmap").and_then(Value::as_bool) == Some(true) {
        let src_uuid = obj.get("memmap_uuid").and_then(Value::as_str).ok_or_else(|| BatchError::Invalid("'use_memmap' needs 'memmap_uuid'".into()))?;
        let src = table.get(src_uuid).ok_or_else(|| batch.no_item(src_uuid))?;
        let p = input_path(batch, &table, src)?;
        notes.push(format!("reusing the prepared input of item {src_uuid} ({}): {}", src.name, p.display()));
        p
    } else {
        input_path(batch, &table, item)?
    };
    let mut clean = strip(obj);
    if let Some(ain) = obj.get("Ain").and_then(Value::as_str).filter(|a| looks_like_uuid(a)) {
        let src = table.get(ain).ok_or_else(|| batch.no_item(ain))?;
        let rel = done_output(src, "result")?;
        let path = batch.resolve(rel);
        notes.push(format!("Ain: spatial footprints of item {ain} ({}): {}", src.name, path.display()));
        clean["Ain"] = Value::String(path.to_string_lossy().into_owned());
    }
    let bit_depth = match obj.get("output_bit_depth") {
        Some(v) => bit_depth(v).map_err(BatchError::Invalid)?,
        None => "float32".into(),
    };
    Ok(ResolvedItem { input, params: clean, bit_depth, notes })
}

fn input_path(batch: &Batch, table: &Table, item: &Item) -> Result<PathBuf, BatchError> {
    let p = match &item.input {
        Input::Movie { path } => PathBuf::from(path),
        Input::Copied { path } => batch.resolve(path),
        Input::Item { uuid } => {
            let src = table.get(uuid).ok_or_else(|| batch.no_item(uuid))?;
            batch.resolve(done_output(src, "movie")?)
        }
    };
    if !p.is_file() {
        return Err(BatchError::Invalid(format!("input movie {} is missing", p.display())));
    }
    Ok(p)
}

/// The output `role` of a finished item.
fn done_output<'a>(src: &'a Item, role: &str) -> Result<&'a str, BatchError> {
    if src.status != Status::Done {
        return Err(BatchError::NotReady(format!("input item {} ({}) is {}; it must be done first", src.uuid, src.name, src.status)));
    }
    src.outputs.get(role).map(String::as_str).ok_or_else(|| BatchError::Invalid(format!("item {} ({}) has no {role} output", src.uuid, src.name)))
}
