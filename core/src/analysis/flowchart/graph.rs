//! The graph: nodes (name, type, parameters, position) and connections, validated on every edit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FlowchartError;
use crate::analysis::nodes::{self, NodeSpec, Params};

/// One node of a flowchart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowNode {
    /// Unique name in the graph (`Butterworth.0`).
    pub name: String,
    /// Node type as in the docs (`Butterworth`).
    #[serde(rename = "type")]
    pub node_type: String,
    /// Parameters as given (validated against the node's spec).
    #[serde(default)]
    pub params: Value,
    /// Position in the editor, if placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<[f32; 2]>,
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Node name.
    pub node: String,
    /// Terminal name.
    pub terminal: String,
}

impl Endpoint {
    /// An endpoint.
    pub fn new(node: &str, terminal: &str) -> Self {
        Self { node: node.to_string(), terminal: terminal.to_string() }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.node, self.terminal)
    }
}

/// A connection from an output terminal to an input terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Output side.
    pub from: Endpoint,
    /// Input side.
    pub to: Endpoint,
}

/// A flowchart: nodes and connections. Every mutation keeps it valid (no cycles, matching kinds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flowchart {
    nodes: Vec<FlowNode>,
    connections: Vec<Connection>,
}

impl Flowchart {
    /// An empty flowchart.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nodes in insertion order.
    pub fn nodes(&self) -> &[FlowNode] {
        &self.nodes
    }

    /// Connections in insertion order.
    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Result<&FlowNode, FlowchartError> {
        self.nodes.iter().find(|n| n.name == name).ok_or_else(|| FlowchartError::NoSuchNode(name.to_string()))
    }

    /// The spec of a node in the graph.
    pub fn spec_of(&self, name: &str) -> Result<&'static NodeSpec, FlowchartError> {
        let n = self.node(name)?;
        nodes::find(&n.node_type).map_err(|source| FlowchartError::Node { node: name.to_string(), source })
    }

    /// Add a node; its type must exist and its parameters must validate. Returns its name.
    pub fn add_node(&mut self, name: &str, node_type: &str, params: Value) -> Result<String, FlowchartError> {
        if self.nodes.iter().any(|n| n.name == name) {
            return Err(FlowchartError::DuplicateNode(name.to_string()));
        }
        let spec = nodes::find(node_type).map_err(|source| FlowchartError::Node { node: name.to_string(), source })?;
        Params::validate(spec.name, spec.params, &params).map_err(|source| FlowchartError::Node { node: name.to_string(), source })?;
        self.nodes.push(FlowNode { name: name.to_string(), node_type: node_type.to_string(), params, pos: None });
        Ok(name.to_string())
    }

    /// Add a node named after its type with the next free number (`Normalize.0`, `Normalize.1`, ...).
    pub fn add(&mut self, node_type: &str, params: Value) -> Result<String, FlowchartError> {
        let name = (0..).map(|i| format!("{node_type}.{i}")).find(|n| self.nodes.iter().all(|x| &x.name != n)).unwrap_or_default();
        self.add_node(&name, node_type, params)
    }

    /// Replace a node's parameters (validated first; the graph is unchanged on error).
    pub fn set_params(&mut self, name: &str, params: Value) -> Result<(), FlowchartError> {
        let spec = self.spec_of(name)?;
        Params::validate(spec.name, spec.params, &params).map_err(|source| FlowchartError::Node { node: name.to_string(), source })?;
        if let Some(n) = self.nodes.iter_mut().find(|n| n.name == name) {
            n.params = params;
        }
        Ok(())
    }

    /// Set a node's editor position.
    pub fn set_pos(&mut self, name: &str, pos: [f32; 2]) -> Result<(), FlowchartError> {
        self.node(name)?;
        if let Some(n) = self.nodes.iter_mut().find(|n| n.name == name) {
            n.pos = Some(pos);
        }
        Ok(())
    }

    /// Remove a node and its connections.
    pub fn remove_node(&mut self, name: &str) -> Result<(), FlowchartError> {
        self.node(name)?;
        self.nodes.retain(|n| n.name != name);
        self.connections.retain(|c| c.from.node != name && c.to.node != name);
        Ok(())
    }

    /// Connect `from` (an output) to `to` (an input): terminals must exist, carry the same kind of data, the input
    /// must be free unless it accepts many, and the connection must not close a cycle.
    pub fn connect(&mut self, from: Endpoint, to: Endpoint) -> Result<(), FlowchartError> {
        let fs = self.spec_of(&from.node)?;
        let ts = self.spec_of(&to.node)?;
        let list = |t: &[nodes::Terminal]| t.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
        let out = fs.output(&from.terminal).ok_or_else(|| FlowchartError::NoSuchTerminal {
            node: from.node.clone(),
            node_type: fs.name.to_string(),
            direction: "output",
            terminal: from.terminal.clone(),
            valid: format!("outputs: {}", list(fs.outputs)),
        })?;
        let inp = ts.input(&to.terminal).ok_or_else(|| FlowchartError::NoSuchTerminal {
            node: to.node.clone(),
            node_type: ts.name.to_string(),
            direction: "input",
            terminal: to.terminal.clone(),
            valid: format!("inputs: {}", list(ts.inputs)),
        })?;
        if out.kind != inp.kind {
            return Err(FlowchartError::KindMismatch {
                from: from.to_string(),
                from_kind: out.kind.name(),
                to: to.to_string(),
                to_kind: inp.kind.name(),
            });
        }
        if !inp.multi && self.connections.iter().any(|c| c.to == to) {
            return Err(FlowchartError::InputTaken(to.to_string()));
        }
        let candidate = Connection { from, to };
        self.connections.push(candidate);
        if let Err(e) = self.topological_order() {
            self.connections.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Remove a connection (no-op if absent).
    pub fn disconnect(&mut self, from: &Endpoint, to: &Endpoint) {
        self.connections.retain(|c| !(&c.from == from && &c.to == to));
    }

    /// Connections arriving at a node, in insertion order.
    pub fn inputs_of(&self, name: &str) -> impl Iterator<Item = &Connection> {
        self.connections.iter().filter(move |c| c.to.node == name)
    }

    /// Node names in an order where every node comes after the nodes feeding it (Kahn's algorithm, ties in
    /// insertion order); a cycle is an error naming the nodes on it.
    pub fn topological_order(&self) -> Result<Vec<String>, FlowchartError> {
        let n = self.nodes.len();
        let idx = |name: &str| self.nodes.iter().position(|x| x.name == name);
        let mut indeg = vec![0usize; n];
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
        for c in &self.connections {
            let (Some(a), Some(b)) = (idx(&c.from.node), idx(&c.to.node)) else {
                return Err(FlowchartError::NoSuchNode(format!("{} or {}", c.from.node, c.to.node)));
            };
            succ[a].push(b);
            indeg[b] += 1;
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while !ready.is_empty() {
            // Lowest index first, so independent branches run in insertion order.
            ready.sort_unstable();
            let i = ready.remove(0);
            order.push(i);
            for &j in &succ[i] {
                indeg[j] -= 1;
                if indeg[j] == 0 {
                    ready.push(j);
                }
            }
        }
        if order.len() < n {
            let cyc: Vec<String> = (0..n).filter(|i| indeg[*i] > 0).map(|i| self.nodes[i].name.clone()).collect();
            return Err(FlowchartError::Cycle(cyc));
        }
        Ok(order.into_iter().map(|i| self.nodes[i].name.clone()).collect())
    }

    /// Every node downstream of `name` (itself included).
    pub fn downstream(&self, name: &str) -> Vec<String> {
        let mut out = vec![name.to_string()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for c in self.connections.iter().filter(|c| c.from.node == cur) {
                if !out.contains(&c.to.node) {
                    out.push(c.to.node.clone());
                }
            }
            i += 1;
        }
        out
    }

    /// Build from parts (a loaded file), validating nodes and connections one by one.
    pub fn from_parts(nodes: Vec<FlowNode>, connections: Vec<Connection>) -> Result<Self, FlowchartError> {
        let mut f = Self::new();
        for n in nodes {
            let pos = n.pos;
            f.add_node(&n.name, &n.node_type, n.params)?;
            if let Some(p) = pos {
                f.set_pos(&n.name, p)?;
            }
        }
        for c in connections {
            f.connect(c.from, c.to)?;
        }
        Ok(f)
    }
}
