//! Motion correction against the simulator's ground truth (small movies so CI runs them in seconds):
//! rigid RMS shift error < 0.1 px, piecewise residual motion < 0.2 px, corrected mean image vs the motion-free
//! movie's >= 0.98 (2p). Definitions in `registration::score` (shared with `mesmerize bench mc`).

use mesmerize_core::progress::NoProgress;
use mesmerize_core::registration::{correct_movie, score, MotionParams, MotionResult, OutputDepth};
use mesmerize_core::simulate::{MotionKind, SimConfig, SimKind, Simulator, Truth};
use mesmerize_core::{ImgData, Metadata, OpenOptions};

fn simulate(kind: SimKind, motion: MotionKind, size: usize, frames: usize, seed: u64) -> (ImgData, Truth) {
    let mut cfg = SimConfig::new(kind);
    cfg.width = size;
    cfg.height = size;
    cfg.frames = frames;
    cfg.motion = motion;
    cfg.seed = seed;
    render(cfg)
}

/// The whole simulated movie in memory, with its truth.
fn render(cfg: SimConfig) -> (ImgData, Truth) {
    let sim = Simulator::new(cfg).expect("simulator");
    let shape = sim.shape();
    let mut data = vec![0.0f32; shape.len()];
    for (t, f) in data.chunks_mut(shape.frame_len()).enumerate() {
        sim.render_frame(t, f);
    }
    (ImgData::from_f32(data, shape, Metadata::unknown()).expect("img"), sim.truth().clone())
}

fn correct(img: &ImgData, params: &MotionParams) -> (MotionResult, ImgData, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("corrected.tif");
    let r = correct_movie(img, params, &out, OutputDepth::Float32, &NoProgress).expect("correct");
    let corrected = ImgData::open(&out, &OpenOptions::default()).expect("open output");
    (r, corrected, dir)
}

#[test]
fn rigid_2p_meets_accuracy_targets() {
    let size = 128;
    let (img, truth) = simulate(SimKind::TwoP, MotionKind::Rigid, size, 200, 11);
    let params = MotionParams { max_shifts: (9, 9), ..Default::default() };
    let (r, corrected, _dir) = correct(&img, &params);
    let s = score::rigid(&r.rigid, &truth);
    let (still, _) = simulate(SimKind::TwoP, MotionKind::None, size, 200, 11);
    let corr = score::mean_image_corr(&corrected, &still, s.offset, r.bord_px + 2).expect("corr");
    let raw_corr = score::mean_image_corr(&img, &still, [0.0, 0.0], r.bord_px + 2).expect("corr");
    eprintln!("rigid 2p {size}px: {s:?}; mean-image corr {corr:.4} (uncorrected {raw_corr:.4}); bord_px {}", r.bord_px);
    assert!(s.rms < 0.1, "RMS shift error {}", s.rms);
    assert!(corr >= 0.98, "corr {corr}");
    assert!(corr > raw_corr);
    assert_eq!(r.write.clipped, 0);
}

#[test]
fn piecewise_2p_meets_accuracy_targets() {
    let size = 192;
    let (img, truth) = simulate(SimKind::TwoP, MotionKind::Piecewise, size, 150, 12);
    let params = MotionParams { max_shifts: (9, 9), pw_rigid: true, strides: (48, 48), overlaps: (24, 24), max_deviation_rigid: 3, ..Default::default() };
    let (r, corrected, _dir) = correct(&img, &params);
    let border = r.bord_px + 8;
    let f = score::field(&r, &params, &truth, size, size, 7, border).expect("field score");
    let offset = score::rigid(&r.rigid, &truth).offset;
    let (still, _) = simulate(SimKind::TwoP, MotionKind::None, size, 150, 12);
    let corr = score::mean_image_corr(&corrected, &still, offset, border).expect("corr");
    eprintln!("piecewise 2p {size}px: {f:?}; mean-image corr {corr:.4}");
    assert!(f.residual < 0.2, "residual motion {}", f.residual);
    assert!(corr >= 0.98, "corr {corr}");
    assert_eq!(r.patches.as_ref().map(|p| p.shifts.len()), Some(150));
}

#[test]
fn rigid_1p_with_high_pass_filter() {
    let size = 128;
    let (img, truth) = simulate(SimKind::OneP, MotionKind::Rigid, size, 150, 13);
    let params = MotionParams { max_shifts: (9, 9), gsig_filt: Some(3.0), ..Default::default() };
    let (r, _corrected, _dir) = correct(&img, &params);
    let s = score::rigid(&r.rigid, &truth);
    eprintln!("rigid 1p {size}px with gSig_filt 3: {s:?}");
    assert!(s.rms < 0.15, "RMS shift error {}", s.rms);
}

#[test]
fn bad_parameters_and_volumes_are_refused() {
    let (img, _) = simulate(SimKind::TwoP, MotionKind::None, 32, 5, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("x.tif");
    let e = correct_movie(&img, &MotionParams { max_shifts: (20, 20), ..Default::default() }, &out, OutputDepth::Float32, &NoProgress)
        .expect_err("too large")
        .to_string();
    assert!(e.contains("max_shifts") && e.contains("too large"), "{e}");
    assert!(!out.exists(), "nothing written on refusal");
    let (vol, _) = simulate(SimKind::ThreeD, MotionKind::None, 32, 3, 1);
    let e = correct_movie(&vol, &MotionParams::default(), &out, OutputDepth::Float32, &NoProgress).expect_err("volume").to_string();
    assert!(e.contains("volume"), "{e}");
}

fn simulate_volume(frames: usize, seed: u64) -> (ImgData, Truth) {
    let mut cfg = SimConfig::new(SimKind::ThreeD);
    cfg.width = 96;
    cfg.height = 96;
    cfg.planes = 6;
    cfg.frames = frames;
    cfg.motion = MotionKind::Rigid;
    cfg.seed = seed;
    render(cfg)
}

#[test]
fn volumes_3d_rigid_and_planewise() {
    let (img, truth) = simulate_volume(60, 21);
    let dir = tempfile::tempdir().expect("tmp");
    let params = MotionParams { max_shifts: (9, 9), ..Default::default() };
    // 3D rigid: the simulator moves volumes laterally only, so dz must stay ~0 and (dy, dx) follow the truth.
    let out = dir.path().join("rigid3d.tif");
    let r = mesmerize_core::registration::correct_volume(&img, &params, false, &out, OutputDepth::Float32, &NoProgress).expect("3d");
    let lateral: Vec<[f64; 2]> = r.shifts.iter().map(|d| [d[1], d[2]]).collect();
    let s = score::rigid(&lateral, &truth);
    let dz = r.shifts.iter().map(|d| d[0].abs()).fold(0.0, f64::max);
    eprintln!("3D rigid 6x96x96: {s:?}; largest |dz| {dz:.3}");
    assert!(s.rms < 0.15, "3D rigid lateral RMS {}", s.rms);
    assert!(dz < 0.3, "dz {dz}");
    assert_eq!(ImgData::open(&out, &OpenOptions::default()).expect("open").shape(), img.shape());
    // Plane-wise: every plane follows the same lateral motion.
    let out = dir.path().join("planes.tif");
    let r = mesmerize_core::registration::correct_volume(&img, &params, true, &out, OutputDepth::Float32, &NoProgress).expect("planes");
    let z = img.shape().z;
    for plane in 0..z {
        let per: Vec<[f64; 2]> = r.shifts.iter().skip(plane).step_by(z).map(|d| [d[0], d[1]]).collect();
        let s = score::rigid(&per, &truth);
        assert!(s.rms < 0.2, "plane {plane}: RMS {}", s.rms);
    }
}
