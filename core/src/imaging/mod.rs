//! `ImgData`: an image stack opened lazily from disk (or held in memory), read plane by plane on demand, with its
//! metadata. Nothing here loads a whole movie unless asked.

mod axes;
mod error;
mod memory;
pub mod projection;
mod shape;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use axes::{Axes, Axis};
pub use error::ImagingError;
pub use shape::{Dtype, StackShape};

use crate::io::meta::{MetaFormat, Metadata};
use crate::progress::Progress;

/// Source of planes behind an [`ImgData`]; implemented by the TIFF reader and by in-memory stacks.
pub trait PlaneSource: Send + Sync {
    /// Fill `out` (length y*x, row-major) with plane `z` of time point `t`, converted to f32.
    fn read_plane(&self, t: usize, z: usize, out: &mut [f32]) -> Result<(), ImagingError>;
    /// Hint that a streaming pass is done with this plane: memory-mapped sources drop its pages from this process
    /// (they stay in the OS file cache), so reading a movie larger than RAM does not grow the resident set.
    fn release(&self, _t: usize, _z: usize) {}
    /// Short description of how planes are read (`"memory-mapped"`, `"streamed (deflate)"`, ...), for `info`.
    fn access(&self) -> String;
}

/// How to interpret a file: axes order for files that carry none, which channel, where metadata lives.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Axes of the file's array as numpy/tifffile would return it, e.g. `"txy"`, `"tzyx"`; overrides the file's own.
    pub axes: Option<Axes>,
    /// Channel to show when the file has a `c` axis (0 by default).
    pub channel: usize,
    /// Planes per volume, to reshape a flat run of pages into (t, z) when the axes option asks for volumes.
    pub planes: Option<usize>,
    /// Explicit metadata file; otherwise a sidecar `<movie>.json` is looked for, then OME-XML in the TIFF.
    pub meta_path: Option<PathBuf>,
    /// Metadata organizer to use; otherwise it is guessed from the file's content.
    pub meta_format: Option<MetaFormat>,
}

/// An image stack with its metadata; cheap to clone (the data source is shared).
#[derive(Clone)]
pub struct ImgData {
    path: Option<PathBuf>,
    shape: StackShape,
    dtype: Dtype,
    meta: Metadata,
    source: Arc<dyn PlaneSource>,
}

impl std::fmt::Debug for ImgData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImgData")
            .field("path", &self.path)
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .field("access", &self.source.access())
            .finish_non_exhaustive()
    }
}

impl ImgData {
    /// Open a TIFF/BigTIFF stack lazily: reads only headers and the page index, never the pixel data.
    pub fn open(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Self, ImagingError> {
        let path = path.as_ref();
        let stack = crate::io::tiff::TiffStack::open(path, opts)?;
        let meta = crate::io::meta::load_for_movie(path, stack.embedded(), opts)?;
        Ok(Self {
            path: Some(path.to_path_buf()),
            shape: stack.shape(),
            dtype: stack.dtype(),
            meta,
            source: Arc::new(stack),
        })
    }

    /// Wrap an in-memory stack (row-major (t, z, y, x) f32 samples), e.g. a simulated or computed movie.
    pub fn from_f32(data: Vec<f32>, shape: StackShape, meta: Metadata) -> Result<Self, ImagingError> {
        let source = memory::MemoryStack::new(data, shape)?;
        Ok(Self { path: None, shape, dtype: Dtype::F32, meta, source: Arc::new(source) })
    }

    /// Wrap any plane source (used by readers of other formats).
    pub fn from_source(
        source: Arc<dyn PlaneSource>,
        shape: StackShape,
        dtype: Dtype,
        meta: Metadata,
        path: Option<PathBuf>,
    ) -> Self {
        Self { path, shape, dtype, meta, source }
    }

    /// File this stack was opened from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    /// Canonical (t, z, y, x) shape.
    pub fn shape(&self) -> StackShape {
        self.shape
    }
    /// Sample type on disk.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// Recording metadata (origin, fps, date, ...).
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }
    /// Replace the metadata (e.g. after the user corrects the frame rate).
    pub fn set_meta(&mut self, meta: Metadata) {
        self.meta = meta;
    }
    /// How planes are read from disk, for diagnostics.
    pub fn access(&self) -> String {
        self.source.access()
    }

    /// Read one plane into `out` (length y*x), converted to f32; errors name the file and the plane.
    pub fn read_plane(&self, t: usize, z: usize, out: &mut [f32]) -> Result<(), ImagingError> {
        let s = self.shape;
        if t >= s.t || z >= s.z {
            return Err(ImagingError::OutOfRange { what: format!("plane (t={t}, z={z}) of a stack of shape {:?}", s.dims()) });
        }
        if out.len() != s.plane_len() {
            return Err(ImagingError::OutOfRange {
                what: format!("output buffer of {} samples for a {}x{} plane", out.len(), s.y, s.x),
            });
        }
        self.source.read_plane(t, z, out)
    }

    /// Tell the source a streaming pass no longer needs plane (t, z) (see [`PlaneSource::release`]).
    pub fn release_plane(&self, t: usize, z: usize) {
        self.source.release(t, z);
    }

    /// One plane as a new vector.
    pub fn plane(&self, t: usize, z: usize) -> Result<Vec<f32>, ImagingError> {
        let mut out = vec![0.0; self.shape.plane_len()];
        self.read_plane(t, z, &mut out)?;
        Ok(out)
    }

    /// A whole time point (all planes of a volume, or the one frame of a 2D movie), row-major (z, y, x).
    pub fn frame(&self, t: usize) -> Result<Vec<f32>, ImagingError> {
        let n = self.shape.plane_len();
        let mut out = vec![0.0; self.shape.frame_len()];
        for (z, chunk) in out.chunks_mut(n).enumerate() {
            self.read_plane(t, z, chunk)?;
        }
        Ok(out)
    }

    /// The whole stack in memory, (t, z, y, x) row-major: only for data known to be small.
    pub fn to_vec(&self, progress: &dyn Progress) -> Result<Vec<f32>, ImagingError> {
        let n = self.shape.plane_len();
        let mut out = vec![0.0; self.shape.len()];
        progress.start("reading", self.shape.n_planes() as u64);
        for (i, chunk) in out.chunks_mut(n.max(1)).enumerate() {
            if progress.cancelled() {
                return Err(ImagingError::Cancelled);
            }
            self.read_plane(i / self.shape.z, i % self.shape.z, chunk)?;
            progress.advance(1);
        }
        Ok(out)
    }

    /// Mean, max and std projections over time (per plane for volumes) in one streaming pass.
    pub fn projections(&self, progress: &dyn Progress) -> Result<projection::Projections, ImagingError> {
        projection::project_stack(self, progress)
    }
}
