//! WGSL kernels of source extraction; each has its CPU twin in `mesmerize_core::extraction`.

pub mod products;
pub mod summary;
