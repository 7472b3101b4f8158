//! Hierarchical alternating least squares (HALS) updates of footprints and traces: each component in turn gets
//! its non-negative least-squares optimum with the others fixed. Footprints stay inside their support masks.

use rayon::prelude::*;

use super::linalg::dot;
use super::model::Model;
use super::pixels::PixelMajor;
use super::products::FactorProducts;

/// Update traces `C` and `f` with footprints fixed: `sweeps` passes over the components.
pub fn update_temporal(model: &mut Model, y: &PixelMajor, prod: &dyn FactorProducts, sweeps: usize) {
    let (k, nb) = (model.k(), model.nb());
    if k + nb == 0 {
        return;
    }
    let nbrs = model.neighbours();
    let g = model.gram(&nbrs);
    let aty = prod.at_y(&model.pattern(), y);
    let t = y.t;
    // Neighbours in the Gram sense: overlapping footprints plus every background column.
    let all: Vec<Vec<usize>> = (0..k + nb)
        .map(|i| {
            if i < k {
                nbrs[i].iter().copied().chain(k..k + nb).collect()
            } else {
                (0..k + nb).filter(|&j| j != i).collect()
            }
        })
        .collect();
    for _ in 0..sweeps {
        for i in 0..k + nb {
            let gii = g[[i, i]];
            if gii <= 0.0 {
                continue;
            }
            let mut num: Vec<f32> = aty.row(i).to_vec();
            for &j in &all[i] {
                let gij = g[[i, j]];
                if gij != 0.0 {
                    let cj = if j < k { &model.c[j] } else { &model.f[j - k] };
                    for (n, v) in num.iter_mut().zip(cj) {
                        *n -= gij * v;
                    }
                }
            }
            let ci = if i < k { &mut model.c[i] } else { &mut model.f[i - k] };
            for (c, n) in ci.iter_mut().zip(&num).take(t) {
                *c = (n / gii).max(0.0);
            }
        }
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
    // C C^T.
    let rows: Vec<Vec<f32>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let ci = ct.row(i).to_vec();
            (0..n).map(|j| if j < i { 0.0 } else { dot(&ci, &ct.row(j).to_vec()) }).collect()
        })
        .collect();
    let mut cct = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in i..n {
            cct[i][j] = rows[i][j];
            cct[j][i] = rows[i][j];
        }
    }
    let pattern = model.pattern();
    let yct = prod.y_ct_on(y, &ct, &pattern);
    let nbrs = model.neighbours();
    let grid = model.grid;
    for _ in 0..sweeps {
        // Neuron footprints, one at a time (each sees its neighbours' latest values).
        for i in 0..k {
            let cii = cct[i][i];
            if cii <= 0.0 {
                continue;
            }
            let start = pattern.indptr[i];
            let mut e = start;
            let fi = &model.comps[i];
            let mut new_vals = fi.vals.clone();
            for (l, nv) in new_vals.iter_mut().enumerate() {
                if !fi.mask[l] {
                    continue;
                }
                let p = fi.region.absolute(l);
                let gp = grid.index(p[0], p[1], p[2]);
                let mut num = yct[e] - cct[i][i] * fi.vals[l];
                e += 1;
                for &j in &nbrs[i] {
                    let cij = cct[i][j];
                    if cij != 0.0 {
                        num -= cij * model.comps[j].at(p);
                    }
                }
                for m in 0..nb {
                    num -= cct[i][k + m] * model.b[m][gp];
                }
                *nv = (fi.vals[l] + num / cii).max(0.0);
            }
            model.comps[i].vals = new_vals;
        }
        // Background columns, dense.
        for m in 0..nb {
            let cmm = cct[k + m][k + m];
            if cmm <= 0.0 {
                continue;
            }
            let mut acc = vec![0f32; grid.len()];
            for (j, f) in model.comps.iter().enumerate() {
                let w = cct[k + m][j];
                if w == 0.0 {
                    continue;
                }
                for (l, &v) in f.vals.iter().enumerate() {
                    if v != 0.0 {
                        let p = f.region.absolute(l);
                        acc[grid.index(p[0], p[1], p[2])] += w * v;
                    }
                }
            }
            for m2 in 0..nb {
                if m2 != m {
                    let w = cct[k + m][k + m2];
                    for (a, bv) in acc.iter_mut().zip(&model.b[m2]) {
                        *a += w * bv;
                    }
                }
            }
            let s = pattern.indptr[k + m];
            for p in 0..grid.len() {
                model.b[m][p] = ((yct[s + p] - acc[p]) / cmm).max(0.0);
            }
        }
    }
    normalise(model);
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
    let g = model.gram(&nbrs);
    let aty = prod.at_y(&model.pattern(), y);
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
