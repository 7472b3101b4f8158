//! ROI curves: the mean of the movie over each ROI's mask at every time point, in one streaming pass.
//!
//! The original re-read the movie once per ROI (15-30 minutes for a few thousand ROIs). Here the frames are read
//! once, in chunks of consecutive frames spread over the rayon pool; each worker reads a frame into its own buffer
//! and gathers every mask from it while the frame is in cache, then copies its chunk of columns into the output.
//! Memory is the `n x T` output plus one frame and one chunk of columns per worker.

use std::sync::Mutex;

use ndarray::Array2;
use rayon::prelude::*;

use super::{PixelMask, RoiError};
use crate::ImgData;
use crate::progress::Progress;

/// All masks flattened into one index list, with a normalisation factor per mask.
struct Gather {
    /// Start of each mask's pixels in `indices`, `n + 1` entries.
    offsets: Vec<usize>,
    /// Pixel indices into a frame, all masks back to back.
    indices: Vec<u32>,
    /// Weights aligned with `indices`, used where `weighted[i]`.
    weights: Vec<f32>,
    /// Whether mask `i` is a weighted mean.
    weighted: Vec<bool>,
    /// `1 / n` or `1 / sum(w)` of each mask.
    scale: Vec<f64>,
}

impl Gather {
    /// Validate the masks against a frame of `frame_len` samples and flatten them.
    fn new(masks: &[PixelMask], frame_len: usize) -> Result<Self, RoiError> {
        let total: usize = masks.iter().map(PixelMask::len).sum();
        let mut g = Gather {
            offsets: Vec::with_capacity(masks.len() + 1),
            indices: Vec::with_capacity(total),
            weights: Vec::with_capacity(total),
            weighted: Vec::with_capacity(masks.len()),
            scale: Vec::with_capacity(masks.len()),
        };
        g.offsets.push(0);
        for (i, m) in masks.iter().enumerate() {
            if m.indices.is_empty() {
                return Err(RoiError::Empty(format!("mask {i}")));
            }
            if let Some(&bad) = m.indices.iter().find(|&&p| p as usize >= frame_len) {
                return Err(RoiError::OutOfBounds(format!("mask {i} has pixel {bad} but a frame has {frame_len} pixels")));
            }
            g.indices.extend_from_slice(&m.indices);
            match &m.weights {
                Some(w) => {
                    if w.len() != m.indices.len() {
                        return Err(RoiError::BadGeometry(format!(
                            "mask {i} has {} pixels but {} weights",
                            m.indices.len(),
                            w.len()
                        )));
                    }
                    let sum: f64 = w.iter().map(|&v| f64::from(v)).sum();
                    if !(sum.is_finite() && sum != 0.0) {
                        return Err(RoiError::Empty(format!("mask {i}: its weights sum to {sum}")));
                    }
                    g.weights.extend_from_slice(w);
                    g.weighted.push(true);
                    g.scale.push(1.0 / sum);
                }
                None => {
                    g.weights.resize(g.indices.len(), 0.0);
                    g.weighted.push(false);
                    g.scale.push(1.0 / m.indices.len() as f64);
                }
            }
            g.offsets.push(g.indices.len());
        }
        Ok(g)
    }

    /// Number of masks.
    fn len(&self) -> usize {
        self.scale.len()
    }

    /// Mean of `frame` over mask `i`.
    #[inline]
    fn mean(&self, i: usize, frame: &[f32]) -> f32 {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        let idx = &self.indices[a..b];
        let sum: f64 = if self.weighted[i] {
            idx.iter().zip(&self.weights[a..b]).map(|(&p, &w)| f64::from(frame[p as usize]) * f64::from(w)).sum()
        } else {
            // Four accumulators so the adds do not wait on each other.
            let mut acc = [0.0f64; 4];
            let mut chunks = idx.chunks_exact(4);
            for c in &mut chunks {
                for (a, &p) in acc.iter_mut().zip(c) {
                    *a += f64::from(frame[p as usize]);
                }
            }
            let tail: f64 = chunks.remainder().iter().map(|&p| f64::from(frame[p as usize])).sum();
            acc[0] + acc[1] + acc[2] + acc[3] + tail
        };
        (sum * self.scale[i]) as f32
    }
}

/// Frames per work item: enough items to balance the pool, few enough that each worker's column buffer stays small.
fn chunk_frames(t: usize) -> usize {
    (t / (rayon::current_num_threads() * 8).max(1)).clamp(1, 64)
}

/// Curve of every mask (`n_rois x T`): `curve[i][t]` is the mean of the movie over mask `i` at time `t` (weighted
/// for footprints; a volume's frame is its planes concatenated, so masks index `(z * H + y) * W + x`).
pub fn extract_curves(img: &ImgData, masks: &[PixelMask], progress: &dyn Progress) -> Result<Array2<f32>, RoiError> {
    let s = img.shape();
    let (plane_len, frame_len, t_len) = (s.plane_len(), s.frame_len(), s.t);
    let gather = Gather::new(masks, frame_len)?;
    let n = gather.len();
    progress.start("ROI curves", t_len as u64);
    if n == 0 || t_len == 0 {
        return Ok(Array2::zeros((n, t_len)));
    }
    let chunk = chunk_frames(t_len);
    let out = Mutex::new(vec![0.0f32; n * t_len]);
    (0..t_len.div_ceil(chunk)).into_par_iter().try_for_each_init(
        || (vec![0.0f32; frame_len], vec![0.0f32; n * chunk]),
        |(frame, cols), ci| -> Result<(), RoiError> {
            if progress.cancelled() {
                return Err(RoiError::Cancelled);
            }
            let (t0, t1) = (ci * chunk, ((ci + 1) * chunk).min(t_len));
            let width = t1 - t0;
            for t in t0..t1 {
                for (z, plane) in frame.chunks_mut(plane_len.max(1)).enumerate() {
                    img.read_plane(t, z, plane)?;
                    img.release_plane(t, z);
                }
                let k = t - t0;
                for i in 0..n {
                    cols[i * width + k] = gather.mean(i, frame);
                }
                progress.advance(1);
            }
            let mut out = out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for i in 0..n {
                out[i * t_len + t0..i * t_len + t1].copy_from_slice(&cols[i * width..(i + 1) * width]);
            }
            Ok(())
        },
    )?;
    if progress.cancelled() {
        return Err(RoiError::Cancelled);
    }
    let data = out.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    Array2::from_shape_vec((n, t_len), data).map_err(|e| RoiError::OutOfBounds(format!("curve matrix: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::{Metadata, StackShape};

    #[test]
    fn plain_and_weighted_means_of_a_tiny_movie() {
        // 2 frames of 2x3: frame t holds 10 t + index.
        let data: Vec<f32> = (0..2).flat_map(|t| (0..6).map(move |i| (10 * t + i) as f32)).collect();
        let img = ImgData::from_f32(data, StackShape::movie(2, 2, 3), Metadata::unknown()).expect("img");
        let masks = vec![
            PixelMask { indices: vec![0, 1, 2, 3, 4], weights: None },
            PixelMask { indices: vec![1, 5], weights: Some(vec![3.0, 1.0]) },
        ];
        let c = extract_curves(&img, &masks, &NoProgress).expect("curves");
        assert_eq!(c.dim(), (2, 2));
        assert_eq!(c[[0, 0]], 2.0);
        assert_eq!(c[[0, 1]], 12.0);
        assert_eq!(c[[1, 0]], 2.0);
        assert_eq!(c[[1, 1]], 12.0);
    }

    #[test]
    fn bad_masks_are_refused_before_reading() {
        let img = ImgData::from_f32(vec![0.0; 12], StackShape::movie(2, 2, 3), Metadata::unknown()).expect("img");
        let empty = [PixelMask::default()];
        assert!(matches!(extract_curves(&img, &empty, &NoProgress), Err(RoiError::Empty(_))));
        let outside = [PixelMask { indices: vec![6], weights: None }];
        assert!(matches!(extract_curves(&img, &outside, &NoProgress), Err(RoiError::OutOfBounds(_))));
        let zero = [PixelMask { indices: vec![1], weights: Some(vec![0.0]) }];
        assert!(matches!(extract_curves(&img, &zero, &NoProgress), Err(RoiError::Empty(_))));
        let none = extract_curves(&img, &[], &NoProgress).expect("no masks");
        assert_eq!(none.dim(), (0, 2));
    }
}
