//! The simulator: draws the whole model once (`Simulator::new`) and renders any time point on demand, analytically
//! (footprints and background evaluated at the exact inverse-mapped template position), then adds camera noise.

use rayon::prelude::*;

use super::background::{make_background, support_range};
use super::calcium::{ar2_coefficients, simulate_activity};
use super::config::{MotionKind, SimConfig};
use super::footprints::{FootprintEval, Neuron, place_neurons};
use super::motion::{FrameField, control_grid, rigid_shifts};
use super::noise::Camera;
use super::rng::{normal, purpose, stream, uniform};
use super::truth::Truth;
use super::SimError;
use crate::StackShape;

/// Precomputed normalised footprint on the template grid (used when there is no motion).
#[derive(Debug, Clone)]
struct Patch {
    k: usize,
    z0: usize,
    i0: usize,
    j0: usize,
    nz: usize,
    nh: usize,
    nw: usize,
    data: Vec<f32>,
}

/// A drawn simulation: ground truth plus what is needed to render frames quickly and reproducibly.
#[derive(Debug, Clone)]
pub struct Simulator {
    cfg: SimConfig,
    truth: Truth,
    evals: Vec<FootprintEval>,
    camera: Camera,
    /// Footprint patches for the no-motion fast path.
    patches: Option<Vec<Patch>>,
    /// Background component maps (M, H, W) for the no-motion fast path.
    bg_maps: Option<Vec<f32>>,
}

impl Simulator {
    /// Validate the configuration and draw everything except the per-frame noise (neurons, spikes, calcium,
    /// background, motion).
    pub fn new(cfg: SimConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        let (z, h, w, t) = (cfg.planes, cfg.height, cfg.width, cfg.frames);
        let neurons = place_neurons(&cfg);
        let evals: Vec<FootprintEval> = neurons.iter().map(Neuron::eval).collect();
        let peak_scale: Vec<f64> = evals.iter().map(|e| grid_peak(e, z, h, w)).collect();

        let activity: Vec<_> = (0..neurons.len())
            .into_par_iter()
            .map(|k| {
                let mut r = stream(cfg.seed, purpose::NEURON_PARAMS, k as u64);
                let rate = uniform(&mut r, cfg.rate_min, cfg.rate_max);
                let tr = cfg.tau_rise * (1.0 + cfg.tau_jitter * normal(&mut r)).clamp(0.5, 1.5);
                let td = (cfg.tau_decay * (1.0 + cfg.tau_jitter * normal(&mut r)).clamp(0.5, 1.5)).max(1.5 * tr);
                let brightness = cfg.spike_amplitude * uniform(&mut r, 0.6, 1.4);
                let rest = cfg.baseline_ratio * brightness * uniform(&mut r, 0.5, 1.5);
                let g = ar2_coefficients(tr * cfg.fps, td * cfg.fps);
                let mut sr = stream(cfg.seed, purpose::SPIKES, k as u64);
                let act = simulate_activity(&mut sr, g, rate / cfg.fps, brightness, cfg.amplitude_cv, t);
                (g, act, rest)
            })
            .collect();
        let mut traces = Vec::with_capacity(neurons.len() * t);
        let mut spikes = Vec::with_capacity(neurons.len() * t);
        let mut spike_counts = Vec::with_capacity(neurons.len() * t);
        let mut ar = Vec::with_capacity(neurons.len());
        let mut baseline = Vec::with_capacity(neurons.len());
        for (k, (g, act, rest)) in activity.into_iter().enumerate() {
            let m = peak_scale[k];
            baseline.push((m * rest) as f32);
            traces.extend(act.calcium.iter().map(|c| (m * c) as f32));
            spikes.extend(act.input.iter().map(|s| (m * s) as f32));
            spike_counts.extend(act.counts);
            ar.push(g);
        }

        let background = make_background(&cfg);
        let shifts = rigid_shifts(&cfg);
        let field = (cfg.motion == MotionKind::Piecewise).then(|| control_grid(&cfg));
        let camera = Camera { offset: cfg.offset, gain: cfg.gain, read_noise: cfg.read_noise, enabled: cfg.noise };

        // Mean background over the field of view and over time, for the reference noise level.
        let mut mean_bg = 0.0;
        let mut maps = Vec::new();
        for m in 0..background.n_components() {
            let map = background.spatial_map(m, h, w);
            let ms = map.iter().map(|&v| f64::from(v)).sum::<f64>() / (h * w) as f64;
            let mt = background.temporal[m * t..(m + 1) * t].iter().map(|&v| f64::from(v)).sum::<f64>() / t as f64;
            mean_bg += ms * mt;
            maps.extend(map);
        }

        let truth = Truth {
            kind: cfg.kind,
            motion: cfg.motion,
            seed: cfg.seed,
            fps: cfg.fps,
            width: w,
            height: h,
            planes: z,
            frames: t,
            neurons,
            peak_scale,
            traces,
            baseline,
            spikes,
            spike_counts,
            ar_coefficients: ar,
            shifts,
            field,
            background,
            offset: cfg.offset,
            gain: cfg.gain,
            read_noise: cfg.read_noise,
            noise_std: camera.std_at(mean_bg),
            noise: cfg.noise,
        };
        let (patches, bg_maps) = if cfg.motion == MotionKind::None {
            (Some(make_patches(&truth, &evals)), Some(maps))
        } else {
            (None, None)
        };
        Ok(Self { cfg, truth, evals, camera, patches, bg_maps })
    }

    /// Shape of the movie: (t, y, x) for 2p/1p, (t, z, y, x) for 3d.
    pub fn shape(&self) -> StackShape {
        self.truth.shape()
    }

    /// The configuration this simulation was drawn from.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Ground truth (footprints, traces, spikes, motion, background, noise level).
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Render time point `t` (all planes, (z, y, x) row-major) into `out`, in camera counts, noise and motion
    /// applied. Deterministic for (seed, t), so frames can be rendered in parallel and in any order.
    ///
    /// # Panics
    /// If `t` is out of range or `out` is not `z * y * x` long (use [`Simulator::try_render_frame`] to get an error).
    pub fn render_frame(&self, t: usize, out: &mut [f32]) {
        if let Err(e) = self.try_render_frame(t, out) {
            panic!("{e}");
        }
    }

    /// [`Simulator::render_frame`] that reports a bad time point or buffer size as an error.
    pub fn try_render_frame(&self, t: usize, out: &mut [f32]) -> Result<(), SimError> {
        let tr = &self.truth;
        let (nz, h, w) = (tr.planes, tr.height, tr.width);
        if t >= tr.frames {
            return Err(SimError::OutOfRange(format!("time point {t} of {}", tr.frames)));
        }
        if out.len() != nz * h * w {
            return Err(SimError::OutOfRange(format!("buffer of {} samples for a {nz}x{h}x{w} frame", out.len())));
        }
        let plane = h * w;
        match (&tr.field, &self.patches, &self.bg_maps) {
            (None, Some(patches), Some(maps)) => {
                self.background_static(t, maps, &mut out[..plane]);
                copy_first_plane(out, plane);
                for p in patches {
                    let a = tr.fluorescence(p.k, t);
                    if a == 0.0 {
                        continue;
                    }
                    for dz in 0..p.nz {
                        for di in 0..p.nh {
                            let src = &p.data[(dz * p.nh + di) * p.nw..][..p.nw];
                            let dst = &mut out[((p.z0 + dz) * h + p.i0 + di) * w + p.j0..][..p.nw];
                            for (d, s) in dst.iter_mut().zip(src) {
                                *d += a * s;
                            }
                        }
                    }
                }
            }
            (None, _, _) => {
                let d = tr.shifts[t];
                let (dy, dx) = (f64::from(d[0]), f64::from(d[1]));
                self.background_shifted(t, dy, dx, &mut out[..plane]);
                copy_first_plane(out, plane);
                self.add_compact(t, out, dy, dx, 0.0, |i, j| (i as f64 - dy, j as f64 - dx));
            }
            (Some(grid), _, _) => {
                let d = tr.shifts[t];
                let qmap = self.inverse_grid(t);
                self.background_mapped(t, &qmap, &mut out[..plane]);
                copy_first_plane(out, plane);
                let slack = grid.max_abs(t) + 1e-6;
                self.add_compact(t, out, f64::from(d[0]), f64::from(d[1]), slack, |i, j| qmap[i * w + j]);
            }
        }
        let base = (t * nz * h) as u64;
        let (seed, cam) = (self.cfg.seed, self.camera);
        out.par_chunks_mut(w).enumerate().for_each(|(r, row)| cam.apply_row(seed, base + r as u64, row));
        Ok(())
    }

    /// Static background: sum_m T_m(t) S_m on the grid.
    fn background_static(&self, t: usize, maps: &[f32], out: &mut [f32]) {
        let bg = &self.truth.background;
        let n = out.len();
        let tm: Vec<f32> = (0..bg.n_components()).map(|m| bg.temporal_at(m, t) as f32).collect();
        out.par_chunks_mut(self.truth.width).enumerate().for_each(|(i, row)| {
            let off = i * row.len();
            for (j, v) in row.iter_mut().enumerate() {
                *v = tm.iter().enumerate().map(|(m, a)| a * maps[m * n + off + j]).sum();
            }
        });
    }

    /// Background of smooth (full Gaussian) blobs under a rigid shift, separable in y and x; constants included.
    fn background_shifted(&self, t: usize, dy: f64, dx: f64, out: &mut [f32]) {
        let bg = &self.truth.background;
        let (h, w) = (self.truth.height, self.truth.width);
        let c: f64 = (0..bg.n_components()).map(|m| bg.temporal_at(m, t) * bg.constants[m]).sum();
        let mut gy: Vec<Vec<f64>> = Vec::new();
        let mut gx: Vec<Vec<f64>> = Vec::new();
        for b in bg.blobs.iter().filter(|b| !b.truncated) {
            let a = b.weight * bg.temporal_at(b.component, t);
            gy.push((0..h).map(|i| a * gauss((i as f64 - dy - b.cy) / b.sy)).collect());
            gx.push((0..w).map(|j| gauss((j as f64 - dx - b.cx) / b.sx)).collect());
        }
        out.par_chunks_mut(w).enumerate().for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (c + gy.iter().zip(&gx).map(|(y, x)| y[i] * x[j]).sum::<f64>()) as f32;
            }
        });
    }

    /// Background of smooth blobs evaluated at inverse-mapped positions; constants included.
    fn background_mapped(&self, t: usize, qmap: &[(f64, f64)], out: &mut [f32]) {
        let bg = &self.truth.background;
        let w = self.truth.width;
        let c: f64 = (0..bg.n_components()).map(|m| bg.temporal_at(m, t) * bg.constants[m]).sum();
        let smooth: Vec<(f64, _)> =
            bg.blobs.iter().filter(|b| !b.truncated).map(|b| (bg.temporal_at(b.component, t), b)).collect();
        out.par_chunks_mut(w).enumerate().for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                let (qy, qx) = qmap[i * w + j];
                *v = (c + smooth.iter().map(|(a, b)| a * b.value(qy, qx)).sum::<f64>()) as f32;
            }
        });
    }

    /// Inverse map q(p) for every raw pixel of frame t.
    fn inverse_grid(&self, t: usize) -> Vec<(f64, f64)> {
        let (h, w) = (self.truth.height, self.truth.width);
        let mut q = vec![(0.0, 0.0); h * w];
        let shift = self.truth.shifts[t];
        let Some(grid) = self.truth.field.as_ref() else {
            q.par_chunks_mut(w).enumerate().for_each(|(i, row)| {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = self.truth.inverse_map(t, i as f64, j as f64);
                }
            });
            return q;
        };
        let field = FrameField::new(grid, t);
        q.par_chunks_mut(w).enumerate().for_each(|(i, row)| {
            // Seed each pixel with the field quadratically extrapolated from its three left neighbours.
            let (y, sx) = (i as f64, f64::from(shift[1]));
            let f0 = field.at(y - f64::from(shift[0]), -sx);
            let (mut p1, mut p2, mut p3) = (f0, f0, f0);
            for (j, v) in row.iter_mut().enumerate() {
                let guess = (3.0 * (p1.0 - p2.0) + p3.0, 3.0 * (p1.1 - p2.1) + p3.1);
                let (qq, f) = field.inverse(shift, y, j as f64, guess);
                *v = qq;
                (p3, p2, p1) = if j == 0 { (f, f, f) } else { (p2, p1, f) };
            }
        });
        q
    }

    /// Add compact objects (vessel beads, active neurons) evaluated at q = map(i, j); their raw support is the
    /// template support moved by the rigid shift (dy, dx), widened by `slack` for the non-rigid field.
    fn add_compact(&self, t: usize, out: &mut [f32], dy: f64, dx: f64, slack: f64, map: impl Fn(usize, usize) -> (f64, f64)) {
        let tr = &self.truth;
        let (nz, h, w) = (tr.planes, tr.height, tr.width);
        let plane = h * w;
        for b in tr.background.blobs.iter().filter(|b| b.truncated) {
            let a = tr.background.temporal_at(b.component, t);
            let (ry, rx) = b.radius();
            let (i0, i1) = support_range(b.cy + dy, ry + slack, h);
            let (j0, j1) = support_range(b.cx + dx, rx + slack, w);
            for i in i0..i1 {
                for j in j0..j1 {
                    let (qy, qx) = map(i, j);
                    let v = (a * b.value(qy, qx)) as f32;
                    for z in 0..nz {
                        out[z * plane + i * w + j] += v;
                    }
                }
            }
        }
        for (k, e) in self.evals.iter().enumerate() {
            let a = f64::from(tr.fluorescence(k, t)) / tr.peak_scale[k];
            if a == 0.0 {
                continue;
            }
            let (i0, i1) = support_range(e.c[0] + dy, e.radius + slack, h);
            let (j0, j1) = support_range(e.c[1] + dx, e.radius + slack, w);
            for z in 0..nz {
                let Some(zt) = e.z_term(z as f64) else { continue };
                let dst = &mut out[z * plane..(z + 1) * plane];
                for i in i0..i1 {
                    for j in j0..j1 {
                        let (qy, qx) = map(i, j);
                        let v = e.value_offset(qy - e.c[0], qx - e.c[1], zt);
                        if v > 0.0 {
                            dst[i * w + j] += (a * v) as f32;
                        }
                    }
                }
            }
        }
    }
}

/// exp(-u²/2).
#[inline]
fn gauss(u: f64) -> f64 {
    (-0.5 * u * u).exp()
}

/// The background is the same on every plane: copy plane 0 to the others.
fn copy_first_plane(out: &mut [f32], plane: usize) {
    let (first, rest) = out.split_at_mut(plane);
    for p in rest.chunks_mut(plane) {
        p.copy_from_slice(first);
    }
}

/// Maximum of a footprint over the template grid (its peak pixel value).
fn grid_peak(e: &FootprintEval, nz: usize, h: usize, w: usize) -> f64 {
    let (i0, i1) = support_range(e.c[0], e.radius, h);
    let (j0, j1) = support_range(e.c[1], e.radius, w);
    let mut m = 0.0_f64;
    for z in 0..nz {
        let Some(zt) = e.z_term(z as f64) else { continue };
        for i in i0..i1 {
            for j in j0..j1 {
                m = m.max(e.value_offset(i as f64 - e.c[0], j as f64 - e.c[1], zt));
            }
        }
    }
    if m > 0.0 { m } else { 1.0 }
}

/// Normalised footprints (A_k / m_k) on the template grid, cut to their support.
fn make_patches(tr: &Truth, evals: &[FootprintEval]) -> Vec<Patch> {
    let (nz, h, w) = (tr.planes, tr.height, tr.width);
    evals
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let (i0, i1) = support_range(e.c[0], e.radius, h);
            let (j0, j1) = support_range(e.c[1], e.radius, w);
            let zs: Vec<usize> = (0..nz).filter(|&z| e.z_term(z as f64).is_some()).collect();
            let (z0, nzp) = (zs.first().copied().unwrap_or(0), zs.len());
            let (nh, nw) = (i1 - i0, j1 - j0);
            let mut data = Vec::with_capacity(nzp * nh * nw);
            for z in z0..z0 + nzp {
                let zt = e.z_term(z as f64).unwrap_or(f64::INFINITY);
                for i in i0..i1 {
                    for j in j0..j1 {
                        data.push((e.value_offset(i as f64 - e.c[0], j as f64 - e.c[1], zt) / tr.peak_scale[k]) as f32);
                    }
                }
            }
            Patch { k, z0, i0, j0, nz: nzp, nh, nw, data }
        })
        .collect()
}
