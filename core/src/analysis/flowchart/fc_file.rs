//! `.fc` files: a flowchart as JSON (format tag, nodes with type, parameters and position, connections), written
//! atomically. Layout documented in docs/formats.md ("Flowchart files (.fc)").

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Connection, FlowNode, Flowchart, FlowchartError};

/// Format tag of the files we write; files with another tag are refused.
pub const FORMAT: &str = "mesmerize-flowchart-v1";

#[derive(Serialize, Deserialize)]
struct FcFile {
    format: String,
    nodes: Vec<FlowNode>,
    #[serde(default)]
    connections: Vec<Connection>,
}

/// Save a flowchart (temp file + rename: an interrupted save leaves the previous file intact).
pub fn save(path: &Path, chart: &Flowchart) -> Result<(), FlowchartError> {
    let file = FcFile { format: FORMAT.into(), nodes: chart.nodes().to_vec(), connections: chart.connections().to_vec() };
    let text = serde_json::to_string_pretty(&file).map_err(|e| FlowchartError::File { path: path.into(), message: e.to_string() })?;
    crate::io::atomic::replace_via_temp(
        path,
        |tmp| std::fs::write(tmp, text.as_bytes()).map_err(|e| FlowchartError::File { path: path.into(), message: e.to_string() }),
        |e| FlowchartError::File { path: path.into(), message: e.to_string() },
    )
}

/// Load a flowchart; unreadable JSON, a foreign format, unknown node types, bad parameters, bad connections and
/// cycles are errors naming the file.
pub fn load(path: &Path) -> Result<Flowchart, FlowchartError> {
    let ferr = |m: String| FlowchartError::File { path: path.into(), message: m };
    let text = std::fs::read_to_string(path).map_err(|e| ferr(e.to_string()))?;
    let file: FcFile = serde_json::from_str(&text).map_err(|e| ferr(format!("not a flowchart file: {e}")))?;
    if file.format != FORMAT {
        return Err(ferr(format!("format '{}' is not {FORMAT}", file.format)));
    }
    Flowchart::from_parts(file.nodes, file.connections).map_err(|e| ferr(e.to_string()))
}
