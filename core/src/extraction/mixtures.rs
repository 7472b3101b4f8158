//! Removal of components that only re-explain their neighbours: a fragment or a mixture of two adjacent neurons
//! (the greedy search can seed between two co-located cells) has a trace that a non-negative combination of the
//! overlapping components' traces reproduces. Removing it lets the next HALS round give its signal back to them.

use rayon::prelude::*;

use super::linalg::dot;
use super::model::Model;

/// Fraction of a trace's variance explained by a non-negative combination of `others` (all centred first).
pub fn explained_by(c: &[f32], others: &[&[f32]]) -> f64 {
    let centre = |v: &[f32]| {
        let m = v.iter().sum::<f32>() / v.len().max(1) as f32;
        v.iter().map(|x| x - m).collect::<Vec<f32>>()
    };
    let xs: Vec<Vec<f32>> = others.iter().map(|o| centre(o)).collect();
    nnls_r2(&centre(c), &xs)
}

/// Fraction of footprint `k`'s energy that a non-negative combination of the listed footprints reproduces on
/// `k`'s box (uncentred).
pub fn footprint_explained(model: &Model, k: usize, others: &[usize]) -> f64 {
    let fk = &model.comps[k];
    let r = fk.region;
    let cols: Vec<Vec<f32>> = others.iter().map(|&j| (0..r.size()).map(|l| model.comps[j].at(r.absolute(l))).collect()).collect();
    nnls_r2(&fk.vals, &cols)
}

/// `1 - |y - X w|^2 / |y|^2` for the non-negative least-squares `w` (coordinate descent on the Gram matrix).
fn nnls_r2(y: &[f32], xs: &[Vec<f32>]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return 0.0;
    }
    let g: Vec<Vec<f32>> = xs.iter().map(|a| xs.iter().map(|b| dot(a, b)).collect()).collect();
    let xy: Vec<f32> = xs.iter().map(|a| dot(a, y)).collect();
    let mut w = vec![0f32; n];
    for _ in 0..50 {
        for i in 0..n {
            if g[i][i] <= 0.0 {
                continue;
            }
            let mut r = xy[i];
            for j in 0..n {
                if j != i {
                    r -= g[i][j] * w[j];
                }
            }
            w[i] = (r / g[i][i]).max(0.0);
        }
    }
    let mut res = y.to_vec();
    for (wi, x) in w.iter().zip(xs) {
        for (r, v) in res.iter_mut().zip(x) {
            *r -= wi * v;
        }
    }
    let yy = dot(y, y);
    if yy <= 0.0 { 0.0 } else { 1.0 - dot(&res, &res) as f64 / yy as f64 }
}

/// Footprint-redundancy threshold: a component whose footprint stronger overlapping components reproduce this well
/// (a fragment of one cell, or a blob spanning two) is removed.
pub const SPATIAL_THR: f64 = 0.6;

/// Remove, weakest first, components whose trace is explained above `thr` by their overlapping neighbours
/// (footprint cosine above `min_overlap`) or whose footprint they reproduce above [`SPATIAL_THR`]; returns how many
/// were removed.
pub fn prune_mixtures(model: &mut Model, thr: f64, min_overlap: f32) -> usize {
    let k = model.k();
    if k < 2 {
        return 0;
    }
    let nbrs = model.neighbours();
    let overl: Vec<Vec<usize>> = (0..k)
        .into_par_iter()
        .map(|i| {
            let fi = &model.comps[i];
            let ni = fi.norm();
            nbrs[i]
                .iter()
                .copied()
                .filter(|&j| {
                    let fj = &model.comps[j];
                    fi.dot(fj) / (ni * fj.norm()).max(f32::MIN_POSITIVE) > min_overlap
                })
                .collect()
        })
        .collect();
    let energy: Vec<f32> = model.c.iter().map(|c| dot(c, c)).collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| energy[a].total_cmp(&energy[b]));
    let mut removed = vec![false; k];
    let mut n = 0;
    for &i in &order {
        let ids: Vec<usize> = overl[i].iter().copied().filter(|&j| !removed[j]).collect();
        let others: Vec<&[f32]> = ids.iter().map(|&j| model.c[j].as_slice()).collect();
        if explained_by(&model.c[i], &others) > thr || footprint_explained(model, i, &ids) > SPATIAL_THR {
            removed[i] = true;
            n += 1;
        }
    }
    if n > 0 {
        let keep: Vec<bool> = removed.iter().map(|r| !r).collect();
        model.retain(&keep);
    }
    n
}
