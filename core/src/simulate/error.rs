//! Typed errors of the simulator: bad configurations, unknown names, and ground-truth file problems.

use std::path::PathBuf;

/// Everything that can go wrong while configuring a simulation or reading/writing its ground truth.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A configuration value is out of its valid range (message names the field and why).
    #[error("invalid simulation config: {0}")]
    InvalidConfig(String),
    /// A name given on the command line (kind, motion) is not one we know.
    #[error("unknown {what} '{value}' (expected one of {expected})")]
    Parse {
        /// Which kind of name was parsed (e.g. "simulation kind").
        what: &'static str,
        /// The text that was given.
        value: String,
        /// The accepted spellings.
        expected: &'static str,
    },
    /// The HDF5 library reported an error while reading or writing a truth file.
    #[error("HDF5 error on {path}: {source}")]
    Hdf5 {
        /// File being read or written.
        path: PathBuf,
        /// Underlying library error.
        #[source]
        source: hdf5_metno::Error,
    },
    /// A truth file was readable but its content does not match the documented layout.
    #[error("ground-truth file {path} is malformed: {what}")]
    BadTruth {
        /// File being read.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// A render call was given an out-of-range time point or a wrongly sized buffer.
    #[error("render request out of range: {0}")]
    OutOfRange(String),
}
