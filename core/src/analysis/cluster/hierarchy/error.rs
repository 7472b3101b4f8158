//! Errors of the hierarchical-clustering module.

use thiserror::Error;

/// Everything that can go wrong in `pdist`, `linkage`, `fcluster`, `inconsistent` and friends.
///
/// scipy raises `ValueError`/`TypeError` for most of these; where scipy silently reads out of bounds or returns
/// garbage (a maxclust `t` below 1, a monocrit of the wrong length, NaN in a linkage matrix) this module refuses
/// the input instead.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HierarchyError {
    /// Observations, a condensed distance matrix or a computed distance contain NaN or an infinity.
    #[error("{what} must contain only finite values (found {value} at index {index})")]
    NonFinite {
        /// Which input: "observations", "condensed distance matrix", "linkage matrix Z", ...
        what: &'static str,
        /// Flat (row-major) index of the first offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Fewer than two observations: there is nothing to link.
    #[error("linkage needs at least 2 observations, got {0}")]
    TooFewObservations(usize),
    /// Observations with zero features.
    #[error("observations must have at least one feature (got {0} columns)")]
    NoFeatures(usize),
    /// A condensed distance matrix whose length is not n*(n-1)/2 for any n >= 2.
    #[error("condensed distance matrix length {0} is not n*(n-1)/2 for any integer n >= 2")]
    BadCondensedLength(usize),
    /// A condensed distance matrix with a negative distance.
    #[error("condensed distance matrix contains a negative distance ({value} at index {index})")]
    NegativeDistance {
        /// Index of the first negative distance.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A condensed matrix that does not belong to the linkage matrix it is used with.
    #[error("condensed distance matrix describes {got} observations but the linkage matrix has {expected}")]
    CondensedSizeMismatch {
        /// Observations of the linkage matrix.
        expected: usize,
        /// Observations of the condensed matrix.
        got: usize,
    },
    /// Unknown linkage method name.
    #[error("unknown linkage method {name:?}; valid methods: {valid}")]
    UnknownMethod {
        /// The name given.
        name: String,
        /// Comma-separated list of the valid names.
        valid: String,
    },
    /// Unknown distance metric name.
    #[error("unknown distance metric {name:?}; valid metrics: {valid}")]
    UnknownMetric {
        /// The name given.
        name: String,
        /// Comma-separated list of the valid names.
        valid: String,
    },
    /// Unknown fcluster criterion name.
    #[error("unknown fcluster criterion {name:?}; valid criteria: {valid}")]
    UnknownCriterion {
        /// The name given.
        name: String,
        /// Comma-separated list of the valid names.
        valid: String,
    },
    /// centroid / median / ward on observations with a metric other than euclidean (scipy's ValueError).
    #[error("method={method} requires the distance metric to be Euclidean (got {metric}); scipy computes centroid, median and ward from Euclidean distances of the observations")]
    NonEuclideanMetric {
        /// The linkage method.
        method: &'static str,
        /// The metric given.
        metric: String,
    },
    /// A metric parameter out of range (Minkowski p <= 0).
    #[error("invalid metric parameter: {0}")]
    InvalidMetricParameter(String),
    /// Wasserstein weights (the curves) must be non-negative with a positive, finite sum.
    #[error("wasserstein: row {row} {reason} (the Linkage node shifts the data by |min| first, see mesmerize_wasserstein_shift)")]
    InvalidWeights {
        /// Observation (row) index.
        row: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// maxclust / maxclust_monocrit with t < 1 (after truncation to an integer, as scipy's int(t)).
    #[error("criterion {criterion} needs t >= 1 (the maximum number of clusters), got {t}")]
    MaxclustTooSmall {
        /// The criterion.
        criterion: &'static str,
        /// The threshold given.
        t: f64,
    },
    /// A NaN threshold.
    #[error("fcluster threshold t must not be NaN")]
    NanThreshold,
    /// monocrit / maxclust_monocrit without a monocrit array.
    #[error("criterion {0} needs a monocrit array (one value per row of Z)")]
    MissingMonocrit(&'static str),
    /// A monocrit array of the wrong length or with NaN.
    #[error("monocrit must have one finite value per row of Z ({expected}), got {got} values{extra}")]
    BadMonocrit {
        /// Rows of Z.
        expected: usize,
        /// Length given.
        got: usize,
        /// Extra detail (e.g. a NaN position).
        extra: String,
    },
    /// An inconsistency matrix of the wrong shape.
    #[error("inconsistency matrix R must have shape ({expected_rows}, 4) to match Z, got ({rows}, {cols})")]
    BadRShape {
        /// Rows of Z.
        expected_rows: usize,
        /// Rows of R.
        rows: usize,
        /// Columns of R.
        cols: usize,
    },
    /// An inconsistency matrix whose content is invalid (negative means, deviations or counts, NaN).
    #[error("invalid inconsistency matrix R: {0}")]
    InvalidR(String),
    /// maxRstat column index out of 0..=3.
    #[error("maxRstat: i must be an integer between 0 and 3 inclusive, got {0}")]
    BadRColumn(usize),
    /// A linkage matrix that scipy's is_valid_linkage rejects (or that would make scipy read out of bounds).
    #[error("invalid linkage matrix Z: {0}")]
    InvalidLinkage(String),
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, HierarchyError>;
