//! Analysis data model: Transmission (a DataFrame plus its HistoryTrace) and the `.trn` file.
//!
//! A [`Transmission`] is what flows between flowchart nodes: a polars [`DataFrame`](polars::prelude::DataFrame) with
//! one row per curve (ROI) and the [`HistoryTrace`], the log of every operation applied to each *data block* (a set
//! of rows that entered the analysis together; merging Transmissions keeps each block's own log).
//!
//! Column naming conventions (the original Mesmerize's, which nodes and plots rely on):
//! - numerical data columns start with one underscore, `_RAW_CURVE`, `_NORMALIZE`; all caps when a node produced
//!   them ([`RAW_CURVE`] is the curve column a Transmission starts from);
//! - [`BLOCK_COLUMN`] (`_BLOCK_`) is the exception: it holds each row's data block id (a UUID string), not numbers;
//! - categorical columns have no leading underscore (`SampleID`, `cell_name`; all caps when a node produced them);
//! - columns holding UUIDs have `uuid` or `UUID` in their name (`uuid_curve`, `ImgUUID`).
//!
//! Files: [`Transmission::to_hdf5`] / [`Transmission::from_hdf5`] write and read the `.trn` HDF5 layout described in
//! [`trn_file`] and docs/formats.md ("Transmission files (.trn)"), readable with plain h5py.

pub mod cluster;
mod error;
pub mod flowchart;
mod history;
pub mod nodes;
pub mod plot_data;
mod transmission;
pub mod signal;
pub mod transform;
pub mod trn_file;

pub use error::AnalysisError;
pub use history::{BlockSel, HistoryTrace, Operation};
pub use transmission::{Transmission, dtype_name};

/// Re-exported so that crates using this module (the app, tests) build DataFrames with the same polars version.
pub use polars;

/// Re-exported so that callers of [`Transmission::from_curves`] can build the curve matrix without naming ndarray.
pub use ndarray;

/// The column holding each row's data block id (UUID string); see [`HistoryTrace`].
pub const BLOCK_COLUMN: &str = "_BLOCK_";

/// The raw curve column that a Transmission spawned from a project starts from.
pub const RAW_CURVE: &str = "_RAW_CURVE";

/// The per-row curve id column (a fresh UUID for curves that do not come from a project).
pub const UUID_CURVE: &str = "uuid_curve";
