//! Why a node could not run; messages name the node, terminal, parameter or column involved.

use crate::analysis::AnalysisError;

/// A node failure. The flowchart prefixes it with the node's name in the graph.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// No node with this name (or alias) exists.
    #[error("unknown node '{name}'; known nodes: {known}")]
    UnknownNode {
        /// The name asked for.
        name: String,
        /// Every node name, comma separated.
        known: String,
    },
    /// A parameter that the node does not have, has the wrong type or an invalid value.
    #[error("parameter '{param}': {message}")]
    Param {
        /// The parameter name.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// A required input terminal has nothing connected, or the wrong kind of data.
    #[error("input '{terminal}': {message}")]
    Input {
        /// The terminal name.
        terminal: String,
        /// What is wrong.
        message: String,
    },
    /// The data cannot be processed as asked (wrong column type, unequal lengths, NaN where not allowed...).
    #[error("{0}")]
    Data(String),
    /// An error from the Transmission / DataFrame layer (column missing, file unreadable...).
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

impl From<polars::prelude::PolarsError> for NodeError {
    fn from(e: polars::prelude::PolarsError) -> Self {
        NodeError::Analysis(AnalysisError::Polars(e))
    }
}

/// Shorthand for a [`NodeError::Data`].
pub(crate) fn data_err(message: impl Into<String>) -> NodeError {
    NodeError::Data(message.into())
}
