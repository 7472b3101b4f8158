//! Ground truth of a simulated movie: analytic footprints, traces, spikes, kinetics, motion and background,
//! with evaluation helpers and the `truth.h5` layout read by Python users (see docs/simulator.md).

use std::path::Path;

use hdf5_metno as hdf5;
use hdf5::types::VarLenUnicode;
use ndarray::{ArrayView1, ArrayView2, ArrayViewD, IxDyn, s};

use super::background::{BgBlob, Background, support_range};
use super::config::{MotionKind, SimKind};
use super::footprints::{Neuron, TRUNCATION};
use super::motion::{self, ControlGrid};
use super::SimError;
use crate::StackShape;

/// Version of the truth.h5 layout, stored as the `format_version` attribute.
pub const TRUTH_FORMAT_VERSION: u64 = 2;

/// Everything needed to reproduce the noise-free movie exactly, and to score algorithms against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// Modality.
    pub kind: SimKind,
    /// Motion model.
    pub motion: MotionKind,
    /// Seed the movie was drawn from.
    pub seed: u64,
    /// Frame (volume) rate, Hz.
    pub fps: f64,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Planes per volume (1 for 2D).
    pub planes: usize,
    /// Time points.
    pub frames: usize,
    /// Analytic footprint parameters, one per neuron.
    pub neurons: Vec<Neuron>,
    /// m_k: maximum of the analytic footprint over the template grid (footprints are stored divided by it).
    pub peak_scale: Vec<f64>,
    /// Noise-free calcium at each footprint's peak pixel, counts above the soma's resting level, row-major (K, T).
    pub traces: Vec<f32>,
    /// Resting fluorescence F0 of each soma at its peak pixel, counts (the movie shows F0 + trace).
    pub baseline: Vec<f32>,
    /// AR(2) input s_t per frame (traces[t] = g1 traces[t-1] + g2 traces[t-2] + spikes[t]), row-major (K, T).
    pub spikes: Vec<f32>,
    /// Number of spikes per frame, row-major (K, T).
    pub spike_counts: Vec<u16>,
    /// AR(2) coefficients [g1, g2] per neuron.
    pub ar_coefficients: Vec<[f64; 2]>,
    /// Rigid displacement [dy, dx] per frame, px (zeros without motion).
    pub shifts: Vec<[f32; 2]>,
    /// Non-rigid control grid (piecewise motion only).
    pub field: Option<ControlGrid>,
    /// Background model.
    pub background: Background,
    /// Camera offset, counts.
    pub offset: f64,
    /// Camera gain, counts per photon.
    pub gain: f64,
    /// Read-noise standard deviation, counts.
    pub read_noise: f64,
    /// Noise standard deviation at the mean background level, counts: sqrt(gain * mean(B) + read_noise²).
    pub noise_std: f64,
    /// Whether noise was added when rendering.
    pub noise: bool,
}

impl Truth {
    /// Fluorescence of soma k at time t at its peak pixel: resting level plus calcium.
    pub fn fluorescence(&self, k: usize, t: usize) -> f32 {
        self.baseline[k] + self.traces[k * self.frames + t]
    }

    /// Number of neurons K.
    pub fn n_neurons(&self) -> usize {
        self.neurons.len()
    }

    /// Shape of the movie: (t, y, x) or (t, z, y, x).
    pub fn shape(&self) -> StackShape {
        if self.kind == SimKind::ThreeD {
            StackShape::volume(self.frames, self.planes, self.height, self.width)
        } else {
            StackShape::movie(self.frames, self.height, self.width)
        }
    }

    /// Trace of neuron k (T samples).
    pub fn trace(&self, k: usize) -> &[f32] {
        &self.traces[k * self.frames..(k + 1) * self.frames]
    }

    /// Normalised footprint of neuron k at a template position (A_k / m_k, so 1 at the peak pixel).
    pub fn footprint_value(&self, k: usize, z: f64, y: f64, x: f64) -> f64 {
        self.neurons[k].value(z, y, x) / self.peak_scale[k]
    }

    /// Footprint of neuron k sampled on the template grid (pixel (i, j) at y = i, x = j), (Z, H, W) row-major.
    pub fn footprint(&self, k: usize) -> Vec<f32> {
        let (h, w) = (self.height, self.width);
        let mut out = vec![0.0_f32; self.planes * h * w];
        let n = &self.neurons[k];
        let ev = n.eval();
        let (i0, i1) = support_range(n.cy, ev.radius, h);
        let (j0, j1) = support_range(n.cx, ev.radius, w);
        for z in 0..self.planes {
            let Some(zt) = ev.z_term(z as f64) else { continue };
            for i in i0..i1 {
                for j in j0..j1 {
                    let v = ev.value_offset(i as f64 - n.cy, j as f64 - n.cx, zt) / self.peak_scale[k];
                    out[(z * h + i) * w + j] = v as f32;
                }
            }
        }
        out
    }

    /// Noise-free, motion-free movie value (offset included) at template position (z, y, x) and time t.
    pub fn template_value(&self, t: usize, z: f64, y: f64, x: f64) -> f64 {
        let mut v = self.offset + self.background.value(t, y, x);
        for k in 0..self.n_neurons() {
            let a = self.footprint_value(k, z, y, x);
            if a > 0.0 {
                v += a * f64::from(self.fluorescence(k, t));
            }
        }
        v
    }

    /// Displacement (dy, dx) at template position (y, x) and time t: template content at (y, x) appears at
    /// (y + dy, x + dx) in the raw frame. Rigid shift plus the non-rigid field for piecewise motion.
    pub fn displacement_at(&self, t: usize, y: f64, x: f64) -> (f64, f64) {
        motion::displacement(self.shifts[t], self.field.as_ref(), t, y, x)
    }

    /// Template position q whose content appears at raw position (y, x): solves q + d(q, t) = (y, x).
    pub fn inverse_map(&self, t: usize, y: f64, x: f64) -> (f64, f64) {
        motion::inverse_map(self.shifts[t], self.field.as_ref(), t, y, x)
    }

    /// Noise-free raw movie value (offset included) at raw position (z, y, x): the template at the inverse map.
    pub fn expected_value(&self, t: usize, z: f64, y: f64, x: f64) -> f64 {
        let (qy, qx) = self.inverse_map(t, y, x);
        self.template_value(t, z, qy, qx)
    }

    /// Write the documented truth.h5 layout (footprints chunked per neuron and deflate-compressed).
    pub fn write_h5(&self, path: &Path) -> Result<(), SimError> {
        let file = hdf5::File::create(path).map_err(|source| SimError::Hdf5 { path: path.to_path_buf(), source })?;
        self.write_into(&file).map_err(|source| SimError::Hdf5 { path: path.to_path_buf(), source })
    }

    /// Read a truth file written by [`Truth::write_h5`]; the result compares equal to the written truth.
    pub fn read_h5(path: &Path) -> Result<Self, SimError> {
        let file = hdf5::File::open(path).map_err(|source| SimError::Hdf5 { path: path.to_path_buf(), source })?;
        read_from(&file, path)
    }

    fn write_into(&self, f: &hdf5::File) -> hdf5::Result<()> {
        let (k, t, z, h, w) = (self.n_neurons(), self.frames, self.planes, self.height, self.width);
        let three_d = self.kind == SimKind::ThreeD;

        let fp_dims: Vec<usize> = if three_d { vec![k, z, h, w] } else { vec![k, h, w] };
        let mut builder = f.new_dataset::<f32>();
        if k > 0 {
            let chunk: Vec<usize> = if three_d { vec![1, z, h, w] } else { vec![1, h, w] };
            builder = builder.chunk(chunk);
            if hdf5::filters::deflate_available() {
                builder = builder.deflate(4);
            }
        }
        let fp = builder.shape(fp_dims).create("footprints")?;
        for n in 0..k {
            let img = self.footprint(n);
            if three_d {
                let v = ArrayViewD::from_shape(IxDyn(&[z, h, w]), &img).map_err(shape_err)?;
                fp.write_slice(v, s![n, .., .., ..])?;
            } else {
                let v = ArrayView2::from_shape((h, w), &img).map_err(shape_err)?;
                fp.write_slice(v, s![n, .., ..])?;
            }
        }
        fp.new_attr::<f64>().create("truncation")?.write_scalar(&TRUNCATION)?;

        let ncols = if three_d { 3 } else { 2 };
        let centers: Vec<f64> = self
            .neurons
            .iter()
            .flat_map(|n| if three_d { vec![n.cy, n.cx, n.cz] } else { vec![n.cy, n.cx] })
            .collect();
        write2(f, "centers", &centers, k, ncols)?;
        let params: Vec<f64> = self
            .neurons
            .iter()
            .flat_map(|n| [n.cy, n.cx, n.cz, n.sigma_major, n.sigma_minor, n.angle, n.sigma_z])
            .collect();
        write2(f, "footprint_params", &params, k, 7)?;
        write1(f, "peak_scale", &self.peak_scale)?;
        write2(f, "traces", &self.traces, k, t)?;
        write1(f, "baseline", &self.baseline)?;
        write2(f, "spikes", &self.spikes, k, t)?;
        write2(f, "spike_counts", &self.spike_counts, k, t)?;
        let g: Vec<f64> = self.ar_coefficients.iter().flatten().copied().collect();
        write2(f, "ar_coefficients", &g, k, 2)?;
        let sh: Vec<f32> = self.shifts.iter().flatten().copied().collect();
        write2(f, "shifts", &sh, t, 2)?;

        if let Some(grid) = &self.field {
            let v = ArrayViewD::from_shape(IxDyn(&[t, 2, grid.gy, grid.gx]), &grid.values).map_err(shape_err)?;
            let ds = f.new_dataset_builder().with_data(v).create("field")?;
            ds.new_attr_builder().with_data(&[grid.spacing_y, grid.spacing_x][..]).create("spacing")?;
            ds.new_attr_builder().with_data(&[grid.origin_y, grid.origin_x][..]).create("origin")?;
            write_str_attr(&ds, "interpolation", "uniform cubic B-spline, node indices clamped")?;
        }

        let bg = &self.background;
        let m = bg.n_components();
        let mut maps = Vec::with_capacity(m * h * w);
        for c in 0..m {
            maps.extend(bg.spatial_map(c, h, w));
        }
        let v = ArrayViewD::from_shape(IxDyn(&[m, h, w]), &maps).map_err(shape_err)?;
        f.new_dataset_builder().with_data(v).create("background_spatial")?;
        write2(f, "background_temporal", &bg.temporal, m, t)?;
        write1(f, "background_constants", &bg.constants)?;
        let blobs: Vec<f64> = bg
            .blobs
            .iter()
            .flat_map(|b| [b.component as f64, b.weight, b.cy, b.cx, b.sy, b.sx, if b.truncated { 1.0 } else { 0.0 }])
            .collect();
        write2(f, "background_blobs", &blobs, bg.blobs.len(), 7)?;

        write_str_attr(f, "kind", self.kind.name())?;
        write_str_attr(f, "motion", self.motion.name())?;
        for (name, v) in [
            ("fps", self.fps),
            ("noise_std", self.noise_std),
            ("gain", self.gain),
            ("offset", self.offset),
            ("read_noise", self.read_noise),
        ] {
            f.new_attr::<f64>().create(name)?.write_scalar(&v)?;
        }
        for (name, v) in [
            ("seed", self.seed),
            ("frames", t as u64),
            ("width", w as u64),
            ("height", h as u64),
            ("planes", z as u64),
            ("noise", u64::from(self.noise)),
            ("format_version", TRUTH_FORMAT_VERSION),
        ] {
            f.new_attr::<u64>().create(name)?.write_scalar(&v)?;
        }
        Ok(())
    }
}

fn shape_err(e: ndarray::ShapeError) -> hdf5::Error {
    hdf5::Error::from(format!("array shape: {e}").as_str())
}

fn write1<T: hdf5::H5Type>(f: &hdf5::File, name: &str, data: &[T]) -> hdf5::Result<()> {
    f.new_dataset_builder().with_data(ArrayView1::from(data)).create(name)?;
    Ok(())
}

fn write2<T: hdf5::H5Type>(f: &hdf5::File, name: &str, data: &[T], rows: usize, cols: usize) -> hdf5::Result<()> {
    let v = ArrayView2::from_shape((rows, cols), data).map_err(shape_err)?;
    f.new_dataset_builder().with_data(v).create(name)?;
    Ok(())
}

fn write_str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value.parse().map_err(|e| hdf5::Error::from(format!("{e}").as_str()))?;
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&v)
}

fn read_from(f: &hdf5::File, path: &Path) -> Result<Truth, SimError> {
    let h5 = |source| SimError::Hdf5 { path: path.to_path_buf(), source };
    let bad = |what: String| SimError::BadTruth { path: path.to_path_buf(), what };
    let attr_u = |name: &str| -> Result<usize, SimError> {
        let v = f.attr(name).and_then(|a| a.read_scalar::<u64>()).map_err(h5)?;
        usize::try_from(v).map_err(|_| bad(format!("attribute {name} = {v} does not fit")))
    };
    let attr_f = |name: &str| f.attr(name).and_then(|a| a.read_scalar::<f64>()).map_err(h5);
    let attr_s = |name: &str| f.attr(name).and_then(|a| a.read_scalar::<VarLenUnicode>()).map(|s| s.to_string()).map_err(h5);
    // Read a dataset and check its shape.
    fn read<T: hdf5::H5Type>(f: &hdf5::File, name: &str, dims: &[usize], path: &Path) -> Result<Vec<T>, SimError> {
        let ds = f.dataset(name).map_err(|source| SimError::Hdf5 { path: path.to_path_buf(), source })?;
        if ds.shape() != dims {
            return Err(SimError::BadTruth {
                path: path.to_path_buf(),
                what: format!("dataset {name} has shape {:?}, expected {dims:?}", ds.shape()),
            });
        }
        ds.read_raw::<T>().map_err(|source| SimError::Hdf5 { path: path.to_path_buf(), source })
    }

    let version = attr_u("format_version")?;
    if version as u64 != TRUTH_FORMAT_VERSION {
        return Err(bad(format!("format_version {version} is not {TRUTH_FORMAT_VERSION}")));
    }
    let kind: SimKind = attr_s("kind")?.parse()?;
    let motion: MotionKind = attr_s("motion")?.parse()?;
    let (t, w, h, z) = (attr_u("frames")?, attr_u("width")?, attr_u("height")?, attr_u("planes")?);
    let k = f.dataset("footprint_params").map_err(h5)?.shape().first().copied().unwrap_or(0);
    let params: Vec<f64> = read(f, "footprint_params", &[k, 7], path)?;
    let neurons = params
        .chunks_exact(7)
        .map(|p| Neuron { cy: p[0], cx: p[1], cz: p[2], sigma_major: p[3], sigma_minor: p[4], angle: p[5], sigma_z: p[6] })
        .collect();
    let g: Vec<f64> = read(f, "ar_coefficients", &[k, 2], path)?;
    let sh: Vec<f32> = read(f, "shifts", &[t, 2], path)?;
    let field = if motion == MotionKind::Piecewise {
        let ds = f.dataset("field").map_err(h5)?;
        let dims = ds.shape();
        if dims.len() != 4 || dims[0] != t || dims[1] != 2 {
            return Err(bad(format!("dataset field has shape {dims:?}")));
        }
        let spacing = ds.attr("spacing").and_then(|a| a.read_raw::<f64>()).map_err(h5)?;
        let origin = ds.attr("origin").and_then(|a| a.read_raw::<f64>()).map_err(h5)?;
        if spacing.len() != 2 || origin.len() != 2 {
            return Err(bad("field spacing/origin attributes must hold 2 values".into()));
        }
        Some(ControlGrid {
            gy: dims[2],
            gx: dims[3],
            spacing_y: spacing[0],
            spacing_x: spacing[1],
            origin_y: origin[0],
            origin_x: origin[1],
            values: ds.read_raw::<f32>().map_err(h5)?,
            frames: t,
        })
    } else {
        None
    };
    let constants: Vec<f64> = f.dataset("background_constants").and_then(|d| d.read_raw()).map_err(h5)?;
    let m = constants.len();
    let nb = f.dataset("background_blobs").map_err(h5)?.shape().first().copied().unwrap_or(0);
    let blobs_raw: Vec<f64> = read(f, "background_blobs", &[nb, 7], path)?;
    let blobs = blobs_raw
        .chunks_exact(7)
        .map(|b| BgBlob {
            component: b[0] as usize,
            weight: b[1],
            cy: b[2],
            cx: b[3],
            sy: b[4],
            sx: b[5],
            truncated: b[6] != 0.0,
        })
        .collect::<Vec<_>>();
    if blobs.iter().any(|b| b.component >= m) {
        return Err(bad("background_blobs names a component beyond background_constants".into()));
    }
    Ok(Truth {
        kind,
        motion,
        seed: f.attr("seed").and_then(|a| a.read_scalar::<u64>()).map_err(h5)?,
        fps: attr_f("fps")?,
        width: w,
        height: h,
        planes: z,
        frames: t,
        neurons,
        peak_scale: read(f, "peak_scale", &[k], path)?,
        traces: read(f, "traces", &[k, t], path)?,
        baseline: read(f, "baseline", &[k], path)?,
        spikes: read(f, "spikes", &[k, t], path)?,
        spike_counts: read(f, "spike_counts", &[k, t], path)?,
        ar_coefficients: g.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        shifts: sh.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        field,
        background: Background {
            constants,
            blobs,
            temporal: read(f, "background_temporal", &[m, t], path)?,
            frames: t,
        },
        offset: attr_f("offset")?,
        gain: attr_f("gain")?,
        read_noise: attr_f("read_noise")?,
        noise_std: attr_f("noise_std")?,
        noise: attr_u("noise")? != 0,
    })
}
