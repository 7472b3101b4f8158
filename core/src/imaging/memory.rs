//! In-memory stacks (simulated or computed data) behind the same plane interface as files.

use super::{ImagingError, PlaneSource, StackShape};

/// A (t, z, y, x) f32 stack held in RAM.
pub(crate) struct MemoryStack {
    data: Vec<f32>,
    shape: StackShape,
}

impl MemoryStack {
    pub(crate) fn new(data: Vec<f32>, shape: StackShape) -> Result<Self, ImagingError> {
        if data.len() != shape.len() {
            return Err(ImagingError::ShapeMismatch { len: data.len(), dims: shape.dims() });
        }
        Ok(Self { data, shape })
    }
}

impl PlaneSource for MemoryStack {
    fn read_plane(&self, t: usize, z: usize, out: &mut [f32]) -> Result<(), ImagingError> {
        let n = self.shape.plane_len();
        let start = (t * self.shape.z + z) * n;
        out.copy_from_slice(&self.data[start..start + n]);
        Ok(())
    }
    fn access(&self) -> String {
        "in memory".into()
    }
}
