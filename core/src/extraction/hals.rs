//! Hierarchical alternating least squares (HALS) updates of footprints and traces: each component in turn gets
//! its non-negative least-squares optimum with the others fixed. Footprints stay inside their support masks.

use ndarray::Array2;
use rayon::prelude::*;

use super::linalg::dot;
use super::model::Model;
use super::pixels::PixelMajor;
use super::products::FactorProducts;
use super::sparse::SparseColumns;
use super::sweeps::{SpatialSweeps, TemporalSweeps};

/// Update traces `C` and `f` with footprints fixed: `sweeps` passes over the components.
pub fn update_temporal(model: &mut Model, y: &PixelMajor, prod: &dyn FactorProducts, sweeps: usize) {
    let (k, nb) = (model.k(), model.nb());
    if k + nb == 0 {
        return;
    }
    let nbrs = model.neighbours();
    let pattern = model.pattern();
    let g = gram(model, &nbrs, &pattern, prod);
    let aty = prod.at_y(&pattern, y);
    // Neighbours in the Gram sense: overlapping footprints plus every background column.
    let mut row_ptr = vec![0u32];
    let (mut cols, mut vals) = (Vec::new(), Vec::new());
    for i in 0..k + nb {
        let others: Box<dyn Iterator<Item = usize>> = if i < k {
            Box::new(nbrs[i].iter().copied().chain(k..k + nb))
        } else {
            Box::new((0..k + nb).filter(|&j| j != i))
        };
        for j in others {
            if g[[i, j]] != 0.0 {
                cols.push(j as u32);
                vals.push(g[[i, j]]);
            }
        }
        row_ptr.push(cols.len() as u32);
    }
    let problem = TemporalSweeps { diag: (0..k + nb).map(|i| g[[i, i]]).collect(), row_ptr, cols, vals, aty };
    let mut traces = model.traces();
    prod.temporal_sweeps(&problem, &mut traces, sweeps);
    for (i, row) in traces.rows().into_iter().enumerate() {
        let dst = if i < k { &mut model.c[i] } else { &mut model.f[i - k] };
        dst.iter_mut().zip(row).for_each(|(o, &v)| *o = v);
    }
}

/// Update footprints `A` (inside their masks) and `b` with traces fixed: `sweeps` passes. Footprints are then
/// scaled to unit norm (their traces absorb the scale).
pub fn update_spatial(model: &mut Model, y: &PixelMajor, prod: &dyn FactorProducts, sweeps: usize) {
    let (k, nb) = (model.k(), model.nb());
    if k + nb == 0 {
        return;
    }
    let ct = model.traces();
    let n = k + nb;
    // C C^T (each trace copied out once; the dots read the copies).
    let tr: Vec<Vec<f32>> = ct.rows().into_iter().map(|r| r.to_vec()).collect();
    let rows: Vec<Vec<f32>> =
        (0..n).into_par_iter().map(|i| (0..n).map(|j| if j < i { 0.0 } else { dot(&tr[i], &tr[j]) }).collect()).collect();
    let mut cct = vec![0f32; n * n];
    for i in 0..n {
        for j in i..n {
            cct[i * n + j] = rows[i][j];
            cct[j * n + i] = rows[i][j];
        }
    }
    let pattern = model.pattern();
    let yct = prod.y_ct_on(y, &ct, &pattern);
    let d = model.grid.len();
    // Neuron entries pixel-major (ascending component within a pixel), remembering each one's pattern slot.
    let neuron_entries = pattern.indptr[k];
    let mut pix_ptr = vec![0u32; d + 1];
    for &p in &pattern.indices[..neuron_entries] {
        pix_ptr[p as usize + 1] += 1;
    }
    for p in 0..d {
        pix_ptr[p + 1] += pix_ptr[p];
    }
    let mut next: Vec<u32> = pix_ptr[..d].to_vec();
    let mut slot = vec![0usize; neuron_entries];
    let (mut comp, mut yct_n, mut vals) = (vec![0u32; neuron_entries], vec![0f32; neuron_entries], vec![0f32; neuron_entries]);
    for (i, cols) in pattern.indptr[..=k].windows(2).enumerate() {
        for (e, (&p, (&y, &v))) in pattern.indices.iter().zip(yct.iter().zip(&pattern.data)).enumerate().take(cols[1]).skip(cols[0]) {
            let at = next[p as usize] as usize;
            next[p as usize] += 1;
            (slot[at], comp[at], yct_n[at], vals[at]) = (e, i as u32, y, v);
        }
    }
    let mut yct_b = vec![0f32; d * nb];
    let mut b = vec![0f32; d * nb];
    for m in 0..nb {
        let s = pattern.indptr[k + m];
        for p in 0..d {
            yct_b[p * nb + m] = yct[s + p];
            b[p * nb + m] = model.b[m][p];
        }
    }
    let problem = SpatialSweeps { k, nb, cct, pix_ptr, comp, yct: yct_n, yct_b };
    prod.spatial_sweeps(&problem, &mut vals, &mut b, sweeps);
    // Back into the footprints (their mask entries, in pattern order) and the background.
    let mut data = vec![0f32; neuron_entries];
    for (at, &e) in slot.iter().enumerate() {
        data[e] = vals[at];
    }
    let mut e = 0;
    for f in &mut model.comps {
        for (v, &m) in f.vals.iter_mut().zip(&f.mask) {
            if m {
                *v = data[e];
                e += 1;
            }
        }
    }
    for m in 0..nb {
        for p in 0..d {
            model.b[m][p] = b[p * nb + m];
        }
    }
    normalise(model);
}

/// Gram matrix of `[A, b]` (dense, small) from the column dots `prod` computes: overlapping footprints,
/// footprint-background and background pairs; every other entry is zero.
pub fn gram(model: &Model, nbrs: &[Vec<usize>], pattern: &SparseColumns, prod: &dyn FactorProducts) -> Array2<f32> {
    let (k, nb) = (model.k(), model.nb());
    let mut pairs = Vec::new();
    for (i, ni) in nbrs.iter().enumerate().take(k) {
        pairs.push([i as u32, i as u32]);
        pairs.extend(ni.iter().filter(|&&j| j > i).map(|&j| [i as u32, j as u32]));
        pairs.extend((k..k + nb).map(|m| [i as u32, m as u32]));
    }
    for m in k..k + nb {
        pairs.extend((m..k + nb).map(|n| [m as u32, n as u32]));
    }
    let dots = prod.column_dots(pattern, k, &pairs);
    let mut g = Array2::<f32>::zeros((k + nb, k + nb));
    for (&[i, j], v) in pairs.iter().zip(dots) {
        g[[i as usize, j as usize]] = v;
        g[[j as usize, i as usize]] = v;
    }
    g
}

/// Footprints to unit norm, traces scaled to keep the product.
pub fn normalise(model: &mut Model) {
    for (f, c) in model.comps.iter_mut().zip(model.c.iter_mut()) {
        let n = f.norm();
        if n > 0.0 {
            f.vals.iter_mut().for_each(|v| *v /= n);
            c.iter_mut().for_each(|v| *v *= n);
        }
    }
}

/// Residual traces `YrA = (A^T Y - (A^T A) C - A^T b f) / diag(A^T A)`: what each trace misses of the data.
pub fn residual_traces(model: &Model, y: &PixelMajor, prod: &dyn FactorProducts) -> Vec<Vec<f32>> {
    let (k, nb) = (model.k(), model.nb());
    let nbrs = model.neighbours();
    let pattern = model.pattern();
    let g = gram(model, &nbrs, &pattern, prod);
    let aty = prod.at_y(&pattern, y);
    (0..k)
        .into_par_iter()
        .map(|i| {
            let gii = g[[i, i]].max(f32::MIN_POSITIVE);
            let mut r: Vec<f32> = aty.row(i).to_vec();
            for j in nbrs[i].iter().copied().chain(std::iter::once(i)) {
                let gij = g[[i, j]];
                for (x, v) in r.iter_mut().zip(&model.c[j]) {
                    *x -= gij * v;
                }
            }
            for m in 0..nb {
                let gim = g[[i, k + m]];
                for (x, v) in r.iter_mut().zip(&model.f[m]) {
                    *x -= gim * v;
                }
            }
            r.iter_mut().for_each(|x| *x /= gii);
            r
        })
        .collect()
}
