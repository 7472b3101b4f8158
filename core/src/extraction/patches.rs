//! Patches (`rf`, `stride`): the field of view cut into overlapping boxes that are initialised and fitted
//! independently in parallel, then put together; duplicates from the overlaps are merged afterwards.

use rayon::prelude::*;

use super::grid::{Grid, Region};

/// Start offsets along one axis of length `n` for patches of size `2 * rf` overlapping by `stride`; the last
/// patch is aligned to the end so that every pixel is covered.
pub fn axis_starts(n: usize, rf: usize, stride: usize) -> Vec<(usize, usize)> {
    let size = (2 * rf).max(1);
    if size >= n {
        return vec![(0, n)];
    }
    let step = size.saturating_sub(stride).max(1);
    let mut out = Vec::new();
    let mut s = 0;
    loop {
        if s + size >= n {
            out.push((n - size, size));
            break;
        }
        out.push((s, size));
        s += step;
    }
    out.dedup();
    out
}

/// Patch boxes covering `grid` for per-axis `rf` / `stride` (C order, as many entries as spatial axes; a 3D
/// movie with 2 entries is not split along z).
pub fn patch_regions(grid: &Grid, rf: &[usize], stride: &[usize]) -> Vec<Region> {
    let n_ax = rf.len().min(3);
    let mut per_axis: Vec<Vec<(usize, usize)>> = Vec::with_capacity(3);
    for a in 0..3 {
        // Align the given entries to the last axes.
        let off = 3 - n_ax;
        if a < off {
            per_axis.push(vec![(0, grid.dims[a])]);
        } else {
            let st = stride.get(a - off).copied().unwrap_or(0);
            per_axis.push(axis_starts(grid.dims[a], rf[a - off], st));
        }
    }
    let mut out = Vec::new();
    for &(z0, nz) in &per_axis[0] {
        for &(y0, ny) in &per_axis[1] {
            for &(x0, nx) in &per_axis[2] {
                out.push(Region { lo: [z0, y0, x0], len: [nz, ny, nx] });
            }
        }
    }
    out
}

/// Run `fit` on every patch in parallel and collect the results in patch order.
pub fn map_patches<T: Send>(regions: &[Region], fit: impl Fn(usize, &Region) -> T + Sync) -> Vec<T> {
    regions.par_iter().enumerate().map(|(i, r)| fit(i, r)).collect()
}
