//! CNMF-E's ring-model background subtraction `Y - B` in WGSL (`shaders/compute/extraction/ring.wgsl`), returned
//! pixel-major for the HALS updates. CPU twin: `mesmerize_core::extraction::cnmfe_fit::background_subtracted`.
//!
//! The movie goes up in blocks of frames; per block three kernels (coarse residual, `W` product, subtraction) run in
//! one submission and the block comes back pixel-major. `A` (by pixel), `b0` and `W` go up once per call.

use std::sync::Arc;

use mesmerize_core::extraction::cnmfe::blocks::coarse_dims;
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::result::RingBackground;
use mesmerize_core::extraction::{Movie, SparseColumns};
use ndarray::Array2;

use crate::buffers::{storage_f32, storage_from, uniform_from};
use crate::error::GpuError;
use crate::pipeline_cache::{Kernel, buffer_entry, build_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/ring.wgsl");
const WORKGROUP: usize = 256;
/// Most frames per block (bounds the block buffers; larger blocks gain little).
const MAX_BLOCK_FRAMES: usize = 512;

/// Uniforms of `ring.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    h: u32,
    w: u32,
    s: u32,
    wd: u32,
    dd: u32,
    nf: u32,
    t0: u32,
    t: u32,
    a_ptr: u32,
    a_ent: u32,
    b0: u32,
    w_ptr: u32,
    w_ent: u32,
    _pad: [u32; 3],
}

fn kernel(ctx: &GpuContext, entry: &'static str) -> Arc<Kernel> {
    use wgpu::BufferBindingType::{Storage, Uniform};
    let (ro, rw) = (Storage { read_only: true }, Storage { read_only: false });
    let bindings: &[(u32, wgpu::BufferBindingType)] = match entry {
        "coarse_residual" => &[(0, Uniform), (1, ro), (2, ro), (3, ro), (4, rw)],
        "apply_w" => &[(0, Uniform), (2, ro), (4, rw), (5, rw)],
        _ => &[(0, Uniform), (1, ro), (2, ro), (5, rw), (6, rw)],
    };
    let id = format!("extraction.ring.{entry}");
    ctx.pipelines().get_or_create(&id, || {
        let entries: Vec<_> = bindings.iter().map(|&(b, ty)| buffer_entry(b, ty)).collect();
        build_kernel(&ctx.device, &id, WGSL, entry, &entries)
    })
}

fn u32_of(what: &str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::TooLarge(format!("{what} = {v} exceeds u32")))
}

/// `A` by pixel, `b0` and `W` in one u32 buffer, with the offsets of each part.
fn statics(a: &SparseColumns, d: usize, ring: &RingBackground) -> Result<(Vec<u32>, [u32; 5]), GpuError> {
    let mut counts = vec![0u32; d + 1];
    for &p in &a.indices {
        counts[p as usize + 1] += 1;
    }
    for i in 0..d {
        counts[i + 1] += counts[i];
    }
    let mut entries = vec![0u32; 2 * a.indices.len()];
    let mut next = counts.clone();
    for k in 0..a.n_cols() {
        for e in a.indptr[k]..a.indptr[k + 1] {
            let p = a.indices[e] as usize;
            let at = next[p] as usize;
            entries[2 * at] = k as u32;
            entries[2 * at + 1] = a.data[e].to_bits();
            next[p] += 1;
        }
    }
    let mut out = counts;
    let a_ent = out.len();
    out.extend(entries);
    let b0 = out.len();
    out.extend(ring.b0.iter().map(|v| v.to_bits()));
    let w_ptr = out.len();
    for &i in &ring.w.indptr {
        out.push(u32_of("W entries", i)?);
    }
    let w_ent = out.len();
    for (&i, &v) in ring.w.indices.iter().zip(&ring.w.data) {
        out.extend([i, v.to_bits()]);
    }
    let offsets = [0, u32_of("statics", a_ent)?, u32_of("statics", b0)?, u32_of("statics", w_ptr)?, u32_of("statics", w_ent)?];
    Ok((out, offsets))
}

fn entry(binding: u32, buf: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry { binding, resource: buf.as_entire_binding() }
}

/// Workgroups for `n` invocations as an `(x, y)` grid (`ring.wgsl` linearises `x + y * nx * 256`).
fn groups(ctx: &GpuContext, n: usize) -> (u32, u32) {
    let total = n.div_ceil(WORKGROUP).max(1);
    let max_dim = ctx.device.limits().max_compute_workgroups_per_dimension.max(1) as usize;
    let gx = total.min(max_dim);
    (gx as u32, total.div_ceil(gx) as u32)
}

/// `Y - B` of the ring model, pixel-major, computed on the device.
pub fn ring_subtracted(ctx: &GpuContext, movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> Result<PixelMajor, GpuError> {
    let [h, w] = movie.dims[..] else {
        return Err(GpuError::TooLarge(format!("the ring model is 2D only; got dims {:?}", movie.dims)));
    };
    let (d, t) = (movie.d(), movie.t);
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    if a.n_rows != d || c.nrows() != a.n_cols() || c.ncols() != t || ring.b0.len() != d || ring.w.n_cols() != dd {
        return Err(GpuError::TooLarge("A, C and the ring model do not match the movie".into()));
    }
    let limits = ctx.device.limits();
    let max_binding = u64::from(limits.max_storage_buffer_binding_size).min(limits.max_buffer_size);
    let nf = ((max_binding / (d.max(dd) as u64 * 4)) as usize).min(MAX_BLOCK_FRAMES).min(t);
    if nf == 0 {
        return Err(GpuError::TooLarge(format!("one {h} x {w} frame exceeds the binding limit")));
    }
    let (stat, off) = statics(a, d, ring)?;
    let c_rows: Vec<f32> = c.iter().copied().collect();
    if (stat.len() as u64 * 4).max(c_rows.len() as u64 * 4) > max_binding {
        return Err(GpuError::TooLarge("A, W or C exceed the binding limit".into()));
    }
    let dev = &ctx.device;
    let stat_buf = storage_from(dev, "extraction.ring.statics", &stat);
    let c_buf = storage_from(dev, "extraction.ring.c", if c_rows.is_empty() { &[0.0f32][..] } else { &c_rows });
    let y_buf = storage_f32(dev, "extraction.ring.y", d * nf);
    let xd = storage_f32(dev, "extraction.ring.xd", dd * nf);
    let bd = storage_f32(dev, "extraction.ring.bd", dd * nf);
    let out_buf = storage_f32(dev, "extraction.ring.out", d * nf);
    let staging = dev.create_buffer(&wgpu::BufferDescriptor {
        label: Some("extraction.ring.staging"),
        size: (d * nf * 4) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let kernels = ["coarse_residual", "apply_w", "subtract"].map(|e| kernel(ctx, e));
    let mut out = PixelMajor { d, t, data: vec![0f32; d * t] };
    for t0 in (0..t).step_by(nf) {
        let n = nf.min(t - t0);
        ctx.queue.write_buffer(&y_buf, 0, bytemuck::cast_slice(&movie.data[t0 * d..(t0 + n) * d]));
        let p = Params {
            h: h as u32,
            w: w as u32,
            s: s as u32,
            wd: wd as u32,
            dd: u32_of("coarse pixels", dd)?,
            nf: n as u32,
            t0: t0 as u32,
            t: t as u32,
            a_ptr: off[0],
            a_ent: off[1],
            b0: off[2],
            w_ptr: off[3],
            w_ent: off[4],
            _pad: [0; 3],
        };
        u32_of("pixels x frames", d * n)?;
        let params = uniform_from(dev, "extraction.ring.params", &p);
        let bgs = [
            vec![entry(0, &params), entry(1, &y_buf), entry(2, &stat_buf), entry(3, &c_buf), entry(4, &xd)],
            vec![entry(0, &params), entry(2, &stat_buf), entry(4, &xd), entry(5, &bd)],
            vec![entry(0, &params), entry(1, &y_buf), entry(2, &stat_buf), entry(5, &bd), entry(6, &out_buf)],
        ];
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("extraction.ring") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("extraction.ring"), timestamp_writes: None });
            for ((k, entries), size) in kernels.iter().zip(&bgs).zip([dd * n, dd * n, d * n]) {
                let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some("extraction.ring"), layout: &k.layout, entries });
                let (gx, gy) = groups(ctx, size);
                pass.set_pipeline(&k.pipeline);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        let bytes = (d * n * 4) as u64;
        enc.copy_buffer_to_buffer(&out_buf, 0, &staging, 0, bytes);
        ctx.queue.submit(Some(enc.finish()));
        let (tx, rx) = std::sync::mpsc::channel();
        let slice = staging.slice(0..bytes);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        dev.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        {
            let view = slice.get_mapped_range();
            let block: &[f32] = bytemuck::cast_slice(&view);
            for (row, src) in out.data.chunks_mut(t).zip(block.chunks(n)) {
                row[t0..t0 + n].copy_from_slice(src);
            }
        }
        staging.unmap();
    }
    Ok(out)
}
