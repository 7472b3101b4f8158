//! The HALS sweeps as self-contained problems, so the WGSL kernels (mesmerize_gpu) can stand in for the CPU
//! solvers here. Both sweeps decouple: with footprints fixed each time point's traces update on their own, and
//! with traces fixed each pixel's footprint values update on their own (a component's new value at a pixel only
//! involves the other components at that pixel). So a sweep over all components runs in parallel over time
//! points (temporal) or pixels (spatial), and gives exactly what the component-by-component loop gives.

use ndarray::Array2;
use rayon::prelude::*;

use super::linalg::dot;
use super::sparse::SparseColumns;

/// Time points per CPU work item of the temporal sweeps.
const TIME_BLOCK: usize = 64;
/// Pixels per CPU work item of the spatial sweeps.
const PIXEL_BLOCK: usize = 1024;
/// Least work (multiply-adds, roughly) worth a rayon task: smaller problems (CNMF's per-patch ones, already run
/// in parallel across patches) are solved on the calling thread. Nested tiny tasks cost more than they save:
/// measured 7 s -> 12 s for CNMF's patch phase at 512x512x1000 when every patch's sweeps were split.
const MIN_TASK_WORK: usize = 1 << 18;

/// Blocks per rayon task so that each task has at least [`MIN_TASK_WORK`] of `work_per_block`.
fn blocks_per_task(work_per_block: usize) -> usize {
    MIN_TASK_WORK.div_ceil(work_per_block.max(1))
}

/// Traces `[C; f]` given footprints: `c_i <- max(0, (A^T Y)_i - sum_{j != i} g_ij c_j) / g_ii)`, component by
/// component, `g = [A, b]^T [A, b]`.
#[derive(Debug, Clone)]
pub struct TemporalSweeps {
    /// `g_ii` per component (components with `g_ii <= 0` are left as they are).
    pub diag: Vec<f32>,
    /// Off-diagonal non-zeros of `g` by row: `row_ptr[i]..row_ptr[i + 1]` index `cols` / `vals`, in the order
    /// they are subtracted.
    pub row_ptr: Vec<u32>,
    /// Column `j` of each off-diagonal entry.
    pub cols: Vec<u32>,
    /// `g_ij` of each off-diagonal entry.
    pub vals: Vec<f32>,
    /// `[A, b]^T Y`, `n x T`.
    pub aty: Array2<f32>,
}

impl TemporalSweeps {
    /// Number of components (neurons and background).
    pub fn n(&self) -> usize {
        self.diag.len()
    }

    /// The CPU solver: `sweeps` passes on `traces` (`n x T`), parallel over blocks of time points.
    pub fn solve_cpu(&self, traces: &mut Array2<f32>, sweeps: usize) {
        let (n, t) = traces.dim();
        if n == 0 || t == 0 {
            return;
        }
        let per_block = sweeps * TIME_BLOCK * (n + self.cols.len());
        let blocks: Vec<(usize, Array2<f32>)> = (0..t)
            .step_by(TIME_BLOCK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .with_min_len(blocks_per_task(per_block))
            .map(|t0| {
                let len = TIME_BLOCK.min(t - t0);
                let mut c = traces.slice(ndarray::s![.., t0..t0 + len]).to_owned();
                let mut num = vec![0f32; len];
                for _ in 0..sweeps {
                    for i in 0..n {
                        let gii = self.diag[i];
                        if gii <= 0.0 {
                            continue;
                        }
                        num.iter_mut().zip(self.aty.slice(ndarray::s![i, t0..t0 + len])).for_each(|(o, &v)| *o = v);
                        for e in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                            let (j, gij) = (self.cols[e] as usize, self.vals[e]);
                            for (o, &v) in num.iter_mut().zip(c.row(j)) {
                                *o -= gij * v;
                            }
                        }
                        for (o, &v) in c.row_mut(i).iter_mut().zip(&num) {
                            *o = (v / gii).max(0.0);
                        }
                    }
                }
                (t0, c)
            })
            .collect();
        for (t0, c) in blocks {
            let len = c.ncols();
            traces.slice_mut(ndarray::s![.., t0..t0 + len]).assign(&c);
        }
    }
}

/// Footprint values given traces, pixel by pixel: each neuron's value at a pixel of its support, then each dense
/// background component, as the component-by-component loop updates them. Entries are pixel-major: pixel `p`'s
/// neuron entries are `pix_ptr[p]..pix_ptr[p + 1]`, by ascending component.
#[derive(Debug, Clone)]
pub struct SpatialSweeps {
    /// Neuron components.
    pub k: usize,
    /// Background components.
    pub nb: usize,
    /// `C C^T` of `[C; f]`, dense `(k + nb)^2`, row-major.
    pub cct: Vec<f32>,
    /// Entry ranges per pixel, `d + 1` long.
    pub pix_ptr: Vec<u32>,
    /// Component of each neuron entry.
    pub comp: Vec<u32>,
    /// `(Y C^T)` at each neuron entry.
    pub yct: Vec<f32>,
    /// `(Y C^T)` of the background components, pixel-major `d x nb`.
    pub yct_b: Vec<f32>,
}

impl SpatialSweeps {
    /// Number of pixels.
    pub fn d(&self) -> usize {
        self.pix_ptr.len() - 1
    }

    /// The CPU solver: `sweeps` passes on the neuron entries `vals` (aligned with `comp`) and the pixel-major
    /// background `b` (`d x nb`), parallel over blocks of pixels.
    pub fn solve_cpu(&self, vals: &mut [f32], b: &mut [f32], sweeps: usize) {
        let d = self.d();
        // Disjoint mutable pieces of `vals` and `b` per block of pixels.
        let mut pieces = Vec::with_capacity(d.div_ceil(PIXEL_BLOCK));
        let (mut rest_v, mut rest_b) = (vals, b);
        for p0 in (0..d).step_by(PIXEL_BLOCK) {
            let p1 = (p0 + PIXEL_BLOCK).min(d);
            let nv = (self.pix_ptr[p1] - self.pix_ptr[p0]) as usize;
            let (v, rv) = std::mem::take(&mut rest_v).split_at_mut(nv);
            let (bb, rb) = std::mem::take(&mut rest_b).split_at_mut((p1 - p0) * self.nb);
            (rest_v, rest_b) = (rv, rb);
            pieces.push((p0, p1, v, bb));
        }
        let per_block = sweeps * (self.comp.len() + d * self.nb).div_ceil(pieces.len().max(1)) * (2 + self.nb);
        pieces.into_par_iter().with_min_len(blocks_per_task(per_block)).for_each(|(p0, p1, v, bb)| {
            let base = self.pix_ptr[p0] as usize;
            for p in p0..p1 {
                let (s, e) = (self.pix_ptr[p] as usize, self.pix_ptr[p + 1] as usize);
                let bp = &mut bb[(p - p0) * self.nb..(p - p0 + 1) * self.nb];
                self.pixel(p, &mut v[s - base..e - base], s, bp, sweeps);
            }
        });
    }

    /// All sweeps at one pixel: `v` its neuron entries (global entries from `first`), `bp` its background values.
    fn pixel(&self, p: usize, v: &mut [f32], first: usize, bp: &mut [f32], sweeps: usize) {
        let (k, nb) = (self.k, self.nb);
        let n = k + nb;
        let cct = |i: usize, j: usize| self.cct[i * n + j];
        for _ in 0..sweeps {
            for a in 0..v.len() {
                let i = self.comp[first + a] as usize;
                let cii = cct(i, i);
                if cii <= 0.0 {
                    continue;
                }
                let mut num = self.yct[first + a] - cii * v[a];
                for (o, &vo) in v.iter().enumerate() {
                    let cij = cct(i, self.comp[first + o] as usize);
                    if o != a && cij != 0.0 {
                        num -= cij * vo;
                    }
                }
                for (m, &bm) in bp.iter().enumerate() {
                    num -= cct(i, k + m) * bm;
                }
                v[a] = (v[a] + num / cii).max(0.0);
            }
            for m in 0..nb {
                let cmm = cct(k + m, k + m);
                if cmm <= 0.0 {
                    continue;
                }
                let mut acc = 0f32;
                for (o, &vo) in v.iter().enumerate() {
                    let w = cct(k + m, self.comp[first + o] as usize);
                    if w != 0.0 && vo != 0.0 {
                        acc += w * vo;
                    }
                }
                for (m2, &b2) in bp.iter().enumerate() {
                    if m2 != m {
                        acc += cct(k + m, k + m2) * b2;
                    }
                }
                bp[m] = ((self.yct_b[p * nb + m] - acc) / cmm).max(0.0);
            }
        }
    }
}

/// Dot products of pairs of columns of `a` (the entries of `A^T A` that HALS needs: overlapping footprints,
/// footprint-background and background pairs). Columns hold sorted pixel indices; columns from `dense_from` on
/// (the background) have an entry for every pixel and are read by index.
pub fn column_dots_cpu(a: &SparseColumns, dense_from: usize, pairs: &[[u32; 2]]) -> Vec<f32> {
    // A pair costs about its shorter column's length (more for a background pair).
    let per_pair = a.indices.len().div_ceil(a.n_cols().max(1));
    pairs
        .par_iter()
        .with_min_len(blocks_per_task(per_pair))
        .map(|&[i, j]| {
            let ((ii, iv), (ji, jv)) = (a.col(i as usize), a.col(j as usize));
            match (i as usize >= dense_from, j as usize >= dense_from) {
                (true, true) => dot(iv, jv),
                (false, true) => sparse_dense(ii, iv, jv),
                (true, false) => sparse_dense(ji, jv, iv),
                (false, false) => {
                    let (mut x, mut y, mut s) = (0, 0, 0f32);
                    while x < ii.len() && y < ji.len() {
                        match ii[x].cmp(&ji[y]) {
                            std::cmp::Ordering::Less => x += 1,
                            std::cmp::Ordering::Greater => y += 1,
                            std::cmp::Ordering::Equal => {
                                s += iv[x] * jv[y];
                                x += 1;
                                y += 1;
                            }
                        }
                    }
                    s
                }
            }
        })
        .collect()
}

/// `sum_e v_e dense[idx_e]` over the non-zero entries.
fn sparse_dense(idx: &[u32], v: &[f32], dense: &[f32]) -> f32 {
    let mut s = 0f32;
    for (&p, &x) in idx.iter().zip(v) {
        if x != 0.0 {
            s += x * dense[p as usize];
        }
    }
    s
}
