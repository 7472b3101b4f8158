//! The WGSL HALS kernels must agree with their CPU twins (`mesmerize_core::extraction::sweeps`): `A^T A` from the
//! column dots, the temporal sweeps and the spatial sweeps, on a model with overlapping footprints, partial
//! support masks, a component that starts with an empty trace and two background components. Runs on any wgpu adapter,
//! lavapipe included; MESMERIZE_SKIP_GPU_TESTS=1 skips it.

use mesmerize_core::extraction::footprint::Footprint;
use mesmerize_core::extraction::grid::{Grid, Region};
use mesmerize_core::extraction::hals::{gram, update_spatial, update_temporal};
use mesmerize_core::extraction::model::Model;
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::products::{CpuProducts, FactorProducts};
use mesmerize_gpu::extraction::products::GpuProducts;
use rand::{Rng, SeedableRng};

mod common;
use common::context;

/// A model near the movie it explains: 12 blobs (some overlapping, some with part of their box masked out), two
/// backgrounds, and the movie `A C + b f` plus noise.
fn scene(h: usize, w: usize, t: usize) -> (Model, PixelMajor) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let grid = Grid::from_dims(&[h, w]);
    let mut comps = Vec::new();
    let mut c = Vec::new();
    for i in 0..12 {
        let (y0, x0) = (rng.random_range(0..h - 7), rng.random_range(0..w - 7));
        let (ly, lx) = (rng.random_range(4..8), rng.random_range(4..8));
        let region = Region { lo: [0, y0, x0], len: [1, ly, lx] };
        let vals: Vec<f32> = (0..ly * lx).map(|_| rng.random_range(0.0f32..1.0)).collect();
        let mut f = Footprint::new(region, vals);
        if i % 3 == 0 {
            // Part of the box outside the support: zero there, as the fit keeps it.
            for (l, (m, v)) in f.mask.iter_mut().zip(f.vals.iter_mut()).enumerate() {
                if l % 4 == 0 {
                    *m = false;
                    *v = 0.0;
                }
            }
        }
        comps.push(f);
        let trace: Vec<f32> = if i == 5 { vec![0.0; t] } else { (0..t).map(|_| rng.random_range(0.0f32..5.0)).collect() };
        c.push(trace);
    }
    let b: Vec<Vec<f32>> = (0..2).map(|m| (0..h * w).map(|p| 1.0 + 0.1 * m as f32 + (p % 7) as f32 * 0.05).collect()).collect();
    let f: Vec<Vec<f32>> = (0..2).map(|_| (0..t).map(|_| rng.random_range(5.0f32..10.0)).collect()).collect();
    let model = Model { grid, comps, c, b, f };
    let mut data = vec![0f32; h * w * t];
    for p in 0..h * w {
        for ti in 0..t {
            let mut v = model.b[0][p] * model.f[0][ti] + model.b[1][p] * model.f[1][ti] + rng.random_range(-0.5f32..0.5);
            let [_, y, x] = grid.coords(p);
            for (comp, tr) in model.comps.iter().zip(&model.c) {
                v += comp.at([0, y, x]) * tr[ti];
            }
            data[p * t + ti] = v;
        }
    }
    (model, PixelMajor { d: h * w, t, data })
}

fn max_diff<'a>(a: impl IntoIterator<Item = &'a f32>, b: impl IntoIterator<Item = &'a f32>) -> (f32, f32) {
    a.into_iter().zip(b).fold((0f32, 0f32), |(e, s), (x, y)| (e.max((x - y).abs()), s.max(x.abs())))
}

#[test]
fn gram_matches_cpu_twin() {
    let Some(ctx) = context() else { return };
    let (model, y) = scene(40, 36, 50);
    let gpu = GpuProducts::new(&ctx, &y).expect("upload").with_min_work(0);
    let (nbrs, pattern) = (model.neighbours(), model.pattern());
    let cpu = gram(&model, &nbrs, &pattern, &CpuProducts);
    let dev = gram(&model, &nbrs, &pattern, &gpu);
    let (err, scale) = max_diff(&dev, &cpu);
    eprintln!("A^T A: max |gpu - cpu| {err:.2e} (values up to {scale:.1})");
    assert!(err <= 1e-5 * scale, "{err}");
    assert!(cpu.iter().zip(&dev).all(|(c, g)| (*c == 0.0) == (*g == 0.0)), "the same pattern of zeros");
    assert_eq!(gpu.counts().gpu, 1);
}

#[test]
fn hals_sweeps_match_cpu_twin() {
    let Some(ctx) = context() else { return };
    let (start, y) = scene(40, 36, 300);
    let gpu = GpuProducts::new(&ctx, &y).expect("upload").with_min_work(0);
    let (mut on_cpu, mut on_gpu) = (start.clone(), start.clone());
    // Perturbed start so the sweeps have work to do.
    for m in [&mut on_cpu, &mut on_gpu] {
        m.c.iter_mut().flatten().for_each(|v| *v *= 0.7);
        m.b[1].iter_mut().for_each(|v| *v *= 1.3);
    }
    update_temporal(&mut on_cpu, &y, &CpuProducts, 3);
    update_temporal(&mut on_gpu, &y, &gpu, 3);
    let (err, scale) = max_diff(on_gpu.c.iter().chain(&on_gpu.f).flatten(), on_cpu.c.iter().chain(&on_cpu.f).flatten());
    eprintln!("temporal sweeps: max |gpu - cpu| {err:.2e} (values up to {scale:.1})");
    assert!(err <= 1e-4 * scale, "temporal {err}");

    // The spatial sweeps from the same start, so only the spatial kernels differ.
    on_gpu = on_cpu.clone();
    update_spatial(&mut on_cpu, &y, &CpuProducts, 2);
    update_spatial(&mut on_gpu, &y, &gpu, 2);
    let (err, scale) = max_diff(on_gpu.comps.iter().flat_map(|f| &f.vals), on_cpu.comps.iter().flat_map(|f| &f.vals));
    let (berr, bscale) = max_diff(on_gpu.b.iter().flatten(), on_cpu.b.iter().flatten());
    eprintln!("spatial sweeps: footprints max |gpu - cpu| {err:.2e} (up to {scale:.2}), background {berr:.2e} (up to {bscale:.2})");
    assert!(err <= 1e-4 * scale, "footprints {err}");
    assert!(berr <= 1e-4 * bscale, "background {berr}");
    for f in &on_gpu.comps {
        assert!(f.vals.iter().zip(&f.mask).all(|(v, m)| *m || *v == 0.0), "values stay inside the support");
    }
    let counts = gpu.counts();
    assert_eq!(counts.failed, 0);
    // Temporal: A^T A, A^T Y, sweeps; spatial: Y C^T, sweeps.
    assert_eq!(counts.gpu, 5, "{counts:?}");
    eprintln!("{}", gpu.name());
}
