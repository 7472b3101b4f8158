//! Errors of the batch manager, each naming the batch, item or file it is about.

use std::path::{Path, PathBuf};

/// What went wrong with a batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `batch.json` exists but is not a batch table.
    #[error("{path}: not a readable batch table: {reason}")]
    Corrupt {
        /// The table file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The directory holds no batch.
    #[error("{0}: not a batch directory (no batch.json); create one with `mesmerize batch new`")]
    NotABatch(PathBuf),
    /// `batch new` on a directory that already has content.
    #[error("{0}: already exists and is not empty; choose a new directory for the batch")]
    Exists(PathBuf),
    /// No item with this UUID.
    #[error("no item {uuid} in batch {batch}")]
    NoItem {
        /// The UUID asked for.
        uuid: String,
        /// The batch directory.
        batch: PathBuf,
    },
    /// Bad parameters, module, input or request; the message says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The item's input comes from another item that is not done yet.
    #[error("{0}")]
    NotReady(String),
    /// Another runner is processing this batch.
    #[error("batch {batch} is already being run by process {pid}; abort it first (`mesmerize batch abort`)")]
    Busy {
        /// The batch directory.
        batch: PathBuf,
        /// The runner's process id.
        pid: u32,
    },
}

impl BatchError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
}
