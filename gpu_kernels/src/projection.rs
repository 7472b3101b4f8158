//! Streaming mean / max / std projection in WGSL (`shaders/compute/projection.wgsl`); CPU twin:
//! `mesmerize_core::imaging::projection`.

use mesmerize_core::device::ComputeError;
use mesmerize_core::imaging::projection::{Projections, Projector};
use mesmerize_core::progress::Progress;
use mesmerize_core::{ImgData, StackShape};

use crate::buffers::{read_back_f32, storage_f32, uniform_from};
use crate::error::GpuError;
use crate::pipeline_cache::{build_kernel, buffer_entry, Kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../shaders/compute/projection.wgsl");
const WORKGROUP: u32 = 256;
/// Upper bound of one uploaded batch of frames.
const BATCH_BYTES: u64 = 64 << 20;

/// Uniforms of `projection.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_pixels: u32,
    n_frames: u32,
    count_before: u32,
    row_pitch: u32,
}

fn kernel(ctx: &GpuContext) -> std::sync::Arc<Kernel> {
    ctx.pipelines().get_or_create("projection.accumulate", || {
        use wgpu::BufferBindingType::{Storage, Uniform};
        build_kernel(
            &ctx.device,
            "projection.accumulate",
            WGSL,
            "accumulate",
            &[
                buffer_entry(0, Uniform),
                buffer_entry(1, Storage { read_only: true }),
                buffer_entry(2, Storage { read_only: false }),
                buffer_entry(3, Storage { read_only: false }),
                buffer_entry(4, Storage { read_only: false }),
            ],
        )
    })
}

/// Running projection state on the device; frames are pushed in batches and folded in by the kernel.
pub struct GpuProjection<'a> {
    ctx: &'a GpuContext,
    kernel: std::sync::Arc<Kernel>,
    n: usize,
    batch_frames: usize,
    count: u32,
    params: wgpu::Buffer,
    frames: wgpu::Buffer,
    mean: wgpu::Buffer,
    m2: wgpu::Buffer,
    max: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    groups: (u32, u32),
    row_pitch: u32,
}

impl<'a> GpuProjection<'a> {
    /// State for frames of `n` samples.
    pub fn new(ctx: &'a GpuContext, n: usize) -> Result<Self, GpuError> {
        let limits = ctx.device.limits();
        let max_binding = ctx.max_binding();
        let frame_bytes = (n as u64) * 4;
        if n == 0 || frame_bytes > max_binding {
            return Err(GpuError::TooLarge(format!("a frame of {n} samples exceeds the binding limit of {max_binding} bytes")));
        }
        let batch_frames = (BATCH_BYTES.min(max_binding) / frame_bytes).max(1) as usize;
        let device = &ctx.device;
        let kernel = kernel(ctx);
        let params = uniform_from(device, "projection.params", &Params { n_pixels: 0, n_frames: 0, count_before: 0, row_pitch: 0 });
        let frames = storage_f32(device, "projection.frames", batch_frames * n);
        let mean = storage_f32(device, "projection.mean", n);
        let m2 = storage_f32(device, "projection.m2", n);
        let max = storage_f32(device, "projection.max", n);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("projection.bind_group"),
            layout: &kernel.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: frames.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: mean.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: m2.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 4, resource: max.as_entire_binding() },
            ],
        });
        // Zero the running mean and m2 (buffers are zero-initialised by wgpu, but be explicit for reuse).
        let zeros = vec![0u8; n * 4];
        ctx.queue.write_buffer(&mean, 0, &zeros);
        ctx.queue.write_buffer(&m2, 0, &zeros);
        let total_groups = (n as u32).div_ceil(WORKGROUP);
        let max_dim = limits.max_compute_workgroups_per_dimension.max(1);
        let gx = total_groups.min(max_dim);
        let row_pitch = gx * WORKGROUP;
        let gy = (n as u32).div_ceil(row_pitch);
        Ok(Self { ctx, kernel, n, batch_frames, count: 0, params, frames, mean, m2, max, bind_group, groups: (gx, gy), row_pitch })
    }

    /// How many frames one [`GpuProjection::push_batch`] call takes at most.
    pub fn batch_frames(&self) -> usize {
        self.batch_frames
    }

    /// Upload a batch ((frames, n) row-major, at most `batch_frames` frames) and fold it in; returns without
    /// waiting for the GPU, so the caller can read the next batch meanwhile.
    pub fn push_batch(&mut self, data: &[f32]) {
        let frames = data.len() / self.n;
        debug_assert!(frames <= self.batch_frames && frames * self.n == data.len());
        if frames == 0 {
            return;
        }
        let p = Params { n_pixels: self.n as u32, n_frames: frames as u32, count_before: self.count, row_pitch: self.row_pitch };
        let q = &self.ctx.queue;
        q.write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
        q.write_buffer(&self.frames, 0, bytemuck::cast_slice(data));
        let mut enc = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("projection.encoder") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("projection.pass"), timestamp_writes: None });
            pass.set_pipeline(&self.kernel.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
        }
        q.submit(Some(enc.finish()));
        self.count += frames as u32;
    }

    /// Wait for the device and read mean, max and population std back.
    pub fn finish(self) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>), GpuError> {
        let mut out = read_back_f32(&self.ctx.device, &self.ctx.queue, &[&self.mean, &self.m2, &self.max])?;
        let max = out.pop().unwrap_or_default();
        let m2 = out.pop().unwrap_or_default();
        let mean = out.pop().unwrap_or_default();
        let k = self.count.max(1) as f32;
        let std = m2.iter().map(|v| (v / k).max(0.0).sqrt()).collect();
        Ok((mean, max, std))
    }
}

/// Projections of in-memory frames ((frames, n) row-major): the GPU twin of
/// `mesmerize_core::imaging::projection::project_planes`, used by the parity test.
pub fn project_planes(ctx: &GpuContext, data: &[f32], n: usize) -> Result<Projections, GpuError> {
    let mut acc = GpuProjection::new(ctx, n)?;
    for chunk in data.chunks(acc.batch_frames() * n) {
        acc.push_batch(chunk);
    }
    let frames = data.len() / n.max(1);
    let (mean, max, std) = acc.finish()?;
    Ok(Projections { shape: StackShape::movie(frames, 1, n), mean, max, std })
}

/// [`Projector`] on a wgpu device: frames are read on the CPU and streamed to the GPU in batches.
pub struct GpuProjector {
    ctx: GpuContext,
}

impl GpuProjector {
    /// Projector on this device.
    pub fn new(ctx: GpuContext) -> Self {
        Self { ctx }
    }
}

impl Projector for GpuProjector {
    fn name(&self) -> String {
        format!("gpu: {}", self.ctx.describe())
    }

    fn project(&self, img: &ImgData, progress: &dyn Progress) -> Result<Projections, ComputeError> {
        let s = img.shape();
        let n = s.frame_len();
        let mut acc = GpuProjection::new(&self.ctx, n)?;
        let batch = acc.batch_frames();
        let mut buf = vec![0.0f32; batch * n];
        progress.start("projecting", s.t as u64);
        let mut t = 0;
        while t < s.t {
            let frames = batch.min(s.t - t);
            for (f, frame) in buf[..frames * n].chunks_mut(n).enumerate() {
                if progress.cancelled() {
                    return Err(ComputeError::Cancelled);
                }
                for (z, plane) in frame.chunks_mut(s.plane_len()).enumerate() {
                    img.read_plane(t + f, z, plane)?;
                    img.release_plane(t + f, z);
                }
            }
            acc.push_batch(&buf[..frames * n]);
            progress.advance(frames as u64);
            t += frames;
        }
        let (mean, max, std) = acc.finish()?;
        Ok(Projections { shape: s, mean, max, std })
    }
}
