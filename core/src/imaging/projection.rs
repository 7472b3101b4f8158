//! Streaming mean / max / std projections over time: the CPU twin of `shaders/compute/projection.wgsl`.
//!
//! One pass over the planes with Welford's update per pixel, so a movie of any length needs only three planes of
//! memory. Volumes get one projection per plane.

use rayon::prelude::*;

use super::{ImagingError, ImgData, StackShape};
use crate::device::ComputeError;
use crate::progress::Progress;

/// Computes time projections of a stack; implemented on the CPU here and in WGSL by `mesmerize_gpu`.
pub trait Projector {
    /// Which implementation this is (`"cpu"`, or the GPU adapter's name), for logs and benchmarks.
    fn name(&self) -> String;
    /// Mean / max / std over time of every pixel (per plane for volumes), streaming over the frames.
    fn project(&self, img: &ImgData, progress: &dyn Progress) -> Result<Projections, ComputeError>;
}

/// The rayon CPU implementation of [`Projector`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuProjector;

impl Projector for CpuProjector {
    fn name(&self) -> String {
        "cpu".into()
    }
    fn project(&self, img: &ImgData, progress: &dyn Progress) -> Result<Projections, ComputeError> {
        project_stack(img, progress).map_err(|e| match e {
            ImagingError::Cancelled => ComputeError::Cancelled,
            other => ComputeError::Imaging(other),
        })
    }
}

/// Per-pixel projections over time; each buffer is (z, y, x) row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Projections {
    /// Shape of the stack projected (t is the number of frames summarised).
    pub shape: StackShape,
    /// Mean over time.
    pub mean: Vec<f32>,
    /// Maximum over time.
    pub max: Vec<f32>,
    /// Population standard deviation over time (numpy's `std`, ddof = 0).
    pub std: Vec<f32>,
}

/// Running state of the projection: Welford accumulators in f64 so long movies do not lose precision.
#[derive(Debug, Clone)]
pub struct ProjectionAccumulator {
    count: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    max: Vec<f32>,
}

impl ProjectionAccumulator {
    /// Accumulator for planes of `n` pixels.
    pub fn new(n: usize) -> Self {
        Self { count: 0, mean: vec![0.0; n], m2: vec![0.0; n], max: vec![f32::NEG_INFINITY; n] }
    }

    /// Fold one plane in. NaN samples propagate into the mean/std of their pixel, as numpy's would.
    pub fn push(&mut self, plane: &[f32]) {
        self.count += 1;
        let k = self.count as f64;
        self.mean
            .par_chunks_mut(4096)
            .zip(self.m2.par_chunks_mut(4096))
            .zip(self.max.par_chunks_mut(4096))
            .zip(plane.par_chunks(4096))
            .for_each(|(((mean, m2), max), v)| {
                for i in 0..v.len() {
                    let x = f64::from(v[i]);
                    let d = x - mean[i];
                    mean[i] += d / k;
                    m2[i] += d * (x - mean[i]);
                    if v[i] > max[i] || v[i].is_nan() {
                        max[i] = v[i];
                    }
                }
            });
    }

    /// Frames folded in so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean, max and population std of what was pushed.
    pub fn finish(&self) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let k = self.count.max(1) as f64;
        let mean = self.mean.iter().map(|&m| m as f32).collect();
        let std = self.m2.iter().map(|&m2| (m2 / k).max(0.0).sqrt() as f32).collect();
        (mean, self.max.clone(), std)
    }
}

/// Project a whole stack plane by plane (the reference implementation the GPU kernel is tested against).
pub fn project_stack(img: &ImgData, progress: &dyn Progress) -> Result<Projections, ImagingError> {
    let s = img.shape();
    let n = s.plane_len();
    let mut accs: Vec<ProjectionAccumulator> = (0..s.z).map(|_| ProjectionAccumulator::new(n)).collect();
    let mut plane = vec![0.0f32; n];
    progress.start("projecting", s.n_planes() as u64);
    for t in 0..s.t {
        if progress.cancelled() {
            return Err(ImagingError::Cancelled);
        }
        for (z, acc) in accs.iter_mut().enumerate() {
            img.read_plane(t, z, &mut plane)?;
            img.release_plane(t, z);
            acc.push(&plane);
        }
        progress.advance(s.z as u64);
    }
    let mut out = Projections { shape: s, mean: Vec::new(), max: Vec::new(), std: Vec::new() };
    for acc in &accs {
        let (mean, max, std) = acc.finish();
        out.mean.extend(mean);
        out.max.extend(max);
        out.std.extend(std);
    }
    Ok(out)
}

/// Mean/max/std of a batch of planes held in memory ((frames, n) row-major): the exact twin of the WGSL kernel's
/// contract, used by the parity test.
pub fn project_planes(data: &[f32], n: usize) -> Projections {
    let frames = if n == 0 { 0 } else { data.len() / n };
    let mut acc = ProjectionAccumulator::new(n);
    for f in 0..frames {
        acc.push(&data[f * n..(f + 1) * n]);
    }
    let (mean, max, std) = acc.finish();
    Projections { shape: StackShape::movie(frames, 1, n), mean, max, std }
}
