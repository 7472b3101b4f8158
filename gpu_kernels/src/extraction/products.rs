//! The CNMF factor products `A^T Y` and `Y C^T` (on a sparsity pattern) in WGSL
//! (`shaders/compute/extraction/products.wgsl`); CPU twin: `mesmerize_core::extraction::products::CpuProducts`.
//! The same [`FactorProducts`] also hands the HALS sweeps and `A^T A` to `hals.rs` (problems under
//! [`HALS_MIN_WORK`] stay on the CPU), CNMF-E's ring subtraction to `ring.rs` and its ring fit's covariance images
//! to `lagcov.rs`.
//!
//! [`GpuProducts`] uploads the pixel-major movie once, in chunks of whole pixel rows that fit the device's
//! binding limits, and then serves [`FactorProducts`] calls: per call only the sparse pattern (and `C`) go up and
//! the `K x T` / per-entry results come back.
//!
//! Which movie a call runs on: the engine passes `&PixelMajor` on every call, so each call identifies its movie
//! by address, length, shape and a fingerprint of ~1000 sampled values ([`MovieKey`]).
//! - the movie given to [`GpuProducts::new`] stays resident (the "primary"), whatever its size
//!   ([`GpuProducts::without_movie`] has none: CNMF-E makes its movies during the fit);
//! - any other movie smaller than [`CPU_BELOW_BYTES`] (the per-patch sub-movies) is delegated to [`CpuProducts`]:
//!   patches run on several threads, and on the device they would take turns at one lock and one upload slot;
//! - any other, larger movie (e.g. CNMF-E's background-subtracted movie) is uploaded into one "secondary" slot,
//!   kept until a different large movie replaces it, so repeated HALS calls on it upload once.
//!
//! A movie must not be changed in place between calls while keeping its address: the fingerprint samples only
//! ~1000 values. Any device failure during a call (out of memory, readback) is logged and the call is answered by
//! [`CpuProducts`], since the trait has no error channel; a movie that failed to upload stays on the CPU.
//! Product calls from several threads are served one at a time (one lock around the device state); the HALS,
//! ring and covariance kernels hold no movie and submit independently.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::result::RingBackground;
use mesmerize_core::extraction::cnmfe::lagcov::{ChunkedSeries, LagCov, LagSet};
use mesmerize_core::extraction::{ExtractionError, Movie, SparseColumns};
use mesmerize_core::progress::Progress;
use mesmerize_core::extraction::products::{CpuProducts, FactorProducts};
use mesmerize_core::extraction::sweeps::{SpatialSweeps, TemporalSweeps};
use ndarray::Array2;

use crate::buffers::{binding, read_through, uniform_from};
use crate::error::{GpuError, fits_u32};
use crate::pipeline_cache::{Kernel, buffer_entry, build_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/products.wgsl");
/// vec4s (4 time points each) per `at_y` workgroup; keep in sync with `TILE4` in products.wgsl.
const TILE4: usize = 64;
/// Entries per `y_ct_on` workgroup; keep in sync with `PER_GROUP` in products.wgsl.
const PER_GROUP: usize = 32;
/// Most entries one `at_y` workgroup sums before writing a partial row (parallelism for dense columns vs the
/// extra partial traffic, 1 / BLOCK of the movie reads).
const BLOCK: usize = 256;
/// Largest movie chunk held in one buffer unless the caller asks for less.
const DEFAULT_CHUNK_BYTES: u64 = 1 << 30;
/// Bytes written to the device per queue submission while uploading a movie.
const UPLOAD_PIECE: usize = 64 << 20;
/// Movies other than the resident one that are smaller than this (bytes) are computed on the CPU. Measured on an
/// H100 with 16 CPU cores (2026-11-26): at 8 MB, CNMF's 25 MB patch movies (512x512x1000, rf 40) went to the
/// device one patch at a time, and the patch phase took 3.1 s against 0.86 s on the CPU.
pub const CPU_BELOW_BYTES: usize = 256 << 20;
/// HALS problems (sweeps, `A^T A`) with fewer multiply-adds than this (roughly) are solved on the CPU: per-patch
/// problems take well under a millisecond there, about what one upload, dispatch and read-back costs.
pub const HALS_MIN_WORK: usize = 1 << 22;

/// Uniforms of `products.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    t4: u32,
    n_tiles: u32,
    item_offset: u32,
    item_count: u32,
    pixel_offset: u32,
    n_cols: u32,
    _pad0: u32,
    _pad1: u32,
}

/// The three kernels of products.wgsl, built once per device.
#[derive(Clone, Copy)]
enum Stage {
    AtY,
    AtYReduce,
    YCtOn,
}

fn kernel(ctx: &GpuContext, stage: Stage) -> Arc<Kernel> {
    use wgpu::BufferBindingType::{Storage, Uniform};
    let ro = Storage { read_only: true };
    let rw = Storage { read_only: false };
    let (id, entry, entries) = match stage {
        Stage::AtY => (
            "extraction.products.at_y",
            "at_y",
            vec![buffer_entry(0, Uniform), buffer_entry(1, ro), buffer_entry(2, ro), buffer_entry(3, ro), buffer_entry(4, rw)],
        ),
        Stage::AtYReduce => (
            "extraction.products.at_y_reduce",
            "at_y_reduce",
            vec![buffer_entry(0, Uniform), buffer_entry(5, ro), buffer_entry(6, ro), buffer_entry(7, rw)],
        ),
        Stage::YCtOn => (
            "extraction.products.y_ct_on",
            "y_ct_on",
            vec![buffer_entry(0, Uniform), buffer_entry(1, ro), buffer_entry(8, ro), buffer_entry(9, ro), buffer_entry(10, rw)],
        ),
    };
    ctx.pipelines().get_or_create(id, || build_kernel(&ctx.device, id, WGSL, entry, &entries))
}

/// Identity of a movie passed to a call: address, length, shape and a fingerprint of sampled values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovieKey {
    ptr: usize,
    len: usize,
    d: usize,
    t: usize,
    fingerprint: u64,
}

impl MovieKey {
    /// Key of `y` (reads ~1000 values).
    pub fn of(y: &PixelMajor) -> Self {
        let n = y.data.len();
        let step = (n / 1024).max(1);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |v: f32| h = (h ^ u64::from(v.to_bits())).wrapping_mul(0x0000_0100_0000_01b3);
        for i in (0..n).step_by(step) {
            mix(y.data[i]);
        }
        if let Some(&last) = y.data.last() {
            mix(last);
        }
        Self { ptr: y.data.as_ptr() as usize, len: n, d: y.d, t: y.t, fingerprint: h }
    }
}

/// Pixels from `first` on (as many as the buffer holds) of a resident movie.
struct Chunk {
    first: usize,
    buffer: wgpu::Buffer,
}

/// A movie held on the device.
struct Resident {
    key: MovieKey,
    pixels_per_chunk: usize,
    chunks: Vec<Chunk>,
}

/// Grow-only per-call buffers, reused across calls (patterns shrink as components are pruned).
#[derive(Default)]
struct Scratch(HashMap<&'static str, wgpu::Buffer>);

impl Scratch {
    fn get(&mut self, device: &wgpu::Device, label: &'static str, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let bytes = bytes.next_multiple_of(16).max(16);
        if let Some(b) = self.0.get(label)
            && b.size() >= bytes
        {
            return b.clone();
        }
        let b = device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size: bytes, usage, mapped_at_creation: false });
        self.0.insert(label, b.clone());
        b
    }
}

struct State {
    /// The movie given at construction (none for [`GpuProducts::without_movie`]).
    primary: Option<Resident>,
    secondary: Option<Resident>,
    /// The last movie whose upload failed: answered on the CPU without retrying.
    failed: Option<MovieKey>,
    scratch: Scratch,
}

/// Which resident movie a call runs on.
#[derive(Clone, Copy)]
enum Slot {
    Primary,
    Secondary,
}

impl State {
    /// The resident movie in `slot` and the scratch buffers, borrowed together.
    fn parts(&mut self, slot: Slot) -> Option<(&Resident, &mut Scratch)> {
        let res = match slot {
            Slot::Primary => self.primary.as_ref()?,
            Slot::Secondary => self.secondary.as_ref()?,
        };
        Some((res, &mut self.scratch))
    }
}

/// [`FactorProducts`] on a wgpu device, holding the movie on the device between calls.
pub struct GpuProducts {
    ctx: GpuContext,
    chunk_bytes: u64,
    /// HALS problems (sweeps, `A^T A`) with less work than this (multiply-adds, roughly) stay on the CPU.
    min_work: usize,
    /// Other movies smaller than this (bytes) stay on the CPU ([`CPU_BELOW_BYTES`] unless a test says otherwise).
    cpu_below: usize,
    state: Mutex<State>,
    counts: [AtomicU64; 3],
}

/// How the calls so far were answered (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallCounts {
    /// By the device.
    pub gpu: u64,
    /// Delegated to the CPU twin by rule (small other movies, shapes the kernels do not take).
    pub cpu: u64,
    /// Answered by the CPU twin after a device failure (logged).
    pub failed: u64,
}

fn storage_usage() -> wgpu::BufferUsages {
    wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC
}

/// Time points per row on the device: padded to whole vec4s.
fn padded(t: usize) -> usize {
    t.next_multiple_of(4)
}

/// Workgroup grid for `total` groups within the per-dimension limit (the kernels linearise `x + y * nx`).
fn grid(ctx: &GpuContext, total: usize) -> Result<(u32, u32), GpuError> {
    let max_dim = ctx.device.limits().max_compute_workgroups_per_dimension.max(1) as usize;
    let gx = total.min(max_dim);
    let gy = total.div_ceil(gx.max(1));
    if gy > max_dim {
        return Err(GpuError::TooLarge(format!("{total} workgroups exceed the dispatch limit")));
    }
    Ok((gx as u32, gy as u32))
}

/// The movie's chunks as device buffers (inside the caller's error scopes).
fn upload_chunks(ctx: &GpuContext, y: &PixelMajor, pixels_per_chunk: usize) -> Result<Vec<Chunk>, GpuError> {
    let (t, tp) = (y.t, padded(y.t));
    let rows_per_piece = (UPLOAD_PIECE / (tp * 4)).max(1);
    let mut chunks = Vec::new();
    let mut staged = Vec::new();
    for (i, data) in y.data.chunks(pixels_per_chunk * t).enumerate() {
        let pixels = data.len() / t;
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("extraction.products.movie"),
            size: (pixels * tp * 4) as u64,
            usage: storage_usage(),
            mapped_at_creation: false,
        });
        // In pieces, waiting for each, so wgpu's staging copies stay small; rows padded with zeros to `tp`.
        for (j, piece) in data.chunks(rows_per_piece * t).enumerate() {
            let bytes: &[u8] = if tp == t {
                bytemuck::cast_slice(piece)
            } else {
                staged.clear();
                for row in piece.chunks(t) {
                    staged.extend_from_slice(row);
                    staged.resize(staged.len() + tp - t, 0.0f32);
                }
                bytemuck::cast_slice(&staged)
            };
            ctx.queue.write_buffer(&buffer, (j * rows_per_piece * tp * 4) as u64, bytes);
            ctx.queue.submit(None);
            ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
        }
        chunks.push(Chunk { first: i * pixels_per_chunk, buffer });
    }
    Ok(chunks)
}

fn upload(ctx: &GpuContext, y: &PixelMajor, chunk_cap: u64) -> Result<Resident, GpuError> {
    if y.t == 0 || y.d == 0 {
        return Err(GpuError::TooLarge(format!("an empty movie ({} x {}) cannot be held on the device", y.d, y.t)));
    }
    let row_bytes = padded(y.t) as u64 * 4;
    let cap = ctx.max_binding().min(chunk_cap);
    if row_bytes > cap {
        return Err(GpuError::TooLarge(format!("one pixel's {} time points exceed the binding limit of {cap} bytes", y.t)));
    }
    fits_u32("pixels", y.d)?;
    let pixels_per_chunk = ((cap / row_bytes) as usize).max(1);
    ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let chunks = upload_chunks(ctx, y, pixels_per_chunk);
    let validation = pollster::block_on(ctx.device.pop_error_scope());
    let oom = pollster::block_on(ctx.device.pop_error_scope());
    let chunks = chunks?;
    if let Some(e) = oom.or(validation) {
        return Err(GpuError::TooLarge(format!("uploading a {} MB movie: {e}", (y.data.len() * 4) >> 20)));
    }
    tracing::debug!("products: movie {} x {} resident in {} chunk(s)", y.d, y.t, chunks.len());
    Ok(Resident { key: MovieKey::of(y), pixels_per_chunk, chunks })
}

/// Copy `len` f32s of `src` into the staging buffer within `enc`, submit, wait and read them back.
fn finish_and_read(
    ctx: &GpuContext,
    scratch: &mut Scratch,
    enc: wgpu::CommandEncoder,
    src: &wgpu::Buffer,
    len: usize,
) -> Result<Vec<f32>, GpuError> {
    let bytes = (len as u64 * 4).max(4);
    let staging =
        scratch.get(&ctx.device, "extraction.products.staging", bytes, wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
    read_through(&ctx.device, &ctx.queue, enc, src, &staging, len, <[f32]>::to_vec)
}

/// Work items bucketed by movie chunk (chunk-major) and `(offset, count)` of each chunk's items.
type Bucketed = (Vec<[u32; 4]>, Vec<(u32, u32)>);

fn concat(per_chunk: Vec<Vec<[u32; 4]>>) -> Bucketed {
    let mut items = Vec::with_capacity(per_chunk.iter().map(Vec::len).sum());
    let mut ranges = Vec::with_capacity(per_chunk.len());
    for b in per_chunk {
        ranges.push((items.len() as u32, b.len() as u32));
        items.extend(b);
    }
    (items, ranges)
}

/// `at_y` plan: entry blocks bucketed by chunk (each block within one column and one chunk) and the partial rows
/// of each column.
struct AtYPlan {
    blocks: Vec<[u32; 4]>,
    /// `(offset, count)` into `blocks` per chunk.
    ranges: Vec<(u32, u32)>,
    row_ptr: Vec<u32>,
    rows: usize,
}

fn plan_at_y(a: &SparseColumns, pixels_per_chunk: usize, n_chunks: usize) -> Result<AtYPlan, GpuError> {
    let mut per_chunk: Vec<Vec<[u32; 4]>> = vec![Vec::new(); n_chunks];
    let mut row_ptr = Vec::with_capacity(a.n_cols() + 1);
    let mut rows = 0usize;
    for k in 0..a.n_cols() {
        row_ptr.push(fits_u32("partial rows", rows)?);
        let (s, e) = (a.indptr[k], a.indptr[k + 1]);
        let mut i = s;
        while i < e {
            let chunk = a.indices[i] as usize / pixels_per_chunk;
            let end_pixel = (chunk + 1) * pixels_per_chunk;
            let lim = (i + BLOCK).min(e);
            let mut j = i + 1;
            while j < lim && (a.indices[j] as usize) < end_pixel && (a.indices[j] as usize) >= chunk * pixels_per_chunk {
                j += 1;
            }
            per_chunk[chunk].push([fits_u32("entry", i)?, fits_u32("entry", j)?, fits_u32("partial rows", rows)?, 0]);
            rows += 1;
            i = j;
        }
    }
    row_ptr.push(fits_u32("partial rows", rows)?);
    let (blocks, ranges) = concat(per_chunk);
    Ok(AtYPlan { blocks, ranges, row_ptr, rows })
}

/// `y_ct_on` items `(entry, pixel, column, 0)` bucketed by chunk, with `(offset, count)` per chunk.
fn plan_y_ct_on(pattern: &SparseColumns, pixels_per_chunk: usize, n_chunks: usize) -> Result<Bucketed, GpuError> {
    let mut per_chunk: Vec<Vec<[u32; 4]>> = vec![Vec::new(); n_chunks];
    fits_u32("entries", pattern.indices.len())?;
    for k in 0..pattern.n_cols() {
        for e in pattern.indptr[k]..pattern.indptr[k + 1] {
            let p = pattern.indices[e];
            per_chunk[p as usize / pixels_per_chunk].push([e as u32, p, k as u32, 0]);
        }
    }
    Ok(concat(per_chunk))
}

impl GpuProducts {
    /// Upload `y` (the movie most calls will use) and keep it on the device.
    pub fn new(ctx: &GpuContext, y: &PixelMajor) -> Result<Self, GpuError> {
        Self::with_chunk_bytes(ctx, y, DEFAULT_CHUNK_BYTES)
    }

    /// As [`GpuProducts::new`], with movie chunks of at most `chunk_bytes` (tests use it to force several chunks).
    pub fn with_chunk_bytes(ctx: &GpuContext, y: &PixelMajor, chunk_bytes: u64) -> Result<Self, GpuError> {
        let primary = Some(upload(ctx, y, chunk_bytes)?);
        let state = Mutex::new(State { primary, secondary: None, failed: None, scratch: Scratch::default() });
        Ok(Self { ctx: ctx.clone(), chunk_bytes, min_work: HALS_MIN_WORK, cpu_below: CPU_BELOW_BYTES, state, counts: Default::default() })
    }

    /// Products for a fit whose movies are made during it (CNMF-E's background-subtracted movie, rebuilt after
    /// each ring refit): each large movie is uploaded when first used and kept until the next one replaces it.
    pub fn without_movie(ctx: &GpuContext) -> Self {
        let state = Mutex::new(State { primary: None, secondary: None, failed: None, scratch: Scratch::default() });
        Self { ctx: ctx.clone(), chunk_bytes: DEFAULT_CHUNK_BYTES, min_work: HALS_MIN_WORK, cpu_below: CPU_BELOW_BYTES, state, counts: Default::default() }
    }

    /// The same products with other movies of at least `bytes` uploaded (tests use a small value to exercise the
    /// secondary slot with small movies).
    pub fn with_cpu_below(mut self, bytes: usize) -> Self {
        self.cpu_below = bytes;
        self
    }

    /// The same products with HALS problems of at least `work` multiply-adds on the device (tests pass 0 to run
    /// every problem there).
    pub fn with_min_work(mut self, work: usize) -> Self {
        self.min_work = work;
        self
    }

    /// How the calls so far were answered.
    pub fn counts(&self) -> CallCounts {
        let [gpu, cpu, failed] = self.counts.each_ref().map(|c| c.load(Ordering::Relaxed));
        CallCounts { gpu, cpu, failed }
    }

    /// Count one call answered by `path` (0 device, 1 CPU by rule, 2 CPU after a failure).
    fn count(&self, path: usize) {
        self.counts[path].fetch_add(1, Ordering::Relaxed);
    }

    /// The device's answer, or (counted and logged) the CPU twin's after a device failure.
    fn device_or_cpu<T>(&self, what: &str, on_device: Result<T, GpuError>, cpu: impl FnOnce() -> T) -> T {
        match on_device {
            Ok(v) => {
                self.count(0);
                v
            }
            Err(e) => {
                self.count(2);
                tracing::warn!("GPU {what} failed ({e}); computing it on the CPU");
                cpu()
            }
        }
    }

    /// The CPU twin's answer for a call the rules keep off the device (small movies and problems), counted.
    fn by_rule<T>(&self, cpu: impl FnOnce() -> T) -> T {
        self.count(1);
        cpu()
    }

    /// Number of device buffers the resident movie is split into (0 without one).
    pub fn chunks(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).primary.as_ref().map_or(0, |r| r.chunks.len())
    }

    /// Where the device copy of `y` is, uploading it into the secondary slot if needed; `None`: use the CPU.
    fn locate(&self, state: &mut State, y: &PixelMajor) -> Result<Option<Slot>, GpuError> {
        let key = MovieKey::of(y);
        if state.primary.as_ref().is_some_and(|r| r.key == key) {
            return Ok(Some(Slot::Primary));
        }
        if state.secondary.as_ref().is_some_and(|r| r.key == key) {
            return Ok(Some(Slot::Secondary));
        }
        if y.data.len() * 4 < self.cpu_below || state.failed == Some(key) {
            return Ok(None);
        }
        tracing::debug!("products: uploading a second movie ({} x {})", y.d, y.t);
        state.secondary = None;
        match upload(&self.ctx, y, self.chunk_bytes) {
            Ok(r) => state.secondary = Some(r),
            Err(e) => {
                state.failed = Some(key);
                return Err(e);
            }
        }
        Ok(Some(Slot::Secondary))
    }

    /// `A^T Y` on the device; `Ok(None)` when the CPU twin should answer.
    fn try_at_y(&self, a: &SparseColumns, y: &PixelMajor) -> Result<Option<Array2<f32>>, GpuError> {
        let (k, t) = (a.n_cols(), y.t);
        if k == 0 || t == 0 || a.indices.is_empty() {
            return Ok(Some(Array2::zeros((k, t))));
        }
        if a.indices.iter().any(|&p| p as usize >= y.d) {
            return Ok(None);
        }
        let ctx = &self.ctx;
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let Some(slot) = self.locate(state, y)? else { return Ok(None) };
        let Some((res, sc)) = state.parts(slot) else { return Ok(None) };
        let plan = plan_at_y(a, res.pixels_per_chunk, res.chunks.len())?;
        let limit = ctx.max_binding();
        let tp = padded(t);
        let (partial_bytes, out_bytes, entry_bytes) = ((plan.rows * tp * 4) as u64, (k * tp * 4) as u64, (a.indices.len() * 8) as u64);
        if partial_bytes.max(out_bytes).max(entry_bytes) > limit {
            return Err(GpuError::TooLarge(format!("A^T Y of {k} columns x {t} frames exceeds the binding limit")));
        }
        let entries: Vec<[u32; 2]> = a.indices.iter().zip(&a.data).map(|(&p, &v)| [p, v.to_bits()]).collect();
        let dev = &ctx.device;
        let entries_buf = sc.get(dev, "extraction.products.entries", entry_bytes, storage_usage());
        let blocks_buf = sc.get(dev, "extraction.products.blocks", (plan.blocks.len() * 16) as u64, storage_usage());
        let row_ptr_buf = sc.get(dev, "extraction.products.row_ptr", (plan.row_ptr.len() * 4) as u64, storage_usage());
        let partials = sc.get(dev, "extraction.products.partials", partial_bytes, storage_usage());
        let out = sc.get(dev, "extraction.products.out_kt", out_bytes, storage_usage());
        ctx.queue.write_buffer(&entries_buf, 0, bytemuck::cast_slice(&entries));
        ctx.queue.write_buffer(&blocks_buf, 0, bytemuck::cast_slice(&plan.blocks));
        ctx.queue.write_buffer(&row_ptr_buf, 0, bytemuck::cast_slice(&plan.row_ptr));
        let n_tiles = (tp / 4).div_ceil(TILE4);
        let base = Params {
            t4: fits_u32("frames", tp / 4)?,
            n_tiles: n_tiles as u32,
            item_offset: 0,
            item_count: 0,
            pixel_offset: 0,
            n_cols: k as u32,
            _pad0: 0,
            _pad1: 0,
        };
        let pass1 = kernel(ctx, Stage::AtY);
        let pass2 = kernel(ctx, Stage::AtYReduce);
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("extraction.products.at_y") });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("extraction.products.at_y"), timestamp_writes: None });
            pass.set_pipeline(&pass1.pipeline);
            for (chunk, &(offset, count)) in res.chunks.iter().zip(&plan.ranges) {
                if count == 0 {
                    continue;
                }
                let p = Params { item_offset: offset, item_count: count, pixel_offset: chunk.first as u32, ..base };
                let params = uniform_from(dev, "extraction.products.at_y.params", &p);
                let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("extraction.products.at_y.bind_group"),
                    layout: &pass1.layout,
                    entries: &[binding(0, &params), binding(1, &chunk.buffer), binding(2, &entries_buf), binding(3, &blocks_buf), binding(4, &partials)],
                });
                let (gx, gy) = grid(ctx, count as usize * n_tiles)?;
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("extraction.products.at_y_reduce"),
                timestamp_writes: None,
            });
            let params = uniform_from(dev, "extraction.products.at_y_reduce.params", &base);
            let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("extraction.products.at_y_reduce.bind_group"),
                layout: &pass2.layout,
                entries: &[binding(0, &params), binding(5, &row_ptr_buf), binding(6, &partials), binding(7, &out)],
            });
            let (gx, gy) = grid(ctx, k * n_tiles)?;
            pass.set_pipeline(&pass2.pipeline);
            pass.set_bind_group(0, &bg, &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        let data = finish_and_read(ctx, sc, enc, &out, k * tp)?;
        let data = if tp == t { data } else { data.chunks(tp).flat_map(|row| &row[..t]).copied().collect() };
        Array2::from_shape_vec((k, t), data).map(Some).map_err(|e| GpuError::Readback(e.to_string()))
    }

    /// `Y C^T` on the pattern's entries on the device; `Ok(None)` when the CPU twin should answer.
    fn try_y_ct_on(&self, y: &PixelMajor, c: &Array2<f32>, pattern: &SparseColumns) -> Result<Option<Vec<f32>>, GpuError> {
        let (n, t) = (pattern.indices.len(), y.t);
        if n == 0 {
            return Ok(Some(Vec::new()));
        }
        if c.ncols() != t || c.nrows() < pattern.n_cols() || pattern.indices.iter().any(|&p| p as usize >= y.d) {
            return Ok(None);
        }
        if t == 0 {
            return Ok(Some(vec![0.0; n]));
        }
        let ctx = &self.ctx;
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let Some(slot) = self.locate(state, y)? else { return Ok(None) };
        let Some((res, sc)) = state.parts(slot) else { return Ok(None) };
        let (items, ranges) = plan_y_ct_on(pattern, res.pixels_per_chunk, res.chunks.len())?;
        let tp = padded(t);
        let c_bytes = (c.nrows() * tp * 4) as u64;
        if c_bytes.max((items.len() * 16) as u64) > ctx.max_binding() {
            return Err(GpuError::TooLarge(format!("C of {} x {t} exceeds the binding limit", c.nrows())));
        }
        let dev = &ctx.device;
        let items_buf = sc.get(dev, "extraction.products.items", (items.len() * 16) as u64, storage_usage());
        let c_buf = sc.get(dev, "extraction.products.c", c_bytes, storage_usage());
        let out = sc.get(dev, "extraction.products.out_e", (n * 4) as u64, storage_usage());
        ctx.queue.write_buffer(&items_buf, 0, bytemuck::cast_slice(&items));
        match c.as_slice() {
            Some(s) if tp == t => ctx.queue.write_buffer(&c_buf, 0, bytemuck::cast_slice(s)),
            _ => {
                let mut rows = Vec::with_capacity(c.nrows() * tp);
                for row in c.rows() {
                    rows.extend(row.iter().copied());
                    rows.resize(rows.len() + tp - t, 0.0f32);
                }
                ctx.queue.write_buffer(&c_buf, 0, bytemuck::cast_slice(&rows));
            }
        }
        let kern = kernel(ctx, Stage::YCtOn);
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("extraction.products.y_ct_on") });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("extraction.products.y_ct_on"), timestamp_writes: None });
            pass.set_pipeline(&kern.pipeline);
            for (chunk, &(offset, count)) in res.chunks.iter().zip(&ranges) {
                if count == 0 {
                    continue;
                }
                let p = Params {
                    t4: fits_u32("frames", tp / 4)?,
                    n_tiles: 0,
                    item_offset: offset,
                    item_count: count,
                    pixel_offset: chunk.first as u32,
                    n_cols: pattern.n_cols() as u32,
                    _pad0: 0,
                    _pad1: 0,
                };
                let params = uniform_from(dev, "extraction.products.y_ct_on.params", &p);
                let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("extraction.products.y_ct_on.bind_group"),
                    layout: &kern.layout,
                    entries: &[binding(0, &params), binding(1, &chunk.buffer), binding(8, &items_buf), binding(9, &c_buf), binding(10, &out)],
                });
                let (gx, gy) = grid(ctx, (count as usize).div_ceil(PER_GROUP))?;
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        finish_and_read(ctx, sc, enc, &out, n).map(Some)
    }
}

impl FactorProducts for GpuProducts {
    fn at_y(&self, a: &SparseColumns, y: &PixelMajor) -> Array2<f32> {
        match self.try_at_y(a, y).transpose() {
            Some(r) => self.device_or_cpu("A^T Y", r, || CpuProducts.at_y(a, y)),
            None => self.by_rule(|| CpuProducts.at_y(a, y)),
        }
    }

    fn y_ct_on(&self, y: &PixelMajor, c: &Array2<f32>, pattern: &SparseColumns) -> Vec<f32> {
        match self.try_y_ct_on(y, c, pattern).transpose() {
            Some(r) => self.device_or_cpu("Y C^T", r, || CpuProducts.y_ct_on(y, c, pattern)),
            None => self.by_rule(|| CpuProducts.y_ct_on(y, c, pattern)),
        }
    }

    fn name(&self) -> String {
        format!("gpu: {}", self.ctx.describe())
    }

    fn call_summary(&self) -> Option<String> {
        let c = self.counts();
        Some(format!("{} products on the device, {} on the CPU by rule, {} on the CPU after a device failure", c.gpu, c.cpu, c.failed))
    }

    fn ring_subtracted(&self, movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> PixelMajor {
        let r = super::ring::ring_subtracted(&self.ctx, movie, a, c, ring);
        self.device_or_cpu("ring background", r, || CpuProducts.ring_subtracted(movie, a, c, ring))
    }

    fn lag_covariances(&self, x: &ChunkedSeries, lags: &LagSet, progress: &dyn Progress) -> Result<LagCov, ExtractionError> {
        match super::lagcov::lag_covariances(&self.ctx, x, lags, progress) {
            Err(GpuError::Cancelled) => Err(ExtractionError::Cancelled),
            r => self.device_or_cpu("lagged covariances", r.map(Ok), || CpuProducts.lag_covariances(x, lags, progress)),
        }
    }

    fn column_dots(&self, a: &SparseColumns, dense_from: usize, pairs: &[[u32; 2]]) -> Vec<f32> {
        let len = |c: u32| a.indptr.get(c as usize + 1).zip(a.indptr.get(c as usize)).map_or(0, |(e, s)| e - s);
        if pairs.iter().map(|&[i, j]| len(i).min(len(j))).sum::<usize>() < self.min_work {
            return self.by_rule(|| CpuProducts.column_dots(a, dense_from, pairs));
        }
        let r = super::hals::column_dots(&self.ctx, a, dense_from, pairs);
        self.device_or_cpu("A^T A", r, || CpuProducts.column_dots(a, dense_from, pairs))
    }

    fn temporal_sweeps(&self, problem: &TemporalSweeps, traces: &mut Array2<f32>, sweeps: usize) {
        if sweeps * traces.ncols() * (problem.n() + problem.cols.len()) < self.min_work {
            return self.by_rule(|| CpuProducts.temporal_sweeps(problem, traces, sweeps));
        }
        // On failure the traces are untouched (they are only written after a successful read-back).
        let r = super::hals::temporal_sweeps(&self.ctx, problem, traces, sweeps);
        self.device_or_cpu("temporal HALS", r, || CpuProducts.temporal_sweeps(problem, traces, sweeps));
    }

    fn spatial_sweeps(&self, problem: &SpatialSweeps, vals: &mut [f32], b: &mut [f32], sweeps: usize) {
        // Each entry meets the other entries at its pixel and the background: a few multiply-adds per entry.
        if sweeps * (vals.len() + b.len()) * (2 + problem.nb) < self.min_work {
            return self.by_rule(|| CpuProducts.spatial_sweeps(problem, vals, b, sweeps));
        }
        let r = super::hals::spatial_sweeps(&self.ctx, problem, vals, b, sweeps);
        self.device_or_cpu("spatial HALS", r, || CpuProducts.spatial_sweeps(problem, vals, b, sweeps));
    }
}
