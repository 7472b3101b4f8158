//! The heavy products of the CNMF updates, behind a trait so the WGSL kernels (mesmerize_gpu) can stand in for
//! the CPU twin here: `A^T Y` (temporal update, residual traces) and `Y C^T` on the footprints' supports (spatial
//! update), `A^T A`, the HALS sweeps themselves, CNMF-E's ring-model background subtraction and the lagged
//! covariance images of its ring fit.
//! Background columns are dense columns of the same sparse matrix.

use ndarray::Array2;
use rayon::prelude::*;

use super::ExtractionError;
use super::cnmfe::lagcov::{ChunkedSeries, LagCov, LagSet};
use super::linalg::{axpy, dot};
use super::movie::Movie;
use super::pixels::PixelMajor;
use super::result::RingBackground;
use super::sparse::SparseColumns;
use super::sweeps::{SpatialSweeps, TemporalSweeps, column_dots_cpu};
use crate::progress::Progress;

/// Products of the pixel-major movie with factor matrices; implemented on the CPU (rayon) and in WGSL.
pub trait FactorProducts: Sync {
    /// `A^T Y`, `K x T`: every column's weighted sum of pixel time series.
    fn at_y(&self, a: &SparseColumns, y: &PixelMajor) -> Array2<f32>;
    /// `Y C^T` at the stored entries of `pattern`: entry `e = (p, k)` gets `y[p, :] . c[k, :]`.
    fn y_ct_on(&self, y: &PixelMajor, c: &Array2<f32>, pattern: &SparseColumns) -> Vec<f32>;
    /// Name for logs and benchmarks.
    fn name(&self) -> String;
    /// Where the calls so far ran, for the log after a fit (`None`: all on the CPU).
    fn call_summary(&self) -> Option<String> {
        None
    }
    /// `Y - B` of CNMF-E's ring model, pixel-major (the input of CNMF-E's updates); the GPU twin computes it on
    /// the device.
    fn ring_subtracted(&self, movie: &Movie, a: &SparseColumns, c: &Array2<f32>, ring: &RingBackground) -> PixelMajor {
        super::cnmfe::subtracted::background_subtracted(movie, a, c, ring)
    }
    /// The lagged covariance images of CNMF-E's ring fit (most of its multiply-adds); the GPU twin computes
    /// them on the device. `progress` advances by one per grid row.
    fn lag_covariances(&self, x: &ChunkedSeries, lags: &LagSet, progress: &dyn Progress) -> Result<LagCov, ExtractionError> {
        super::cnmfe::lagcov::lag_covariances(x, lags, progress)
    }
    /// Dot products of pairs of columns of `a` (`A^T A` where HALS needs it); columns from `dense_from` on are
    /// dense (one entry per pixel, the background).
    fn column_dots(&self, a: &SparseColumns, dense_from: usize, pairs: &[[u32; 2]]) -> Vec<f32> {
        column_dots_cpu(a, dense_from, pairs)
    }
    /// `sweeps` HALS passes over the traces (`n x T`, updated in place) with footprints fixed.
    fn temporal_sweeps(&self, problem: &TemporalSweeps, traces: &mut Array2<f32>, sweeps: usize) {
        problem.solve_cpu(traces, sweeps);
    }
    /// `sweeps` HALS passes over the footprint values (pixel-major entries `vals`, background `b`, `d x nb`)
    /// with traces fixed.
    fn spatial_sweeps(&self, problem: &SpatialSweeps, vals: &mut [f32], b: &mut [f32], sweeps: usize) {
        problem.solve_cpu(vals, b, sweeps);
    }
}

/// The CPU twin (rayon), the reference the GPU kernels are tested against.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuProducts;

/// Entries per work item, so that one dense background column is split across threads.
const BLOCK: usize = 2048;

fn blocks(a: &SparseColumns) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for k in 0..a.n_cols() {
        let (s, e) = (a.indptr[k], a.indptr[k + 1]);
        let mut i = s;
        while i < e {
            let j = (i + BLOCK).min(e);
            out.push((k, i, j));
            i = j;
        }
    }
    out
}

impl FactorProducts for CpuProducts {
    fn at_y(&self, a: &SparseColumns, y: &PixelMajor) -> Array2<f32> {
        let t = y.t;
        let parts: Vec<(usize, Vec<f32>)> = blocks(a)
            .into_par_iter()
            .map(|(k, s, e)| {
                let mut acc = vec![0f32; t];
                for i in s..e {
                    axpy(a.data[i], y.series(a.indices[i] as usize), &mut acc);
                }
                (k, acc)
            })
            .collect();
        let mut out = Array2::<f32>::zeros((a.n_cols(), t));
        for (k, acc) in parts {
            let mut row = out.row_mut(k);
            for (o, v) in row.iter_mut().zip(acc) {
                *o += v;
            }
        }
        out
    }

    fn y_ct_on(&self, y: &PixelMajor, c: &Array2<f32>, pattern: &SparseColumns) -> Vec<f32> {
        let parts: Vec<(usize, Vec<f32>)> = blocks(pattern)
            .into_par_iter()
            .map(|(k, s, e)| {
                let ck = c.row(k);
                let ck = ck.as_slice().map(<[f32]>::to_vec).unwrap_or_else(|| ck.to_vec());
                (s, (s..e).map(|i| dot(y.series(pattern.indices[i] as usize), &ck)).collect())
            })
            .collect();
        let mut out = vec![0f32; pattern.indices.len()];
        for (s, v) in parts {
            out[s..s + v.len()].copy_from_slice(&v);
        }
        out
    }

    fn name(&self) -> String {
        "cpu".into()
    }
}
