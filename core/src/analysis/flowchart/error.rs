//! Why a flowchart is invalid or failed to run; messages name the node (and terminal) involved.

use std::path::PathBuf;

use crate::analysis::nodes::NodeError;

/// A flowchart failure.
#[derive(Debug, thiserror::Error)]
pub enum FlowchartError {
    /// Two nodes share a name.
    #[error("two nodes are named '{0}'; node names must be unique")]
    DuplicateNode(String),
    /// A connection or operation names a node that is not in the graph.
    #[error("no node named '{0}' in the flowchart")]
    NoSuchNode(String),
    /// A node's type is not a known node (or its parameters are invalid).
    #[error("node '{node}': {source}")]
    Node {
        /// The node's name in the graph.
        node: String,
        /// What went wrong.
        source: NodeError,
    },
    /// A connection names a terminal the node does not have.
    #[error("node '{node}' ({node_type}) has no {direction} terminal '{terminal}' ({valid})")]
    NoSuchTerminal {
        /// Node name.
        node: String,
        /// Node type.
        node_type: String,
        /// "input" or "output".
        direction: &'static str,
        /// The terminal asked for.
        terminal: String,
        /// The terminals it has.
        valid: String,
    },
    /// A connection between terminals carrying different kinds of data.
    #[error("cannot connect {from} ({from_kind}) to {to} ({to_kind}): they carry different kinds of data")]
    KindMismatch {
        /// `node.terminal` of the output.
        from: String,
        /// Its kind.
        from_kind: &'static str,
        /// `node.terminal` of the input.
        to: String,
        /// Its kind.
        to_kind: &'static str,
    },
    /// A second connection into an input that takes one.
    #[error("input {0} already has a connection and accepts only one")]
    InputTaken(String),
    /// The connections form a loop.
    #[error("the flowchart has a cycle through: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A `.fc` file that cannot be read or written.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
