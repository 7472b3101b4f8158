//! CNMF against the simulator's ground truth: detection F1 and trace correlation on small 2p movies (CI sizes;
//! the full-size figures are in BENCHMARKS.md).

use mesmerize_core::extraction::cnmf::fit_cnmf;
use mesmerize_core::extraction::cnmfe_fit::fit_cnmfe;
use mesmerize_core::extraction::engine::Engine;
use mesmerize_core::extraction::params::{CnmfParams, Mode};
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::products::CpuProducts;
use mesmerize_core::extraction::score::score;
use mesmerize_core::extraction::Movie;
use mesmerize_core::progress::NoProgress;
use mesmerize_core::simulate::{SimConfig, SimKind, Simulator};
use rayon::prelude::*;

fn simulate(kind: SimKind, w: usize, h: usize, frames: usize, seed: u64) -> (Movie, mesmerize_core::simulate::Truth) {
    let mut cfg = SimConfig::new(kind);
    cfg.width = w;
    cfg.height = h;
    cfg.frames = frames;
    cfg.seed = seed;
    let sim = Simulator::new(cfg).expect("simulator");
    let d = sim.shape().frame_len();
    let mut data = vec![0f32; d * frames];
    data.par_chunks_mut(d).enumerate().for_each(|(t, f)| sim.render_frame(t, f));
    let dims = if kind == SimKind::ThreeD { vec![sim.truth().planes, h, w] } else { vec![h, w] };
    (Movie::new(dims, frames, data).expect("movie"), sim.truth().clone())
}

fn params_2p(patches: bool) -> CnmfParams {
    let mut p = CnmfParams::defaults(Mode::Cnmf);
    p.fr = 30.0;
    p.decay_time = 0.5;
    p.gsig = vec![4.0, 4.0];
    p.gsiz = vec![11, 11];
    p.merge_thr = 0.8;
    p.min_snr = 2.5;
    p.rval_thr = 0.8;
    if patches {
        p.rf = Some(vec![32, 32]);
        p.stride = Some(vec![12, 12]);
        p.k = 10;
    } else {
        p.k = 40;
    }
    p
}

#[test]
fn cnmf_2p_finds_neurons_and_traces() {
    for patches in [false, true] {
        let (movie, truth) = simulate(SimKind::TwoP, 128, 128, 500, 3);
        let y = PixelMajor::from_movie(&movie);
        let eng = Engine { products: &CpuProducts, progress: &NoProgress };
        let t = std::time::Instant::now();
        let r = fit_cnmf(&y, &movie.dims, &params_2p(patches), &eng).expect("fit");
        let s = score(&r, &truth, true, 4.0);
        let sa = score(&r, &truth, false, 4.0);
        eprintln!("patches={patches}: {:.2}s K={} accepted {:?}\n all {:?}\n timings {:?}", t.elapsed().as_secs_f64(), r.k(), s, sa, r.timings);
        assert!(s.f1 >= 0.95, "F1 {s:?}");
        assert!(s.median_trace_r >= 0.95, "trace r {s:?}");
        let sr = spike_correlation(&r, &truth);
        eprintln!("median spike-train correlation (2-frame bins): {sr:.3}");
        assert!(sr >= 0.8, "spike correlation {sr}");
    }
}

/// Median correlation of matched components' deconvolved spikes `S` with the true spikes, both summed over
/// 2-frame bins (the simulator's traces are AR(2)).
fn spike_correlation(r: &mesmerize_core::extraction::CnmfResult, truth: &mesmerize_core::simulate::Truth) -> f64 {
    use mesmerize_core::extraction::score::{centroids, match_centroids, truth_centroids};
    let found: Vec<[f64; 3]> = r.idx_components.iter().map(|&i| centroids(r)[i]).collect();
    let pairs = match_centroids(&found, &truth_centroids(truth), 4.0);
    let t = truth.frames;
    let bin = |v: &[f32]| -> Vec<f32> { v.chunks(2).map(|c| c.iter().sum()).collect() };
    let mut rs: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| {
            let s = r.s.row(r.idx_components[i]).to_vec();
            let ts = &truth.spikes[j * t..(j + 1) * t];
            mesmerize_core::extraction::linalg::pearson(&bin(&s), &bin(ts))
        })
        .collect();
    rs.sort_by(f64::total_cmp);
    rs[rs.len() / 2]
}


#[test]
fn cnmf_3d_finds_neurons() {
    let (movie, truth) = {
        let mut cfg = SimConfig::new(SimKind::ThreeD);
        (cfg.width, cfg.height, cfg.planes, cfg.frames, cfg.seed) = (64, 64, 8, 200, 2);
        let sim = Simulator::new(cfg).expect("simulator");
        let d = sim.shape().frame_len();
        let mut data = vec![0f32; d * 200];
        data.par_chunks_mut(d).enumerate().for_each(|(t, f)| sim.render_frame(t, f));
        (Movie::new(vec![8, 64, 64], 200, data).expect("movie"), sim.truth().clone())
    };
    let mut p = CnmfParams::defaults(Mode::Cnmf3d);
    (p.fr, p.decay_time, p.p, p.k) = (5.0, 0.5, 1, truth.n_neurons() + 4);
    p.gsig = vec![1.0, 3.0, 3.0];
    p.gsiz = vec![3, 11, 11];
    p.rval_thr = 0.7;
    let y = PixelMajor::from_movie(&movie);
    let eng = Engine { products: &CpuProducts, progress: &NoProgress };
    let r = fit_cnmf(&y, &movie.dims, &p, &eng).expect("fit");
    let s = score(&r, &truth, true, 4.0);
    eprintln!("3d: K={} {s:?}", r.k());
    assert!(s.f1 >= 0.9, "{s:?}");
    assert!(s.median_trace_r >= 0.85, "{s:?}");
}

#[test]
fn cnmfe_1p_finds_neurons_under_strong_background() {
    let (movie, truth) = simulate(SimKind::OneP, 128, 128, 600, 1);
    let mut p = CnmfParams::defaults(Mode::Cnmfe);
    (p.fr, p.decay_time, p.p, p.k) = (20.0, 0.6, 1, 300);
    p.gsig = vec![5.0, 5.0];
    p.gsiz = vec![21, 21];
    (p.ring_size_factor, p.ssub_b, p.min_corr, p.min_pnr) = (1.4, 2, 0.8, 10.0);
    (p.merge_thr, p.min_snr, p.rval_thr) = (0.7, 1.5, 0.7);
    let eng = Engine { products: &CpuProducts, progress: &NoProgress };
    let t = std::time::Instant::now();
    let r = fit_cnmfe(&movie, &p, None, &eng).expect("fit");
    let s = score(&r, &truth, true, 4.0);
    eprintln!("cnmfe: {:.1}s K={} {s:?} {:?}", t.elapsed().as_secs_f64(), r.k(), r.timings);
    assert!(s.f1 >= 0.95, "{s:?}");
    assert!(s.median_trace_r >= 0.95, "{s:?}");
}
