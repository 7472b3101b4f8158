//! Normalised cross-correlation with tslearn's semantics (`tslearn.metrics.normalized_cc`) and the original
//! Mesmerize's all-pairs lag / maxima matrices. CPU twin of the WGSL kernel in `mesmerize_gpu::xcorr`.
//!
//! Zero-variance curves: a constant non-zero curve is correlated like any other (the original does not
//! z-normalise here); an all-zero curve has norm 0 and, as in tslearn, correlates as all zeros.

mod error;
mod matrices;
mod ncc;

pub use error::XcorrError;
pub use matrices::{CcMatrices, CcMatrixKind, assemble, cc_matrices, cc_pair, curves_to_matrix, validate_curves};
pub use ncc::{MIN_DENOM, NccPlan, NccWork, Peak, Spectrum, fft_size, normalized_cc};

pub(crate) use matrices::spectra;
