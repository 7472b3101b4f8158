//! The WGSL all-pairs cross-correlation must agree with its CPU twin (mesmerize_core's cc_matrices, f64): lags
//! identical except at near ties (two lags whose correlations differ by less than f32 rounding; none occur in the
//! smooth data used here, and the test reports how many there are), maxima within 1e-4 relative.
//! Runs on any wgpu adapter, lavapipe included (that is how CI runs it); set MESMERIZE_SKIP_GPU_TESTS=1 to skip on
//! a machine without any Vulkan driver.

use mesmerize_core::analysis::cluster::xcorr::{self as cpu, XcorrError};
use mesmerize_gpu::xcorr::{self as gpu, XcorrGpuError};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

mod common;
use common::context;

/// Smooth calcium-like curves: a few Gaussian bumps plus a baseline and a little noise.
fn curves(n: usize, sz: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut a = Array2::<f64>::zeros((n, sz));
    for mut row in a.outer_iter_mut() {
        for _ in 0..4 {
            let c = rng.random_range(0.0..sz as f64);
            let w = rng.random_range(2.0..(sz as f64 / 8.0).max(3.0));
            let h = rng.random_range(0.5..2.0);
            for (t, v) in row.iter_mut().enumerate() {
                *v += h * (-0.5 * ((t as f64 - c) / w).powi(2)).exp();
            }
        }
        for v in row.iter_mut() {
            *v += 0.2 + 0.01 * rng.random_range(-1.0..1.0);
        }
    }
    a
}

/// Lag mismatches that are not near ties, near-tie count, and the largest maxima relative error.
fn compare(c: &Array2<f64>, cpu_m: &cpu::CcMatrices, gpu_m: &cpu::CcMatrices) -> (usize, usize, f64) {
    let (n, _) = c.dim();
    let (mut bad, mut ties, mut worst) = (0, 0, 0.0f64);
    for i in 0..n {
        for j in 0..n {
            let e = (cpu_m.maxima[(i, j)] - gpu_m.maxima[(i, j)]).abs() / cpu_m.maxima[(i, j)].abs().max(1e-3);
            worst = worst.max(e);
            if cpu_m.lag[(i, j)] != gpu_m.lag[(i, j)] {
                // A tie within f32 rounding: the CPU's value at the GPU's lag is as high as the maximum.
                let cc = cpu::cc_pair(c.view(), i, j).expect("pair");
                let m = (c.ncols() as i64 - 1 - gpu_m.lag[(i, j)]) as usize;
                if (cc[m] - cpu_m.maxima[(i, j)]).abs() <= 1e-5 * cpu_m.maxima[(i, j)].abs().max(1e-3) {
                    ties += 1;
                } else {
                    bad += 1;
                }
            }
        }
    }
    (bad, ties, worst)
}

#[test]
fn all_pairs_match_cpu_twin() {
    let Some(ctx) = context() else { return };
    eprintln!("parity test on {}", ctx.describe());
    // Odd / even lengths, lengths around a power of two, an odd number of pairs, more jobs than one workgroup row.
    for &(n, sz, seed) in &[(2usize, 5usize, 1u64), (7, 64, 2), (12, 150, 3), (33, 257, 4), (40, 1000, 5)] {
        let mut c = curves(n, sz, seed);
        if n > 5 {
            c.row_mut(3).fill(0.7); // a constant curve
            c.row_mut(5).fill(0.0); // an all-zero curve: tslearn's zero-denominator rule
        }
        let cpu_m = cpu::cc_matrices(c.view()).expect("cpu");
        let gpu_m = gpu::cc_matrices(&ctx, c.view()).expect("gpu");
        let (bad, ties, worst) = compare(&c, &cpu_m, &gpu_m);
        eprintln!("n={n} sz={sz}: lag mismatches {bad} (+{ties} near ties), maxima max rel err {worst:.2e}");
        assert_eq!(bad, 0, "lags differ beyond ties");
        assert!(worst < 1e-4, "maxima rel err {worst}");
        if n > 5 {
            assert_eq!(gpu_m.lag[(5, 1)], sz as i64 - 1);
            assert_eq!(gpu_m.maxima[(5, 1)], 0.0);
        }
    }
}

#[test]
fn pair_function_matches_cpu_twin() {
    let Some(ctx) = context() else { return };
    let c = curves(4, 300, 9);
    for (i, j) in [(0, 1), (2, 2), (3, 0)] {
        let want = cpu::cc_pair(c.view(), i, j).expect("cpu");
        let got = gpu::cc_pair(&ctx, c.view(), i, j).expect("gpu");
        assert_eq!(got.len(), 2 * 300 - 1);
        let err = want.iter().zip(&got).map(|(w, g)| (w - f64::from(*g)).abs()).fold(0.0, f64::max);
        eprintln!("pair ({i}, {j}): max abs err {err:.2e}");
        assert!(err < 1e-5, "pair ({i}, {j}) max abs err {err}");
    }
}

#[test]
fn bad_input_is_rejected_like_the_cpu_twin() {
    let Some(ctx) = context() else { return };
    let one = Array2::<f64>::ones((1, 8));
    assert!(matches!(gpu::cc_matrices(&ctx, one.view()), Err(XcorrGpuError::Input(XcorrError::TooFewCurves(1)))));
    let mut nan = Array2::<f64>::ones((3, 8));
    nan[(1, 2)] = f64::NAN;
    assert!(matches!(gpu::cc_matrices(&ctx, nan.view()), Err(XcorrGpuError::Input(XcorrError::NonFinite { curve: 1, .. }))));
    assert!(matches!(gpu::cc_pair(&ctx, nan.view(), 0, 3), Err(XcorrGpuError::Input(XcorrError::OutOfRange { index: 3, n: 3 }))));
}

#[test]
#[ignore = "benchmark: cargo test --release -p mesmerize_gpu --test xcorr_parity -- --ignored --nocapture"]
fn bench_all_pairs() {
    let Some(ctx) = context() else { return };
    let n: usize = std::env::var("XCORR_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let sz: usize = std::env::var("XCORR_BENCH_SZ").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let c = curves(n, sz, 11);
    let _warm = gpu::cc_matrices(&ctx, curves(2, sz, 1).view()).expect("warm-up");
    let t0 = std::time::Instant::now();
    let g = gpu::cc_matrices(&ctx, c.view()).expect("gpu");
    let t_gpu = t0.elapsed().as_secs_f64();
    let t0 = std::time::Instant::now();
    let m = cpu::cc_matrices(c.view()).expect("cpu");
    let t_cpu = t0.elapsed().as_secs_f64();
    let (bad, ties, worst) = compare(&c, &m, &g);
    eprintln!("{} {n} x {sz}: GPU {t_gpu:.2} s, CPU {t_cpu:.2} s; lag mismatches {bad} (+{ties} ties), maxima rel err {worst:.2e}", ctx.describe());
}
