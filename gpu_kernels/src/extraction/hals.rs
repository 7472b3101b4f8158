//! The HALS updates of CNMF in WGSL (`shaders/compute/extraction/hals.wgsl`): the temporal and spatial sweeps and
//! the column dots of `A^T A`. CPU twins: `mesmerize_core::extraction::sweeps`.
//!
//! Each call is one submission: the problem goes up (integers and floats in one buffer each), one dispatch runs
//! every sweep (one invocation per time point or per pixel; the sweeps decouple along those), and the updated
//! values come back.

use std::sync::Arc;

use mesmerize_core::extraction::SparseColumns;
use mesmerize_core::extraction::sweeps::{SpatialSweeps, TemporalSweeps};
use ndarray::Array2;

use crate::buffers::{binding, read_back_f32, storage_from, uniform_from};
use crate::dispatch::grid_for_invocations;
use crate::error::{GpuError, fits_u32};
use crate::pipeline_cache::{Kernel, RO, RW, UNIFORM, cached_kernel};
use crate::runtime::GpuContext;

const WGSL: &str = include_str!("../../../shaders/compute/extraction/hals.wgsl");

/// Uniforms of `hals.wgsl`; keep in sync with its `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    t: u32,
    k: u32,
    nb: u32,
    sweeps: u32,
    count: u32,
    off0: u32,
    off1: u32,
    off2: u32,
    off3: u32,
    _pad: [u32; 2],
}

fn kernel(ctx: &GpuContext, entry: &'static str) -> Arc<Kernel> {
    let mut bindings = vec![(0, UNIFORM), (1, RO), (2, RO), (3, RW)];
    if entry == "spatial_sweeps" {
        bindings.push((4, RW));
    }
    cached_kernel(ctx, &format!("extraction.hals.{entry}"), WGSL, entry, &bindings)
}

/// A storage buffer of `data`, one zero element when empty (bindings may not be empty).
fn buffer<T: bytemuck::Pod + Default>(ctx: &GpuContext, label: &str, data: &[T]) -> Result<wgpu::Buffer, GpuError> {
    if std::mem::size_of_val(data) as u64 > ctx.max_binding() {
        return Err(GpuError::TooLarge(format!("{label}: {} MB exceeds the binding limit", std::mem::size_of_val(data) >> 20)));
    }
    Ok(if data.is_empty() { storage_from(&ctx.device, label, &[T::default()]) } else { storage_from(&ctx.device, label, data) })
}

/// Run `entry` over `count` invocations with the given buffers and read back `rw` (in order).
fn run(ctx: &GpuContext, entry: &'static str, p: Params, ints: &[u32], floats: &[f32], rw: &[&[f32]]) -> Result<Vec<Vec<f32>>, GpuError> {
    let label = "extraction.hals";
    let dev = &ctx.device;
    let params = uniform_from(dev, label, &p);
    let ints = buffer(ctx, "extraction.hals.ints", ints)?;
    let floats = buffer(ctx, "extraction.hals.floats", floats)?;
    let rw: Vec<wgpu::Buffer> = rw.iter().map(|v| buffer(ctx, "extraction.hals.rw", v)).collect::<Result<_, _>>()?;
    let kern = kernel(ctx, entry);
    let mut entries = vec![binding(0, &params), binding(1, &ints), binding(2, &floats)];
    entries.extend(rw.iter().enumerate().map(|(i, b)| binding(3 + i as u32, b)));
    let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &kern.layout, entries: &entries });
    let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None });
        let (gx, gy) = grid_for_invocations(p.count as usize, dev.limits().max_compute_workgroups_per_dimension);
        pass.set_pipeline(&kern.pipeline);
        pass.set_bind_group(0, &bg, &[]);
        pass.dispatch_workgroups(gx, gy, 1);
    }
    ctx.queue.submit(Some(enc.finish()));
    read_back_f32(dev, &ctx.queue, &rw.iter().collect::<Vec<_>>())
}

/// `sweeps` temporal HALS passes on `traces` (`n x T`), on the device.
pub fn temporal_sweeps(ctx: &GpuContext, problem: &TemporalSweeps, traces: &mut Array2<f32>, sweeps: usize) -> Result<(), GpuError> {
    let (n, t) = traces.dim();
    if problem.n() != n || problem.aty.dim() != (n, t) || problem.row_ptr.len() != n + 1 {
        return Err(GpuError::Mismatch(format!("a temporal problem of {} components for {n} x {t} traces", problem.n())));
    }
    if n == 0 || t == 0 || sweeps == 0 {
        return Ok(());
    }
    let mut ints = problem.row_ptr.clone();
    let off0 = fits_u32("temporal problem", ints.len())?;
    ints.extend_from_slice(&problem.cols);
    let mut floats = problem.diag.clone();
    let off1 = fits_u32("temporal problem", floats.len())?;
    floats.extend_from_slice(&problem.vals);
    let off2 = fits_u32("temporal problem", floats.len())?;
    floats.extend(problem.aty.iter());
    fits_u32("temporal problem", floats.len())?;
    let c: Vec<f32> = traces.iter().copied().collect();
    let p = Params { n: n as u32, t: t as u32, sweeps: fits_u32("sweeps", sweeps)?, count: t as u32, off0, off1, off2, ..Params::default() };
    let out = run(ctx, "temporal_sweeps", p, &ints, &floats, &[&c])?;
    traces.iter_mut().zip(&out[0]).for_each(|(o, &v)| *o = v);
    Ok(())
}

/// `sweeps` spatial HALS passes on the pixel-major entries `vals` and background `b` (`d x nb`), on the device.
pub fn spatial_sweeps(ctx: &GpuContext, problem: &SpatialSweeps, vals: &mut [f32], b: &mut [f32], sweeps: usize) -> Result<(), GpuError> {
    let (d, k, nb) = (problem.d(), problem.k, problem.nb);
    let n = k + nb;
    if vals.len() != problem.comp.len() || b.len() != d * nb || problem.cct.len() != n * n || problem.yct_b.len() != d * nb {
        return Err(GpuError::Mismatch(format!("a spatial problem of {} entries and {d} x {nb} background", problem.comp.len())));
    }
    if d == 0 || n == 0 || sweeps == 0 {
        return Ok(());
    }
    let mut ints = problem.pix_ptr.clone();
    let off0 = fits_u32("spatial problem", ints.len())?;
    ints.extend_from_slice(&problem.comp);
    let mut floats = problem.cct.clone();
    let off1 = fits_u32("spatial problem", floats.len())?;
    floats.extend_from_slice(&problem.yct);
    let off2 = fits_u32("spatial problem", floats.len())?;
    floats.extend_from_slice(&problem.yct_b);
    fits_u32("spatial problem", floats.len())?;
    let p = Params {
        n: n as u32,
        t: d as u32,
        k: k as u32,
        nb: nb as u32,
        sweeps: fits_u32("sweeps", sweeps)?,
        count: fits_u32("pixels", d)?,
        off0,
        off1,
        off2,
        ..Params::default()
    };
    let out = run(ctx, "spatial_sweeps", p, &ints, &floats, &[vals, b])?;
    vals.copy_from_slice(&out[0][..vals.len()]);
    b.copy_from_slice(&out[1][..b.len()]);
    Ok(())
}

/// Dot products of the column pairs of `a` (columns from `dense_from` on dense), on the device.
pub fn column_dots(ctx: &GpuContext, a: &SparseColumns, dense_from: usize, pairs: &[[u32; 2]]) -> Result<Vec<f32>, GpuError> {
    let cols = a.n_cols();
    if pairs.iter().flatten().any(|&c| c as usize >= cols) || (dense_from..cols).any(|c| a.indptr[c + 1] - a.indptr[c] != a.n_rows) {
        return Err(GpuError::Mismatch("column pairs out of range, or a background column that is not dense".into()));
    }
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut ints: Vec<u32> = a.indptr.iter().map(|&i| fits_u32("entries", i)).collect::<Result<_, _>>()?;
    let off0 = fits_u32("column dots", ints.len())?;
    ints.extend_from_slice(&a.indices);
    let off1 = fits_u32("column dots", ints.len())?;
    ints.extend(pairs.iter().flatten());
    fits_u32("column dots", ints.len())?;
    let p = Params { k: fits_u32("columns", dense_from.min(cols))?, count: fits_u32("pairs", pairs.len())?, off0, off1, ..Params::default() };
    let out = run(ctx, "column_dots", p, &ints, &a.data, &[&vec![0f32; pairs.len()]])?;
    Ok(out.into_iter().next().unwrap_or_default().into_iter().take(pairs.len()).collect())
}
