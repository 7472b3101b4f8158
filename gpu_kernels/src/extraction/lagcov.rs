//! The lagged covariance images of CNMF-E's ring fit in WGSL (`shaders/compute/extraction/lagcov.wgsl`). CPU
//! twin: `mesmerize_core::extraction::cnmfe::lagcov::lag_covariances`.
//!
//! The binned coarse residual goes up once (in the CPU's time-chunked layout); the images are computed in bands of
//! grid rows sized to the binding limit, each read back into the pixel-major result. The ridge solves that use
//! them stay on the CPU in f64 (WGSL has no portable f64, and at CaImAn's 1e-5 ridge f32 would lose about two
//! digits of the weights).

use std::sync::Arc;

use mesmerize_core::extraction::cnmfe::lagcov::{CHUNK, ChunkedSeries, LagCov, LagSet};
use mesmerize_core::progress::Progress;

use crate::buffers::{binding, read_through, staging_f32, storage_f32, storage_from, uniform_from};
use crate::dispatch::grid_for_invocations;
use crate::error::{GpuError, fits_u32};
use crate::pipeline_cache::{Kernel, RO, RW, UNIFORM, cached_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/lagcov.wgsl");
/// Lags per invocation; keep in sync with `GROUP` in lagcov.wgsl.
const GROUP: usize = 8;
/// Most bytes of images per band (bounds the readback staging buffer).
const MAX_BAND_BYTES: u64 = 256 << 20;

/// Uniforms of `lagcov.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    h: u32,
    w: u32,
    n_lags: u32,
    chunks: u32,
    row0: u32,
    band_pixels: u32,
    groups: u32,
    _pad: u32,
}

fn kernel(ctx: &GpuContext) -> Arc<Kernel> {
    cached_kernel(ctx, "extraction.lagcov.lag_products", WGSL, "lag_products", &[(0, UNIFORM), (1, RO), (2, RO), (3, RW)])
}

/// All lagged covariance images of `x` on the device; `progress` advances by one per grid row, and is checked
/// between bands for cancellation.
pub fn lag_covariances(ctx: &GpuContext, x: &ChunkedSeries, lags: &LagSet, progress: &dyn Progress) -> Result<LagCov, GpuError> {
    lag_covariances_in_bands(ctx, x, lags, usize::MAX, progress)
}

/// As [`lag_covariances`] with at most `max_band_rows` grid rows per band (tests use it to force several bands).
pub fn lag_covariances_in_bands(
    ctx: &GpuContext,
    x: &ChunkedSeries,
    lags: &LagSet,
    max_band_rows: usize,
    progress: &dyn Progress,
) -> Result<LagCov, GpuError> {
    let (h, w, n) = (x.h, x.w, lags.lags.len());
    let d = h * w;
    if x.data.len() != x.chunks * d * CHUNK || n == 0 || d == 0 {
        return Err(GpuError::Mismatch(format!("{} samples for a {h} x {w} grid in {} chunks, {n} lags", x.data.len(), x.chunks)));
    }
    let max_binding = ctx.max_binding();
    if x.data.len() as u64 * 4 > max_binding {
        return Err(GpuError::TooLarge(format!("the {h} x {w} ring-fit residual ({} MB) exceeds the binding limit", x.data.len() >> 18)));
    }
    fits_u32("residual samples", x.data.len() / 4)?;
    let row_bytes = (w * n * 4) as u64;
    let band_rows = ((max_binding.min(MAX_BAND_BYTES) / row_bytes) as usize).min(max_band_rows).min(h);
    if band_rows == 0 {
        return Err(GpuError::TooLarge(format!("one grid row of {n} lag images exceeds the binding limit")));
    }
    let groups = n.div_ceil(GROUP);
    fits_u32("band invocations", band_rows * w * groups)?;
    let dev = &ctx.device;
    let x_buf = storage_from(dev, "extraction.lagcov.x", &x.data);
    let lag_vals: Vec<[i32; 2]> = lags.lags.iter().map(|&(dy, dx)| [dy, dx]).collect();
    let lag_buf = storage_from(dev, "extraction.lagcov.lags", &lag_vals);
    let out_buf = storage_f32(dev, "extraction.lagcov.out", band_rows * w * n);
    let staging = staging_f32(dev, "extraction.lagcov.staging", band_rows * w * n);
    let kern = kernel(ctx);
    let max_dim = dev.limits().max_compute_workgroups_per_dimension;
    let mut values = vec![0f32; d * n];
    for row0 in (0..h).step_by(band_rows) {
        if progress.cancelled() {
            return Err(GpuError::Cancelled);
        }
        let rows = band_rows.min(h - row0);
        let p = Params {
            h: h as u32,
            w: w as u32,
            n_lags: n as u32,
            chunks: fits_u32("chunks", x.chunks)?,
            row0: row0 as u32,
            band_pixels: (rows * w) as u32,
            groups: groups as u32,
            _pad: 0,
        };
        let params = uniform_from(dev, "extraction.lagcov.params", &p);
        let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("extraction.lagcov"),
            layout: &kern.layout,
            entries: &[binding(0, &params), binding(1, &x_buf), binding(2, &lag_buf), binding(3, &out_buf)],
        });
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("extraction.lagcov") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("extraction.lagcov"), timestamp_writes: None });
            let (gx, gy) = grid_for_invocations(rows * w * groups, max_dim);
            pass.set_pipeline(&kern.pipeline);
            pass.set_bind_group(0, &bg, &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        // Straight from the mapped staging buffer (one for all bands) into the result.
        let len = rows * w * n;
        let dst = &mut values[row0 * w * n..row0 * w * n + len];
        read_through(dev, &ctx.queue, enc, &out_buf, &staging, len, |band| dst.copy_from_slice(band))?;
        progress.advance(rows as u64);
    }
    Ok(LagCov { n, w, values })
}
