//! TIFF / BigTIFF stacks: a page index read once, planes decoded on demand. (stub: being written)

use std::path::Path;

use crate::imaging::{Dtype, ImagingError, OpenOptions, PlaneSource, StackShape};
use crate::io::meta::EmbeddedMeta;

/// An opened TIFF stack.
pub struct TiffStack {
    shape: StackShape,
    dtype: Dtype,
    embedded: EmbeddedMeta,
}

impl TiffStack {
    /// Open lazily.
    pub fn open(path: &Path, _opts: &OpenOptions) -> Result<Self, ImagingError> {
        Err(ImagingError::Unsupported { path: path.into(), reason: "not yet".into() })
    }
    /// Canonical shape.
    pub fn shape(&self) -> StackShape {
        self.shape
    }
    /// On-disk dtype.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// Metadata found inside the file.
    pub fn embedded(&self) -> &EmbeddedMeta {
        &self.embedded
    }
}

impl PlaneSource for TiffStack {
    fn read_plane(&self, _t: usize, _z: usize, _out: &mut [f32]) -> Result<(), ImagingError> {
        Ok(())
    }
    fn access(&self) -> String {
        String::new()
    }
}
