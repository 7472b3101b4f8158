//! File formats: TIFF/BigTIFF stacks and the metadata organizers.

pub mod atomic;
pub mod meta;
pub mod tiff;
