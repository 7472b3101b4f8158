//! Merging of components that overlap in space and are correlated in time (`merge_thr`): the same neuron found
//! twice (overlapping patches, split footprints) becomes one rank-1 component.

use super::footprint::Footprint;
use super::grid::Region;
use super::linalg::{dot, pearson};
use super::model::Model;

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut r = i;
    while parent[r] != r {
        r = parent[r];
    }
    let mut j = i;
    while parent[j] != r {
        let n = parent[j];
        parent[j] = r;
        j = n;
    }
    r
}

/// Merge groups of spatially overlapping components whose traces correlate above `thr`; returns how many
/// components disappeared.
pub fn merge_components(model: &mut Model, thr: f64) -> usize {
    let k = model.k();
    if k < 2 {
        return 0;
    }
    let nbrs = model.neighbours();
    let mut parent: Vec<usize> = (0..k).collect();
    for (i, ni) in nbrs.iter().enumerate() {
        for &j in ni {
            if j <= i {
                continue;
            }
            let ov = model.comps[i].dot(&model.comps[j]);
            if ov <= 0.0 {
                continue;
            }
            if pearson(&model.c[i], &model.c[j]) > thr {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[rj] = ri;
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..k {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    if groups.len() == k {
        return 0;
    }
    let mut comps = Vec::with_capacity(groups.len());
    let mut traces = Vec::with_capacity(groups.len());
    for members in groups.values() {
        if members.len() == 1 {
            comps.push(model.comps[members[0]].clone());
            traces.push(model.c[members[0]].clone());
            continue;
        }
        let (f, c) = merge_group(model, members);
        comps.push(f);
        traces.push(c);
    }
    let gone = k - comps.len();
    model.comps = comps;
    model.c = traces;
    gone
}

/// Best rank-1 non-negative approximation of `sum_i a_i c_i^T` over the union of the members' supports.
fn merge_group(model: &Model, members: &[usize]) -> (Footprint, Vec<f32>) {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0; 3];
    for &i in members {
        let r = &model.comps[i].region;
        for a in 0..3 {
            lo[a] = lo[a].min(r.lo[a]);
            hi[a] = hi[a].max(r.lo[a] + r.len[a]);
        }
    }
    let region = Region { lo, len: std::array::from_fn(|a| hi[a] - lo[a]) };
    let n = region.size();
    // Members embedded in the union box.
    let parts: Vec<Vec<f32>> = members
        .iter()
        .map(|&i| (0..n).map(|l| model.comps[i].at(region.absolute(l))).collect())
        .collect();
    let mut mask = vec![false; n];
    for &i in members {
        let f = &model.comps[i];
        for (l, m) in mask.iter_mut().enumerate() {
            if let Some(j) = f.region.local(region.absolute(l)) {
                *m |= f.mask[j];
            }
        }
    }
    let t = model.c[members[0]].len();
    let mut c = vec![0f32; t];
    for (pi, &i) in members.iter().enumerate() {
        let w = parts[pi].iter().map(|v| v * v).sum::<f32>().sqrt();
        for (x, v) in c.iter_mut().zip(&model.c[i]) {
            *x += w * v;
        }
    }
    let mut a = vec![0f32; n];
    for _ in 0..10 {
        let cc = dot(&c, &c);
        if cc <= 0.0 {
            break;
        }
        a.iter_mut().for_each(|v| *v = 0.0);
        for (pi, &i) in members.iter().enumerate() {
            let w = dot(&model.c[i], &c) / cc;
            for (x, v) in a.iter_mut().zip(&parts[pi]) {
                *x += w * v;
            }
        }
        a.iter_mut().for_each(|v| *v = v.max(0.0));
        let na = dot(&a, &a).sqrt();
        if na <= 0.0 {
            break;
        }
        a.iter_mut().for_each(|v| *v /= na);
        c.iter_mut().for_each(|v| *v = 0.0);
        for (pi, &i) in members.iter().enumerate() {
            let w = dot(&a, &parts[pi]);
            for (x, v) in c.iter_mut().zip(&model.c[i]) {
                *x += w * v;
            }
        }
        c.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    (Footprint { region, vals: a, mask }, c)
}
