//! Synthetic calcium-imaging movies with exact ground truth (2p, 1p micro-endoscope, 3D), deterministic by seed.
//! The generative model and the truth.h5 layout are documented in docs/simulator.md.

mod background;
mod calcium;
mod config;
mod error;
mod footprints;
mod motion;
mod noise;
mod render;
mod rng;
mod truth;

#[cfg(test)]
mod tests;

pub use background::{Background, BgBlob};
pub use calcium::{ar2_coefficients, impulse_peak};
pub use config::{MotionKind, SimConfig, SimKind};
pub use error::SimError;
pub use footprints::{Neuron, TRUNCATION, truncated_profile};
pub use motion::{ControlGrid, bspline_weights};
pub use noise::EXACT_POISSON_BELOW;
pub use render::Simulator;
pub use truth::{TRUTH_FORMAT_VERSION, Truth};
