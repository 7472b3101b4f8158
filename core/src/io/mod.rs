//! File formats: TIFF/BigTIFF stacks and the metadata organizers.

pub mod atomic;
pub mod caiman_h5;
pub mod meta;
pub mod tiff;
