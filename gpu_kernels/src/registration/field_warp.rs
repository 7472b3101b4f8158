//! The piecewise-rigid warp on the GPU (`shaders/compute/registration/warp_field.wgsl`); CPU twin:
//! `mesmerize_core::registration::warp_field`. The per-frame node grids are what `ShiftField::field()` gives.

use std::sync::Arc;

use mesmerize_core::registration::{BorderMode, Field};

use crate::buffers::{storage_f32, storage_from, uniform_from};
use crate::error::GpuError;
use crate::pipeline_cache::{buffer_entry, build_kernel, Kernel};
use crate::runtime::GpuContext;

use crate::dispatch::grid_for_invocations;

const WGSL: &str = include_str!("../../../shaders/compute/registration/warp_field.wgsl");
/// Upper bound of one batch of frames (input and output each).
const BATCH_BYTES: usize = 64 << 20;

/// Uniforms of warp_field.wgsl; keep in sync with its `FieldDims`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FieldDims {
    h: u32,
    w: u32,
    ny: u32,
    nx: u32,
    n_frames: u32,
    border: u32,
    fill: f32,
    _pad: u32,
}

fn kernel(ctx: &GpuContext) -> Arc<Kernel> {
    ctx.pipelines().get_or_create("registration.warp_field", || {
        use wgpu::BufferBindingType::{Storage, Uniform};
        let ro = Storage { read_only: true };
        let wgsl = format!("{}\n{WGSL}", super::kernels::CUBIC);
        build_kernel(
            &ctx.device,
            "registration.warp_field",
            &wgsl,
            "warp_field",
            &[buffer_entry(0, Uniform), buffer_entry(1, ro), buffer_entry(2, ro), buffer_entry(3, ro), buffer_entry(4, Storage { read_only: false })],
        )
    })
}

/// Warps frames with per-frame displacement fields sharing one node layout (the refined patch centres).
pub struct GpuFieldWarper {
    ctx: GpuContext,
    kernel: Arc<Kernel>,
    h: usize,
    w: usize,
    nodes: usize,
    batch: usize,
    base: FieldDims,
    dims: wgpu::Buffer,
    frames: wgpu::Buffer,
    shifts: wgpu::Buffer,
    out: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl GpuFieldWarper {
    /// A warper for `h` x `w` frames whose fields have nodes at rows `ys` and columns `xs` (increasing).
    pub fn new(ctx: &GpuContext, h: usize, w: usize, ys: &[f64], xs: &[f64], border: BorderMode) -> Result<Self, GpuError> {
        if ys.is_empty() || xs.is_empty() || h == 0 || w == 0 {
            return Err(GpuError::TooLarge("a field needs at least one node and a non-empty frame".into()));
        }
        let device = &ctx.device;
        let max_binding = ctx.max_binding() as usize;
        let batch = (BATCH_BYTES.min(max_binding) / (h * w * 4)).max(1);
        let nodes: Vec<f32> = ys.iter().chain(xs).map(|&v| v as f32).collect();
        let base = FieldDims {
            h: h as u32,
            w: w as u32,
            ny: ys.len() as u32,
            nx: xs.len() as u32,
            n_frames: 0,
            border: match border {
                BorderMode::Copy => 0,
                BorderMode::Nan => 1,
                BorderMode::Zero => 2,
            },
            fill: if border == BorderMode::Nan { f32::NAN } else { 0.0 },
            _pad: 0,
        };
        let kernel = kernel(ctx);
        let dims = uniform_from(device, "registration.warp_field.dims", &base);
        let node_buf = storage_from(device, "registration.warp_field.nodes", &nodes);
        let frames = storage_f32(device, "registration.warp_field.frames", batch * h * w);
        let shifts = storage_f32(device, "registration.warp_field.shifts", batch * 2 * ys.len() * xs.len());
        let out = storage_f32(device, "registration.warp_field.out", batch * h * w);
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("registration.warp_field.staging"),
            size: (batch * h * w * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("registration.warp_field.bind_group"),
            layout: &kernel.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: dims.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: frames.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: node_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: shifts.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 4, resource: out.as_entire_binding() },
            ],
        });
        Ok(Self { ctx: ctx.clone(), kernel, h, w, nodes: ys.len() * xs.len(), batch, base, dims, frames, shifts, out, staging, bind_group })
    }

    /// Warp `frames` (B x h x w) into `out`; `fields[b]` is frame b's field (its `dy` and `dx` node values are used;
    /// its node positions must be those given to [`Self::new`]).
    pub fn warp_batch(&self, frames: &[f32], fields: &[Field<'_>], out: &mut [f32]) -> Result<(), GpuError> {
        let n = self.h * self.w;
        if frames.len() != fields.len() * n || out.len() != frames.len() {
            return Err(GpuError::TooLarge(format!("{} samples, {} fields and {} outputs do not match {}x{} frames", frames.len(), fields.len(), out.len(), self.h, self.w)));
        }
        if let Some(f) = fields.iter().find(|f| f.dy.len() != self.nodes || f.dx.len() != self.nodes) {
            return Err(GpuError::TooLarge(format!("a field has {} nodes, expected {}", f.dy.len(), self.nodes)));
        }
        let max_dim = self.ctx.device.limits().max_compute_workgroups_per_dimension;
        for ((chunk, out_chunk), flds) in frames.chunks(self.batch * n).zip(out.chunks_mut(self.batch * n)).zip(fields.chunks(self.batch)) {
            let n_frames = flds.len();
            let shifts: Vec<f32> = flds.iter().flat_map(|f| f.dy.iter().chain(f.dx).map(|&v| v as f32)).collect();
            let q = &self.ctx.queue;
            q.write_buffer(&self.dims, 0, bytemuck::bytes_of(&FieldDims { n_frames: n_frames as u32, ..self.base }));
            q.write_buffer(&self.frames, 0, bytemuck::cast_slice(chunk));
            q.write_buffer(&self.shifts, 0, bytemuck::cast_slice(&shifts));
            let mut enc = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("registration.warp_field.encoder") });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("registration.warp_field.pass"), timestamp_writes: None });
                pass.set_pipeline(&self.kernel.pipeline);
                pass.set_bind_group(0, &self.bind_group, &[]);
                let (gx, gy) = grid_for_invocations(n_frames * n, max_dim);
                pass.dispatch_workgroups(gx, gy, 1);
            }
            let bytes = (n_frames * n * 4) as u64;
            enc.copy_buffer_to_buffer(&self.out, 0, &self.staging, 0, bytes);
            q.submit(Some(enc.finish()));
            let (tx, rx) = std::sync::mpsc::channel();
            self.staging.slice(..bytes).map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
            self.ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
            rx.recv().map_err(|e| GpuError::Readback(e.to_string()))?.map_err(|e| GpuError::Readback(e.to_string()))?;
            {
                let view = self.staging.slice(..bytes).get_mapped_range();
                out_chunk.copy_from_slice(bytemuck::cast_slice(&view));
            }
            self.staging.unmap();
        }
        Ok(())
    }
}
