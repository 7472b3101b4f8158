//! CNMF-E's correlation and PNR images in WGSL (`shaders/compute/extraction/corr_pnr.wgsl`); CPU twin:
//! `mesmerize_core::extraction::summary::corr_pnr`.
//!
//! The movie is uploaded once ([`GpuSummary::upload`]); each [`GpuSummary::compute`] (one per `gSig` the user
//! tries) filters it, computes the per-pixel statistics (mean, max, PSD noise by an FFT per pixel; see
//! `pixel_stats.rs`) and sums the neighbour products of the thresholded data, all on the device in one submission;
//! only the two images come back. Devices whose workgroup memory cannot hold the FFT read the filtered movie back
//! and compute the statistics on the CPU instead.

use std::sync::Arc;

use mesmerize_core::extraction::summary::corr_pnr::pixel_statistics;
use mesmerize_core::extraction::summary::neighbours::Standardise;
use mesmerize_core::extraction::summary::{CorrPnr, GsigFilter};
use mesmerize_core::extraction::{ExtractionError, Movie};
use mesmerize_core::progress::Progress;

use super::pixel_stats::{FrameChunk, PixelStats};
use crate::buffers::{binding, read_back_f32, storage_f32, storage_from, uniform_from};
use crate::error::GpuError;
use crate::pipeline_cache::{Kernel, buffer_entry, build_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/corr_pnr.wgsl");
const WORKGROUP: u32 = 256;
/// Largest movie chunk held in one buffer.
const CHUNK_BYTES: u64 = 256 << 20;
/// Most workgroups along one dispatch dimension that every adapter allows.
const MAX_GROUPS: u32 = 65535;

/// Uniforms of `corr_pnr.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    nz: u32,
    h: u32,
    w: u32,
    n_frames: u32,
    cy: u32,
    cx: u32,
    row_pitch: u32,
    first: u32,
}

/// Floats of input one 16 x 16 block of `filter_tiled` may read (its `PATCH`).
const PATCH: usize = 3600;

/// The kernels of `corr_pnr.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `filter_frames`: one invocation per output, taps read from storage (any kernel size).
    Filter,
    /// `filter_tiled`: 16 x 16 outputs per workgroup from a tile in workgroup memory.
    FilterTiled,
    /// `correlate`.
    Correlate,
}

/// The filter kernels (bindings 0-3) or the correlation kernel (bindings 0, 3, 4, 5): at most 3 storage buffers
/// each, within the downlevel limit of 4.
fn kernel(ctx: &GpuContext, step: Step) -> Arc<Kernel> {
    use wgpu::BufferBindingType::{Storage, Uniform};
    let correlate = step == Step::Correlate;
    let (id, entry) = match step {
        Step::Filter => ("summary.filter", "filter_frames"),
        Step::FilterTiled => ("summary.filter_tiled", "filter_tiled"),
        Step::Correlate => ("summary.correlate", "correlate"),
    };
    ctx.pipelines().get_or_create(id, || {
        let entries = if correlate {
            [
                buffer_entry(0, Uniform),
                buffer_entry(3, Storage { read_only: false }),
                buffer_entry(4, Storage { read_only: true }),
                buffer_entry(5, Storage { read_only: false }),
            ]
        } else {
            [
                buffer_entry(0, Uniform),
                buffer_entry(1, Storage { read_only: true }),
                buffer_entry(2, Storage { read_only: true }),
                buffer_entry(3, Storage { read_only: false }),
            ]
        };
        build_kernel(&ctx.device, id, WGSL, entry, &entries)
    })
}

/// Frames `[start, start + frames)` of the movie and their filtered twin on the device.
struct Chunk {
    frames: usize,
    movie: wgpu::Buffer,
    filtered: wgpu::Buffer,
}

/// A movie held on the device, from which correlation / PNR images are computed for any `gSig`.
pub struct GpuSummary<'a> {
    ctx: &'a GpuContext,
    dims: Vec<usize>,
    t: usize,
    chunks: Vec<Chunk>,
    zpar: wgpu::Buffer,
    sums: wgpu::Buffer,
    /// Device statistics, or `None` to compute them on the CPU.
    stats: Option<PixelStats>,
}

fn dev(e: GpuError) -> ExtractionError {
    ExtractionError::Device(e.to_string())
}

/// Lateral `(Z, H, W)` of 2D or 3D dims.
fn zhw(dims: &[usize]) -> (usize, usize, usize) {
    match dims {
        [h, w] => (1, *h, *w),
        [z, h, w] => (*z, *h, *w),
        _ => (1, 1, dims.iter().product()),
    }
}

impl<'a> GpuSummary<'a> {
    /// Upload the movie once, in chunks of frames that fit the device's binding limit.
    pub fn upload(ctx: &'a GpuContext, movie: &Movie) -> Result<Self, ExtractionError> {
        Self::upload_in_chunks(ctx, movie, CHUNK_BYTES)
    }

    /// [`Self::upload`] with buffers of at most `chunk_bytes` (tests use small ones to cover several frame chunks
    /// and pixel blocks on small movies).
    pub fn upload_in_chunks(ctx: &'a GpuContext, movie: &Movie, chunk_bytes: u64) -> Result<Self, ExtractionError> {
        let d = movie.d();
        let max_binding = ctx.max_binding().min(chunk_bytes);
        let frame_bytes = d as u64 * 4;
        if d == 0 || frame_bytes > max_binding || (d as u64).div_ceil(u64::from(WORKGROUP)) > u64::from(MAX_GROUPS) {
            return Err(dev(GpuError::TooLarge(format!("frames of {:?} exceed the device's binding limit", movie.dims))));
        }
        let per_chunk = ((max_binding / frame_bytes) as usize).max(1);
        let chunks = movie
            .data
            .chunks(per_chunk * d)
            .map(|data| Chunk {
                frames: data.len() / d,
                movie: storage_from(&ctx.device, "summary.movie", data),
                filtered: storage_f32(&ctx.device, "summary.filtered", data.len()),
            })
            .collect();
        let zpar = storage_f32(&ctx.device, "summary.zpar", 4 * d);
        let sums = storage_f32(&ctx.device, "summary.sums", d);
        let stats = PixelStats::new(ctx, d, movie.t, max_binding);
        Ok(Self { ctx, dims: movie.dims.clone(), t: movie.t, chunks, zpar, sums, stats })
    }

    /// Correlation and PNR images for this `gSig` (CaImAn's `correlation_pnr` semantics, as the CPU twin).
    pub fn compute(&self, gsig: &[f64], center_psf: bool, progress: &dyn Progress) -> Result<CorrPnr, ExtractionError> {
        let filter = GsigFilter::new(gsig, &self.dims, center_psf)?;
        let (nz, h, w) = zhw(&self.dims);
        let d = nz * h * w;
        let ctx = self.ctx;
        // The kernel, then each row offset's half-width of kept taps.
        let mut taps = filter.kernel_2d();
        taps.extend(filter.half_widths.iter().map(|&hw| hw as f32));
        let taps = storage_from(&ctx.device, "summary.taps", &taps);
        let tiled = (16 + 2 * filter.cy()) * (16 + 2 * filter.cx()) <= PATCH;
        let filter_k = kernel(ctx, if tiled { Step::FilterTiled } else { Step::Filter });
        let corr_k = kernel(ctx, Step::Correlate);
        let groups = (d as u32).div_ceil(WORKGROUP);
        let (gx, gy) = (groups.min(MAX_GROUPS), groups.div_ceil(MAX_GROUPS));
        let row_pitch = gx * WORKGROUP;
        let bind_groups: Vec<(wgpu::BindGroup, wgpu::BindGroup)> = self
            .chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = Params {
                    nz: nz as u32,
                    h: h as u32,
                    w: w as u32,
                    n_frames: c.frames as u32,
                    cy: filter.cy() as u32,
                    cx: filter.cx() as u32,
                    row_pitch,
                    first: u32::from(i == 0),
                };
                let params = uniform_from(&ctx.device, "summary.params", &p);
                let filter_bg = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("summary.filter.bind_group"),
                    layout: &filter_k.layout,
                    entries: &[binding(0, &params), binding(1, &c.movie), binding(2, &taps), binding(3, &c.filtered)],
                });
                let corr_bg = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("summary.correlate.bind_group"),
                    layout: &corr_k.layout,
                    entries: &[binding(0, &params), binding(3, &c.filtered), binding(4, &self.zpar), binding(5, &self.sums)],
                });
                (filter_bg, corr_bg)
            })
            .collect();
        let filter_bgs: Vec<&wgpu::BindGroup> = bind_groups.iter().map(|b| &b.0).collect();
        let corr_bgs: Vec<&wgpu::BindGroup> = bind_groups.iter().map(|b| &b.1).collect();
        let filter_size = |c: &Chunk| {
            let f = c.frames as u32;
            if tiled {
                ((w as u32).div_ceil(16), (h as u32).div_ceil(16), (f * nz as u32).min(MAX_GROUPS))
            } else {
                (groups, f.min(MAX_GROUPS), f.div_ceil(MAX_GROUPS))
            }
        };
        let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("summary") });
        self.record(&mut enc, "summary.filter", &filter_k, &filter_bgs, filter_size);
        let (pnr, sums) = match &self.stats {
            Some(stats) => {
                progress.start("correlation and PNR (GPU)", 1);
                let mut f0 = 0;
                let frame_chunks: Vec<FrameChunk<'_>> = self
                    .chunks
                    .iter()
                    .map(|c| {
                        f0 += c.frames;
                        FrameChunk { buffer: &c.filtered, f0: f0 - c.frames, frames: c.frames }
                    })
                    .collect();
                stats.record(ctx, &mut enc, &frame_chunks, &self.zpar);
                self.record(&mut enc, "summary.correlate", &corr_k, &corr_bgs, |_| (gx, gy, 1));
                ctx.queue.submit(Some(enc.finish()));
                let mut out = read_back_f32(&ctx.device, &ctx.queue, &[&self.sums, stats.noise()]).map_err(dev)?;
                progress.advance(1);
                let noise = out.pop().unwrap_or_default();
                let sums = out.pop().unwrap_or_default();
                (noise.chunks_exact(4).map(|v| v[2]).collect(), sums)
            }
            None => {
                progress.start("spatial filter (GPU)", 1);
                ctx.queue.submit(Some(enc.finish()));
                let parts = read_back_f32(&ctx.device, &ctx.queue, &self.chunks.iter().map(|c| &c.filtered).collect::<Vec<_>>())
                    .map_err(dev)?;
                progress.advance(1);
                if progress.cancelled() {
                    return Err(ExtractionError::Cancelled);
                }
                let filtered: Vec<f32> = parts.concat();
                let (pnr, z) = pixel_statistics(&filtered, d, self.t, progress)?;
                drop(filtered);
                let zflat: Vec<[f32; 4]> = z.iter().map(|s: &Standardise| [s.mean, s.thr, s.scale, s.offset]).collect();
                ctx.queue.write_buffer(&self.zpar, 0, bytemuck::cast_slice(&zflat));
                progress.start("correlation image (GPU)", 1);
                let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("summary") });
                self.record(&mut enc, "summary.correlate", &corr_k, &corr_bgs, |_| (gx, gy, 1));
                ctx.queue.submit(Some(enc.finish()));
                let sums = read_back_f32(&ctx.device, &ctx.queue, &[&self.sums]).map_err(dev)?.concat();
                progress.advance(1);
                (pnr, sums)
            }
        };
        let count = |n: usize, i: usize| if n == 1 { 1 } else { 1 + usize::from(i > 0) + usize::from(i + 1 < n) };
        let corr = (0..d)
            .map(|p| {
                let n = count(nz, p / (h * w)) * count(h, (p / w) % h) * count(w, p % w) - 1;
                if n == 0 { 0.0 } else { (sums[p] as f64 / (self.t as f64 * n as f64)) as f32 }
            })
            .collect();
        Ok(CorrPnr { dims: self.dims.clone(), corr, pnr })
    }

    /// Whether the per-pixel statistics run on the device (else on the CPU after a read-back).
    pub fn statistics_on_device(&self) -> bool {
        self.stats.is_some()
    }

    /// Record one dispatch of `k` per chunk, in order, in one compute pass.
    fn record(&self, enc: &mut wgpu::CommandEncoder, label: &str, k: &Kernel, groups: &[&wgpu::BindGroup], size: impl Fn(&Chunk) -> (u32, u32, u32)) {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None });
        pass.set_pipeline(&k.pipeline);
        for (c, bg) in self.chunks.iter().zip(groups) {
            let (x, y, z) = size(c);
            pass.set_bind_group(0, *bg, &[]);
            pass.dispatch_workgroups(x, y, z);
        }
    }
}
