//! End-to-end tests of the simulator: determinism, shapes, exact motion truth, kinetics, noise, HDF5 round trip.

use super::*;
use rayon::prelude::*;

fn small(kind: SimKind, motion: MotionKind) -> SimConfig {
    let mut c = SimConfig::new(kind);
    c.motion = motion;
    c.seed = 7;
    if kind == SimKind::ThreeD {
        c.width = 48;
        c.height = 40;
        c.planes = 5;
        c.frames = 12;
    } else {
        c.width = 72;
        c.height = 64;
        c.frames = 40;
    }
    c
}

fn frame(sim: &Simulator, t: usize) -> Vec<f32> {
    let mut out = vec![0.0; sim.shape().frame_len()];
    sim.render_frame(t, &mut out);
    out
}

#[test]
fn simulate_determinism() -> Result<(), SimError> {
    for motion in [MotionKind::None, MotionKind::Rigid, MotionKind::Piecewise] {
        let cfg = small(SimKind::TwoP, motion);
        let a = Simulator::new(cfg.clone())?;
        let b = Simulator::new(cfg.clone())?;
        assert_eq!(a.truth(), b.truth());
        // Out of order and in parallel: the same frames.
        let fa: Vec<Vec<f32>> = [5usize, 0, 17].iter().map(|&t| frame(&a, t)).collect();
        let fb: Vec<Vec<f32>> = [5usize, 0, 17].par_iter().map(|&t| frame(&b, t)).collect();
        assert_eq!(fa, fb);
        let mut other = cfg;
        other.seed = 8;
        let c = Simulator::new(other)?;
        assert_ne!(frame(&c, 5), fa[0]);
        assert_ne!(c.truth().traces, a.truth().traces);
    }
    Ok(())
}

#[test]
fn simulate_shapes() -> Result<(), SimError> {
    let s2 = Simulator::new(small(SimKind::TwoP, MotionKind::None))?;
    assert_eq!(s2.shape(), crate::StackShape::movie(40, 64, 72));
    let s1 = Simulator::new(small(SimKind::OneP, MotionKind::Rigid))?;
    assert_eq!(s1.shape().dims(), vec![40, 64, 72]);
    let s3 = Simulator::new(small(SimKind::ThreeD, MotionKind::Rigid))?;
    assert_eq!(s3.shape(), crate::StackShape::volume(12, 5, 40, 48));
    for s in [&s2, &s1, &s3] {
        let tr = s.truth();
        let k = tr.n_neurons();
        assert!(k > 0);
        assert_eq!(tr.traces.len(), k * tr.frames);
        assert_eq!(tr.spikes.len(), k * tr.frames);
        assert_eq!(tr.shifts.len(), tr.frames);
        assert_eq!(tr.footprint(0).len(), s.shape().frame_len());
        let f = frame(s, tr.frames - 1);
        assert!(f.iter().all(|v| v.is_finite() && *v >= 0.0 && *v < 65535.0));
    }
    // Default sizes of each kind.
    let d = SimConfig::new(SimKind::ThreeD);
    assert_eq!((d.width, d.height, d.planes, d.frames, d.fps), (128, 128, 10, 200, 5.0));
    assert_eq!("1p".parse::<SimKind>()?, SimKind::OneP);
    assert_eq!("piecewise".parse::<MotionKind>()?, MotionKind::Piecewise);
    assert!("4p".parse::<SimKind>().is_err());
    let mut bad = SimConfig::new(SimKind::TwoP);
    bad.planes = 3;
    assert!(bad.validate().is_err());
    assert!(Simulator::new(SimConfig { frames: 0, ..SimConfig::new(SimKind::OneP) }).is_err());
    let mut out = vec![0.0; 3];
    assert!(s2.try_render_frame(0, &mut out).is_err());
    Ok(())
}

#[test]
fn simulate_rigid_motion_truth_is_exact() -> Result<(), SimError> {
    for kind in [SimKind::TwoP, SimKind::OneP, SimKind::ThreeD] {
        let mut cfg = small(kind, MotionKind::Rigid);
        cfg.noise = false;
        cfg.max_shift = 8.0;
        cfg.jump_probability = 0.2;
        let sim = Simulator::new(cfg.clone())?;
        let still = Simulator::new(SimConfig { motion: MotionKind::None, ..cfg.clone() })?;
        let tr = sim.truth();
        // Motion uses its own random stream: everything else is identical.
        assert_eq!(tr.traces, still.truth().traces);
        assert_eq!(tr.neurons, still.truth().neurons);
        assert!(tr.shifts.iter().any(|d| d[0].abs() > 2.0 || d[1].abs() > 2.0));
        let (nz, h, w) = (tr.planes, tr.height, tr.width);
        let mut worst = 0.0_f64;
        for t in [0, 3, tr.frames - 1] {
            let moved = frame(&sim, t);
            let fixed = frame(&still, t);
            let (dy, dx) = tr.displacement_at(t, 10.0, 10.0);
            assert_eq!((dy as f32, dx as f32), (tr.shifts[t][0], tr.shifts[t][1]));
            for z in 0..nz {
                for i in 0..h {
                    for j in 0..w {
                        // Raw pixel p shows the template at p - d (content at q appears at q + d).
                        let want = tr.template_value(t, z as f64, i as f64 - dy, j as f64 - dx);
                        let got = f64::from(moved[(z * h + i) * w + j]);
                        worst = worst.max((got - want).abs() / want.max(1.0));
                        // The no-motion fast path renders the template itself.
                        let want0 = tr.template_value(t, z as f64, i as f64, j as f64);
                        worst = worst.max((f64::from(fixed[(z * h + i) * w + j]) - want0).abs() / want0.max(1.0));
                    }
                }
            }
        }
        assert!(worst < 1e-5, "{kind}: relative error {worst}");
    }
    Ok(())
}

#[test]
fn simulate_piecewise_displacement_consistency() -> Result<(), SimError> {
    for kind in [SimKind::TwoP, SimKind::OneP, SimKind::ThreeD] {
        let mut cfg = small(kind, MotionKind::Piecewise);
        if kind != SimKind::ThreeD {
            cfg.width = 96;
            cfg.height = 80;
        }
        cfg.noise = false;
        cfg.grid_spacing = 24.0;
        cfg.nonrigid_amplitude = 2.0;
        let sim = Simulator::new(cfg)?;
        let tr = sim.truth();
        let grid = tr.field.as_ref().ok_or_else(|| SimError::InvalidConfig("no field".into()))?;
        assert_eq!(grid.values.len(), tr.frames * 2 * grid.gy * grid.gx);
        let (h, w) = (tr.height, tr.width);
        let mut spread = 0.0_f64;
        let mut worst = 0.0_f64;
        for t in [0, 5, tr.frames - 1] {
            let f = frame(&sim, t);
            let (ry, rx) = (f64::from(tr.shifts[t][0]), f64::from(tr.shifts[t][1]));
            for i in (0..h).step_by(3) {
                for j in (0..w).step_by(3) {
                    let (qy, qx) = tr.inverse_map(t, i as f64, j as f64);
                    let (dy, dx) = tr.displacement_at(t, qy, qx);
                    assert!((qy + dy - i as f64).abs() < 1e-6 && (qx + dx - j as f64).abs() < 1e-6);
                    spread = spread.max((dy - ry).abs()).max((dx - rx).abs());
                    for z in 0..tr.planes {
                        let want = tr.template_value(t, z as f64, qy, qx);
                        let got = f64::from(f[(z * h + i) * w + j]);
                        worst = worst.max((got - want).abs() / want.max(1.0));
                    }
                }
            }
        }
        assert!(spread > 0.2, "{kind}: non-rigid part too small: {spread}");
        assert!(worst < 1e-5, "{kind}: relative error {worst}");
    }
    Ok(())
}

#[test]
fn simulate_ar2_recursion_holds() -> Result<(), SimError> {
    let mut cfg = small(SimKind::TwoP, MotionKind::None);
    cfg.frames = 600;
    let sim = Simulator::new(cfg)?;
    let tr = sim.truth();
    let t_len = tr.frames;
    let mut n_spikes = 0u64;
    for k in 0..tr.n_neurons() {
        let c = tr.trace(k);
        let s = &tr.spikes[k * t_len..(k + 1) * t_len];
        let [g1, g2] = tr.ar_coefficients[k];
        let scale = c.iter().fold(1.0_f64, |m, v| m.max(f64::from(*v)));
        for t in 0..t_len {
            let c1 = if t >= 1 { f64::from(c[t - 1]) } else { 0.0 };
            let c2 = if t >= 2 { f64::from(c[t - 2]) } else { 0.0 };
            let pred = g1 * c1 + g2 * c2 + f64::from(s[t]);
            assert!((pred - f64::from(c[t])).abs() < 1e-5 * scale, "neuron {k} t {t}");
            assert_eq!(s[t] > 0.0, tr.spike_counts[k * t_len + t] > 0);
        }
        n_spikes += tr.spike_counts[k * t_len..(k + 1) * t_len].iter().map(|&n| u64::from(n)).sum::<u64>();
    }
    // Rates are 0.5-2 Hz: 600 frames at 30 Hz = 20 s per neuron.
    let per_neuron = n_spikes as f64 / tr.n_neurons() as f64;
    assert!(per_neuron > 10.0 && per_neuron < 40.0, "{per_neuron} spikes per neuron");
    Ok(())
}

#[test]
fn simulate_noise_level_matches() -> Result<(), SimError> {
    // Large-mean (normal approximation) and small-mean (exact Poisson) regimes.
    for level in [200.0, 10.0] {
        let mut cfg = small(SimKind::TwoP, MotionKind::None);
        cfg.width = 128;
        cfg.height = 128;
        cfg.n_neurons = Some(0);
        cfg.background_blobs = 0;
        cfg.background_level = level;
        let sim = Simulator::new(cfg.clone())?;
        let tr = sim.truth();
        let expect = (cfg.gain * level + cfg.read_noise * cfg.read_noise).sqrt();
        assert!((tr.noise_std - expect).abs() < 1e-9);
        let f = frame(&sim, 3);
        let n = f.len() as f64;
        let mean = f.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let sd = (f.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - cfg.offset - level).abs() < 0.05 * expect, "mean {mean}");
        assert!((sd / tr.noise_std - 1.0).abs() < 0.1, "sd {sd} vs {}", tr.noise_std);
    }
    Ok(())
}

#[test]
fn simulate_h5_round_trip() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    for (i, cfg) in [
        small(SimKind::TwoP, MotionKind::Piecewise),
        small(SimKind::OneP, MotionKind::Rigid),
        small(SimKind::ThreeD, MotionKind::None),
        SimConfig { n_neurons: Some(0), background_blobs: 0, ..small(SimKind::TwoP, MotionKind::None) },
    ]
    .into_iter()
    .enumerate()
    {
        let sim = Simulator::new(cfg)?;
        let path = dir.path().join(format!("truth{i}.h5"));
        sim.truth().write_h5(&path)?;
        let back = Truth::read_h5(&path)?;
        assert_eq!(&back, sim.truth());
        assert_eq!(back.displacement_at(3, 20.5, 30.25), sim.truth().displacement_at(3, 20.5, 30.25));
        // Footprints as Python sees them: unit max, shape (K, [Z,] H, W).
        let f = hdf5_metno::File::open(&path)?;
        let fp = f.dataset("footprints")?;
        let mut dims = vec![back.n_neurons()];
        dims.extend(if back.kind == SimKind::ThreeD { vec![back.planes] } else { vec![] });
        dims.extend([back.height, back.width]);
        assert_eq!(fp.shape(), dims);
        let all: Vec<f32> = fp.read_raw()?;
        let per = all.len() / back.n_neurons().max(1);
        for k in 0..back.n_neurons() {
            let m = all[k * per..(k + 1) * per].iter().fold(0.0_f32, |a, &b| a.max(b));
            assert!((m - 1.0).abs() < 1e-6);
        }
        assert_eq!(f.dataset("background_spatial")?.shape()[0], back.background.n_components());
    }
    assert!(Truth::read_h5(&dir.path().join("missing.h5")).is_err());
    Ok(())
}

#[test]
fn simulate_1p_background_dominates() -> Result<(), SimError> {
    let mut cfg = small(SimKind::OneP, MotionKind::None);
    cfg.frames = 300;
    let sim = Simulator::new(cfg.clone())?;
    let tr = sim.truth();
    let (h, w) = (tr.height, tr.width);
    let bg = &tr.background;
    let mut mean_bg = 0.0;
    let mut min_bg = f64::INFINITY;
    for i in 0..h {
        for j in 0..w {
            let v = bg.value(0, i as f64, j as f64);
            mean_bg += v / (h * w) as f64;
            min_bg = min_bg.min(v);
        }
    }
    let mut tv: Vec<f32> = tr.traces.clone();
    tv.sort_by(f32::total_cmp);
    let p99 = f64::from(tv[tv.len() * 99 / 100]);
    assert!(min_bg > 0.0);
    assert!(mean_bg > 3.0 * p99, "background {mean_bg} vs 99th percentile of traces {p99}");
    assert!(mean_bg > 10.0 * cfg.spike_amplitude);
    // The background fluctuates slowly in time.
    let m1 = &bg.temporal[bg.frames..2 * bg.frames];
    let (lo, hi) = m1.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(hi - lo > 0.01 && hi - lo <= 2.0 * cfg.background_fluctuation as f32 + 1e-6);
    assert!(bg.blobs.iter().any(|b| b.truncated && b.weight < 0.0), "vessels expected");
    Ok(())
}

/// Timing of a full-size 2p movie (512x512x1000); run with `--ignored --nocapture`.
/// Prints neuron counts, noise and signal levels of the default configurations (used for docs/simulator.md).
#[test]
#[ignore]
fn simulate_print_default_levels() -> Result<(), SimError> {
    for kind in [SimKind::TwoP, SimKind::OneP, SimKind::ThreeD] {
        let sim = Simulator::new(SimConfig::new(kind))?;
        let tr = sim.truth();
        let mut tv = tr.traces.clone();
        tv.sort_by(f32::total_cmp);
        let bg: f64 = (0..64).map(|i| tr.background.value(0, i as f64 * 4.0 % tr.height as f64, (i * 37 % tr.width) as f64)).sum::<f64>() / 64.0;
        println!("{kind}: K {} noise_std {:.2} bg~{bg:.0} trace p50 {:.1} p99 {:.1} max {:.1}", tr.n_neurons(), tr.noise_std, tv[tv.len() / 2], tv[tv.len() * 99 / 100], tv[tv.len() - 1]);
    }
    Ok(())
}

#[test]
#[ignore]
fn simulate_speed_512() -> Result<(), SimError> {
    let only = std::env::var("SIM_SPEED_MOTION").ok();
    for (motion, noise) in [
        (MotionKind::None, false),
        (MotionKind::None, true),
        (MotionKind::Rigid, true),
        (MotionKind::Piecewise, true),
    ] {
        if only.as_deref().is_some_and(|m| m != motion.name()) {
            continue;
        }
        let mut cfg = SimConfig::new(SimKind::TwoP);
        cfg.width = 512;
        cfg.height = 512;
        cfg.motion = motion;
        cfg.noise = noise;
        cfg.frames = std::env::var("SIM_SPEED_FRAMES").ok().and_then(|f| f.parse().ok()).unwrap_or(1000);
        let t0 = std::time::Instant::now();
        let sim = Simulator::new(cfg)?;
        let t1 = t0.elapsed();
        let sum: f64 = (0..sim.shape().t)
            .into_par_iter()
            .map(|t| frame(&sim, t).iter().map(|&v| f64::from(v)).sum::<f64>())
            .sum();
        println!(
            "512x512x{} 2p motion={motion} noise={noise}: setup {:.2} s, render {:.2} s total ({} neurons, checksum {sum:.0}, threads {})",
            sim.shape().t,
            t1.as_secs_f64(),
            t0.elapsed().as_secs_f64(),
            sim.truth().n_neurons(),
            rayon::current_num_threads()
        );
    }
    Ok(())
}
