//! Rigid motion correction on the GPU: the WGSL twin of `mesmerize_core::registration::Registrar` (estimation) and
//! `shift_rigid` (warp), for batches of frames resident on the device.
//!
//! Per batch, one submission runs (shaders in `shaders/compute/registration/`):
//! 1. `prepare`: mean over finite samples subtracted, separable edge taper applied (`taper(n, max(n/8, 4))`),
//!    written as the real part of a complex frame zero-padded to powers of two (ph x pw);
//! 2. `fft_lines` over rows then columns (Stockham radix-2 in workgroup memory, one workgroup per line);
//! 3. `cross_power`: times the conjugate template spectrum (Gaussian smoothing, sigma 1.6 px, folded in), the low
//!    band kept aside for step 5; inverse `fft_lines` over columns then rows;
//! 4. `peak`: integer arg-max inside the search window, each lag divided by the taper-autocorrelation damping;
//! 5. `refine_stage` + `refine_grid`: the band-limited upsampled DFT on the +-0.75 px grid (two matrix products),
//!    damping, best grid point, parabolic vertex: entirely on the GPU, so only (dy, dx, peak) per frame is read back;
//! 6. `warp_rigid`: separable Keys cubic shift with the chosen border mode.
//!
//! Sizes that are not powers of two are zero-padded to the next power of two after tapering (the tapered,
//! mean-free frame goes smoothly to zero at its edges, so the padding adds no edge). This turns the circular
//! correlation of the CPU into a linear one, so estimates differ slightly from the CPU's (measured in the parity
//! test), and costs up to ~4x the FFT work (e.g. 96x80 is transformed as 128x128: 2.1x the samples). Frames are
//! transformed as full complex spectra (the CPU uses a real-to-complex half spectrum): about 2x the FFT work of an
//! optimal real transform; packing two frames into one complex transform would recover it.
//!
//! Limits: padded sizes up to 2048 per axis. The device is opened with downlevel limits (16352 bytes of workgroup
//! memory), so one workgroup holds a line of up to 1024 complex samples; 2048-long lines are transformed as their
//! even and odd halves in workgroup memory plus one radix-2 stage in global memory (`fft_combine`). `gSig_filt` high-pass filtering and the piecewise-rigid
//! patch estimation are not on the GPU yet; the piecewise warp is ([`GpuFieldWarper`]).

mod field_warp;
mod kernels;
mod tables;

pub use field_warp::GpuFieldWarper;

use mesmerize_core::registration::{BorderMode, MotionParams, Shift};
use wgpu::util::DeviceExt;

use crate::buffers::{storage_f32, uniform_from};
use crate::error::GpuError;
use crate::runtime::GpuContext;
use crate::dispatch::{grid, grid_for_invocations};
use kernels::{bind, Dims, FftPass, Kernels, MAX_FFT_LEN, MAX_FFT_LEN_GLOBAL};
use tables::{Geometry, Tables, BAND};

/// Bytes of complex spectrum one batch may hold (bounds the default batch size).
const SPECTRUM_BUDGET: usize = 64 << 20;

/// Rigid registration of frames against one template on a wgpu device.
pub struct GpuRigidRegistrar {
    ctx: GpuContext,
    k: Kernels,
    h: usize,
    w: usize,
    ph: usize,
    pw: usize,
    batch: usize,
    /// Frames in the last upload (for `rerun_resident`).
    last_frames: std::sync::atomic::AtomicUsize,
    dims_value: Dims,
    dims: wgpu::Buffer,
    frames: wgpu::Buffer,
    out: wgpu::Buffer,
    est: wgpu::Buffer,
    est_staging: wgpu::Buffer,
    out_staging: wgpu::Buffer,
    bg_prepare: wgpu::BindGroup,
    bg_fft: [wgpu::BindGroup; 4],
    bg_fft_combine: [wgpu::BindGroup; 4],
    bg_spectrum: wgpu::BindGroup,
    bg_peak: wgpu::BindGroup,
    bg_refine_stage: wgpu::BindGroup,
    bg_refine_grid: wgpu::BindGroup,
    bg_warp: wgpu::BindGroup,
}

fn storage_bytes(device: &wgpu::Device, label: &str, bytes: usize) -> wgpu::Buffer {
    storage_f32(device, label, bytes.div_ceil(4).max(1))
}

fn staging(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size: bytes, usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST, mapped_at_creation: false })
}

const FFT_ROWS_FWD: usize = 0;
const FFT_COLS_FWD: usize = 1;
const FFT_COLS_INV: usize = 2;
const FFT_ROWS_INV: usize = 3;

impl GpuRigidRegistrar {
    /// Prepare `template` (`h` x `w`, row-major) for rigid registration with `params` (`max_shifts`,
    /// `upsample_factor`, `border`); frames go through in batches of up to [`Self::batch_frames`] per submission.
    /// The template's spectrum is computed on the device.
    pub fn new(ctx: &GpuContext, template: &[f32], h: usize, w: usize, params: &MotionParams) -> Result<Self, GpuError> {
        Self::with_batch(ctx, template, h, w, params, 0)
    }

    /// As [`Self::new`] with at most `batch` frames per submission (0: as many as fit 64 MiB of spectra).
    pub fn with_batch(ctx: &GpuContext, template: &[f32], h: usize, w: usize, params: &MotionParams, batch: usize) -> Result<Self, GpuError> {
        params.validate(h, w, 1).map_err(|e| GpuError::TooLarge(e.to_string()))?;
        if params.gsig_filt.is_some() {
            return Err(GpuError::TooLarge("gSig_filt high-pass filtering is not available on the GPU path yet".into()));
        }
        if template.len() != h * w {
            return Err(GpuError::TooLarge(format!("template has {} samples, expected {h}x{w}", template.len())));
        }
        let (ph, pw) = (h.next_power_of_two(), w.next_power_of_two());
        if ph.max(pw) > MAX_FFT_LEN_GLOBAL || ph.min(pw) < 2 {
            return Err(GpuError::TooLarge(format!("frames of {h}x{w} (padded {ph}x{pw}): the GPU FFT handles 2..={MAX_FFT_LEN_GLOBAL} per axis")));
        }
        let device = &ctx.device;
        let limits = device.limits();
        let max_binding = ctx.max_binding() as usize;
        let spec_frame = ph * pw * 8;
        let batch = if batch == 0 { (SPECTRUM_BUDGET / spec_frame).max(1) } else { batch };
        let batch = batch.min((max_binding / spec_frame).max(1)).min(limits.max_compute_workgroups_per_dimension as usize);
        if spec_frame > max_binding {
            return Err(GpuError::TooLarge(format!("a {ph}x{pw} complex frame exceeds the binding limit of {max_binding} bytes")));
        }

        let up = params.upsample_factor.max(1);
        let half = (0.75 * up as f64).ceil() as usize;
        let n_grid = 2 * half + 1;
        let ky_max = ((ph as f64) * BAND).floor() as usize;
        let kx_max = (((pw as f64) * BAND).floor() as usize).min(pw / 2);
        let (max_y, max_x) = params.max_shifts;
        let geom = Geometry { h, w, ph, pw, max_y, max_x, up, half, ky_max, kx_max };
        let t = Tables::new(&geom);
        let dims_value = Dims {
            h: h as u32,
            w: w as u32,
            ph: ph as u32,
            pw: pw as u32,
            n_frames: 1,
            max_y: max_y as u32,
            max_x: max_x as u32,
            up: up as u32,
            half: half as u32,
            n_grid: n_grid as u32,
            ky_max: ky_max as u32,
            kx_max: kx_max as u32,
            border: match params.border {
                BorderMode::Copy => 0,
                BorderMode::Nan => 1,
                BorderMode::Zero => 2,
            },
            nmax: ph.max(pw) as u32,
            win_h: (2 * max_y + 1) as u32,
            win_w: (2 * max_x + 1) as u32,
            off_tw: t.off_tw as u32,
            off_fy: t.off_fy as u32,
            off_fx: t.off_fx as u32,
            off_wy: t.off_wy as u32,
            off_wx: t.off_wx as u32,
            off_acy: t.off_acy as u32,
            off_acx: t.off_acx as u32,
            off_gy: t.off_gy as u32,
            off_gx: t.off_gx as u32,
            off_dint: t.off_dint as u32,
            n_acy: h as u32,
            n_acx: w as u32,
            norm: (ph * pw) as f32,
            fill: if params.border == BorderMode::Nan { f32::NAN } else { 0.0 },
            center_y: 0.0,
            center_x: 0.0,
            radius_y: max_y as f32,
            radius_x: max_x as f32,
            up_f: up as f32,
            _pad: 0.0,
        };

        let k = Kernels::new(ctx);
        let dims = uniform_from(device, "registration.dims", &dims_value);
        let tables = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("registration.tables"),
            contents: bytemuck::cast_slice(&t.data),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let frames = storage_f32(device, "registration.frames", batch * h * w);
        let out = storage_f32(device, "registration.out", batch * h * w);
        let spec = storage_bytes(device, "registration.spec", batch * spec_frame);
        let tmpl = storage_bytes(device, "registration.template_spectrum", spec_frame);
        let band = storage_bytes(device, "registration.band", batch * (2 * ky_max + 1) * (kx_max + 1) * 8);
        let stage = storage_bytes(device, "registration.refine_stage", batch * (kx_max + 1) * n_grid * 8);
        let grid_buf = storage_bytes(device, "registration.refine_grid", batch * n_grid * n_grid * 4);
        let est = storage_bytes(device, "registration.estimates", batch * 16);
        let est_staging = staging(device, "registration.estimates.staging", (batch * 16) as u64);
        let out_staging = staging(device, "registration.out.staging", (batch * h * w * 4) as u64);

        let pass = |label: &str, p: FftPass| uniform_from(device, label, &p);
        let frame_stride = (ph * pw) as u32;
        // Lines longer than one workgroup's memory are split into their even and odd samples (sub = 2) and finished
        // by `fft_combine`; the same uniform serves both (n is the sub-line length, lines_per_frame counts sub-lines).
        let sub = |n: usize| if n > MAX_FFT_LEN { 2 } else { 1 };
        let rows = |inverse| FftPass { n: (pw / sub(pw)) as u32, lines_per_frame: (ph * sub(pw)) as u32, line_stride: pw as u32, elem_stride: 1, frame_stride, inverse, sub: sub(pw) as u32, ..Default::default() };
        let cols = |inverse| FftPass { n: (ph / sub(ph)) as u32, lines_per_frame: (pw * sub(ph)) as u32, line_stride: 1, elem_stride: pw as u32, frame_stride, inverse, sub: sub(ph) as u32, ..Default::default() };
        let passes = [
            pass("registration.fft.rows.forward", rows(0)),
            pass("registration.fft.cols.forward", cols(0)),
            pass("registration.fft.cols.inverse", cols(1)),
            pass("registration.fft.rows.inverse", rows(1)),
        ];
        let bg_fft = std::array::from_fn(|i| bind(device, "registration.fft.bind_group", &k.fft, &[(0, &dims), (1, &passes[i]), (2, &tables), (3, &spec)]));
        let bg_fft_combine = std::array::from_fn(|i| bind(device, "registration.fft_combine.bind_group", &k.fft_combine, &[(0, &dims), (1, &passes[i]), (2, &tables), (3, &spec)]));
        let bg_prepare = bind(device, "registration.prepare.bind_group", &k.prepare, &[(0, &dims), (1, &frames), (2, &tables), (3, &spec)]);
        let bg_spectrum = bind(device, "registration.spectrum.bind_group", &k.cross_power, &[(0, &dims), (1, &tables), (2, &spec), (3, &tmpl), (4, &band)]);
        let bg_peak = bind(device, "registration.peak.bind_group", &k.peak, &[(0, &dims), (1, &tables), (2, &spec), (3, &est)]);
        let bg_refine_stage = bind(device, "registration.refine_stage.bind_group", &k.refine_stage, &[(0, &dims), (1, &tables), (2, &band), (3, &stage), (4, &est)]);
        let bg_refine_grid = bind(device, "registration.refine_grid.bind_group", &k.refine_grid, &[(0, &dims), (1, &tables), (3, &stage), (4, &est), (5, &grid_buf)]);
        let bg_warp = bind(device, "registration.warp.bind_group", &k.warp, &[(0, &dims), (1, &frames), (2, &est), (3, &out)]);

        let reg = Self {
            ctx: ctx.clone(),
            k,
            h,
            w,
            ph,
            pw,
            batch,
            last_frames: std::sync::atomic::AtomicUsize::new(0),
            dims_value,
            dims,
            frames,
            out,
            est,
            est_staging,
            out_staging,
            bg_prepare,
            bg_fft,
            bg_fft_combine,
            bg_spectrum,
            bg_peak,
            bg_refine_stage,
            bg_refine_grid,
            bg_warp,
        };
        // The template's smoothed conjugate spectrum, computed in frame slot 0 (dims.n_frames is 1 here).
        ctx.queue.write_buffer(&reg.frames, 0, bytemuck::cast_slice(template));
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("registration.template.encoder") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("registration.template.pass"), timestamp_writes: None });
            reg.encode_forward(&mut pass, 1);
            pass.set_pipeline(&reg.k.template_conj.pipeline);
            pass.set_bind_group(0, &reg.bg_spectrum, &[]);
            let (gx, gy) = reg.grid_inv(ph * pw);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        ctx.queue.submit(Some(enc.finish()));
        Ok(reg)
    }

    /// Frames per submission.
    pub fn batch_frames(&self) -> usize {
        self.batch
    }

    /// Padded FFT size (rows, columns): the frame size rounded up to powers of two.
    pub fn fft_size(&self) -> (usize, usize) {
        (self.ph, self.pw)
    }

    fn max_dim(&self) -> u32 {
        self.ctx.device.limits().max_compute_workgroups_per_dimension
    }

    fn grid_inv(&self, n: usize) -> (u32, u32) {
        grid_for_invocations(n, self.max_dim())
    }

    fn fft(&self, pass: &mut wgpu::ComputePass<'_>, which: usize, n_frames: usize) {
        let rows = which == FFT_ROWS_FWD || which == FFT_ROWS_INV;
        let (lines, len) = if rows { (self.ph, self.pw) } else { (self.pw, self.ph) };
        let split = len > MAX_FFT_LEN;
        let sub_lines = if split { 2 * lines } else { lines };
        let (gx, gy) = grid((n_frames * sub_lines) as u32, self.max_dim());
        pass.set_pipeline(&self.k.fft.pipeline);
        pass.set_bind_group(0, &self.bg_fft[which], &[]);
        pass.dispatch_workgroups(gx, gy, 1);
        if split {
            let (gx, gy) = grid((n_frames * lines) as u32, self.max_dim());
            pass.set_pipeline(&self.k.fft_combine.pipeline);
            pass.set_bind_group(0, &self.bg_fft_combine[which], &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
    }

    fn encode_forward(&self, pass: &mut wgpu::ComputePass<'_>, n_frames: usize) {
        pass.set_pipeline(&self.k.prepare.pipeline);
        pass.set_bind_group(0, &self.bg_prepare, &[]);
        pass.dispatch_workgroups(n_frames as u32, 1, 1);
        self.fft(pass, FFT_ROWS_FWD, n_frames);
        self.fft(pass, FFT_COLS_FWD, n_frames);
    }

    /// Record estimation of the `n_frames` frames in the frames buffer into the estimates buffer.
    fn encode_estimate(&self, pass: &mut wgpu::ComputePass<'_>, n_frames: usize) {
        self.encode_forward(pass, n_frames);
        pass.set_pipeline(&self.k.cross_power.pipeline);
        pass.set_bind_group(0, &self.bg_spectrum, &[]);
        let (gx, gy) = self.grid_inv(n_frames * self.ph * self.pw);
        pass.dispatch_workgroups(gx, gy, 1);
        self.fft(pass, FFT_COLS_INV, n_frames);
        self.fft(pass, FFT_ROWS_INV, n_frames);
        pass.set_pipeline(&self.k.peak.pipeline);
        pass.set_bind_group(0, &self.bg_peak, &[]);
        pass.dispatch_workgroups(n_frames as u32, 1, 1);
        if self.dims_value.up > 1 {
            pass.set_pipeline(&self.k.refine_stage.pipeline);
            pass.set_bind_group(0, &self.bg_refine_stage, &[]);
            let (gx, gy) = self.grid_inv(n_frames * (self.dims_value.kx_max as usize + 1) * self.dims_value.n_grid as usize);
            pass.dispatch_workgroups(gx, gy, 1);
            pass.set_pipeline(&self.k.refine_grid.pipeline);
            pass.set_bind_group(0, &self.bg_refine_grid, &[]);
            pass.dispatch_workgroups(n_frames as u32, 1, 1);
        }
    }

    fn encode_warp(&self, pass: &mut wgpu::ComputePass<'_>, n_frames: usize) {
        pass.set_pipeline(&self.k.warp.pipeline);
        pass.set_bind_group(0, &self.bg_warp, &[]);
        let (gx, gy) = self.grid_inv(n_frames * self.h * self.w);
        pass.dispatch_workgroups(gx, gy, 1);
    }

    /// Upload one chunk (at most `batch` frames), run estimation (and the warp), copy results to the staging
    /// buffers and submit.
    fn submit_chunk(&self, chunk: &[f32], warp: bool) -> usize {
        let n_frames = chunk.len() / (self.h * self.w);
        let dims = Dims { n_frames: n_frames as u32, ..self.dims_value };
        self.ctx.queue.write_buffer(&self.dims, 0, bytemuck::bytes_of(&dims));
        self.ctx.queue.write_buffer(&self.frames, 0, bytemuck::cast_slice(chunk));
        self.last_frames.store(n_frames, std::sync::atomic::Ordering::Relaxed);
        self.submit_resident(n_frames, warp, true);
        n_frames
    }

    fn submit_resident(&self, n_frames: usize, warp: bool, copy_back: bool) {
        let mut enc = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("registration.batch.encoder") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("registration.batch.pass"), timestamp_writes: None });
            self.encode_estimate(&mut pass, n_frames);
            if warp {
                self.encode_warp(&mut pass, n_frames);
            }
        }
        if copy_back {
            enc.copy_buffer_to_buffer(&self.est, 0, &self.est_staging, 0, (n_frames * 16) as u64);
            if warp {
                enc.copy_buffer_to_buffer(&self.out, 0, &self.out_staging, 0, (n_frames * self.h * self.w * 4) as u64);
            }
        }
        self.ctx.queue.submit(Some(enc.finish()));
    }

    /// Map the staging buffers, read `n_frames` estimates (and warped frames into `out`), unmap.
    fn read_chunk(&self, n_frames: usize, out: Option<&mut [f32]>) -> Result<Vec<Shift>, GpuError> {
        let est_bytes = (n_frames * 16) as u64;
        let out_bytes = (n_frames * self.h * self.w * 4) as u64;
        let (tx, rx) = std::sync::mpsc::channel();
        let mut mapped = vec![(&self.est_staging, est_bytes)];
        if out.is_some() {
            mapped.push((&self.out_staging, out_bytes));
        }
        for &(buf, bytes) in &mapped {
            let tx = tx.clone();
            buf.slice(..bytes).map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        }
        drop(tx);
        self.ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
        for r in rx.iter() {
            r.map_err(|e| GpuError::Readback(e.to_string()))?;
        }
        let shifts = {
            let view = self.est_staging.slice(..est_bytes).get_mapped_range();
            let est: &[f32] = bytemuck::cast_slice(&view);
            est.chunks_exact(4).map(|e| Shift { dy: f64::from(e[0]), dx: f64::from(e[1]), peak: f64::from(e[2]) }).collect()
        };
        self.est_staging.unmap();
        if let Some(out) = out {
            {
                let view = self.out_staging.slice(..out_bytes).get_mapped_range();
                out.copy_from_slice(bytemuck::cast_slice(&view));
            }
            self.out_staging.unmap();
        }
        Ok(shifts)
    }

    fn check_len(&self, frames: &[f32]) -> Result<(), GpuError> {
        if frames.len() % (self.h * self.w) != 0 {
            return Err(GpuError::TooLarge(format!("{} samples are not a whole number of {}x{} frames", frames.len(), self.h, self.w)));
        }
        Ok(())
    }

    /// Shift of each frame (`frames`: B x h x w row-major) against the template: what sits at (y, x) in the
    /// template is found at (y + dy, x + dx) in the frame, as `Registrar::estimate` with the window
    /// `|dy| <= max_y, |dx| <= max_x`.
    pub fn estimate_batch(&self, frames: &[f32]) -> Result<Vec<Shift>, GpuError> {
        self.check_len(frames)?;
        let mut shifts = Vec::with_capacity(frames.len() / (self.h * self.w));
        for chunk in frames.chunks(self.batch * self.h * self.w) {
            let n = self.submit_chunk(chunk, false);
            shifts.extend(self.read_chunk(n, None)?);
        }
        Ok(shifts)
    }

    /// Estimate each frame's shift and write the corrected frames (`shift_rigid` with the border mode of the
    /// parameters) into `out` (same length as `frames`).
    pub fn register_batch(&self, frames: &[f32], out: &mut [f32]) -> Result<Vec<Shift>, GpuError> {
        self.check_len(frames)?;
        if out.len() != frames.len() {
            return Err(GpuError::TooLarge(format!("output holds {} samples, input {}", out.len(), frames.len())));
        }
        let per = self.batch * self.h * self.w;
        let mut shifts = Vec::with_capacity(frames.len() / (self.h * self.w));
        for (chunk, out_chunk) in frames.chunks(per).zip(out.chunks_mut(per)) {
            let n = self.submit_chunk(chunk, true);
            shifts.extend(self.read_chunk(n, Some(out_chunk))?);
        }
        Ok(shifts)
    }

    /// For benchmarks: run estimation (and the warp) again on the last batch uploaded, without upload or readback,
    /// and wait for the device.
    #[doc(hidden)]
    pub fn rerun_resident(&self, warp: bool) -> Result<(), GpuError> {
        let n = self.last_frames.load(std::sync::atomic::Ordering::Relaxed);
        if n == 0 {
            return Ok(());
        }
        self.submit_resident(n, warp, false);
        self.ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
        Ok(())
    }
}

impl mesmerize_core::registration::BatchRegistrar for GpuRigidRegistrar {
    fn batch_frames(&self) -> usize {
        GpuRigidRegistrar::batch_frames(self)
    }
    fn register_batch(&self, frames: &[f32], out: &mut [f32]) -> Result<Vec<Shift>, String> {
        GpuRigidRegistrar::register_batch(self, frames, out).map_err(|e| e.to_string())
    }
    fn describe(&self) -> String {
        self.ctx.describe()
    }
}
