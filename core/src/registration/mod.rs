//! NoRMCorre motion correction (Pnevmatikakis & Giovannucci 2017): rigid registration against a template refined
//! from the movie, then optional piecewise-rigid registration of overlapping patches. Streaming: frames are read,
//! registered and written in batches, so a movie never has to fit in memory.

mod fft2;
mod hipass;
mod params;
mod phase_corr;
mod piecewise;
pub mod score;
mod template;
mod volume;
mod warp;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

pub use fft2::Fft2;
pub use hipass::HighPass;
pub use params::{BorderMode, MotionParams};
pub use phase_corr::{autocorrelation, taper, BAND, SMOOTH_SIGMA, Registrar, RegScratch, SearchWindow, Shift};
pub use piecewise::{PatchGrid, PatchRegistrar, ShiftField};
pub use volume::{correct_volume, VolumeResult};
pub use warp::{shift_rigid, warp_field, Field};

use crate::imaging::{Dtype, ImagingError, ImgData};
use crate::io::tiff::{TiffWriter, WriteReport};
use crate::progress::Progress;

/// What can go wrong correcting motion.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A parameter is out of range or does not fit the movie.
    #[error("bad motion-correction parameter: {0}")]
    Param(String),
    /// The movie could not be read or the output written.
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    /// The data cannot be corrected this way.
    #[error("{0}")]
    Unsupported(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Output sample type, as the docs' "output bit depth" offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputDepth {
    /// "Do not convert": float32, NaN borders kept.
    Float32,
    /// 16-bit unsigned (clipped values counted).
    U16,
    /// 8-bit unsigned (clipped values counted).
    U8,
}

impl OutputDepth {
    /// The docs' label for the history entry.
    pub fn label(self) -> &'static str {
        match self {
            Self::Float32 => "Do not convert",
            Self::U16 => "16",
            Self::U8 => "8",
        }
    }
    fn dtype(self) -> Dtype {
        match self {
            Self::Float32 => Dtype::F32,
            Self::U16 => Dtype::U16,
            Self::U8 => Dtype::U8,
        }
    }
}

/// Per-patch shifts of a piecewise-rigid correction.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchShifts {
    /// Patch centres (y, x).
    pub centers: Vec<[f64; 2]>,
    /// Per frame, per patch (dy, dx).
    pub shifts: Vec<Vec<[f64; 2]>>,
}

/// Result of a correction.
#[derive(Debug, Clone)]
pub struct MotionResult {
    /// Rigid (dy, dx) per frame: template content at (y, x) was found at (y + dy, x + dx).
    pub rigid: Vec<[f64; 2]>,
    /// Per-patch shifts when `pw_rigid`.
    pub patches: Option<PatchShifts>,
    /// The final template (y * x).
    pub template: Vec<f32>,
    /// Border width affected by the shifts (ceil of the largest |shift|).
    pub bord_px: usize,
    /// What the writer did (clipping included).
    pub write: WriteReport,
    /// Seconds spent building the template and correcting.
    pub seconds: (f64, f64),
}

impl MotionResult {
    /// The shifts as SHIFTS.json (`{"rigid": [[dy, dx], ...], "patches": {"centers", "shifts"}}`).
    pub fn shifts_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "rigid": self.rigid });
        if let Some(p) = &self.patches {
            v["patches"] = serde_json::json!({ "centers": p.centers, "shifts": p.shifts });
        }
        v
    }
}

/// Everything needed to register frames against one template.
struct Engine {
    h: usize,
    w: usize,
    params: MotionParams,
    rigid: Registrar,
    patches: Option<PatchRegistrar>,
    highpass: Option<HighPass>,
}

/// Per-thread scratch of the engine.
#[derive(Default)]
struct Work {
    reg: RegScratch,
    filtered: Vec<f32>,
    patch: Vec<f32>,
    tmp: Vec<f32>,
    rigid_corrected: Vec<f32>,
}

/// One frame's registration.
struct FrameShift {
    rigid: [f64; 2],
    patches: Option<Vec<[f64; 2]>>,
}

impl Engine {
    fn new(template: &[f32], h: usize, w: usize, params: &MotionParams, fft: &Arc<Fft2>, piecewise: bool) -> Self {
        let highpass = params.gsig_filt.map(HighPass::new);
        let rigid = Registrar::new(fft.clone(), template, params.upsample_factor);
        let patches = piecewise.then(|| {
            let grid = PatchGrid::new(h, w, params.strides, params.overlaps);
            PatchRegistrar::new(template, w, grid, params.upsample_factor)
        });
        Self { h, w, params: params.clone(), rigid, patches, highpass }
    }

    /// Estimate the shifts of a raw frame (high-passed first when `gSig_filt` is set).
    fn estimate(&self, raw: &[f32], k: &mut Work) -> FrameShift {
        let frame: &[f32] = match &self.highpass {
            Some(hp) => {
                k.filtered.resize(raw.len(), 0.0);
                hp.apply(raw, self.h, self.w, &mut k.filtered);
                &k.filtered
            }
            None => raw,
        };
        let (my, mx) = self.params.max_shifts;
        let s = self.rigid.estimate(frame, SearchWindow { center: (0.0, 0.0), radius: (my as f64, mx as f64) }, &mut k.reg);
        // Patches are registered on the rigidly corrected frame, so their residual shifts are small and little
        // content enters or leaves a patch between frame and template; the total is rigid + residual.
        let patches = self.patches.as_ref().map(|p| {
            k.rigid_corrected.resize(frame.len(), 0.0);
            shift_rigid(frame, self.h, self.w, s.dy, s.dx, BorderMode::Copy, &mut k.tmp, &mut k.rigid_corrected);
            let mut residual = p.estimate(&k.rigid_corrected, (0.0, 0.0), self.params.max_deviation_rigid as f64, &mut k.reg, &mut k.patch);
            for r in &mut residual {
                r[0] += s.dy;
                r[1] += s.dx;
            }
            residual
        });
        FrameShift { rigid: [s.dy, s.dx], patches }
    }

    /// Apply a frame's shifts to the raw frame.
    fn apply(&self, raw: &[f32], shift: &FrameShift, k: &mut Work, out: &mut [f32]) {
        match (&shift.patches, &self.patches) {
            (Some(ps), Some(p)) => {
                let field = ShiftField::new(p.grid(), ps, self.params.upsample_factor_grid);
                warp_field(raw, self.h, self.w, &field.field(), self.params.border, out);
            }
            _ => shift_rigid(raw, self.h, self.w, shift.rigid[0], shift.rigid[1], self.params.border, &mut k.tmp, out),
        }
    }
}

fn read_frames(img: &ImgData, ts: impl Iterator<Item = usize>) -> Result<Vec<Vec<f32>>, ImagingError> {
    ts.map(|t| {
        let p = img.plane(t, 0);
        img.release_plane(t, 0);
        p
    })
    .collect()
}

/// Build the template: rigid passes over a sample of the movie, then (for pw-rigid) a piecewise pass.
/// The registration template of a movie (rigid passes over a sample, plus a piecewise pass for `pw_rigid`), in the
/// estimation domain (high-passed when `gSig_filt` is set). Exposed so other registrars (the GPU's) use the same.
pub fn template_for(img: &ImgData, params: &MotionParams, progress: &dyn Progress) -> Result<Vec<f32>, RegistrationError> {
    let s = img.shape();
    params.validate(s.y, s.x, s.t)?;
    build_template(img, params, &Arc::new(Fft2::new(s.y, s.x)), progress)
}

/// Rigid registration of batches of frames against a template, implemented by `mesmerize_gpu` on a wgpu device.
pub trait BatchRegistrar: Sync {
    /// Frames per call that use the device best.
    fn batch_frames(&self) -> usize;
    /// Register `frames` ((n, h, w) row-major) and write them corrected into `out`; returns each frame's shift.
    fn register_batch(&self, frames: &[f32], out: &mut [f32]) -> Result<Vec<Shift>, String>;
    /// Which device, for logs.
    fn describe(&self) -> String;
}

/// Rigid correction with a [`BatchRegistrar`] made from the template by `make` (the template is built on the CPU,
/// exactly as [`correct_movie`] builds it); frames are streamed through it in batches and written as they come.
pub fn correct_movie_batched(
    img: &ImgData,
    params: &MotionParams,
    out: &Path,
    depth: OutputDepth,
    progress: &dyn Progress,
    make: &dyn Fn(&[f32]) -> Result<Box<dyn BatchRegistrar>, String>,
) -> Result<MotionResult, RegistrationError> {
    let s = img.shape();
    if s.volumetric {
        return Err(RegistrationError::Unsupported("volumetric motion correction is not available yet".into()));
    }
    if params.pw_rigid || params.gsig_filt.is_some() {
        return Err(RegistrationError::Unsupported("the batched (GPU) path does rigid correction without gSig_filt; use the CPU".into()));
    }
    let started = Instant::now();
    let template = template_for(img, params, progress)?;
    let template_secs = started.elapsed().as_secs_f64();
    let registrar = make(&template).map_err(RegistrationError::Unsupported)?;
    tracing::info!("registering on {}", registrar.describe());
    let started = Instant::now();
    let n_px = s.plane_len();
    let batch = registrar.batch_frames().max(1);
    let mut writer = TiffWriter::create(out, s, depth.dtype(), None)?;
    let mut rigid = Vec::with_capacity(s.t);
    progress.start("correcting", s.t as u64);
    let read_batch = |t0: usize, buf: &mut Vec<f32>| -> Result<usize, ImagingError> {
        let n = batch.min(s.t - t0);
        buf.resize(n * n_px, 0.0);
        for (i, f) in buf.chunks_mut(n_px).enumerate() {
            img.read_plane(t0 + i, 0, f)?;
            img.release_plane(t0 + i, 0);
        }
        Ok(n)
    };
    // Three stages overlap: while the device registers batch k (upload, compute, download), this thread writes
    // batch k-1 and reads batch k+1.
    let mut next = Vec::new();
    let mut n_next = if s.t > 0 { read_batch(0, &mut next)? } else { 0 };
    let mut done: Option<Vec<f32>> = None;
    let mut corrected = Vec::new();
    let mut t0 = 0;
    while t0 < s.t {
        if progress.cancelled() {
            return Err(RegistrationError::Cancelled);
        }
        let frames = std::mem::take(&mut next);
        let n = n_next;
        corrected.resize(n * n_px, 0.0);
        let mut out_buf = std::mem::take(&mut corrected);
        let (result, io): (Result<Vec<Shift>, String>, Result<(Vec<f32>, usize), ImagingError>) = std::thread::scope(|scope| {
            let device = scope.spawn(|| registrar.register_batch(&frames, &mut out_buf));
            let io = (|| {
                if let Some(prev) = done.take() {
                    for f in prev.chunks(n_px) {
                        writer.write_plane(f)?;
                    }
                }
                let mut buf = Vec::new();
                let m = if t0 + n < s.t { read_batch(t0 + n, &mut buf)? } else { 0 };
                Ok((buf, m))
            })();
            (device.join().unwrap_or_else(|_| Err("the GPU worker thread panicked".into())), io)
        });
        let shifts = result.map_err(RegistrationError::Unsupported)?;
        let (buf, m) = io?;
        rigid.extend(shifts.iter().map(|s| [s.dy, s.dx]));
        done = Some(out_buf);
        next = buf;
        n_next = m;
        progress.advance(n as u64);
        t0 += n;
    }
    if let Some(prev) = done.take() {
        for f in prev.chunks(n_px) {
            writer.write_plane(f)?;
        }
    }
    let write = writer.finish()?;
    let largest = rigid.iter().map(|s| s[0].abs().max(s[1].abs())).fold(0.0f64, f64::max);
    Ok(MotionResult { rigid, patches: None, template, bord_px: largest.ceil() as usize, write, seconds: (template_secs, started.elapsed().as_secs_f64()) })
}

fn build_template(img: &ImgData, params: &MotionParams, fft: &Arc<Fft2>, progress: &dyn Progress) -> Result<Vec<f32>, RegistrationError> {
    let s = img.shape();
    let (h, w) = (s.y, s.x);
    let chunks = template::sample_chunks(s.t, params.template_frames);
    let sample = read_frames(img, chunks.iter().flat_map(|&(start, len)| start..start + len))?;
    let highpass = params.gsig_filt.map(HighPass::new);
    // Estimation runs on high-passed frames when gSig_filt is set (the raw sample is not needed after that).
    let estimation: Vec<Vec<f32>> = match &highpass {
        Some(hp) => sample
            .into_par_iter()
            .map(|f| {
                let mut out = vec![0.0; h * w];
                hp.apply(&f, h, w, &mut out);
                out
            })
            .collect(),
        None => sample,
    };
    let rigid_passes = params.niter_rig.max(1) + 1;
    let passes = rigid_passes + usize::from(params.pw_rigid);
    // The first pass only needs a rough template: it registers every third chunk.
    let chunks_of_pass = |pass: usize| -> Vec<usize> {
        if pass == 0 && chunks.len() >= 9 { (0..chunks.len()).step_by(3).collect() } else { (0..chunks.len()).collect() }
    };
    let starts: Vec<usize> = chunks.iter().scan(0, |acc, &(_, len)| {
        let s = *acc;
        *acc += len;
        Some(s)
    }).collect();
    let total: usize = (0..passes).map(|p| chunks_of_pass(p).iter().map(|&c| chunks[c].1).sum::<usize>()).sum();
    progress.start("template", total as u64);
    let initial = template::median_of_chunk_means(&estimation, &chunks, h * w);
    let mut template = initial.clone();
    let mut est_params = params.clone();
    est_params.gsig_filt = None; // estimation frames are filtered already
    est_params.border = BorderMode::Nan; // keep shifted-in borders out of the template
    for pass in 0..passes {
        if progress.cancelled() {
            return Err(RegistrationError::Cancelled);
        }
        let piecewise = pass >= rigid_passes;
        let engine = Engine::new(&template, h, w, &est_params, fft, piecewise);
        let used = chunks_of_pass(pass);
        let frames: Vec<&Vec<f32>> = used.iter().flat_map(|&c| &estimation[starts[c]..starts[c] + chunks[c].1]).collect();
        let used_chunks: Vec<(usize, usize)> = used.iter().map(|&c| chunks[c]).collect();
        let corrected: Vec<Vec<f32>> = frames
            .par_iter()
            .map_init(Work::default, |k, f| {
                let shift = engine.estimate(f, k);
                let mut out = vec![0.0; h * w];
                engine.apply(f, &shift, k, &mut out);
                progress.advance(1);
                out
            })
            .collect();
        template = template::median_of_chunk_means(&corrected, &used_chunks, h * w);
        // Pixels never covered (NaN everywhere) fall back to the uncorrected template.
        for (t, f) in template.iter_mut().zip(&initial) {
            if !t.is_finite() {
                *t = *f;
            }
        }
    }
    Ok(template)
}

/// Correct `img` (a 2D movie) and write the result to `out` as `depth`; returns shifts, template and timings.
pub fn correct_movie(img: &ImgData, params: &MotionParams, out: &Path, depth: OutputDepth, progress: &dyn Progress) -> Result<MotionResult, RegistrationError> {
    let s = img.shape();
    if s.volumetric {
        return Err(RegistrationError::Unsupported(format!(
            "{} is a volume (t, z, y, x); volumetric motion correction is not available yet",
            img.path().map_or("the movie".into(), |p| p.display().to_string())
        )));
    }
    params.validate(s.y, s.x, s.t)?;
    let (h, w) = (s.y, s.x);
    let fft = Arc::new(Fft2::new(h, w));
    let started = Instant::now();
    let template = build_template(img, params, &fft, progress)?;
    let template_secs = started.elapsed().as_secs_f64();

    // Estimation runs against the (filtered) template; shifts are applied to raw frames with the user's border mode.
    let engine = Engine::new(&template, h, w, params, &fft, params.pw_rigid);
    let started = Instant::now();
    let threads = rayon::current_num_threads().max(1);
    let batch = threads * 8;
    let n_px = h * w;
    let mut writer = TiffWriter::create(out, s, depth.dtype(), None)?;
    let mut rigid = Vec::with_capacity(s.t);
    let mut patch_shifts = Vec::new();
    progress.start("correcting", s.t as u64);
    // A writer thread writes corrected batches while the next is computed, and hands the buffers back for reuse.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<f32>>>(2);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Vec<f32>>>();
    let writer_thread = std::thread::spawn(move || -> Result<TiffWriter, ImagingError> {
        for frames in rx {
            for f in &frames {
                writer.write_plane(f)?;
            }
            let _ = back_tx.send(frames);
        }
        Ok(writer)
    });
    let mut works: Vec<Work> = (0..threads).map(|_| Work::default()).collect();
    let mut raw: Vec<Vec<f32>> = (0..batch).map(|_| vec![0.0; n_px]).collect();
    let mut failure: Option<RegistrationError> = None;
    for t0 in (0..s.t).step_by(batch) {
        if progress.cancelled() {
            failure = Some(RegistrationError::Cancelled);
            break;
        }
        let n = batch.min(s.t - t0);
        let mut outs = back_rx.try_recv().unwrap_or_default();
        outs.resize_with(n, || vec![0.0; n_px]);
        let per = n.div_ceil(threads);
        // Each worker reads its own frames (reading is thread-safe), registers and warps them.
        let shifts: Result<Vec<Vec<FrameShift>>, ImagingError> = raw[..n]
            .par_chunks_mut(per)
            .zip(outs.par_chunks_mut(per))
            .zip(works.par_iter_mut())
            .enumerate()
            .map(|(ci, ((frames, outs), k))| {
                frames
                    .iter_mut()
                    .zip(outs.iter_mut())
                    .enumerate()
                    .map(|(i, (f, o))| {
                        let t = t0 + ci * per + i;
                        img.read_plane(t, 0, f)?;
                        img.release_plane(t, 0);
                        let shift = engine.estimate(f, k);
                        engine.apply(f, &shift, k, o);
                        Ok(shift)
                    })
                    .collect()
            })
            .collect();
        let shifts = match shifts {
            Ok(s) => s,
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        };
        for shift in shifts.into_iter().flatten() {
            rigid.push(shift.rigid);
            if let Some(p) = shift.patches {
                patch_shifts.push(p);
            }
        }
        if tx.send(outs).is_err() {
            break; // the writer stopped: its error is reported below
        }
        progress.advance(n as u64);
    }
    drop(tx);
    let writer = writer_thread.join().map_err(|_| RegistrationError::Unsupported("the output writer thread panicked".into()))??;
    if let Some(e) = failure {
        return Err(e); // dropping the writer discards the temporary file
    }
    let write = writer.finish()?;
    let largest = rigid
        .iter()
        .chain(patch_shifts.iter().flatten())
        .map(|s| s[0].abs().max(s[1].abs()))
        .fold(0.0f64, f64::max);
    let patches = params.pw_rigid.then(|| PatchShifts {
        centers: PatchGrid::new(h, w, params.strides, params.overlaps).centers(),
        shifts: patch_shifts,
    });
    Ok(MotionResult { rigid, patches, template, bord_px: largest.ceil() as usize, write, seconds: (template_secs, started.elapsed().as_secs_f64()) })
}
