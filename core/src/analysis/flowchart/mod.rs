//! Flowchart graphs: named nodes with parameters, connections between their terminals, `.fc` files, and execution in
//! topological order with per-node caching (a parameter change recomputes only what lies downstream).
//!
//! The model lives here, headless, so that the GUI's node editor is only a view of it and `mesmerize flowchart run`
//! runs the same thing from a script.

mod error;
mod fc_file;
mod graph;
mod runner;

pub use error::FlowchartError;
pub use fc_file::{FORMAT, load, save};
pub use graph::{Connection, Endpoint, Flowchart, FlowNode};
pub use runner::{RunReport, Runner};
