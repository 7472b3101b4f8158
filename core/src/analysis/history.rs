//! The HistoryTrace: per data block, the ordered log of operations (name + JSON parameters) applied to its rows.
//!
//! Same semantics and JSON shape as the original Mesmerize's `HistoryTrace` (`to_dict` / `from_dict`):
//! `{"history": {block_id: [{operation: params}, ...], ...}, "datablocks": [block_id, ...]}`.

use std::collections::HashMap;

use polars::prelude::{Column, DataFrame};
use serde_json::{Map, Value};

use super::{AnalysisError, BLOCK_COLUMN};

/// One logged operation: what a node did to a data block and with which parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Operation name, usually the node's name in lower case (`normalize`, `fcluster`).
    pub name: String,
    /// The parameters (a JSON object in everything nodes write).
    pub params: Value,
}

impl Operation {
    /// An operation entry, for building histories by hand (imports, tests).
    pub fn new(name: impl Into<String>, params: Value) -> Self {
        Self { name: name.into(), params }
    }

    /// The original's `{operation: params}` dict.
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(self.name.clone(), self.params.clone());
        Value::Object(m)
    }
}

/// Which data blocks an operation is logged on: the original's `'all'` or one block id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSel<'a> {
    /// Every data block (what a node operating on the whole DataFrame logs).
    All,
    /// One data block.
    Block(&'a str),
}

/// The analysis log of a Transmission: data block ids in order of creation, and each block's operations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryTrace {
    blocks: Vec<String>,
    history: HashMap<String, Vec<Operation>>,
}

impl HistoryTrace {
    /// An empty trace (no data blocks).
    pub fn new() -> Self {
        Self::default()
    }

    /// Give every row of `df` a new data block (a fresh UUID v4 in `_BLOCK_`, replacing any previous one) and
    /// register it with an empty history; returns the block id.
    pub fn create_data_block(&mut self, df: &mut DataFrame) -> Result<String, AnalysisError> {
        let id = uuid::Uuid::new_v4().to_string();
        let column = Column::new(BLOCK_COLUMN.into(), vec![id.as_str(); df.height()]);
        df.with_column(column)?;
        self.add_data_block(&id, Vec::new())?;
        Ok(id)
    }

    /// Register a data block with its history (an import, or a block carried over from another trace); an id that
    /// already exists is an error.
    pub fn add_data_block(&mut self, id: &str, history: Vec<Operation>) -> Result<(), AnalysisError> {
        if id.is_empty() {
            return Err(AnalysisError::BadInput("a data block id cannot be empty".into()));
        }
        if self.history.contains_key(id) {
            return Err(AnalysisError::DuplicateBlock(id.to_string()));
        }
        self.blocks.push(id.to_string());
        self.history.insert(id.to_string(), history);
        Ok(())
    }

    /// Log an operation on one block or on all of them; `params` must be a JSON object (as the original requires a
    /// dict), and an unknown block is an error.
    pub fn add_operation(&mut self, block: BlockSel, operation: &str, params: Value) -> Result<(), AnalysisError> {
        if !params.is_object() {
            return Err(AnalysisError::BadInput(format!("parameters of operation '{operation}' must be a JSON object, got {params}")));
        }
        if operation.is_empty() {
            return Err(AnalysisError::BadInput("an operation name cannot be empty".into()));
        }
        match block {
            BlockSel::All => {
                for ops in self.history.values_mut() {
                    ops.push(Operation::new(operation, params.clone()));
                }
            }
            BlockSel::Block(id) => {
                let ops = self.history.get_mut(id).ok_or_else(|| AnalysisError::UnknownBlock(id.to_string()))?;
                ops.push(Operation::new(operation, params));
            }
        }
        Ok(())
    }

    /// Data block ids in the order they were created or added (the original's `data_blocks`).
    pub fn data_blocks(&self) -> &[String] {
        &self.blocks
    }

    /// The full log of one block, operations with their parameters, oldest first.
    pub fn get_data_block_history(&self, block: &str) -> Result<&[Operation], AnalysisError> {
        self.history.get(block).map(Vec::as_slice).ok_or_else(|| AnalysisError::UnknownBlock(block.to_string()))
    }

    /// Just the operation names of one block, in the order performed.
    pub fn get_operations_list(&self, block: &str) -> Result<Vec<String>, AnalysisError> {
        Ok(self.get_data_block_history(block)?.iter().map(|o| o.name.clone()).collect())
    }

    /// The parameters of an operation on a block; when it was performed more than once, those of the last time.
    pub fn get_operation_params(&self, block: &str, operation: &str) -> Result<&Value, AnalysisError> {
        self.get_data_block_history(block)?.iter().rev().find(|o| o.name == operation).map(|o| &o.params).ok_or_else(|| {
            AnalysisError::UnknownOperation { block: block.to_string(), operation: operation.to_string() }
        })
    }

    /// Whether `operation` was performed on `block` (false for an unknown block).
    pub fn check_operation_exists(&self, block: &str, operation: &str) -> bool {
        self.history.get(block).is_some_and(|ops| ops.iter().any(|o| o.name == operation))
    }

    /// Union of several traces (merging Transmissions): blocks in order of first appearance; a block present in
    /// two traces must have the same history there (kept once), otherwise merging is an error.
    pub fn merge(traces: &[HistoryTrace]) -> Result<HistoryTrace, AnalysisError> {
        let mut out = HistoryTrace::new();
        for t in traces {
            for id in &t.blocks {
                let ops = t.history.get(id).map(Vec::as_slice).unwrap_or_default();
                match out.history.get(id) {
                    Some(existing) if existing.as_slice() == ops => {}
                    Some(_) => return Err(AnalysisError::HistoryConflict(id.clone())),
                    None => out.add_data_block(id, ops.to_vec())?,
                }
            }
        }
        Ok(out)
    }

    /// The original's `to_dict()`: `{"history": {block: [{op: params}, ...]}, "datablocks": [block, ...]}`.
    pub fn to_json(&self) -> Value {
        let mut history = Map::new();
        for id in &self.blocks {
            let ops = self.history.get(id).map(Vec::as_slice).unwrap_or_default();
            history.insert(id.clone(), Value::Array(ops.iter().map(Operation::to_json).collect()));
        }
        let blocks = self.blocks.iter().map(|b| Value::String(b.clone())).collect();
        serde_json::json!({"history": history, "datablocks": Value::Array(blocks)})
    }

    /// Rebuild a trace from [`HistoryTrace::to_json`]'s shape (also what the original's `to_dict` wrote). Blocks
    /// listed without a history get an empty one; a history for an unlisted block is an error.
    pub fn from_json(v: &Value) -> Result<Self, AnalysisError> {
        let bad = |m: String| AnalysisError::BadHistory(m);
        let obj = v.as_object().ok_or_else(|| bad("not a JSON object with 'history' and 'datablocks'".into()))?;
        let blocks = obj.get("datablocks").and_then(Value::as_array).ok_or_else(|| bad("no 'datablocks' list".into()))?;
        let history = obj.get("history").and_then(Value::as_object).ok_or_else(|| bad("no 'history' object".into()))?;
        let mut out = HistoryTrace::new();
        for b in blocks {
            let id = b.as_str().ok_or_else(|| bad(format!("data block id {b} is not a string")))?;
            let ops = match history.get(id) {
                None => Vec::new(),
                Some(list) => {
                    let list = list.as_array().ok_or_else(|| bad(format!("history of block '{id}' is not a list")))?;
                    list.iter().map(|op| parse_operation(id, op)).collect::<Result<Vec<_>, _>>()?
                }
            };
            out.add_data_block(id, ops).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(extra) = history.keys().find(|k| !out.history.contains_key(k.as_str())) {
            return Err(bad(format!("history for block '{extra}', which is not in 'datablocks'")));
        }
        Ok(out)
    }
}

fn parse_operation(block: &str, op: &Value) -> Result<Operation, AnalysisError> {
    match op.as_object() {
        Some(m) if m.len() == 1 => {
            let (name, params) = m.iter().next().ok_or_else(|| AnalysisError::BadHistory("empty operation".into()))?;
            Ok(Operation::new(name.clone(), params.clone()))
        }
        _ => Err(AnalysisError::BadHistory(format!(
            "block '{block}': operation {op} is not a single-key {{operation: parameters}} object"
        ))),
    }
}
