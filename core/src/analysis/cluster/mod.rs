//! Clustering behind the Clustering nodes and plots: hierarchical (scipy.cluster.hierarchy), normalized
//! cross-correlation (tslearn), k-Shape, k-means.

pub mod hierarchy;
pub mod kmeans;
pub mod kshape;
pub mod metrics;
pub mod xcorr;
