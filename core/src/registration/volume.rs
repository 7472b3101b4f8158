//! Volumes (t, z, y, x): 3D rigid registration (shifts dz, dy, dx per volume) or plane-wise registration (each
//! plane registered over time on its own, rigid or piecewise).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::phase_corr::{autocorrelation, taper};
use super::{template, Engine, Fft2, MotionParams, OutputDepth, RegistrationError, Work};
use crate::imaging::{ImagingError, ImgData, PlaneSource, StackShape};
use crate::io::tiff::{TiffWriter, WriteReport};
use crate::progress::{NoProgress, Progress};

/// Result of a volume correction.
#[derive(Debug, Clone)]
pub struct VolumeResult {
    /// Per volume: [dz, dy, dx] (3D rigid), or per volume and plane: [dy, dx] (plane-wise), flattened (t, z).
    pub shifts: Vec<Vec<f64>>,
    /// Whether planes were registered independently.
    pub planewise: bool,
    /// Border width affected by the shifts.
    pub bord_px: usize,
    /// What the writer did.
    pub write: WriteReport,
    /// Seconds spent building templates and correcting.
    pub seconds: (f64, f64),
}

impl VolumeResult {
    /// The shifts as SHIFTS.json: `{"rigid3d": [[dz, dy, dx], ...]}` or `{"planes": [[[dy, dx], ...per plane], ...]}`.
    pub fn shifts_json(&self, planes: usize) -> serde_json::Value {
        if self.planewise {
            let per: Vec<&[Vec<f64>]> = self.shifts.chunks(planes.max(1)).collect();
            serde_json::json!({ "planes": per })
        } else {
            serde_json::json!({ "rigid3d": self.shifts })
        }
    }
}

/// One plane of a volume series seen as a 2D movie.
struct PlaneOf {
    img: ImgData,
    z: usize,
}

impl PlaneSource for PlaneOf {
    fn read_plane(&self, t: usize, _z: usize, out: &mut [f32]) -> Result<(), ImagingError> {
        self.img.read_plane(t, self.z, out)
    }
    fn release(&self, t: usize, _z: usize) {
        self.img.release_plane(t, self.z);
    }
    fn access(&self) -> String {
        format!("plane {} of {}", self.z, self.img.access())
    }
}

fn plane_movie(img: &ImgData, z: usize) -> ImgData {
    let s = img.shape();
    ImgData::from_source(Arc::new(PlaneOf { img: img.clone(), z }), StackShape::movie(s.t, s.y, s.x), img.dtype(), img.meta().clone(), None)
}

/// Correct a volume series: plane-wise when `planewise`, else 3D rigid.
pub fn correct_volume(img: &ImgData, params: &MotionParams, planewise: bool, out: &Path, depth: OutputDepth, progress: &dyn Progress) -> Result<VolumeResult, RegistrationError> {
    let s = img.shape();
    params.validate(s.y, s.x, s.t)?;
    if planewise { planes(img, params, out, depth, progress) } else { rigid3d(img, params, out, depth, progress) }
}

fn planes(img: &ImgData, params: &MotionParams, out: &Path, depth: OutputDepth, progress: &dyn Progress) -> Result<VolumeResult, RegistrationError> {
    let s = img.shape();
    let (h, w) = (s.y, s.x);
    let started = Instant::now();
    let fft = Arc::new(Fft2::new(h, w));
    let mut engines = Vec::with_capacity(s.z);
    progress.start("templates", s.z as u64);
    for z in 0..s.z {
        let t = super::template_for(&plane_movie(img, z), params, &NoProgress)?;
        engines.push(Engine::new(&t, h, w, params, &fft, params.pw_rigid));
        progress.advance(1);
    }
    let template_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut writer = TiffWriter::create(out, s, depth.dtype(), None)?;
    let mut shifts = Vec::with_capacity(s.t * s.z);
    let mut largest = 0.0f64;
    let batch = rayon::current_num_threads().max(1) * 2;
    progress.start("correcting", s.t as u64);
    for t0 in (0..s.t).step_by(batch) {
        if progress.cancelled() {
            return Err(RegistrationError::Cancelled);
        }
        let n = batch.min(s.t - t0);
        let done: Result<Vec<Vec<(Vec<f64>, Vec<f32>)>>, ImagingError> = (t0..t0 + n)
            .into_par_iter()
            .map_init(Work::default, |k, t| {
                (0..s.z)
                    .map(|z| {
                        let raw = img.plane(t, z)?;
                        img.release_plane(t, z);
                        let e = &engines[z];
                        let shift = e.estimate(&raw, k);
                        let mut o = vec![0.0; h * w];
                        e.apply(&raw, &shift, k, &mut o);
                        let m = shift.patches.iter().flatten().chain([&shift.rigid]).map(|p| p[0].abs().max(p[1].abs())).fold(0.0, f64::max);
                        Ok((vec![shift.rigid[0], shift.rigid[1], m], o))
                    })
                    .collect()
            })
            .collect();
        for vol in done? {
            for (sh, plane) in vol {
                largest = largest.max(sh[2]);
                shifts.push(sh[..2].to_vec());
                writer.write_plane(&plane)?;
            }
        }
        progress.advance(n as u64);
    }
    let write = writer.finish()?;
    Ok(VolumeResult { shifts, planewise: true, bord_px: largest.ceil() as usize, write, seconds: (template_secs, started.elapsed().as_secs_f64()) })
}

/// 3D FFT plans for a (zp, y, x) complex grid; z is zero-padded to twice the planes so shifts in z do not wrap.
struct Fft3 {
    dims: (usize, usize, usize),
    fwd: [Arc<dyn Fft<f32>>; 3],
    inv: [Arc<dyn Fft<f32>>; 3],
}

impl Fft3 {
    fn new(zp: usize, h: usize, w: usize) -> Self {
        let mut p = FftPlanner::<f32>::new();
        Self {
            dims: (zp, h, w),
            fwd: [p.plan_fft_forward(zp), p.plan_fft_forward(h), p.plan_fft_forward(w)],
            inv: [p.plan_fft_inverse(zp), p.plan_fft_inverse(h), p.plan_fft_inverse(w)],
        }
    }

    fn run(&self, data: &mut [Complex32], inverse: bool) {
        let (zp, h, w) = self.dims;
        let plans = if inverse { &self.inv } else { &self.fwd };
        for row in data.chunks_exact_mut(w) {
            plans[2].process(row);
        }
        // y and z: gather each line, transform it, scatter it back.
        let mut col = vec![Complex32::default(); h.max(zp)];
        let mut along = |n: usize, plan: &Arc<dyn Fft<f32>>, index: &dyn Fn(usize, usize) -> usize, lines: usize| {
            for line in 0..lines {
                for i in 0..n {
                    col[i] = data[index(line, i)];
                }
                plan.process(&mut col[..n]);
                for i in 0..n {
                    data[index(line, i)] = col[i];
                }
            }
        };
        along(h, &plans[1], &|line, y| ((line / w) * h + y) * w + line % w, zp * w);
        along(zp, &plans[0], &|line, z| (z * h + line / w) * w + line % w, h * w);
    }
}

/// Rigid 3D registration against a volume template.
struct Registrar3 {
    fft: Fft3,
    nz: usize,
    template_conj: Vec<Complex32>,
    wy: Vec<f32>,
    wx: Vec<f32>,
    /// Taper autocorrelations, divided out of the correlation like in 2D.
    ac_y: Vec<f64>,
    ac_x: Vec<f64>,
    max: (usize, usize, usize),
}

fn prepare3(vol: &[f32], nz: usize, wy: &[f32], wx: &[f32], out: &mut [Complex32]) {
    let (h, w) = (wy.len(), wx.len());
    let (sum, count) = vol.iter().filter(|v| v.is_finite()).fold((0.0f64, 0usize), |(s, n), &v| (s + f64::from(v), n + 1));
    let mean = if count == 0 { 0.0 } else { (sum / count as f64) as f32 };
    out.fill(Complex32::default());
    for z in 0..nz {
        for y in 0..h {
            for x in 0..w {
                let v = vol[(z * h + y) * w + x];
                let v = if v.is_finite() { (v - mean) * wy[y] * wx[x] } else { 0.0 };
                out[(z * h + y) * w + x] = Complex32::new(v, 0.0);
            }
        }
    }
}

fn vertex(m: f64, c: f64, p: f64) -> f64 {
    let den = m - 2.0 * c + p;
    if den < 0.0 { (0.5 * (m - p) / den).clamp(-0.5, 0.5) } else { 0.0 }
}

impl Registrar3 {
    fn new(template: &[f32], nz: usize, h: usize, w: usize, max: (usize, usize, usize)) -> Self {
        let zp = 2 * nz;
        let fft = Fft3::new(zp, h, w);
        let (wy, wx) = (taper(h, (h / 8).max(4)), taper(w, (w / 8).max(4)));
        let mut spec = vec![Complex32::default(); zp * h * w];
        prepare3(template, nz, &wy, &wx, &mut spec);
        fft.run(&mut spec, false);
        // Conjugate, with the same lateral Gaussian smoothing (1.6 px) as the 2D path.
        let k = -2.0 * std::f64::consts::PI.powi(2) * 1.6 * 1.6;
        for y in 0..h {
            let fy = if y <= h / 2 { y as f64 } else { y as f64 - h as f64 } / h as f64;
            for x in 0..w {
                let fx = if x <= w / 2 { x as f64 } else { x as f64 - w as f64 } / w as f64;
                let g = (k * (fx * fx + fy * fy)).exp() as f32;
                for z in 0..zp {
                    let c = &mut spec[(z * h + y) * w + x];
                    *c = c.conj() * g;
                }
            }
        }
        let (ac_y, ac_x) = (autocorrelation(&wy), autocorrelation(&wx));
        Self { fft, nz, template_conj: spec, wy, wx, ac_y, ac_x, max }
    }

    /// (dz, dy, dx) of a volume: integer peak in the window, then a parabola per axis.
    fn estimate(&self, vol: &[f32]) -> [f64; 3] {
        let (zp, h, w) = self.fft.dims;
        let mut spec = vec![Complex32::default(); zp * h * w];
        prepare3(vol, self.nz, &self.wy, &self.wx, &mut spec);
        self.fft.run(&mut spec, false);
        for (a, b) in spec.iter_mut().zip(&self.template_conj) {
            *a *= b;
        }
        self.fft.run(&mut spec, true);
        let (ac_y, ac_x) = (&self.ac_y, &self.ac_x);
        // Overlap of the zero-padded planes shrinks as |dz| grows: divide it out like the taper's damping.
        let value = |dz: i64, dy: i64, dx: i64| -> f64 {
            let i = (dz.rem_euclid(zp as i64) as usize * h + dy.rem_euclid(h as i64) as usize) * w + dx.rem_euclid(w as i64) as usize;
            let overlap = (self.nz as f64 - dz.unsigned_abs() as f64).max(0.5) / self.nz as f64;
            f64::from(spec[i].re) / (overlap * ac_y[dy.unsigned_abs() as usize] * ac_x[dx.unsigned_abs() as usize]).max(1e-3)
        };
        let (mz, my, mx) = (self.max.0 as i64, self.max.1 as i64, self.max.2 as i64);
        let mut best = (f64::NEG_INFINITY, 0i64, 0i64, 0i64);
        for dz in -mz..=mz {
            for dy in -my..=my {
                for dx in -mx..=mx {
                    let v = value(dz, dy, dx);
                    if v > best.0 {
                        best = (v, dz, dy, dx);
                    }
                }
            }
        }
        let (c, bz, by, bx) = best;
        let fz = if mz > 0 && bz.abs() < mz { vertex(value(bz - 1, by, bx), c, value(bz + 1, by, bx)) } else { 0.0 };
        let fy = if by.abs() < my { vertex(value(bz, by - 1, bx), c, value(bz, by + 1, bx)) } else { 0.0 };
        let fx = if bx.abs() < mx { vertex(value(bz, by, bx - 1), c, value(bz, by, bx + 1)) } else { 0.0 };
        [bz as f64 + fz, by as f64 + fy, bx as f64 + fx]
    }
}

/// Shift a volume: `out(z, y, x) = vol(z + dz, y + dy, x + dx)`, cubic in y and x (as 2D), cubic in z.
fn shift3(vol: &[f32], nz: usize, h: usize, w: usize, d: [f64; 3], border: super::BorderMode, out: &mut [f32]) {
    let n = h * w;
    let mut lateral = vec![0.0f32; nz * n];
    let mut tmp = Vec::new();
    for z in 0..nz {
        super::shift_rigid(&vol[z * n..(z + 1) * n], h, w, d[1], d[2], border, &mut tmp, &mut lateral[z * n..(z + 1) * n]);
    }
    let (iz, fz) = (d[0].floor() as i64, (d[0] - d[0].floor()) as f32);
    let wz = super::warp::cubic_weights_pub(fz);
    for z in 0..nz {
        let src = z as f64 + d[0];
        let outside = src < 0.0 || src > (nz - 1) as f64;
        let dst = &mut out[z * n..(z + 1) * n];
        match (outside, border) {
            (true, super::BorderMode::Nan) => dst.fill(f32::NAN),
            (true, super::BorderMode::Zero) => dst.fill(0.0),
            _ => {
                let idx: [usize; 4] = std::array::from_fn(|k| (z as i64 + iz - 1 + k as i64).clamp(0, nz as i64 - 1) as usize);
                for i in 0..n {
                    dst[i] = (0..4).map(|k| wz[k] * lateral[idx[k] * n + i]).sum();
                }
            }
        }
    }
}

fn rigid3d(img: &ImgData, params: &MotionParams, out: &Path, depth: OutputDepth, progress: &dyn Progress) -> Result<VolumeResult, RegistrationError> {
    let s = img.shape();
    let (nz, h, w) = (s.z, s.y, s.x);
    let n = nz * h * w;
    if params.pw_rigid {
        return Err(RegistrationError::Unsupported("piecewise-rigid correction of volumes is done plane by plane: use --planewise".into()));
    }
    let max = (params.max_shift_z.min(nz.saturating_sub(1)), params.max_shifts.0, params.max_shifts.1);
    let started = Instant::now();
    // Template: median of chunk means of a sample of volumes, refined by registering the sample to it.
    let chunks = template::sample_chunks(s.t, (params.template_frames / nz.max(1)).max(template::CHUNK * 3));
    let sample: Vec<Vec<f32>> = chunks.iter().flat_map(|&(a, l)| a..a + l).map(|t| img.frame(t)).collect::<Result<_, _>>()?;
    let mut tpl = template::median_of_chunk_means(&sample, &chunks, n);
    progress.start("template", (sample.len() * (params.niter_rig.max(1) + 1)) as u64);
    for _ in 0..params.niter_rig.max(1) + 1 {
        let reg = Registrar3::new(&tpl, nz, h, w, max);
        let corrected: Vec<Vec<f32>> = sample
            .par_iter()
            .map(|v| {
                let d = reg.estimate(v);
                let mut o = vec![0.0; n];
                shift3(v, nz, h, w, d, super::BorderMode::Nan, &mut o);
                progress.advance(1);
                o
            })
            .collect();
        let next = template::median_of_chunk_means(&corrected, &chunks, n);
        tpl = next.iter().zip(&tpl).map(|(a, b)| if a.is_finite() { *a } else { *b }).collect();
    }
    let reg = Registrar3::new(&tpl, nz, h, w, max);
    let template_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut writer = TiffWriter::create(out, s, depth.dtype(), None)?;
    let mut shifts = Vec::with_capacity(s.t);
    let batch = rayon::current_num_threads().max(1) * 2;
    progress.start("correcting", s.t as u64);
    for t0 in (0..s.t).step_by(batch) {
        if progress.cancelled() {
            return Err(RegistrationError::Cancelled);
        }
        let m = batch.min(s.t - t0);
        let done: Result<Vec<([f64; 3], Vec<f32>)>, ImagingError> = (t0..t0 + m)
            .into_par_iter()
            .map(|t| {
                let v = img.frame(t)?;
                (0..nz).for_each(|z| img.release_plane(t, z));
                let d = reg.estimate(&v);
                let mut o = vec![0.0; n];
                shift3(&v, nz, h, w, d, params.border, &mut o);
                Ok((d, o))
            })
            .collect();
        for (d, o) in done? {
            shifts.push(d.to_vec());
            for plane in o.chunks(h * w) {
                writer.write_plane(plane)?;
            }
        }
        progress.advance(m as u64);
    }
    let write = writer.finish()?;
    let largest = shifts.iter().flat_map(|d| d.iter().skip(1)).map(|v| v.abs()).fold(0.0f64, f64::max);
    Ok(VolumeResult { shifts, planewise: false, bord_px: largest.ceil() as usize, write, seconds: (template_secs, started.elapsed().as_secs_f64()) })
}
