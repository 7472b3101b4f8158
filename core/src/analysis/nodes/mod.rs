//! Flowchart nodes: every analysis node of the docs as a function from input terminals + JSON parameters to output
//! terminals, each logging its operation in the HistoryTrace.
//!
//! A node is a static [`NodeSpec`] (name, terminals, typed parameters with defaults, run function) in the
//! [`registry`]. [`run_node`] validates parameters and inputs and runs one; the flowchart graph
//! ([`crate::analysis::flowchart`]) and `mesmerize node` both go through it. Output column names, operation names and
//! history parameters follow the original Mesmerize so that histories read the same; deliberate differences are in
//! docs/nodes.md.

mod biology;
mod clustering;
pub mod columns;
mod data;
mod error;
pub mod flat;
mod math;
mod norm_raw;
mod params;
pub mod peaks;
mod port;
mod signal;
mod spec;
mod transform;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

pub use error::NodeError;
pub(crate) use error::data_err;
pub use params::Params;
pub use port::{InconsistencyData, LinkageData, MonocritData, Port, PortKind};
pub use peaks::simpson;
pub use spec::{Category, NodeSpec, ParamDefault, ParamKind, ParamSpec, Terminal};

use crate::analysis::Transmission;

/// Values arriving at a node, per input terminal (several for a `multi` terminal such as Merge's `In`).
pub type Inputs = BTreeMap<String, Vec<Port>>;

/// Values a node produced, per output terminal.
pub type Outputs = BTreeMap<String, Port>;

/// Where a node runs: the project (LoadProjDF, DetrendDFoF, NormRaw need it) and the folder relative file paths in
/// parameters (LoadFile, Save) are resolved against.
#[derive(Debug, Clone, Default)]
pub struct NodeContext {
    /// Project root, if any.
    pub project: Option<PathBuf>,
    /// Base for relative paths (the `.fc` file's folder, or the working directory).
    pub base_dir: Option<PathBuf>,
}

impl NodeContext {
    /// Resolve a path parameter against [`Self::base_dir`].
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        match &self.base_dir {
            Some(b) if p.is_relative() => b.join(p),
            _ => p,
        }
    }
}

/// One invocation of a node: its spec, inputs, validated parameters and context.
pub struct NodeCall<'a> {
    /// The node type.
    pub spec: &'static NodeSpec,
    /// Inputs per terminal.
    pub inputs: &'a Inputs,
    /// Validated parameters.
    pub params: Params,
    /// Project and paths.
    pub ctx: &'a NodeContext,
}

impl NodeCall<'_> {
    /// The Transmission on a required single input terminal; an empty DataFrame is refused as the original did.
    pub fn trn(&self, terminal: &str) -> Result<&Transmission, NodeError> {
        self.opt_trn(terminal)?.ok_or_else(|| NodeError::Input {
            terminal: terminal.to_string(),
            message: format!("{} needs a Transmission connected here", self.spec.name),
        })
    }

    /// The Transmission on an optional input terminal, if connected.
    pub fn opt_trn(&self, terminal: &str) -> Result<Option<&Transmission>, NodeError> {
        match self.inputs.get(terminal).and_then(|v| v.first()) {
            None => Ok(None),
            Some(Port::Transmission(t)) => {
                if t.df.height() == 0 {
                    return Err(NodeError::Input {
                        terminal: terminal.to_string(),
                        message: "the DataFrame of the incoming Transmission is empty".into(),
                    });
                }
                Ok(Some(t))
            }
            Some(p) => Err(NodeError::Input {
                terminal: terminal.to_string(),
                message: format!("expected a Transmission, got {}", p.kind().name()),
            }),
        }
    }

    /// Every value on a terminal (Merge).
    pub fn all(&self, terminal: &str) -> &[Port] {
        self.inputs.get(terminal).map_or(&[], Vec::as_slice)
    }

    /// The `data_column` parameter, or the Transmission's `last_output` when not given; must exist in `t`.
    pub fn data_column(&self, t: &Transmission) -> Result<String, NodeError> {
        self.column_param("data_column", t)
    }

    /// A column parameter that defaults to `last_output`, checked against `t`.
    pub fn column_param(&self, name: &str, t: &Transmission) -> Result<String, NodeError> {
        let col = match self.params.opt_text(name) {
            Some(c) => c.to_string(),
            None => t.last_output.clone().ok_or_else(|| NodeError::Param {
                param: name.to_string(),
                message: "not given, and the input has no last output column to default to".into(),
            })?,
        };
        if t.df.column(&col).is_err() {
            return Err(NodeError::Param { param: name.to_string(), message: columns::missing_message(t, &col) });
        }
        Ok(col)
    }
}

/// Every node, in menu order.
pub fn registry() -> &'static [&'static NodeSpec] {
    static ALL: OnceLock<Vec<&'static NodeSpec>> = OnceLock::new();
    ALL.get_or_init(|| {
        [data::NODES, signal::NODES, peaks::NODES, math::NODES, biology::NODES, clustering::NODES, transform::NODES]
            .into_iter()
            .flatten()
            .copied()
            .collect()
    })
}

/// A node by its docs name or one of the original's aliases (case-sensitive, as names appear in `.fc` files).
pub fn find(name: &str) -> Result<&'static NodeSpec, NodeError> {
    registry().iter().copied().find(|s| s.name == name || s.aliases.contains(&name)).ok_or_else(|| NodeError::UnknownNode {
        name: name.to_string(),
        known: registry().iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
    })
}

/// Run one node: validate parameters against its spec, check that required inputs are connected and of the right
/// kind, run it, and check it produced its outputs.
pub fn run_node(name: &str, inputs: &Inputs, params: &Value, ctx: &NodeContext) -> Result<Outputs, NodeError> {
    let spec = find(name)?;
    let params = Params::validate(spec.name, spec.params, params)?;
    for (terminal, values) in inputs {
        let Some(t) = spec.input(terminal) else {
            let valid: Vec<&str> = spec.inputs.iter().map(|t| t.name).collect();
            return Err(NodeError::Input {
                terminal: terminal.clone(),
                message: format!("{} has no such input (inputs: {})", spec.name, valid.join(", ")),
            });
        };
        if values.len() > 1 && !t.multi {
            return Err(NodeError::Input { terminal: terminal.clone(), message: "accepts one connection only".into() });
        }
        if let Some(v) = values.iter().find(|v| v.kind() != t.kind) {
            return Err(NodeError::Input {
                terminal: terminal.clone(),
                message: format!("expected {}, got {}", t.kind.name(), v.kind().name()),
            });
        }
    }
    for t in spec.inputs.iter().filter(|t| !t.optional) {
        if inputs.get(t.name).is_none_or(Vec::is_empty) {
            return Err(NodeError::Input { terminal: t.name.to_string(), message: format!("{} needs this input", spec.name) });
        }
    }
    let call = NodeCall { spec, inputs, params, ctx };
    (spec.run)(&call)
}

/// Shorthand: a single `Out` Transmission output.
pub(crate) fn out(t: Transmission) -> Result<Outputs, NodeError> {
    Ok(BTreeMap::from([("Out".to_string(), Port::from_transmission(t))]))
}
