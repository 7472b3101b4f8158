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
    /// A kernel's inputs do not fit together (shapes, dimensionality).
    #[error("GPU kernel inputs do not match: {0}")]
    Mismatch(String),
    /// The user cancelled while the kernel's work was under way.
    #[error("cancelled")]
    Cancelled,
}

/// `v` as the u32 a kernel indexes with, or an error naming `what`.
pub(crate) fn fits_u32(what: &str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::TooLarge(format!("{what} = {v} exceeds u32")))
}

impl From<GpuError> for ComputeError {
    fn from(e: GpuError) -> Self {
        ComputeError::Device(e.to_string())
    }
}
