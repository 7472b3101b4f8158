//! The WGSL factor products (`A^T Y`, `Y C^T` on a pattern) must agree with their CPU twin
//! (`mesmerize_core::extraction::products::CpuProducts`) on random data: odd sizes, sparse columns plus dense
//! (background) columns, the movie in one device buffer and split into several chunks, and a second movie passed
//! at call time. Runs on any wgpu adapter, lavapipe included; MESMERIZE_SKIP_GPU_TESTS=1 skips it.
//!
//! Tolerance: both sides sum the same f32 products in different orders (the GPU sums `y_ct_on` in 64 strided
//! lanes plus a tree, and may fuse multiply-adds; `at_y` splits columns into blocks at other places than the CPU
//! when the movie is chunked), so each result carries a rounding error of order `sqrt(n) * 2^-24` of its sum of
//! absolute terms. The data are non-negative, as movies, footprints and traces are, so that sum is the result
//! itself and a relative error of 1e-4 leaves a wide margin (measured: ~1e-6). The `--nocapture` output with
//! `PRODUCTS_BENCH=1` also times a moderate problem against the CPU twin.

use std::time::Instant;

use mesmerize_core::extraction::SparseColumns;
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::products::{CpuProducts, FactorProducts};
use mesmerize_gpu::GpuProducts;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::context;

fn random_movie(d: usize, t: usize, rng: &mut ChaCha8Rng) -> PixelMajor {
    PixelMajor { d, t, data: (0..d * t).map(|_| rng.random_range(50.0f32..150.0)).collect() }
}

/// `k` sparse columns of about `nnz` random pixels each (sorted, distinct), then `dense` dense columns.
fn random_pattern(d: usize, k: usize, nnz: usize, dense: usize, rng: &mut ChaCha8Rng) -> SparseColumns {
    let mut a = SparseColumns::new(d);
    for _ in 0..k {
        let start = rng.random_range(0..d);
        let mut entries: Vec<(u32, f32)> = (0..nnz)
            .map(|_| (((start + rng.random_range(0..d / 4 + 1)) % d) as u32, rng.random_range(0.01f32..1.0)))
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        a.push_col(entries);
    }
    for _ in 0..dense {
        let col: Vec<f32> = (0..d).map(|_| rng.random_range(0.01f32..1.0)).collect();
        a.push_dense(&col);
    }
    a
}

fn random_traces(k: usize, t: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    Array2::from_shape_fn((k, t), |_| if rng.random::<f32>() < 0.3 { 0.0 } else { rng.random_range(0.0f32..10.0) })
}

fn max_rel(gpu: &[f32], cpu: &[f32]) -> f32 {
    assert_eq!(gpu.len(), cpu.len());
    gpu.iter().zip(cpu).map(|(g, c)| (g - c).abs() / c.abs().max(1e-20)).fold(0.0, f32::max)
}

fn check(name: &str, gpu: &dyn FactorProducts, y: &PixelMajor, a: &SparseColumns, c: &Array2<f32>) {
    let cpu = CpuProducts;
    let (g, r) = (gpu.at_y(a, y), cpu.at_y(a, y));
    assert_eq!(g.dim(), r.dim());
    let e1 = max_rel(g.as_slice().expect("standard layout"), r.as_slice().expect("standard layout"));
    let (g, r) = (gpu.y_ct_on(y, c, a), cpu.y_ct_on(y, c, a));
    let e2 = max_rel(&g, &r);
    eprintln!("{name}: d={} t={} K={} nnz={}: max rel err at_y {e1:.2e}, y_ct_on {e2:.2e}", y.d, y.t, a.n_cols(), a.indices.len());
    assert!(e1 < 1e-4, "{name}: at_y rel err {e1}");
    assert!(e2 < 1e-4, "{name}: y_ct_on rel err {e2}");
}

#[test]
fn products_match_cpu_twin_on_random_data() {
    let Some(ctx) = context() else { return };
    eprintln!("parity test on {}", ctx.describe());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (d, t) = (3000, 333);
    let y = random_movie(d, t, &mut rng);
    let a = random_pattern(d, 23, 157, 2, &mut rng);
    let c = random_traces(a.n_cols(), t, &mut rng);

    // Other movies from 8 MB on go to the device here (the default keeps them on the CPU below 256 MB).
    let one = GpuProducts::new(&ctx, &y).expect("upload").with_cpu_below(8 << 20);
    assert_eq!(one.chunks(), 1);
    check("one chunk", &one, &y, &a, &c);
    // A pattern with an empty column and a column touching the first and last pixels only.
    let mut edge = SparseColumns::new(d);
    edge.push_col(vec![]);
    edge.push_col(vec![(0, 0.5), (d as u32 - 1, 2.0)]);
    check("edge columns", &one, &y, &edge, &random_traces(2, t, &mut rng));

    // 7 chunks of 449 pixels (the last one shorter; rows are padded to whole vec4s on the device): blocks and
    // entries split at chunk boundaries.
    let many = GpuProducts::with_chunk_bytes(&ctx, &y, 449 * t.next_multiple_of(4) as u64 * 4).expect("upload in chunks");
    assert_eq!(many.chunks(), d.div_ceil(449));
    check("7 chunks", &many, &y, &a, &c);

    // Another movie at call time: above the CPU threshold it goes to the secondary slot, below it to the CPU;
    // both must give the twin's answer (twice, to use the cached upload).
    let (d2, t2) = (9001, 256); // a multiple of 4: no padding on the device
    let y2 = random_movie(d2, t2, &mut rng);
    assert!(y2.data.len() * 4 >= 8 << 20);
    let a2 = random_pattern(d2, 11, 301, 1, &mut rng);
    let c2 = random_traces(a2.n_cols(), t2, &mut rng);
    check("second movie (upload)", &one, &y2, &a2, &c2);
    check("second movie (cached)", &one, &y2, &a2, &c2);
    let small = random_movie(200, 64, &mut rng);
    let a3 = random_pattern(200, 5, 30, 1, &mut rng);
    check("patch movie (CPU)", &one, &small, &a3, &random_traces(a3.n_cols(), 64, &mut rng));
    // And back to the resident movie.
    check("resident again", &one, &y, &a, &c);
    let n = one.counts();
    eprintln!("calls: {n:?}");
    assert_eq!((n.cpu, n.failed), (2, 0), "only the patch movie goes to the CPU, nothing fails");
    assert_eq!(many.counts().failed, 0);
}

/// Timing at a moderate size (d = 65536, t = 2000, K = 120 x ~400 entries + 1 dense column); opt in with
/// PRODUCTS_BENCH=1 (it takes a while on lavapipe).
#[test]
fn products_timing() {
    if std::env::var_os("PRODUCTS_BENCH").is_none() {
        return;
    }
    let Some(ctx) = context() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (d, t) = (65536, 2000);
    let y = random_movie(d, t, &mut rng);
    let a = random_pattern(d, 120, 400, 1, &mut rng);
    let c = random_traces(a.n_cols(), t, &mut rng);
    let s = Instant::now();
    let gpu = GpuProducts::new(&ctx, &y).expect("upload");
    eprintln!("device {}: upload {:.0} ms ({} chunk(s))", ctx.describe(), s.elapsed().as_secs_f64() * 1e3, gpu.chunks());
    let time = |f: &dyn Fn()| {
        f();
        let reps = 3;
        let s = Instant::now();
        for _ in 0..reps {
            f();
        }
        s.elapsed().as_secs_f64() * 1e3 / reps as f64
    };
    for (name, p) in [("cpu", &CpuProducts as &dyn FactorProducts), ("gpu", &gpu)] {
        let ta = time(&|| {
            std::hint::black_box(p.at_y(&a, &y));
        });
        let tc = time(&|| {
            std::hint::black_box(p.y_ct_on(&y, &c, &a));
        });
        eprintln!("{name}: at_y {ta:.1} ms, y_ct_on {tc:.1} ms (K={}, nnz={})", a.n_cols(), a.indices.len());
    }
    check("timing problem", &gpu, &y, &a, &c);
    assert_eq!(gpu.counts().failed, 0);
}
