//! The WGSL correlation / PNR images must agree with their CPU twin (`mesmerize_core::extraction::summary`) on
//! random movies (blobs with random spikes plus noise), 2D and 3D, for both filters, including a `gSig` change on
//! one upload. Runs on any wgpu adapter, lavapipe included; MESMERIZE_SKIP_GPU_TESTS=1 skips it.

use mesmerize_core::extraction::Movie;
use mesmerize_core::extraction::summary::corr_pnr;
use mesmerize_core::progress::NoProgress;
use mesmerize_gpu::extraction::summary::GpuSummary;
use rand::{Rng, SeedableRng};

mod common;
use common::context;

fn random_movie(dims: &[usize], t: usize, seed: u64) -> Movie {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let planes = dims.iter().product::<usize>() / (h * w);
    let blobs: Vec<(f32, f32, usize)> =
        (0..6).map(|_| (rng.random_range(0.0..h as f32), rng.random_range(0.0..w as f32), rng.random_range(0..planes))).collect();
    let mut data = Vec::with_capacity(t * planes * h * w);
    let mut c = vec![0.0f32; blobs.len()];
    for _ in 0..t {
        for (ci, _) in blobs.iter().enumerate() {
            c[ci] = 0.9 * c[ci] + if rng.random::<f32>() < 0.04 { 30.0 } else { 0.0 };
        }
        for z in 0..planes {
            for y in 0..h {
                for x in 0..w {
                    let mut v = 100.0 + rng.random_range(-4.0f32..4.0);
                    for (ci, &(by, bx, bz)) in blobs.iter().enumerate() {
                        if bz == z {
                            let r2 = (y as f32 - by).powi(2) + (x as f32 - bx).powi(2);
                            v += c[ci] * (-r2 / 8.0).exp();
                        }
                    }
                    data.push(v);
                }
            }
        }
    }
    Movie { dims: dims.to_vec(), t, data }
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn max_rel(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f32::max)
}

#[test]
fn corr_pnr_matches_cpu_twin_on_random_movies() {
    let Some(ctx) = context() else { return };
    eprintln!("parity test on {}", ctx.describe());
    for (dims, t, seed) in [(vec![37usize, 29usize], 150usize, 1u64), (vec![3, 20, 24], 80, 2)] {
        let movie = random_movie(&dims, t, seed);
        let gpu = GpuSummary::upload(&ctx, &movie).expect("upload");
        for (gsig, center) in [(vec![2.0], true), (vec![1.5], false), (vec![3.0], true)] {
            let g = gpu.compute(&gsig, center, &NoProgress).expect("gpu compute");
            let c = corr_pnr(&movie, &gsig, center, &NoProgress).expect("cpu");
            let (dc, dp) = (max_abs(&g.corr, &c.corr), max_rel(&g.pnr, &c.pnr));
            let mean_dc = g.corr.iter().zip(&c.corr).map(|(a, b)| (a - b).abs()).sum::<f32>() / c.corr.len() as f32;
            eprintln!("{dims:?} x {t}, gSig {gsig:?} center {center}: corr max {dc:.2e} mean {mean_dc:.2e}, pnr rel {dp:.2e}");
            assert_eq!(g.dims, c.dims);
            // f32 filters summed in different orders can move a sample across the 3-sigma threshold: allow that
            // rarely, but the images must agree closely on average.
            assert!(dc < 2e-3 && mean_dc < 2e-5, "corr differs: max {dc}, mean {mean_dc}");
            assert!(dp < 1e-3, "pnr differs by {dp}");
        }
    }
}

/// The device statistics (PSD noise by a mixed-radix FFT in workgroup memory) for lengths that exercise every path:
/// packed even lengths with radices 2, 3, 5; an odd prime length (one radix-151 stage); the longest odd length
/// (3071 = 37 x 83, not packed); and movies longer than 3072 frames (three PSD segments, the first two overlapping
/// at 3100 frames).
#[test]
fn device_statistics_match_cpu_for_every_fft_shape() {
    let Some(ctx) = context() else { return };
    for (t, seed) in [(150usize, 3u64), (151, 4), (2000, 5), (3071, 6), (3100, 7), (4001, 8)] {
        let movie = random_movie(&[9, 11], t, seed);
        let gpu = GpuSummary::upload(&ctx, &movie).expect("upload");
        let g = gpu.compute(&[1.0], true, &NoProgress).expect("gpu compute");
        let c = corr_pnr(&movie, &[1.0], true, &NoProgress).expect("cpu");
        let (dc, dp) = (max_abs(&g.corr, &c.corr), max_rel(&g.pnr, &c.pnr));
        eprintln!("T {t}: statistics on device {}, corr max {dc:.2e}, pnr rel {dp:.2e}", gpu.statistics_on_device());
        assert!(gpu.statistics_on_device() || t == 3071, "T {t}: the device should run the statistics");
        assert!(dc < 2e-3, "T {t}: corr differs by {dc}");
        assert!(dp < 1e-3, "T {t}: pnr differs by {dp}");
    }
}

/// Buffers much smaller than the movie: five frame chunks and several pixel blocks of PSD samples, so the
/// accumulators carry across chunks and the gather writes each block from every chunk.
#[test]
fn device_statistics_across_frame_chunks_and_pixel_blocks() {
    let Some(ctx) = context() else { return };
    let movie = random_movie(&[16, 13], 400, 9);
    let chunk_bytes = 16 * 13 * 4 * 90; // 90 frames per chunk; 400 x 4 bytes of samples per pixel: 46 pixels a block
    let gpu = GpuSummary::upload_in_chunks(&ctx, &movie, chunk_bytes).expect("upload");
    assert!(gpu.statistics_on_device());
    let g = gpu.compute(&[1.5], true, &NoProgress).expect("gpu compute");
    let c = corr_pnr(&movie, &[1.5], true, &NoProgress).expect("cpu");
    let (dc, dp) = (max_abs(&g.corr, &c.corr), max_rel(&g.pnr, &c.pnr));
    eprintln!("chunked: corr max {dc:.2e}, pnr rel {dp:.2e}");
    assert!(dc < 2e-3 && dp < 1e-3, "corr {dc}, pnr {dp}");
}

/// A `gSig` whose kernel does not fit the tiled filter's workgroup tile (49 x 49 taps) takes the untiled filter.
/// (Centred PSF only: a plain blur this wide leaves noise ~1e-4 of the pixel mean, where f32 sums in any two
/// orders disagree by 1e-3 of the noise.)
#[test]
fn large_gsig_uses_the_untiled_filter_and_still_matches() {
    let Some(ctx) = context() else { return };
    let movie = random_movie(&[50, 53], 30, 10);
    let gpu = GpuSummary::upload(&ctx, &movie).expect("upload");
    let g = gpu.compute(&[12.0], true, &NoProgress).expect("gpu compute");
    let c = corr_pnr(&movie, &[12.0], true, &NoProgress).expect("cpu");
    let (dc, dp) = (max_abs(&g.corr, &c.corr), max_rel(&g.pnr, &c.pnr));
    eprintln!("gSig 12: corr max {dc:.2e}, pnr rel {dp:.2e}");
    assert!(dc < 2e-3 && dp < 1e-3, "corr {dc}, pnr {dp}");
}
