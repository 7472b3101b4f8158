//! Errors of source extraction, each naming what was wrong so the user can fix the input or the parameters.

/// Failure of summary images, CNMF, CNMF-E or deconvolution.
#[derive(Debug, thiserror::Error)]
pub enum ExtractionError {
    /// A parameter is out of range or inconsistent with the movie.
    #[error("bad parameter: {0}")]
    BadParameter(String),
    /// The movie cannot be analysed (wrong dimensions, NaN frames, constant data, ...).
    #[error("bad input: {0}")]
    BadInput(String),
    /// Reading the movie failed.
    #[error(transparent)]
    Imaging(#[from] crate::imaging::ImagingError),
    /// Reading or writing a results file failed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The GPU path failed.
    #[error("GPU: {0}")]
    Device(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}
