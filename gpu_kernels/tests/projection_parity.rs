//! The WGSL projection kernel must agree with its CPU twin (relative error < 1e-5) on random data.
//! Runs on any wgpu adapter, lavapipe included (that is how CI runs it); set MESMERIZE_SKIP_GPU_TESTS=1 to skip on
//! a machine without any Vulkan driver.

use mesmerize_core::imaging::projection::{project_planes, Projector};
use mesmerize_core::progress::NoProgress;
use mesmerize_core::{ImgData, Metadata, StackShape};
use mesmerize_gpu::{projection, GpuProjector};
use rand::{Rng, SeedableRng};

mod common;
use common::context;

fn max_rel_err(a: &[f32], b: &[f32], scale: f32) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / scale.max(x.abs()).max(1e-30)).fold(0.0, f32::max)
}

fn random_frames(frames: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..frames * n).map(|_| rng.random_range(0.0f32..4000.0) + 100.0).collect()
}

#[test]
fn projection_matches_cpu_twin_on_random_data() {
    let Some(ctx) = context() else { return };
    eprintln!("parity test on {}", ctx.describe());
    // Odd sizes on purpose: not a multiple of the workgroup, several batches would not divide evenly.
    for &(frames, n) in &[(1usize, 1000usize), (7, 4099), (300, 96 * 80)] {
        let data = random_frames(frames, n, frames as u64);
        let cpu = project_planes(&data, n);
        let gpu = projection::project_planes(&ctx, &data, n).expect("gpu projection");
        let mean_err = max_rel_err(&cpu.mean, &gpu.mean, 1.0);
        let max_err = max_rel_err(&cpu.max, &gpu.max, 1.0);
        // std is compared relative to the data's scale (values ~ 2000): cancellation makes tiny stds noisy.
        let std_err = max_rel_err(&cpu.std, &gpu.std, 1000.0);
        eprintln!("frames={frames} n={n}: rel err mean {mean_err:.2e} max {max_err:.2e} std {std_err:.2e}");
        assert!(mean_err < 1e-5, "mean rel err {mean_err}");
        assert_eq!(max_err, 0.0, "max must be exact");
        assert!(std_err < 1e-5, "std rel err {std_err}");
    }
}

#[test]
fn gpu_projector_streams_a_volume_in_batches() {
    let Some(ctx) = context() else { return };
    let shape = StackShape::volume(9, 3, 17, 23);
    let data = random_frames(shape.t, shape.frame_len(), 42);
    let img = ImgData::from_f32(data.clone(), shape, Metadata::unknown()).expect("img");
    let gpu = GpuProjector::new(ctx).project(&img, &NoProgress).expect("gpu");
    let cpu = img.projections(&NoProgress).expect("cpu");
    assert_eq!(gpu.mean.len(), shape.frame_len());
    assert!(max_rel_err(&cpu.mean, &gpu.mean, 1.0) < 1e-5);
    assert!(max_rel_err(&cpu.std, &gpu.std, 1000.0) < 1e-5);
    assert_eq!(max_rel_err(&cpu.max, &gpu.max, 1.0), 0.0);
}
