//! Uniforms and get-or-create pipelines of the registration kernels (`shaders/compute/registration/*.wgsl`).

use std::sync::Arc;

use crate::pipeline_cache::{buffer_entry, build_kernel, Kernel};
use crate::runtime::GpuContext;

const COMMON: &str = include_str!("../../../shaders/compute/registration/common.wgsl");
const PREPARE: &str = include_str!("../../../shaders/compute/registration/prepare.wgsl");
const FFT: &str = include_str!("../../../shaders/compute/registration/fft.wgsl");
const SPECTRUM: &str = include_str!("../../../shaders/compute/registration/spectrum.wgsl");
const PEAK: &str = include_str!("../../../shaders/compute/registration/peak.wgsl");
const REFINE: &str = include_str!("../../../shaders/compute/registration/refine.wgsl");
const WARP: &str = include_str!("../../../shaders/compute/registration/warp.wgsl");
/// Cubic interpolation weights shared by the warp kernels.
pub(crate) const CUBIC: &str = include_str!("../../../shaders/compute/registration/cubic.wgsl");

/// Longest FFT line one workgroup transforms (`MAX_N` in fft.wgsl).
pub(crate) const MAX_FFT_LEN: usize = 1024;
/// Longest FFT line at all: twice `MAX_FFT_LEN`, with one global-memory radix-2 stage (`fft_combine`).
pub(crate) const MAX_FFT_LEN_GLOBAL: usize = 2 * MAX_FFT_LEN;

/// Sizes, table offsets and search window shared by all kernels; keep in sync with `Dims` in common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Dims {
    pub h: u32,
    pub w: u32,
    pub ph: u32,
    pub pw: u32,
    pub n_frames: u32,
    pub max_y: u32,
    pub max_x: u32,
    pub up: u32,
    pub half: u32,
    pub n_grid: u32,
    pub ky_max: u32,
    pub kx_max: u32,
    pub border: u32,
    pub nmax: u32,
    pub win_h: u32,
    pub win_w: u32,
    pub off_tw: u32,
    pub off_fy: u32,
    pub off_fx: u32,
    pub off_wy: u32,
    pub off_wx: u32,
    pub off_acy: u32,
    pub off_acx: u32,
    pub off_gy: u32,
    pub off_gx: u32,
    pub off_dint: u32,
    pub n_acy: u32,
    pub n_acx: u32,
    pub norm: f32,
    pub fill: f32,
    pub center_y: f32,
    pub center_x: f32,
    pub radius_y: f32,
    pub radius_x: f32,
    pub up_f: f32,
    pub _pad: f32,
}

/// One batched FFT pass over rows or columns; keep in sync with `Pass` in fft.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct FftPass {
    pub n: u32,
    pub lines_per_frame: u32,
    pub line_stride: u32,
    pub elem_stride: u32,
    pub frame_stride: u32,
    pub inverse: u32,
    pub sub: u32,
    pub _pad0: u32,
}

/// The kernels of the rigid pipeline, fetched from the context's cache.
pub(crate) struct Kernels {
    pub prepare: Arc<Kernel>,
    pub fft: Arc<Kernel>,
    pub fft_combine: Arc<Kernel>,
    pub template_conj: Arc<Kernel>,
    pub cross_power: Arc<Kernel>,
    pub peak: Arc<Kernel>,
    pub refine_stage: Arc<Kernel>,
    pub refine_grid: Arc<Kernel>,
    pub warp: Arc<Kernel>,
}

fn get(ctx: &GpuContext, id: &'static str, src: &str, entry: &str, bindings: &[(u32, wgpu::BufferBindingType)]) -> Arc<Kernel> {
    ctx.pipelines().get_or_create(id, || {
        let wgsl = format!("{COMMON}\n{CUBIC}\n{src}");
        let entries: Vec<_> = bindings.iter().map(|&(b, ty)| buffer_entry(b, ty)).collect();
        build_kernel(&ctx.device, id, &wgsl, entry, &entries)
    })
}

impl Kernels {
    pub(crate) fn new(ctx: &GpuContext) -> Self {
        use wgpu::BufferBindingType::{Storage, Uniform};
        let ro = Storage { read_only: true };
        let rw = Storage { read_only: false };
        let spectrum = [(0, Uniform), (1, ro), (2, rw), (3, rw), (4, rw)];
        Self {
            prepare: get(ctx, "registration.prepare", PREPARE, "prepare", &[(0, Uniform), (1, ro), (2, ro), (3, rw)]),
            fft: get(ctx, "registration.fft_lines", FFT, "fft_lines", &[(0, Uniform), (1, Uniform), (2, ro), (3, rw)]),
            fft_combine: get(ctx, "registration.fft_combine", FFT, "fft_combine", &[(0, Uniform), (1, Uniform), (2, ro), (3, rw)]),
            template_conj: get(ctx, "registration.template_conj", SPECTRUM, "template_conj", &spectrum),
            cross_power: get(ctx, "registration.cross_power", SPECTRUM, "cross_power", &spectrum),
            peak: get(ctx, "registration.peak", PEAK, "peak", &[(0, Uniform), (1, ro), (2, ro), (3, rw)]),
            refine_stage: get(ctx, "registration.refine_stage", REFINE, "refine_stage", &[(0, Uniform), (1, ro), (2, ro), (3, rw), (4, rw)]),
            refine_grid: get(ctx, "registration.refine_grid", REFINE, "refine_grid", &[(0, Uniform), (1, ro), (3, rw), (4, rw), (5, rw)]),
            warp: get(ctx, "registration.warp_rigid", WARP, "warp_rigid", &[(0, Uniform), (1, ro), (2, ro), (3, rw)]),
        }
    }
}

/// A bind group for `kernel` binding `buffers` as (binding, buffer) pairs.
pub(crate) fn bind(device: &wgpu::Device, label: &str, kernel: &Kernel, buffers: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
    let entries: Vec<_> = buffers.iter().map(|&(binding, b)| wgpu::BindGroupEntry { binding, resource: b.as_entire_binding() }).collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &kernel.layout, entries: &entries })
}

