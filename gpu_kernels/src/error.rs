//! Errors of the GPU runtime and kernels.

use mesmerize_core::device::ComputeError;

/// What can go wrong on the GPU path.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// `--device gpu` was asked for but wgpu found no adapter.
    #[error("no GPU adapter found (wgpu saw: {seen}); install a Vulkan driver (e.g. Debian's mesa-vulkan-drivers) or use --device cpu")]
    NoAdapter {
        /// Adapters wgpu listed, if any.
        seen: String,
    },
    /// The adapter refused to create a device.
    #[error("could not open GPU device on {adapter}: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
    /// Reading results back failed.
    #[error("GPU readback failed: {0}")]
    Readback(String),
    /// The data does not fit the device's limits.
    #[error("data too large for the GPU: {0}")]
    TooLarge(String),
}

impl From<GpuError> for ComputeError {
    fn from(e: GpuError) -> Self {
        ComputeError::Device(e.to_string())
    }
}
