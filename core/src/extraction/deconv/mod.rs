//! Deconvolution of calcium traces (OASIS for AR(1) and AR(2)), noise and AR-coefficient estimation, dF/F.

pub mod noise;

pub use noise::{NoiseMethod, psd_noise};
