//! Errors of the project layer: each names the project file or sample concerned.

use std::path::PathBuf;

/// What can go wrong creating, reading or changing a project.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File or directory concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A project file exists but cannot be understood (corrupt, truncated, wrong format).
    #[error("{path}: {msg}")]
    Corrupt {
        /// File concerned.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The directory is not a Mesmerize-RS project.
    #[error("{0}: not a Mesmerize project (no config.json); create one with `mesmerize project new`")]
    NotAProject(PathBuf),
    /// The directory already holds a project or other files.
    #[error("{0}: already exists and is not empty; choose a new directory for the project")]
    Exists(PathBuf),
    /// A configuration change or value is invalid (bad column name, clash, wrong type).
    #[error("{0}")]
    Config(String),
    /// A sample operation is refused (duplicate SampleID, unknown sample, bad ID).
    #[error("{0}")]
    Sample(String),
    /// A filter expression cannot be applied.
    #[error("filter on column '{column}': {msg}")]
    Filter {
        /// Column filtered.
        column: String,
        /// What is wrong.
        msg: String,
    },
    /// A DataFrame operation failed.
    #[error("DataFrame: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// Reading the image failed.
    #[error(transparent)]
    Imaging(#[from] crate::imaging::ImagingError),
    /// ROI data is invalid.
    #[error(transparent)]
    Roi(#[from] crate::roi::RoiError),
    /// A stimulus map is invalid.
    #[error(transparent)]
    Stimulus(#[from] crate::stimulus::StimulusError),
    /// Building the Transmission failed.
    #[error(transparent)]
    Analysis(#[from] crate::analysis::AnalysisError),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl ProjectError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
    /// A corrupt-file error for `path`.
    pub fn corrupt(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Self::Corrupt { path: path.into(), msg: msg.into() }
    }
}
