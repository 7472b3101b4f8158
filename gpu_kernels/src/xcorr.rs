//! All-pairs normalised cross-correlation in WGSL (`shaders/compute/xcorr_*.wgsl`): an FFT per curve, then per
//! job two pairs' spectra products in one inverse FFT, reduced on the device to each pair's maximum and first /
//! last arg-maximum. CPU twin: `mesmerize_core::analysis::cluster::xcorr::cc_matrices` (f64; this path is f32).

use std::sync::Arc;

use mesmerize_core::analysis::cluster::xcorr::{
    CcMatrices, MIN_DENOM, Peak, XcorrError, assemble, fft_size, validate_curves,
};
use ndarray::ArrayView2;

use crate::buffers::{read_back_f32, storage_f32, storage_from, uniform_from};
use crate::error::GpuError;
use crate::pipeline_cache::{Kernel, buffer_entry, build_kernel};
use crate::runtime::GpuContext;

const FFT_WGSL: &str = include_str!("../../shaders/compute/xcorr_fft.wgsl");
const SPECTRUM_WGSL: &str = include_str!("../../shaders/compute/xcorr_spectrum.wgsl");
const PAIRS_WGSL: &str = include_str!("../../shaders/compute/xcorr_pairs.wgsl");
/// u32 words per job in the job table and in the peak part of the output.
const JOB_WORDS: usize = 6;
/// Upper bound of the per-dispatch FFT scratch buffer.
const SCRATCH_BYTES: u64 = 128 << 20;

/// Uniforms of the xcorr kernels; keep in sync with `Params` in `shaders/compute/xcorr_fft.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_curves: u32,
    sz: u32,
    nfft: u32,
    log2n: u32,
    job_offset: u32,
    out_stride: u32,
    write_cc: u32,
    twiddle_len: u32,
}

/// Why the GPU cross-correlation could not run: bad curves (the CPU twin's error) or a device problem.
#[derive(Debug, thiserror::Error)]
pub enum XcorrGpuError {
    /// The curves are unusable; the same check as the CPU twin.
    #[error(transparent)]
    Input(#[from] XcorrError),
    /// The device failed or the data does not fit it.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

fn spectrum_kernel(ctx: &GpuContext) -> Arc<Kernel> {
    ctx.pipelines().get_or_create("xcorr.spectrum", || {
        use wgpu::BufferBindingType::{Storage, Uniform};
        build_kernel(
            &ctx.device,
            "xcorr.spectrum",
            &format!("{FFT_WGSL}\n{SPECTRUM_WGSL}"),
            "spectrum",
            &[buffer_entry(0, Uniform), buffer_entry(1, Storage { read_only: true }), buffer_entry(2, Storage { read_only: false })],
        )
    })
}

fn pairs_kernel(ctx: &GpuContext) -> Arc<Kernel> {
    ctx.pipelines().get_or_create("xcorr.pairs", || {
        use wgpu::BufferBindingType::{Storage, Uniform};
        build_kernel(
            &ctx.device,
            "xcorr.pairs",
            &format!("{FFT_WGSL}\n{PAIRS_WGSL}"),
            "pairs",
            &[
                buffer_entry(0, Uniform),
                buffer_entry(1, Storage { read_only: true }),
                buffer_entry(2, Storage { read_only: true }),
                buffer_entry(3, Storage { read_only: false }),
                buffer_entry(4, Storage { read_only: false }),
            ],
        )
    })
}

fn bind_group(ctx: &GpuContext, label: &str, kernel: &Kernel, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
        .collect();
    ctx.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &kernel.layout, entries: &entries })
}

fn dispatch(ctx: &GpuContext, label: &str, kernel: &Kernel, group: &wgpu::BindGroup, workgroups: u32) {
    let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None });
        pass.set_pipeline(&kernel.pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.dispatch_workgroups(workgroups, 1, 1);
    }
    ctx.queue.submit(Some(enc.finish()));
}

/// One pair to correlate: curve indices and the factor applied to its raw inverse FFT (see [`Spectra::job`]).
#[derive(Clone, Copy)]
struct PairJob {
    i: u32,
    j: u32,
    scale: f32,
}

/// Device results of a set of pairs: their peaks and, when asked, their full normalised functions.
struct PairsOut {
    peaks: Vec<Peak>,
    ccs: Vec<Vec<f32>>,
}

/// Curve spectra resident on the device, ready for pair jobs.
struct Spectra {
    buffer: wgpu::Buffer,
    norms: Vec<f64>,
    sz: usize,
    nfft: usize,
}

impl Spectra {
    /// Upload the curves (rows, f32) and FFT each one on the device.
    fn compute(ctx: &GpuContext, curves: ArrayView2<f64>) -> Result<Self, GpuError> {
        let (n, sz) = curves.dim();
        let nfft = fft_size(sz);
        let limits = ctx.device.limits();
        let max_binding = ctx.max_binding();
        let twiddle_len = nfft / 2;
        let spectra_len = twiddle_len + n * nfft;
        if (spectra_len as u64) * 8 > max_binding || (n as u64) * (sz as u64) * 4 > max_binding {
            return Err(GpuError::TooLarge(format!(
                "{n} spectra of {nfft} bins ({} MB) exceed the binding limit of {max_binding} bytes",
                spectra_len * 8 >> 20
            )));
        }
        if n as u32 > limits.max_compute_workgroups_per_dimension {
            return Err(GpuError::TooLarge(format!("{n} curves exceed the dispatch limit")));
        }
        let norms: Vec<f64> = curves.outer_iter().map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
        // Uploaded at unit norm (in f64 first), so f32 neither overflows nor loses the scale of large raw values.
        let flat: Vec<f32> = curves
            .outer_iter()
            .zip(&norms)
            .flat_map(|(r, &norm)| r.into_iter().map(move |v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 }).collect::<Vec<_>>())
            .collect();
        let twiddles: Vec<f32> = (0..twiddle_len)
            .flat_map(|k| {
                let a = -2.0 * std::f64::consts::PI * k as f64 / nfft as f64;
                [a.cos() as f32, a.sin() as f32]
            })
            .collect();
        let device = &ctx.device;
        let kernel = spectrum_kernel(ctx);
        let params = uniform_from(device, "xcorr.spectrum.params", &params(n, sz, nfft, 0, 0, false));
        let curves_buf = storage_from(device, "xcorr.curves", &flat);
        let buffer = storage_f32(device, "xcorr.spectra", spectra_len * 2);
        ctx.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(&twiddles));
        let group = bind_group(ctx, "xcorr.spectrum.bind_group", &kernel, &[&params, &curves_buf, &buffer]);
        dispatch(ctx, "xcorr.spectrum", &kernel, &group, n as u32);
        Ok(Self { buffer, norms, sz, nfft })
    }

    fn job(&self, i: usize, j: usize) -> PairJob {
        // The curves are at unit norm on the device: only the FFT's 1/nfft remains, or 0 under tslearn's threshold.
        let denom = self.norms[i] * self.norms[j];
        let scale = if denom < MIN_DENOM { 0.0 } else { 1.0 / self.nfft as f64 };
        PairJob { i: i as u32, j: j as u32, scale: scale as f32 }
    }

    /// Correlate `pairs` two per workgroup in dispatches that fit the scratch budget; `write_cc` also returns
    /// each pair's full function (2·sz − 1 values).
    fn run_pairs(&self, ctx: &GpuContext, pairs: &[PairJob], write_cc: bool) -> Result<PairsOut, GpuError> {
        let len = 2 * self.sz - 1;
        let n_jobs = pairs.len().div_ceil(2);
        let mut table: Vec<u32> = Vec::with_capacity(n_jobs * JOB_WORDS);
        for chunk in pairs.chunks(2) {
            let a = chunk[0];
            // An odd count pads with a copy of the first pair, discarded below.
            let b = chunk.get(1).copied().unwrap_or(a);
            table.extend_from_slice(&[a.i, a.j, b.i, b.j, a.scale.to_bits(), b.scale.to_bits()]);
        }
        let out_stride = JOB_WORDS + if write_cc { 2 * len } else { 0 };
        let limits = ctx.device.limits();
        let max_binding = ctx.max_binding();
        let job_bytes = (self.nfft as u64) * 8;
        let per_dispatch = (SCRATCH_BYTES.min(max_binding) / job_bytes)
            .min(u64::from(limits.max_compute_workgroups_per_dimension))
            .max(1) as usize;
        let out_bytes = (n_jobs * out_stride) as u64 * 4;
        if job_bytes > max_binding || out_bytes > max_binding {
            return Err(GpuError::TooLarge(format!("{n_jobs} pair jobs exceed the binding limit of {max_binding} bytes")));
        }
        let device = &ctx.device;
        let kernel = pairs_kernel(ctx);
        let params_buf = uniform_from(device, "xcorr.pairs.params", &params(0, self.sz, self.nfft, 0, out_stride, write_cc));
        let jobs_buf = storage_from(device, "xcorr.jobs", &table);
        let scratch = storage_f32(device, "xcorr.scratch", per_dispatch.min(n_jobs) * self.nfft * 2);
        let out = storage_f32(device, "xcorr.out", n_jobs * out_stride);
        let group = bind_group(ctx, "xcorr.pairs.bind_group", &kernel, &[&params_buf, &self.buffer, &jobs_buf, &scratch, &out]);
        let mut offset = 0;
        while offset < n_jobs {
            let count = per_dispatch.min(n_jobs - offset);
            let p = params(0, self.sz, self.nfft, offset, out_stride, write_cc);
            ctx.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&p));
            dispatch(ctx, "xcorr.pairs", &kernel, &group, count as u32);
            offset += count;
        }
        let words = read_back_f32(device, &ctx.queue, &[&out])?.pop().unwrap_or_default();
        let mut peaks = Vec::with_capacity(pairs.len());
        let mut ccs = Vec::new();
        for (p, _) in pairs.iter().enumerate() {
            let (job, half) = (p / 2, p % 2);
            let w = &words[job * out_stride..(job + 1) * out_stride];
            let o = 3 * half;
            peaks.push(Peak { value: f64::from(w[o]), first: w[o + 1].to_bits() as usize, last: w[o + 2].to_bits() as usize });
            if write_cc {
                ccs.push(w[JOB_WORDS + half * len..JOB_WORDS + (half + 1) * len].to_vec());
            }
        }
        Ok(PairsOut { peaks, ccs })
    }
}

fn params(n: usize, sz: usize, nfft: usize, job_offset: usize, out_stride: usize, write_cc: bool) -> Params {
    Params {
        n_curves: n as u32,
        sz: sz as u32,
        nfft: nfft as u32,
        log2n: nfft.trailing_zeros(),
        job_offset: job_offset as u32,
        out_stride: out_stride as u32,
        write_cc: u32::from(write_cc),
        twiddle_len: (nfft / 2) as u32,
    }
}

/// Lag and maxima matrices of the rows of `curves` on the GPU: the twin of
/// `mesmerize_core::analysis::cluster::xcorr::cc_matrices` (same input checks, same lag convention), in f32.
/// Lags can differ from the CPU's only where two lags' correlations are within f32 rounding (near ties).
pub fn cc_matrices(ctx: &GpuContext, curves: ArrayView2<f64>) -> Result<CcMatrices, XcorrGpuError> {
    validate_curves(curves, 2)?;
    let (n, sz) = curves.dim();
    let spectra = Spectra::compute(ctx, curves)?;
    let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
    let jobs: Vec<PairJob> = pairs.iter().map(|&(i, j)| spectra.job(i, j)).collect();
    let out = spectra.run_pairs(ctx, &jobs, false)?;
    Ok(assemble(n, sz, &pairs, &out.peaks))
}

/// The full normalised correlation function (2·sz − 1 values, tslearn order) of curves `i` and `j` on the GPU,
/// for plotting one pair; twin of `mesmerize_core::analysis::cluster::xcorr::cc_pair`.
pub fn cc_pair(ctx: &GpuContext, curves: ArrayView2<f64>, i: usize, j: usize) -> Result<Vec<f32>, XcorrGpuError> {
    let n = curves.nrows();
    for index in [i, j] {
        if index >= n {
            return Err(XcorrError::OutOfRange { index, n }.into());
        }
    }
    let two = ndarray::stack(ndarray::Axis(0), &[curves.row(i), curves.row(j)]).map_err(|_| XcorrError::Empty)?;
    validate_curves(two.view(), 2)?;
    let spectra = Spectra::compute(ctx, two.view())?;
    let mut out = spectra.run_pairs(ctx, &[spectra.job(0, 1)], true)?;
    Ok(out.ccs.pop().unwrap_or_default())
}
