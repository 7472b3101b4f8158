//! What travels along a flowchart connection: a Transmission, or one of the hierarchical-clustering side products
//! that the original passed as plain dicts (linkage matrix, inconsistency matrix, monocrit vector).

use ndarray::Array2;
use serde_json::Value;

use crate::analysis::Transmission;

/// The kind of data a terminal carries; connecting terminals of different kinds is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    /// A [`Transmission`] (DataFrame + HistoryTrace).
    Transmission,
    /// A linkage matrix with the parameters that made it (Linkage -> FCluster, Inconsistent, ...).
    Linkage,
    /// An inconsistency matrix `R` (Inconsistent -> FCluster, MaxInconsistent, MaxIncStat).
    Inconsistency,
    /// A per-link statistic used as `monocrit` by FCluster (MaxInconsistent, MaxIncStat).
    Monocrit,
}

impl PortKind {
    /// The name used in `.fc` files and error messages.
    pub fn name(self) -> &'static str {
        match self {
            PortKind::Transmission => "transmission",
            PortKind::Linkage => "linkage",
            PortKind::Inconsistency => "inconsistency",
            PortKind::Monocrit => "monocrit",
        }
    }
}

/// Linkage node output: scipy's (n-1) x 4 `Z` matrix plus the parameters, as the original's
/// `{'linkage': Z, 'params': {...}}` dict.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkageData {
    /// scipy's linkage matrix.
    pub z: Array2<f64>,
    /// `{"method", "metric", "optimal_ordering", "data_column"}`, logged by FCluster as `linkage_params`.
    pub params: Value,
}

/// Inconsistent node output: the (n-1) x 4 `R` matrix and the depth it was computed with.
#[derive(Debug, Clone, PartialEq)]
pub struct InconsistencyData {
    /// scipy's inconsistency matrix (mean, std, count, coefficient per link).
    pub r: Array2<f64>,
    /// The `d` (levels) parameter.
    pub depth: usize,
}

/// MaxInconsistent / MaxIncStat output: one value per link, FCluster's `monocrit`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonocritData {
    /// One value per non-singleton cluster (row of Z).
    pub values: Vec<f64>,
    /// Which statistic it is (`inconsistent`, `mean`, `stdev`, `num_links`, `inc_coef`).
    pub stat: String,
}

/// A value on a terminal.
#[derive(Debug, Clone)]
pub enum Port {
    /// A Transmission.
    Transmission(Box<Transmission>),
    /// A linkage matrix.
    Linkage(LinkageData),
    /// An inconsistency matrix.
    Inconsistency(InconsistencyData),
    /// A monocrit vector.
    Monocrit(MonocritData),
}

impl Port {
    /// Which kind of value this is.
    pub fn kind(&self) -> PortKind {
        match self {
            Port::Transmission(_) => PortKind::Transmission,
            Port::Linkage(_) => PortKind::Linkage,
            Port::Inconsistency(_) => PortKind::Inconsistency,
            Port::Monocrit(_) => PortKind::Monocrit,
        }
    }

    /// Wrap a Transmission.
    pub fn from_transmission(t: Transmission) -> Self {
        Port::Transmission(Box::new(t))
    }
}
