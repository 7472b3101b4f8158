//! Motion correction against the simulator's ground truth (small movies so CI runs them in seconds):
//! rigid RMS shift error < 0.1 px, piecewise residual motion < 0.2 px, corrected mean image vs motion-free >= 0.98.

use mesmerize_core::progress::NoProgress;
use mesmerize_core::registration::{correct_movie, MotionParams, MotionResult, OutputDepth, PatchGrid, ShiftField};
use mesmerize_core::simulate::{MotionKind, SimConfig, SimKind, Simulator, Truth};
use mesmerize_core::{ImgData, Metadata, OpenOptions};

fn simulate(kind: SimKind, motion: MotionKind, size: usize, frames: usize, seed: u64) -> (ImgData, Truth) {
    let mut cfg = SimConfig::new(kind);
    cfg.width = size;
    cfg.height = size;
    cfg.frames = frames;
    cfg.motion = motion;
    cfg.seed = seed;
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

/// Constant offset between our template's frame of reference and the truth's (the template is a median position).
fn offset(pairs: &[([f64; 2], [f64; 2])]) -> [f64; 2] {
    let n = pairs.len() as f64;
    [0, 1].map(|k| pairs.iter().map(|(e, t)| e[k] - t[k]).sum::<f64>() / n)
}

/// RMS of (estimate - truth) after removing that offset.
fn rms_after_offset(pairs: &[([f64; 2], [f64; 2])]) -> f64 {
    let n = pairs.len() as f64;
    let off = offset(pairs);
    (pairs.iter().map(|(e, t)| (e[0] - t[0] - off[0]).powi(2) + (e[1] - t[1] - off[1]).powi(2)).sum::<f64>() / n).sqrt()
}

/// Residual motion: RMS over frames and sample points of the time-varying part of (estimate - truth), i.e. after
/// removing each point's temporal mean. A template-based method registers every frame to the template, which is a
/// mean configuration of the tissue: a static deformation between it and the simulator's motion-free frame moves
/// no pixel over time, so it is reported separately (second value), not counted as motion. `pairs` holds
/// `points` samples per frame, frame after frame.
fn residual_motion(pairs: &[([f64; 2], [f64; 2])], frames: usize) -> (f64, f64) {
    let points = pairs.len() / frames;
    let mut mean = vec![[0.0f64; 2]; points];
    for (i, (e, t)) in pairs.iter().enumerate() {
        for k in 0..2 {
            mean[i % points][k] += (e[k] - t[k]) / frames as f64;
        }
    }
    let dynamic = pairs
        .iter()
        .enumerate()
        .map(|(i, (e, t))| (0..2).map(|k| (e[k] - t[k] - mean[i % points][k]).powi(2)).sum::<f64>())
        .sum::<f64>();
    let off = offset(pairs);
    let stat = mean.iter().map(|m| (m[0] - off[0]).powi(2) + (m[1] - off[1]).powi(2)).sum::<f64>();
    ((dynamic / pairs.len() as f64).sqrt(), (stat / points as f64).sqrt())
}

/// The motion-free mean image moved into the corrected movie's frame of reference (corrected(p) = still(p + off)).
fn still_in_template_frame(still: &ImgData, off: [f64; 2], size: usize) -> Vec<f64> {
    let m: Vec<f32> = mean_image(still).iter().map(|&v| v as f32).collect();
    let mut out = vec![0.0f32; m.len()];
    let mut tmp = Vec::new();
    mesmerize_core::registration::shift_rigid(&m, size, size, off[0], off[1], mesmerize_core::registration::BorderMode::Copy, &mut tmp, &mut out);
    out.iter().map(|&v| f64::from(v)).collect()
}

fn mean_image(img: &ImgData) -> Vec<f64> {
    let s = img.shape();
    let mut m = vec![0.0f64; s.plane_len()];
    for t in 0..s.t {
        for (a, v) in m.iter_mut().zip(img.plane(t, 0).expect("plane")) {
            *a += f64::from(v) / s.t as f64;
        }
    }
    m
}

fn interior_corr(a: &[f64], b: &[f64], size: usize, border: usize) -> f64 {
    let idx: Vec<usize> = (0..size * size).filter(|i| (border..size - border).contains(&(i / size)) && (border..size - border).contains(&(i % size))).collect();
    let n = idx.len() as f64;
    let ma = idx.iter().map(|&i| a[i]).sum::<f64>() / n;
    let mb = idx.iter().map(|&i| b[i]).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for &i in &idx {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma).powi(2);
        sbb += (b[i] - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn rigid_2p_meets_accuracy_targets() {
    let size = 128;
    let (img, truth) = simulate(SimKind::TwoP, MotionKind::Rigid, size, 200, 11);
    let params = MotionParams { max_shifts: (9, 9), ..Default::default() };
    let (r, corrected, _dir) = correct(&img, &params);
    let pairs: Vec<([f64; 2], [f64; 2])> = r.rigid.iter().zip(&truth.shifts).map(|(e, t)| (*e, [f64::from(t[0]), f64::from(t[1])])).collect();
    let rms = rms_after_offset(&pairs);
    let (still, _) = simulate(SimKind::TwoP, MotionKind::None, size, 200, 11);
    let reference = still_in_template_frame(&still, offset(&pairs), size);
    let corr = interior_corr(&mean_image(&corrected), &reference, size, r.bord_px + 2);
    let raw_corr = interior_corr(&mean_image(&img), &mean_image(&still), size, r.bord_px + 2);
    eprintln!("rigid 2p {size}px: RMS shift error {rms:.4} px; mean-image corr {corr:.4} (uncorrected {raw_corr:.4}); bord_px {}", r.bord_px);
    assert!(rms < 0.1, "RMS shift error {rms}");
    assert!(corr >= 0.98, "corr {corr}");
    assert!(r.write.clipped == 0);
}

#[test]
fn piecewise_2p_meets_accuracy_targets() {
    let size = 192;
    let (img, truth) = simulate(SimKind::TwoP, MotionKind::Piecewise, size, 150, 12);
    let params = MotionParams { max_shifts: (9, 9), pw_rigid: true, strides: (32, 32), overlaps: (32, 32), max_deviation_rigid: 3, ..Default::default() };
    let (r, corrected, _dir) = correct(&img, &params);
    let patches = r.patches.as_ref().expect("patch shifts");
    let grid = PatchGrid::new(size, size, params.strides, params.overlaps);
    let border = r.bord_px + 8;
    let mut pairs = Vec::new();
    for (t, ps) in patches.shifts.iter().enumerate() {
        let field = ShiftField::new(&grid, ps, params.upsample_factor_grid);
        let f = field.field();
        for y in (border..size - border).step_by(7) {
            for x in (border..size - border).step_by(7) {
                let (ey, ex) = f.at(y as f64, x as f64);
                let (ty, tx) = truth.displacement_at(t, y as f64, x as f64);
                pairs.push(([ey, ex], [ty, tx]));
            }
        }
    }
    let (residual, static_part) = residual_motion(&pairs, patches.shifts.len());
    // The same field model fed with the true displacement at the patch centres: the error of the model alone.
    let mut model = Vec::new();
    for t in 0..patches.shifts.len() {
        let exact: Vec<[f64; 2]> = patches.centers.iter().map(|c| { let (a, b) = truth.displacement_at(t, c[0], c[1]); [a, b] }).collect();
        let field = ShiftField::new(&grid, &exact, params.upsample_factor_grid);
        let f = field.field();
        for y in (border..size - border).step_by(7) {
            for x in (border..size - border).step_by(7) {
                let (ey, ex) = f.at(y as f64, x as f64);
                let (ty, tx) = truth.displacement_at(t, y as f64, x as f64);
                model.push(([ey, ex], [ty, tx]));
            }
        }
    }
    eprintln!("piecewise field model alone (true shifts at patch centres): {:.4} px RMS", rms_after_offset(&model));
    let (still, _) = simulate(SimKind::TwoP, MotionKind::None, size, 150, 12);
    let reference = still_in_template_frame(&still, offset(&pairs), size);
    let corr = interior_corr(&mean_image(&corrected), &reference, size, border);
    eprintln!(
        "piecewise 2p {size}px: residual motion {residual:.4} px RMS (static deformation of the template vs truth {static_part:.4} px RMS, total {:.4}); mean-image corr {corr:.4}",
        rms_after_offset(&pairs)
    );
    assert!(residual < 0.2, "residual {residual}");
    assert!(corr >= 0.98, "corr {corr}");
}

#[test]
fn rigid_1p_with_high_pass_filter() {
    let size = 128;
    let (img, truth) = simulate(SimKind::OneP, MotionKind::Rigid, size, 150, 13);
    let params = MotionParams { max_shifts: (9, 9), gsig_filt: Some(3.0), ..Default::default() };
    let (r, _corrected, _dir) = correct(&img, &params);
    let pairs: Vec<([f64; 2], [f64; 2])> = r.rigid.iter().zip(&truth.shifts).map(|(e, t)| (*e, [f64::from(t[0]), f64::from(t[1])])).collect();
    let rms = rms_after_offset(&pairs);
    eprintln!("rigid 1p {size}px with gSig_filt 3: RMS shift error {rms:.4} px");
    assert!(rms < 0.15, "RMS shift error {rms}");
}
