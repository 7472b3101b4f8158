//! Mesmerize-RS core: the data model and algorithms, in pure Rust (no GPU, no GUI), so that every piece is
//! testable headless and the GPU kernels have a reference to match.

pub mod analysis;
pub mod batch;
pub mod device;
pub mod extraction;
pub mod imaging;
pub mod io;
pub mod progress;
pub mod project;
pub mod registration;
pub mod roi;
pub mod simulate;
pub mod stimulus;

pub use imaging::{Axes, Dtype, ImgData, OpenOptions, StackShape};
pub use io::meta::Metadata;
