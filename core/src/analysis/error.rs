//! Errors of the analysis data model: history queries, DataFrame assembly and `.trn` files.

use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Why an analysis data-model operation failed; file errors name the file.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A data block id that the HistoryTrace does not know.
    #[error("unknown data block '{0}'")]
    UnknownBlock(String),
    /// A data block id registered twice.
    #[error("data block '{0}' already exists")]
    DuplicateBlock(String),
    /// An operation that was never applied to the block.
    #[error("operation '{operation}' was not performed on data block '{block}'")]
    UnknownOperation {
        /// The data block queried.
        block: String,
        /// The operation asked for.
        operation: String,
    },
    /// Two HistoryTraces disagree about the same data block, so merging them would lose one log.
    #[error("cannot merge: data block '{0}' has different histories in the traces being merged")]
    HistoryConflict(String),
    /// A history-trace JSON document not in the original's `to_dict` shape.
    #[error("bad history trace: {0}")]
    BadHistory(String),
    /// An argument that cannot be used (empty merge, bad column name, parameters that are not a JSON object).
    #[error("{0}")]
    BadInput(String),
    /// A column is missing or its values cannot be used as asked.
    #[error("column '{column}': {message}")]
    Column {
        /// The column name.
        column: String,
        /// What is wrong with it.
        message: String,
    },
    /// A column whose dtype the `.trn` layout does not store.
    #[error("column '{column}' has dtype {dtype}, which .trn files do not store (supported: {supported})")]
    UnsupportedColumn {
        /// The column name.
        column: String,
        /// Its polars dtype.
        dtype: String,
        /// The dtypes that are stored.
        supported: &'static str,
    },
    /// Two Transmissions being merged have the same column with different dtypes.
    #[error("cannot merge: column '{column}' is {a} in one transmission and {b} in another")]
    ColumnTypeConflict {
        /// The column name.
        column: String,
        /// Its dtype in the first transmission that has it.
        a: String,
        /// The conflicting dtype.
        b: String,
    },
    /// Transmissions from different projects cannot be merged (their datapoints would trace to the wrong files).
    #[error("cannot merge transmissions from different projects: {0} and {1}")]
    ProjectMismatch(PathBuf, PathBuf),
    /// An error from polars while assembling a DataFrame.
    #[error("DataFrame: {0}")]
    Polars(#[from] PolarsError),
    /// A `.trn` file that cannot be written or read; names the file and the problem.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
