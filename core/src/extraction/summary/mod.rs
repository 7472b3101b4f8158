//! Summary images (local correlation, CNMF-E correlation and PNR).

pub mod corr_pnr;
pub mod gsig_filter;
pub mod local_corr;
pub mod neighbours;

pub use corr_pnr::{CorrPnr, corr_pnr, corr_pnr_from_filtered, corr_pnr_in_place};
pub use gsig_filter::{GsigFilter, filter_frame, filter_movie};
pub use local_corr::local_correlation;
