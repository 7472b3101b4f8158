//! Scoring a correction against the simulator's ground truth, with the definitions BENCHMARKS.md uses for us and
//! for peers: shift errors after removing the constant offset between the template and the truth's motion-free
//! frame, residual motion as the time-varying part of the displacement error, and the corrected mean image's
//! correlation with the motion-free mean image.

use super::{shift_rigid, BorderMode, MotionParams, MotionResult, PatchGrid, ShiftField};
use crate::imaging::{ImagingError, ImgData};
use crate::simulate::Truth;

/// Errors farther than this from the median offset (px, on an axis) mark a frame as an outlier.
pub const OUTLIER_PX: f64 = 3.0;

/// Rigid shift accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RigidScore {
    /// RMS of (estimate - truth - offset) over frames, both axes summed.
    pub rms: f64,
    /// The same without outlier frames (offset re-estimated on the inliers).
    pub rms_inliers: f64,
    /// Frames more than [`OUTLIER_PX`] off.
    pub outliers: usize,
    /// Constant offset (y, x) between our template and the truth's frame.
    pub offset: [f64; 2],
}

/// Per-pixel displacement accuracy of a piecewise correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldScore {
    /// Residual motion: RMS of the time-varying part of the error (each point's temporal mean removed).
    pub residual: f64,
    /// RMS of the static part (template deformation relative to the truth's frame), offset removed.
    pub static_part: f64,
    /// Everything after removing the constant offset only.
    pub total: f64,
}

fn mean2(pairs: &[([f64; 2], [f64; 2])]) -> [f64; 2] {
    let n = pairs.len().max(1) as f64;
    [0, 1].map(|k| pairs.iter().map(|(e, t)| e[k] - t[k]).sum::<f64>() / n)
}

fn rms_minus(pairs: &[([f64; 2], [f64; 2])], off: [f64; 2]) -> f64 {
    let n = pairs.len().max(1) as f64;
    (pairs.iter().map(|(e, t)| (e[0] - t[0] - off[0]).powi(2) + (e[1] - t[1] - off[1]).powi(2)).sum::<f64>() / n).sqrt()
}

/// Score rigid shifts against the truth's per-frame rigid displacement.
pub fn rigid(estimates: &[[f64; 2]], truth: &Truth) -> RigidScore {
    let pairs: Vec<([f64; 2], [f64; 2])> = estimates.iter().zip(&truth.shifts).map(|(e, t)| (*e, [f64::from(t[0]), f64::from(t[1])])).collect();
    let offset = mean2(&pairs);
    let median = |k: usize| {
        let mut v: Vec<f64> = pairs.iter().map(|(e, t)| e[k] - t[k]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let med = [median(0), median(1)];
    let inliers: Vec<_> = pairs.iter().copied().filter(|(e, t)| (0..2).all(|k| (e[k] - t[k] - med[k]).abs() <= OUTLIER_PX)).collect();
    RigidScore {
        rms: rms_minus(&pairs, offset),
        rms_inliers: rms_minus(&inliers, mean2(&inliers)),
        outliers: pairs.len() - inliers.len(),
        offset,
    }
}

/// Score the per-pixel field of a piecewise correction on a grid of points every `step` px, `border` px inside.
pub fn field(result: &MotionResult, params: &MotionParams, truth: &Truth, h: usize, w: usize, step: usize, border: usize) -> Option<FieldScore> {
    let patches = result.patches.as_ref()?;
    let grid = PatchGrid::new(h, w, params.strides, params.overlaps);
    let ys: Vec<usize> = (border..h.saturating_sub(border)).step_by(step.max(1)).collect();
    let xs: Vec<usize> = (border..w.saturating_sub(border)).step_by(step.max(1)).collect();
    let mut pairs = Vec::with_capacity(patches.shifts.len() * ys.len() * xs.len());
    for (t, ps) in patches.shifts.iter().enumerate() {
        let f = ShiftField::new(&grid, ps, params.upsample_factor_grid);
        let f = f.field();
        for &y in &ys {
            for &x in &xs {
                let (ey, ex) = f.at(y as f64, x as f64);
                let (ty, tx) = truth.displacement_at(t, y as f64, x as f64);
                pairs.push(([ey, ex], [ty, tx]));
            }
        }
    }
    let frames = patches.shifts.len();
    let points = ys.len() * xs.len();
    if frames == 0 || points == 0 {
        return None;
    }
    let mut mean = vec![[0.0f64; 2]; points];
    for (i, (e, t)) in pairs.iter().enumerate() {
        for k in 0..2 {
            mean[i % points][k] += (e[k] - t[k]) / frames as f64;
        }
    }
    let dynamic: f64 = pairs.iter().enumerate().map(|(i, (e, t))| (0..2).map(|k| (e[k] - t[k] - mean[i % points][k]).powi(2)).sum::<f64>()).sum();
    let off = mean2(&pairs);
    let stat: f64 = mean.iter().map(|m| (m[0] - off[0]).powi(2) + (m[1] - off[1]).powi(2)).sum();
    Some(FieldScore {
        residual: (dynamic / pairs.len() as f64).sqrt(),
        static_part: (stat / points as f64).sqrt(),
        total: rms_minus(&pairs, off),
    })
}

/// Temporal mean image of a 2D movie.
pub fn mean_image(img: &ImgData) -> Result<Vec<f64>, ImagingError> {
    let s = img.shape();
    let mut m = vec![0.0f64; s.plane_len()];
    let mut buf = vec![0.0f32; s.plane_len()];
    for t in 0..s.t {
        img.read_plane(t, 0, &mut buf)?;
        for (a, &v) in m.iter_mut().zip(&buf) {
            *a += f64::from(v);
        }
    }
    m.iter_mut().for_each(|v| *v /= s.t.max(1) as f64);
    Ok(m)
}

/// Pearson correlation of the corrected movie's mean image with the motion-free movie's, the latter moved into
/// our template's frame by `offset` (corrected(p) ~ still(p + offset)), over pixels `border` px inside.
pub fn mean_image_corr(corrected: &ImgData, still: &ImgData, offset: [f64; 2], border: usize) -> Result<f64, ImagingError> {
    let s = corrected.shape();
    let (h, w) = (s.y, s.x);
    let a = mean_image(corrected)?;
    let still_mean: Vec<f32> = mean_image(still)?.iter().map(|&v| v as f32).collect();
    let mut moved = vec![0.0f32; h * w];
    let mut tmp = Vec::new();
    shift_rigid(&still_mean, h, w, offset[0], offset[1], BorderMode::Copy, &mut tmp, &mut moved);
    let idx: Vec<usize> = (0..h * w).filter(|i| (border..h.saturating_sub(border)).contains(&(i / w)) && (border..w.saturating_sub(border)).contains(&(i % w))).collect();
    let n = idx.len().max(1) as f64;
    let ma = idx.iter().map(|&i| a[i]).sum::<f64>() / n;
    let mb = idx.iter().map(|&i| f64::from(moved[i])).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for &i in &idx {
        let (da, db) = (a[i] - ma, f64::from(moved[i]) - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    Ok(sab / (saa * sbb).sqrt().max(1e-30))
}
