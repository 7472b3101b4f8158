//! wgpu compute for Mesmerize-RS. Kernels borrow a device (the CLI's headless one or the GUI's, lent by iced), cache
//! their pipelines, and each has a CPU twin in `mesmerize_core` with a parity test.

pub mod buffers;
mod dispatch;
pub mod error;
pub mod extraction;
pub mod pipeline_cache;
pub mod projection;
pub mod registration;
pub mod runtime;
pub mod xcorr;

pub use error::GpuError;
pub use extraction::products::GpuProducts;
pub use projection::GpuProjector;
pub use runtime::GpuContext;
pub use xcorr::XcorrGpuError;
