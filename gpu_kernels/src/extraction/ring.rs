//! CNMF-E's ring-model background subtraction `Y - B` in WGSL (`shaders/compute/extraction/ring.wgsl`), returned
//! pixel-major for the HALS updates. CPU twin: `mesmerize_core::extraction::cnmfe::subtracted::background_subtracted`.
//!
//! The movie goes up in blocks of frames; per block three kernels (coarse residual, `W` product, subtraction) run in
//! one submission and the block comes back pixel-major. `A` (by pixel), `b0` and `W` go up once per call.

use std::sync::Arc;

use mesmerize_core::extraction::cnmfe::blocks::coarse_dims;
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::result::RingBackground;
use mesmerize_core::extraction::{Movie, SparseColumns};
use ndarray::Array2;

use crate::buffers::{binding, read_through, staging_f32, storage_f32, storage_from, uniform_from};
use rayon::prelude::*;
use crate::dispatch::grid_for_invocations;
use crate::error::{GpuError, fits_u32};
use crate::pipeline_cache::{Kernel, RO, RW, UNIFORM, cached_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/ring.wgsl");
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
    let bindings: &[(u32, wgpu::BufferBindingType)] = match entry {
        "coarse_residual" => &[(0, UNIFORM), (1, RO), (2, RO), (3, RO), (4, RW)],
        "apply_w" => &[(0, UNIFORM), (2, RO), (4, RW), (5, RW)],
        _ => &[(0, UNIFORM), (1, RO), (2, RO), (5, RW), (6, RW)],
    };
    cached_kernel(ctx, &format!("extraction.ring.{entry}"), WGSL, entry, bindings)
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
        out.push(fits_u32("W entries", i)?);
    }
    let w_ent = out.len();
    for (&i, &v) in ring.w.indices.iter().zip(&ring.w.data) {
        out.extend([i, v.to_bits()]);
    }
    let offsets = [0, fits_u32("statics", a_ent)?, fits_u32("statics", b0)?, fits_u32("statics", w_ptr)?, fits_u32("statics", w_ent)?];
    Ok((out, offsets))
}

/// `Y - B` of the ring model, pixel-major, computed on the device.
pub fn ring_subtracted(ctx: &GpuContext, movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> Result<PixelMajor, GpuError> {
    let [h, w] = movie.dims[..] else {
        return Err(GpuError::Mismatch(format!("the ring model is 2D only; got dims {:?}", movie.dims)));
    };
    let (d, t) = (movie.d(), movie.t);
    let s = ring.ssub_b.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    let dd = hd * wd;
    if a.n_rows != d || c.nrows() != a.n_cols() || c.ncols() != t || ring.b0.len() != d || ring.w.n_cols() != dd {
        return Err(GpuError::Mismatch("A, C and the ring model do not match the movie".into()));
    }
    let limits = ctx.device.limits();
    let max_binding = ctx.max_binding();
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
    let staging = staging_f32(dev, "extraction.ring.staging", d * nf);
    let kernels = ["coarse_residual", "apply_w", "subtract"].map(|e| kernel(ctx, e));
    let max_dim = limits.max_compute_workgroups_per_dimension;
    let dd32 = fits_u32("coarse pixels", dd)?;
    fits_u32("pixels x frames of a block", d * nf)?;
    let mut out = PixelMajor { d, t, data: vec![0f32; d * t] };
    for t0 in (0..t).step_by(nf) {
        let n = nf.min(t - t0);
        ctx.queue.write_buffer(&y_buf, 0, bytemuck::cast_slice(&movie.data[t0 * d..(t0 + n) * d]));
        let p = Params {
            h: h as u32,
            w: w as u32,
            s: s as u32,
            wd: wd as u32,
            dd: dd32,
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
        let params = uniform_from(dev, "extraction.ring.params", &p);
        let bgs = [
            vec![binding(0, &params), binding(1, &y_buf), binding(2, &stat_buf), binding(3, &c_buf), binding(4, &xd)],
            vec![binding(0, &params), binding(2, &stat_buf), binding(4, &xd), binding(5, &bd)],
            vec![binding(0, &params), binding(1, &y_buf), binding(2, &stat_buf), binding(5, &bd), binding(6, &out_buf)],
        ];
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("extraction.ring") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("extraction.ring"), timestamp_writes: None });
            for ((k, entries), size) in kernels.iter().zip(&bgs).zip([dd * n, dd * n, d * n]) {
                let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some("extraction.ring"), layout: &k.layout, entries });
                let (gx, gy) = grid_for_invocations(size, max_dim);
                pass.set_pipeline(&k.pipeline);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        // The block is pixel-major with rows of `n` frames: the first d * n values of the buffer, scattered into
        // the output rows straight from the mapped staging buffer (one staging buffer for all blocks).
        read_through(dev, &ctx.queue, enc, &out_buf, &staging, d * n, |block| {
            out.data.par_chunks_mut(t).zip(block.par_chunks(n)).for_each(|(row, src)| row[t0..t0 + n].copy_from_slice(src));
        })?;
    }
    Ok(out)
}
