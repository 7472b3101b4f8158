//! Errors of opening and reading image stacks; each names the file and what is wrong with it.

use std::path::PathBuf;

/// Everything that can go wrong opening or reading an image stack.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The OS refused to open or read the file.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a TIFF, or its structure is broken.
    #[error("{path}: not a valid TIFF: {reason}")]
    Corrupt {
        /// File concerned.
        path: PathBuf,
        /// What is broken.
        reason: String,
    },
    /// The file ends before data its header promises.
    #[error("{path}: file is truncated: {reason}")]
    Truncated {
        /// File concerned.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A valid TIFF using a feature we do not read (e.g. JPEG compression, RGB).
    #[error("{path}: unsupported TIFF: {reason}")]
    Unsupported {
        /// File concerned.
        path: PathBuf,
        /// Which feature.
        reason: String,
    },
    /// The axes option or the file's axes metadata does not fit the data.
    #[error("{path}: bad axes: {reason}")]
    Axes {
        /// File concerned.
        path: PathBuf,
        /// Why the axes do not fit.
        reason: String,
    },
    /// The metadata (sidecar, OME-XML, ImageJ or tifffile description) is malformed or incomplete.
    #[error("{path}: bad metadata: {reason}")]
    Metadata {
        /// File holding the metadata.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A plane or buffer outside the stack was asked for.
    #[error("out of range: {what}")]
    OutOfRange {
        /// What was asked.
        what: String,
    },
    /// In-memory data does not match the stated shape.
    #[error("data of {len} samples does not match shape {dims:?}")]
    ShapeMismatch {
        /// Samples given.
        len: usize,
        /// Shape stated.
        dims: Vec<usize>,
    },
    /// The user cancelled the operation.
    #[error("cancelled")]
    Cancelled,
}

impl ImagingError {
    /// Wrap an I/O error with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
