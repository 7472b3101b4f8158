//! WGSL kernels of source extraction; each has its CPU twin in `mesmerize_core::extraction`.

pub mod hals;
pub mod lagcov;
pub mod pixel_stats;
pub mod products;
pub mod ring;
pub mod summary;
