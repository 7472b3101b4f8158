//! Hierarchical clustering with `scipy.cluster.hierarchy` parity (scipy 1.17): the Linkage, FCluster,
//! Inconsistent, MaxInconsistent and MaxIncStat nodes of Mesmerize (`flowchart/library/Hierarchical.py`).
//!
//! * [`pdist`] — condensed distances (euclidean and the node's 1-D Wasserstein, plus the other scipy metrics),
//!   rayon-parallel, bit-identical to scipy's kernels for the scipy metrics;
//! * [`linkage`] / [`linkage_condensed`] / [`linkage_node`] — the (n-1) x 4 matrix Z exactly as scipy returns it,
//!   all 7 methods, optional optimal leaf ordering;
//! * [`optimal_leaf_ordering`], [`leaves_list`];
//! * [`fcluster`] with the five criteria (scipy's labels), [`maxdists`];
//! * [`inconsistent`], [`maxinconsts`], [`max_r_stat`] (scipy's `maxRstat`), [`cophenet`].
//!
//! All functions take `ndarray` views / slices of f64 and return typed [`HierarchyError`]s for bad input.
//! The scipy golden test is `core/tests/cluster_hierarchy.rs` (values from
//! `tests/golden/cluster/make_hierarchy_golden.py`).
//!
//! Ties: the algorithms are scipy's own, scanning in the same order with the same strict comparisons, so on
//! bit-identical distances ties are resolved exactly as scipy resolves them (checked on a grid with many equal
//! distances). With distances that differ from scipy's in the last bit (the Wasserstein metrics, whose sums are
//! ordered differently), a near-tie can of course resolve differently.

pub mod distance;
mod error;
pub mod fcluster;
pub mod inconsistent;
pub mod linkage;
pub mod optimal_ordering;

pub use distance::{
    METRIC_NAMES, Metric, NODE_METRICS, check_condensed, condensed_index, mesmerize_wasserstein_shift,
    num_obs_condensed, pdist, squareform, wasserstein_1d,
};
pub use error::{HierarchyError, Result};
pub use fcluster::{CRITERION_NAMES, Criterion, fcluster, maxdists};
pub use inconsistent::{cophenet, cophenetic_distances, inconsistent, max_r_stat, maxinconsts};
pub use linkage::{
    LinkageInput, METHOD_NAMES, Method, NODE_METHODS, linkage, linkage_condensed, linkage_node, validate_linkage,
    validate_linkage_counts,
};
pub use optimal_ordering::{leaves_list, optimal_leaf_ordering};
