//! The data behind the interactive plots, computed headless so the GUI only draws: proportions of one categorical
//! column per another, beeswarm groups, clustering quality metrics (centerlike member, cluster radius,
//! Davies-Bouldin with any metric) and cross-correlation lag / maxima matrices with thresholds.

pub mod beeswarm;
pub mod clustering_metrics;
pub mod proportions;

/// Cross-correlation plot data (lag / maxima matrices, thresholds, lags in seconds) lives with the correlation code.
pub use crate::analysis::cluster::xcorr::{CcMatrices, CcMatrixKind, cc_matrices};
