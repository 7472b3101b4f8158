//! NormRaw on a simulated project with CNMF ROIs: each `_NORMRAW` curve equals the `_RAW_CURVE` min-max scaled onto
//! the raw brightness computed directly from the stored movie and footprint (mean of the brightest footprint
//! pixels, weight > 0, in the frames where the curve is lowest and highest); a curve whose raw min is not below its
//! raw max is dropped; manual ROIs are refused.

mod support;

use std::collections::BTreeMap;

use mesmerize_core::analysis::Transmission;
use mesmerize_core::analysis::nodes::{self, NodeContext, Port, columns};
use mesmerize_core::progress::NoProgress;
use mesmerize_core::project::{NewSample, Project, ProjectConfig, WorkEnv};
use mesmerize_core::roi::{Footprint, Roi, RoiGeometry, RoiMode, RoiSet};
use serde_json::json;

const T: usize = 120;
const SIZE: usize = 64;

/// A disc footprint of radius 4 around (cx, cy): Gaussian weights inside radius 3, zero weights on the ring outside
/// (CNMF's A has such zeros; NormRaw must skip them).
fn footprint(cx: f64, cy: f64) -> Footprint {
    let mut f = Footprint::default();
    for y in 0..SIZE {
        for x in 0..SIZE {
            let d2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
            if d2 <= 16.0 {
                f.indices.push((y * SIZE + x) as u32);
                f.weights.push(if d2 <= 9.0 { (-d2 / 4.0).exp() as f32 } else { 0.0 });
            }
        }
    }
    f
}

/// A work environment with `n` CNMF ROIs on simulated neurons, curves = footprint-weighted means of the movie; the
/// last ROI's curve is negated, so it peaks where its pixels are darkest (raw min above raw max).
fn cnmf_env(seed: u64, n: usize) -> WorkEnv {
    let (img, truth) = support::movie(seed, SIZE, T);
    let mut env = WorkEnv::new(img);
    env.rois = RoiSet::new(RoiMode::Cnmf);
    let frames: Vec<Vec<f32>> = (0..T).map(|t| env.img.frame(t).expect("frame")).collect();
    let centres: Vec<(f64, f64)> =
        truth.neurons.iter().filter(|n| n.cx > 5.0 && n.cy > 5.0 && n.cx < 58.0 && n.cy < 58.0).map(|n| (n.cx, n.cy)).take(n).collect();
    assert_eq!(centres.len(), n, "enough simulated neurons inside the frame");
    for (i, &(cx, cy)) in centres.iter().enumerate() {
        let f = footprint(cx, cy);
        let wsum: f64 = f.weights.iter().map(|&w| f64::from(w)).sum();
        let mut curve: Vec<f32> = frames
            .iter()
            .map(|fr| (f.indices.iter().zip(&f.weights).map(|(&p, &w)| f64::from(w) * f64::from(fr[p as usize])).sum::<f64>() / wsum) as f32)
            .collect();
        if i == n - 1 {
            curve.iter_mut().for_each(|v| *v = -*v);
        }
        let mut roi = Roi::new(RoiGeometry::Cnmf { cnmf_idx: i, contour: vec![], footprint: f });
        roi.curve = Some(curve);
        env.rois.push(roi).expect("push");
    }
    env
}

fn load(dir: &std::path::Path) -> Transmission {
    let ctx = NodeContext { project: Some(dir.to_path_buf()), base_dir: None };
    let o = nodes::run_node("LoadProjDF", &BTreeMap::new(), &json!({}), &ctx).expect("LoadProjDF");
    match o.get("Out") {
        Some(Port::Transmission(t)) => (**t).clone(),
        _ => panic!("no Transmission"),
    }
}

fn norm_raw(t: &Transmission, dir: &std::path::Path, option: &str) -> Result<Transmission, nodes::NodeError> {
    let ctx = NodeContext { project: Some(dir.to_path_buf()), base_dir: None };
    let inputs = BTreeMap::from([("In".to_string(), vec![Port::from_transmission(t.clone())])]);
    let o = nodes::run_node("NormRaw", &inputs, &json!({"option": option}), &ctx)?;
    match o.get("Out") {
        Some(Port::Transmission(t)) => Ok((**t).clone()),
        _ => panic!("no Transmission"),
    }
}

/// The original's definition, computed here from the stored movie: mean of the `count` brightest footprint pixels
/// (weight > 0) in frame `t`.
fn raw(env: &WorkEnv, f: &Footprint, t: usize, option: &str) -> f64 {
    let frame = env.img.frame(t).expect("frame");
    let mut v: Vec<f64> = f.indices.iter().zip(&f.weights).filter(|(_, w)| **w > 0.0).map(|(&p, _)| f64::from(frame[p as usize])).collect();
    v.sort_by(|a, b| b.total_cmp(a));
    let p5 = (v.len() as f64 * 0.05) as usize;
    let count = match option {
        "top_5" => 5,
        "top_10" => 10,
        "top_5p" => p5,
        "top_10p" => 2 * p5,
        "top_25p" => 5 * p5,
        _ => v.len(),
    };
    let count = if count == 0 { v.len() } else { count.min(v.len()) };
    v[..count].iter().sum::<f64>() / count as f64
}

#[test]
fn norm_raw_scales_onto_raw_footprint_brightness() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("proj");
    let mut p = Project::create(&dir, ProjectConfig::default()).expect("create");
    let n = 4;
    let env = cnmf_env(7, n);
    let s = NewSample { animal_id: "a1".into(), trial_id: "1".into(), work_env: &env, custom: BTreeMap::new(), comments: String::new() };
    let id = p.add_sample(&s, &NoProgress).expect("add");
    let stored = p.open_sample(&id).expect("open");
    let t = load(&dir);
    assert_eq!(t.df.height(), n);
    let raw_curves = columns::read_curves(&t, "_RAW_CURVE").expect("raw");

    for option in ["top_5", "top_10", "top_5p", "top_10p", "top_25p", "full_mean"] {
        let out = norm_raw(&t, &dir, option).expect("NormRaw");
        // The negated curve (last ROI) peaks where its pixels are darkest: raw min > raw max, so it is dropped.
        assert_eq!(out.df.height(), n - 1, "{option}: the inverted ROI is excluded");
        assert_eq!(out.last_output.as_deref(), Some("_NORMRAW"));
        let got = columns::read_curves(&out, "_NORMRAW").expect("out");
        for (k, y) in got.iter().enumerate() {
            let x = &raw_curves[k];
            let RoiGeometry::Cnmf { footprint, .. } = &stored.rois.rois()[k].geometry else { panic!("CNMF ROI") };
            let argmax = (0..T).fold(0, |b, i| if x[i] > x[b] { i } else { b });
            let argmin = (0..T).fold(0, |b, i| if x[i] < x[b] { i } else { b });
            let (lo, hi) = (raw(&stored, footprint, argmin, option), raw(&stored, footprint, argmax, option));
            assert!(lo < hi, "{option} row {k}: raw min {lo} < raw max {hi}");
            let (xmin, xmax) = (x[argmin], x[argmax]);
            for (i, (&yi, &xi)) in y.iter().zip(x).enumerate() {
                let want = (xi - xmin) * (hi - lo) / (xmax - xmin) + lo;
                assert!((yi - want).abs() <= 1e-12 * want.abs().max(1.0), "{option} row {k} [{i}]: {yi} vs {want}");
            }
            assert!((y[argmin] - lo).abs() <= 1e-9 * lo.abs() && (y[argmax] - hi).abs() <= 1e-9 * hi.abs());
        }
        for b in out.history.data_blocks() {
            let params = out.history.get_operation_params(b, "normrawminmax").expect("logged");
            assert_eq!(params, &json!({"data_column": "_RAW_CURVE", "option": option, "output_column": "_NORMRAW"}));
        }
    }
}

#[test]
fn norm_raw_refuses_manual_rois_and_missing_projects() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("proj");
    let mut p = Project::create(&dir, ProjectConfig::default()).expect("create");
    let (img, _) = support::movie(3, SIZE, T);
    let mut env = WorkEnv::new(img);
    env.rois.push(Roi::new(RoiGeometry::Ellipse { cx: 20.0, cy: 20.0, rx: 3.0, ry: 3.0, angle_deg: 0.0 })).expect("push");
    env.compute_curves(&NoProgress).expect("curves");
    let s = NewSample { animal_id: "m".into(), trial_id: "1".into(), work_env: &env, custom: BTreeMap::new(), comments: String::new() };
    p.add_sample(&s, &NoProgress).expect("add");
    let t = load(&dir);
    let e = norm_raw(&t, &dir, "top_5").expect_err("manual ROI").to_string();
    assert!(e.contains("CNMF"), "{e}");

    let mut orphan = t.clone();
    orphan.proj_path = None;
    let inputs = BTreeMap::from([("In".to_string(), vec![Port::from_transmission(orphan)])]);
    let e = nodes::run_node("NormRaw", &inputs, &json!({}), &NodeContext::default()).expect_err("no project").to_string();
    assert!(e.contains("project"), "{e}");
}
