//! Deconvolution of calcium traces (OASIS for AR(1) and AR(2)), noise and AR-coefficient estimation, dF/F.

pub mod ar;
pub mod constrained;
pub mod dff;
pub mod kde;
pub mod noise;
pub mod oasis;

pub use ar::estimate_ar;
pub use constrained::{Deconvolved, FoopsiOptions, constrained_foopsi, deconvolve_all};
pub use dff::detrend_df_f;
pub use kde::df_percentile;
pub use noise::{NoiseMethod, psd_noise};
pub use oasis::{OasisKernel, oasis};
