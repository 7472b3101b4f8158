//! Errors of the cross-correlation functions.

/// What is wrong with curves handed to the cross-correlation functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XcorrError {
    /// A series has no samples, so there is no correlation function to compute.
    #[error("series of length 0: cross-correlation needs at least one sample")]
    Empty,
    /// Two series (or a curve and the first curve) differ in length; tslearn would silently use the first length.
    #[error("curve {index} has {len} samples, expected {expected} (all curves must have equal length)")]
    UnequalLength {
        /// Which curve (0 for the second argument of a pair function).
        index: usize,
        /// Its length.
        len: usize,
        /// The length of the first curve.
        expected: usize,
    },
    /// A NaN or infinite sample; tslearn would return a correlation function of NaNs.
    #[error("curve {curve} has a non-finite value ({value}) at sample {sample}")]
    NonFinite {
        /// Which curve.
        curve: usize,
        /// Which sample.
        sample: usize,
        /// The value found.
        value: f64,
    },
    /// All-pairs matrices need at least two curves.
    #[error("need at least 2 curves for cross-correlation matrices, got {0}")]
    TooFewCurves(usize),
    /// A curve index past the end.
    #[error("curve index {index} out of range for {n} curves")]
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// How many curves there are.
        n: usize,
    },
    /// The sampling rate used to convert lags to time units must be finite and positive.
    #[error("sampling rate must be finite and > 0, got {0}")]
    BadSamplingRate(f64),
}
