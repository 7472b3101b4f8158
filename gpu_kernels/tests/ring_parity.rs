//! The WGSL ring-model kernels must agree with their CPU twins: the background subtraction
//! (`background_subtracted`: several frame blocks, partial coarse blocks at the edges, downsampling 1, 2 and 3,
//! overlapping footprints) and the ring fit's lagged covariance images (`lag_covariances`: grid edges, a padded
//! last time chunk, several row bands), and a whole ring fit through `GpuProducts`. Runs on any wgpu adapter,
//! lavapipe included; MESMERIZE_SKIP_GPU_TESTS=1 skips it.

use mesmerize_core::extraction::cnmfe::lagcov::{CHUNK, ChunkedSeries, LagSet, lag_covariances};
use mesmerize_core::extraction::cnmfe::ring::ring_offsets;
use mesmerize_core::extraction::cnmfe::subtracted::background_subtracted;
use mesmerize_core::extraction::cnmfe::{RingShape, fit_ring, fit_ring_with};
use mesmerize_core::extraction::{Movie, SparseColumns};
use mesmerize_core::progress::NoProgress;
use mesmerize_gpu::extraction::lagcov::lag_covariances_in_bands;
use mesmerize_gpu::extraction::products::GpuProducts;
use mesmerize_gpu::extraction::ring::ring_subtracted;
use ndarray::Array2;
use rand::{Rng, SeedableRng};

mod common;
use common::context;

/// A smooth drifting background, a few blobs with random transients (their footprints are `A`, traces `C`) and noise.
fn scene(h: usize, w: usize, t: usize, seed: u64) -> (Movie, SparseColumns, Array2<f32>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let blobs: Vec<(f32, f32)> = (0..5).map(|_| (rng.random_range(0.0..h as f32), rng.random_range(0.0..w as f32))).collect();
    let mut a = SparseColumns::new(h * w);
    for &(by, bx) in &blobs {
        let mut entries = Vec::new();
        for p in 0..h * w {
            let r2 = ((p / w) as f32 - by).powi(2) + ((p % w) as f32 - bx).powi(2);
            if r2 < 16.0 {
                entries.push((p as u32, (-r2 / 6.0).exp()));
            }
        }
        a.push_col(entries);
    }
    let mut c = Array2::<f32>::zeros((blobs.len(), t));
    for k in 0..blobs.len() {
        let mut v = 0.0f32;
        for f in 0..t {
            v = 0.9 * v + if rng.random::<f32>() < 0.03 { 20.0 } else { 0.0 };
            c[[k, f]] = v;
        }
    }
    let mut data = vec![0f32; h * w * t];
    for f in 0..t {
        let drift = (f as f32 * 0.01).sin() * 10.0;
        for p in 0..h * w {
            let (y, x) = ((p / w) as f32, (p % w) as f32);
            data[f * h * w + p] = 200.0 + 0.5 * y + 0.3 * x + drift * (1.0 + 0.01 * x) + rng.random_range(-2.0f32..2.0);
        }
        for k in 0..blobs.len() {
            let (idx, val) = a.col(k);
            for (&p, &v) in idx.iter().zip(val) {
                data[f * h * w + p as usize] += v * c[[k, f]];
            }
        }
    }
    (Movie { dims: vec![h, w], t, data }, a, c)
}

#[test]
fn ring_subtraction_matches_cpu_twin() {
    let Some(ctx) = context() else { return };
    let (movie, a, c) = scene(23, 31, 600, 1);
    for ssub in [1usize, 2, 3] {
        let ring = fit_ring(&movie, &a, &c, 7, 1.4, ssub, &NoProgress).expect("ring fit");
        let cpu = background_subtracted(&movie, &a, &c, &ring);
        let gpu = ring_subtracted(&ctx, &movie, &a, &c, &ring).expect("gpu");
        assert_eq!((gpu.d, gpu.t), (cpu.d, cpu.t));
        let scale = cpu.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = gpu.data.iter().zip(&cpu.data).map(|(g, c)| (g - c).abs()).fold(0f32, f32::max);
        eprintln!("ssub {ssub}: max |gpu - cpu| {err:.2e} (values up to {scale:.1})");
        assert!(err <= 1e-5 * scale.max(1.0), "ssub {ssub}: {err}");
    }
}

#[test]
fn lag_covariances_match_cpu_twin() {
    let Some(ctx) = context() else { return };
    let (h, w, samples) = (29, 37, 77);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut x = ChunkedSeries::zeros(h, w, samples);
    let d = h * w;
    for q in 0..d {
        for s in 0..samples {
            x.data[((s / CHUNK) * d + q) * CHUNK + s % CHUNK] = rng.random_range(-3.0f32..3.0) + (q % 7) as f32 * 0.1;
        }
    }
    let lags = LagSet::for_ring(&ring_offsets(4));
    let cpu = lag_covariances(&x, &lags, &NoProgress).expect("cpu");
    for band_rows in [usize::MAX, 5] {
        let gpu = lag_covariances_in_bands(&ctx, &x, &lags, band_rows, &NoProgress).expect("gpu");
        assert_eq!((gpu.n, gpu.w, gpu.values.len()), (cpu.n, cpu.w, cpu.values.len()));
        let scale = cpu.values.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = gpu.values.iter().zip(&cpu.values).map(|(g, c)| (g - c).abs()).fold(0f32, f32::max);
        let zeros_agree = gpu.values.iter().zip(&cpu.values).all(|(g, c)| (*g == 0.0) == (*c == 0.0));
        eprintln!("{} lags, bands of {} rows: max |gpu - cpu| {err:.2e} (values up to {scale:.1})", lags.lags.len(), band_rows.min(h));
        assert!(err <= 2e-6 * scale, "{err}");
        assert!(zeros_agree, "off-grid lags must be exactly 0 on both");
    }
}

#[test]
fn ring_fit_with_gpu_products_matches_cpu() {
    let Some(ctx) = context() else { return };
    let (movie, a, c) = scene(23, 31, 600, 3);
    let prod = GpuProducts::without_movie(&ctx);
    for ssub in [1usize, 2] {
        let shape = RingShape { gsiz: 7, ring_size_factor: 1.4, ssub_b: ssub };
        let cpu = fit_ring(&movie, &a, &c, 7, 1.4, ssub, &NoProgress).expect("cpu ring fit");
        let gpu = fit_ring_with(&movie, &a, &c, shape, &prod, &NoProgress).expect("gpu ring fit");
        assert_eq!(gpu.w.indptr, cpu.w.indptr);
        assert_eq!(gpu.w.indices, cpu.w.indices);
        // The weights solve ridge systems built from f32 sums in a different order: compare what they do, B.
        let (bc, bg) = (background_subtracted(&movie, &a, &c, &cpu), background_subtracted(&movie, &a, &c, &gpu));
        let scale = bc.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = bc.data.iter().zip(&bg.data).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        let werr = gpu.w.data.iter().zip(&cpu.w.data).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        eprintln!("ssub {ssub}: max |Y - B| difference {err:.2e} (values up to {scale:.1}); max weight difference {werr:.2e}");
        assert!(err <= 1e-4 * scale, "{err}");
    }
    assert_eq!(prod.counts().gpu, 2, "both ring fits' covariances on the device");
}

/// Timing at the CNMF-E benchmark's size (256x256x2000, ssub_b 2, ring radius 15); opt in with RING_BENCH=1 (the
/// scene and the CPU ring fit take a while); RING_BENCH=cpu times the CPU twin only.
#[test]
fn ring_timing() {
    if std::env::var_os("RING_BENCH").is_none() {
        return;
    }
    let Some(ctx) = context() else { return };
    let (movie, a, c) = scene(256, 256, 2000, 2);
    let s = std::time::Instant::now();
    let ring = fit_ring(&movie, &a, &c, 21, 1.4, 2, &NoProgress).expect("ring fit");
    eprintln!("ring fit (CPU) 256x256x2000: {:.0} ms", s.elapsed().as_secs_f64() * 1e3);
    if std::env::var("RING_BENCH").is_ok_and(|v| v != "cpu") {
        let prod = GpuProducts::without_movie(&ctx);
        let shape = RingShape { gsiz: 21, ring_size_factor: 1.4, ssub_b: 2 };
        let s = std::time::Instant::now();
        fit_ring_with(&movie, &a, &c, shape, &prod, &NoProgress).expect("ring fit");
        eprintln!("ring fit (covariance images on the GPU) 256x256x2000: {:.0} ms on {}", s.elapsed().as_secs_f64() * 1e3, ctx.describe());
    }
    let time = |f: &dyn Fn()| {
        f();
        let s = std::time::Instant::now();
        f();
        s.elapsed().as_secs_f64() * 1e3
    };
    let cpu = time(&|| {
        std::hint::black_box(background_subtracted(&movie, &a, &c, &ring));
    });
    let gpu = if std::env::var("RING_BENCH").is_ok_and(|v| v == "cpu") {
        f64::NAN
    } else {
        time(&|| {
            std::hint::black_box(ring_subtracted(&ctx, &movie, &a, &c, &ring).expect("gpu"));
        })
    };
    eprintln!(
        "ring subtraction 256x256x2000 (W nnz {}): cpu ({} threads) {cpu:.0} ms, gpu {gpu:.0} ms incl. upload + read-back on {}",
        ring.w.indices.len(),
        rayon::current_num_threads(),
        ctx.describe()
    );
}
