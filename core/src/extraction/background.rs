//! Low-rank background `b f` (CNMF's `gnb` components): initialised from the mean image left after the neurons,
//! then refined by the same HALS updates as the neurons.

use rayon::prelude::*;

use super::model::Model;
use super::pixels::PixelMajor;

/// Replace the model's background by `nb` components: the temporal mean of `Y - A C` (first component, constant
/// trace) and, for `nb > 1`, smooth spatial halves with slowly varying traces that HALS then refines.
pub fn init_background(model: &mut Model, y: &PixelMajor, nb: usize) {
    model.b.clear();
    model.f.clear();
    if nb == 0 {
        return;
    }
    let t = y.t;
    let mut mean: Vec<f32> = y.data.par_chunks(t).map(|s| s.iter().sum::<f32>() / t as f32).collect();
    for (f, c) in model.comps.iter().zip(&model.c) {
        let mc = c.iter().sum::<f32>() / t.max(1) as f32;
        for (l, &v) in f.vals.iter().enumerate() {
            let p = f.region.absolute(l);
            let gi = model.grid.index(p[0], p[1], p[2]);
            mean[gi] -= v * mc;
        }
    }
    mean.iter_mut().for_each(|v| *v = v.max(0.0));
    let grid = model.grid;
    for m in 0..nb {
        let (b, f) = if m == 0 {
            (mean.clone(), vec![1.0; t])
        } else {
            let axis = if m % 2 == 1 { 2 } else { 1 };
            let n = grid.dims[axis].max(1) as f32;
            let b: Vec<f32> = (0..grid.len())
                .map(|p| {
                    let u = grid.coords(p)[axis] as f32 / n;
                    let w = if m % 4 < 2 { u } else { 1.0 - u };
                    0.1 * mean[p] * w
                })
                .collect();
            let f = (0..t).map(|i| 1.0 + 0.5 * (std::f32::consts::PI * m as f32 * i as f32 / t as f32).cos()).collect();
            (b, f)
        };
        model.b.push(b);
        model.f.push(f);
    }
}
