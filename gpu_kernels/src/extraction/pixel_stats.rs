//! Per-pixel statistics of the filtered movie on the device, between the filter and the correlation kernel of
//! [`super::summary::GpuSummary`]: mean and max, the PSD noise level (a mixed-radix FFT per pixel in workgroup
//! memory), PNR and the standardisation of the thresholded series. CPU twin: `pixel_statistics` in
//! `mesmerize_core::extraction::summary::corr_pnr`. WGSL: `shaders/compute/extraction/{stats_params,pixel_stats,
//! psd_noise}.wgsl`.

use std::sync::Arc;

use mesmerize_core::extraction::deconv::noise::psd_segments;
use mesmerize_core::extraction::summary::corr_pnr::{noise_band, psd_sample_count};

use crate::buffers::{binding, storage_f32, storage_from, uniform_from};
use crate::pipeline_cache::{Kernel, buffer_entry, build_kernel};
use crate::runtime::GpuContext;

const PARAMS_WGSL: &str = include_str!("../../../shaders/compute/extraction/stats_params.wgsl");
const STATS_WGSL: &str = include_str!("../../../shaders/compute/extraction/pixel_stats.wgsl");
const NOISE_WGSL: &str = include_str!("../../../shaders/compute/extraction/psd_noise.wgsl");
/// Invocations per workgroup of every kernel here.
const WORKGROUP: u32 = 256;
/// Most workgroups along one dispatch dimension that every adapter allows.
const MAX_GROUPS: u32 = 65535;
/// Most FFT stages the uniform holds (prime factors of the complex length, at most 3072).
const MAX_STAGES: usize = 16;
/// Workgroup memory of `band_noise` besides the FFT buffer: the reduction array.
const REDUCTION_BYTES: u32 = 4 * WORKGROUP;

/// Uniforms of the statistics kernels; keep in sync with `StatsParams` in `stats_params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StatsParams {
    d: u32,
    t: u32,
    n_frames: u32,
    f0: u32,
    row_pitch: u32,
    first: u32,
    p0: u32,
    np: u32,
    n: u32,
    m: u32,
    packed: u32,
    n_stages: u32,
    band_lo: u32,
    band_hi: u32,
    start0: u32,
    len0: u32,
    start1: u32,
    len1: u32,
    start2: u32,
    tw_stride: u32,
    stages: [[u32; 4]; MAX_STAGES],
}

/// Prime factors of `m`, smallest first: the radices of the FFT's stages.
fn prime_factors(mut m: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 2;
    while m > 1 {
        while m.is_multiple_of(p) {
            out.push(p);
            m /= p;
        }
        p += 1;
        if p * p > m && m > 1 {
            out.push(m);
            break;
        }
    }
    out
}

/// A frame chunk of the filtered movie: its buffer, first frame and frame count.
pub struct FrameChunk<'b> {
    /// Frame-major filtered frames.
    pub buffer: &'b wgpu::Buffer,
    /// Index of its first frame in the movie.
    pub f0: usize,
    /// Frames it holds.
    pub frames: usize,
}

/// Device buffers and the FFT plan for one movie shape; reused for every `gSig`.
pub struct PixelStats {
    d: usize,
    base: StatsParams,
    /// Pixels per block of the pixel-major sample buffer.
    block: usize,
    acc: wgpu::Buffer,
    noise: wgpu::Buffer,
    moments: wgpu::Buffer,
    series: wgpu::Buffer,
    twiddles: wgpu::Buffer,
    kernels: StatsKernels,
}

struct StatsKernels {
    mean_max: Arc<Kernel>,
    gather: Arc<Kernel>,
    band_noise: Arc<Kernel>,
    moments: Arc<Kernel>,
    standardise: Arc<Kernel>,
}

fn kernels(ctx: &GpuContext, m: usize) -> StatsKernels {
    use wgpu::BufferBindingType::{Storage, Uniform};
    let rw = Storage { read_only: false };
    let ro = Storage { read_only: true };
    let stats_src = format!("{PARAMS_WGSL}\n{STATS_WGSL}");
    let build = |entry: &str, bindings: &[(u32, wgpu::BufferBindingType)]| {
        let id = format!("summary.{entry}");
        let entries: Vec<_> = bindings.iter().map(|&(b, ty)| buffer_entry(b, ty)).collect();
        ctx.pipelines().get_or_create(&id, || build_kernel(&ctx.device, &id, &stats_src, entry, &entries))
    };
    let per = m.div_ceil(WORKGROUP as usize).max(1);
    let noise_id = format!("summary.band_noise.{m}");
    let band_noise = ctx.pipelines().get_or_create(&noise_id, || {
        let src = format!("{PARAMS_WGSL}\n{}", NOISE_WGSL.replace("{M}", &m.max(1).to_string()).replace("{PER}", &per.to_string()));
        let entries = [(0, Uniform), (2, rw), (3, rw), (4, ro), (5, rw)].map(|(b, ty)| buffer_entry(b, ty));
        build_kernel(&ctx.device, &noise_id, &src, "band_noise", &entries)
    });
    StatsKernels {
        mean_max: build("accumulate_mean_max", &[(0, Uniform), (1, ro), (2, rw)]),
        gather: build("gather_series", &[(0, Uniform), (1, ro), (3, rw)]),
        band_noise,
        moments: build("accumulate_moments", &[(0, Uniform), (1, ro), (5, rw), (6, rw)]),
        standardise: build("standardise", &[(0, Uniform), (5, rw), (6, rw), (7, rw)]),
    }
}

impl PixelStats {
    /// Plan for `d` pixels x `t` frames, or `None` when the device cannot run the FFT in workgroup memory (the
    /// caller then computes the statistics on the CPU).
    pub fn new(ctx: &GpuContext, d: usize, t: usize, max_binding: u64) -> Option<Self> {
        let n = psd_sample_count(t);
        let packed = n.is_multiple_of(2);
        let m = if packed { n / 2 } else { n };
        let factors = prime_factors(m);
        let limits = ctx.device.limits();
        let needed = (m as u64) * 8 + u64::from(REDUCTION_BYTES);
        if n < 1 || factors.len() > MAX_STAGES || needed > u64::from(limits.max_compute_workgroup_storage_size) {
            tracing::info!("corr/PNR statistics on the CPU: an FFT of {n} samples needs {needed} bytes of workgroup memory");
            return None;
        }
        let mut stages = [[0u32; 4]; MAX_STAGES];
        let mut span = 1usize;
        for (s, &p) in factors.iter().enumerate() {
            stages[s] = [p as u32, span as u32, (m / (span * p)) as u32, 0];
            span *= p;
        }
        let band = noise_band(n);
        let seg = psd_segments(t);
        let (s0, s1, s2) = (seg[0].clone(), seg.get(1).cloned().unwrap_or(0..0), seg.get(2).cloned().unwrap_or(0..0));
        let base = StatsParams {
            d: d as u32,
            t: t as u32,
            n: n as u32,
            m: m as u32,
            packed: u32::from(packed),
            n_stages: factors.len() as u32,
            band_lo: band.start as u32,
            band_hi: band.end as u32,
            start0: s0.start as u32,
            len0: s0.len() as u32,
            start1: s1.start as u32,
            len1: s1.len() as u32,
            start2: s2.start as u32,
            tw_stride: if packed { 2 } else { 1 },
            stages,
            ..bytemuck::Zeroable::zeroed()
        };
        let twiddle: Vec<[f32; 2]> = (0..n)
            .map(|j| {
                let a = -2.0 * std::f64::consts::PI * j as f64 / n as f64;
                [a.cos() as f32, a.sin() as f32]
            })
            .collect();
        let block = ((max_binding / (n as u64 * 4)) as usize).clamp(1, d).min(MAX_GROUPS as usize * 16);
        Some(Self {
            d,
            base,
            block,
            acc: storage_f32(&ctx.device, "summary.acc", 4 * d),
            noise: storage_f32(&ctx.device, "summary.noise", 4 * d),
            moments: storage_f32(&ctx.device, "summary.moments", 2 * d),
            series: storage_f32(&ctx.device, "summary.series", block * n),
            twiddles: storage_from(&ctx.device, "summary.twiddles", &twiddle),
            kernels: kernels(ctx, m),
        })
    }

    /// Per pixel `(mean, sn, pnr, 0)`, filled by [`Self::record`].
    pub fn noise(&self) -> &wgpu::Buffer {
        &self.noise
    }

    /// Record every statistics kernel over the filtered `chunks` (in frame order), ending with `zpar` (per pixel
    /// mean, thr, scale, offset) written for the correlation kernel.
    pub fn record(&self, ctx: &GpuContext, enc: &mut wgpu::CommandEncoder, chunks: &[FrameChunk<'_>], zpar: &wgpu::Buffer) {
        let groups = (self.d as u32).div_ceil(WORKGROUP);
        let (gx, gy) = (groups.min(MAX_GROUPS), groups.div_ceil(MAX_GROUPS));
        let row_pitch = gx * WORKGROUP;
        let params = |c: Option<(usize, &FrameChunk<'_>)>, p0: usize, np: usize| {
            let mut p = StatsParams { row_pitch, p0: p0 as u32, np: np as u32, ..self.base };
            if let Some((i, c)) = c {
                (p.first, p.f0, p.n_frames) = (u32::from(i == 0), c.f0 as u32, c.frames as u32);
            }
            uniform_from(&ctx.device, "summary.stats.params", &p)
        };
        let group = |k: &Kernel, entries: &[wgpu::BindGroupEntry<'_>]| {
            ctx.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some("summary.stats"), layout: &k.layout, entries })
        };
        let k = &self.kernels;
        let chunk_params: Vec<wgpu::Buffer> = chunks.iter().enumerate().map(|(i, c)| params(Some((i, c)), 0, self.d)).collect();
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("summary.stats"), timestamp_writes: None });
        pass.set_pipeline(&k.mean_max.pipeline);
        for (c, u) in chunks.iter().zip(&chunk_params) {
            pass.set_bind_group(0, &group(&k.mean_max, &[binding(0, u), binding(1, c.buffer), binding(2, &self.acc)]), &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        let n = self.base.n as usize;
        for p0 in (0..self.d).step_by(self.block) {
            let np = self.block.min(self.d - p0);
            pass.set_pipeline(&k.gather.pipeline);
            for (i, c) in chunks.iter().enumerate() {
                let u = params(Some((i, c)), p0, np);
                pass.set_bind_group(0, &group(&k.gather, &[binding(0, &u), binding(1, c.buffer), binding(3, &self.series)]), &[]);
                pass.dispatch_workgroups(np.div_ceil(16) as u32, n.div_ceil(16) as u32, 1);
            }
            let u = params(None, p0, np);
            let bg = group(&k.band_noise, &[binding(0, &u), binding(2, &self.acc), binding(3, &self.series), binding(4, &self.twiddles), binding(5, &self.noise)]);
            pass.set_pipeline(&k.band_noise.pipeline);
            pass.set_bind_group(0, &bg, &[]);
            let wg = np as u32;
            pass.dispatch_workgroups(wg.min(MAX_GROUPS), wg.div_ceil(MAX_GROUPS), 1);
        }
        pass.set_pipeline(&k.moments.pipeline);
        for (c, u) in chunks.iter().zip(&chunk_params) {
            pass.set_bind_group(0, &group(&k.moments, &[binding(0, u), binding(1, c.buffer), binding(5, &self.noise), binding(6, &self.moments)]), &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        let u = params(None, 0, self.d);
        pass.set_pipeline(&k.standardise.pipeline);
        pass.set_bind_group(0, &group(&k.standardise, &[binding(0, &u), binding(5, &self.noise), binding(6, &self.moments), binding(7, zpar)]), &[]);
        pass.dispatch_workgroups(gx, gy, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::prime_factors;

    #[test]
    fn prime_factors_multiply_back() {
        for m in 1..400usize {
            let f = prime_factors(m);
            assert_eq!(f.iter().product::<usize>(), m, "{m}: {f:?}");
            assert!(f.windows(2).all(|w| w[0] <= w[1]));
        }
        assert_eq!(prime_factors(1000), vec![2, 2, 2, 5, 5, 5]);
        assert_eq!(prime_factors(1531), vec![1531]);
    }
}
