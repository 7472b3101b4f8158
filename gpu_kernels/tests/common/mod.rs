//! Shared by the GPU parity tests.

use mesmerize_core::device::DeviceChoice;
use mesmerize_gpu::GpuContext;

/// Any wgpu adapter, lavapipe included (how CI runs the kernels); `None` when MESMERIZE_SKIP_GPU_TESTS is set on a
/// machine without a Vulkan driver. No adapter at all is a test failure, not a silent skip.
pub fn context() -> Option<GpuContext> {
    if std::env::var_os("MESMERIZE_SKIP_GPU_TESTS").is_some() {
        eprintln!("MESMERIZE_SKIP_GPU_TESTS set: skipping GPU parity test");
        return None;
    }
    match GpuContext::request(DeviceChoice::Gpu) {
        Ok(ctx) => ctx,
        Err(e) => panic!("no wgpu adapter for the parity test ({e}); install mesa-vulkan-drivers or set MESMERIZE_SKIP_GPU_TESTS=1"),
    }
}
