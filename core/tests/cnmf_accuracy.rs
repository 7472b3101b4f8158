//! CNMF against the simulator's ground truth: detection F1 and trace correlation on small 2p movies (CI sizes;
//! the full-size figures are in BENCHMARKS.md).

use mesmerize_core::extraction::cnmf::fit_cnmf;
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
    if let Ok(v) = std::env::var("GSIZ") { let g: usize = v.parse().unwrap_or(21); p.gsiz = vec![g, g]; }
    if let Ok(v) = std::env::var("GNB") { p.nb = v.parse().unwrap_or(1); }
    if let Ok(v) = std::env::var("ITER") { p.iter = v.parse().unwrap_or(2); }
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
    }
}

#[test]
#[ignore]
fn debug_false_positives() {
    use mesmerize_core::extraction::score::{centroids, match_centroids, truth_centroids};
    let (movie, truth) = simulate(SimKind::TwoP, 128, 128, 500, 3);
    let y = PixelMajor::from_movie(&movie);
    let eng = Engine { products: &CpuProducts, progress: &NoProgress };
    let r = fit_cnmf(&y, &movie.dims, &params_2p(false), &eng).expect("fit");
    let c = centroids(&r);
    let tc = truth_centroids(&truth);
    let pairs = match_centroids(&c, &tc, 4.0);
    for k in 0..r.k() {
        let m = pairs.iter().find(|p| p.0 == k);
        let dmin = tc.iter().map(|t| ((t[1] - c[k][1]).powi(2) + (t[2] - c[k][2]).powi(2)).sqrt()).fold(f64::INFINITY, f64::min);
        let nnz = r.a.col(k).0.len();
        let cmax = r.c.row(k).iter().copied().fold(0f32, f32::max); let cmin = r.c.row(k).iter().copied().fold(f32::INFINITY, f32::min); let cmed = { let mut v = r.c.row(k).to_vec(); v.sort_by(f32::total_cmp); v[v.len()/2] }; eprintln!("   cmin {cmin:.1} cmed {cmed:.1} bl {:.1}", r.bl[k]);
        if !r.idx_components.contains(&k) { continue; }
        let grid = mesmerize_core::extraction::grid::Grid::from_dims(&r.dims);
        let fk = mesmerize_core::extraction::footprint::Footprint::from_sparse(&r.a, k, &grid).unwrap();
        let mut others = Vec::new();
        let mut desc = String::new();
        for j in 0..r.k() { if j == k { continue; }
            let fj = mesmerize_core::extraction::footprint::Footprint::from_sparse(&r.a, j, &grid).unwrap();
            let cos = fk.dot(&fj) / (fk.norm() * fj.norm());
            if cos > 0.05 { others.push(r.c.row(j).to_vec()); desc += &format!(" [{j} cos {cos:.2}]"); }
        }
        let refs: Vec<&[f32]> = others.iter().map(|v| v.as_slice()).collect();
        let ex = mesmerize_core::extraction::mixtures::explained_by(&r.c.row(k).to_vec(), &refs);
        let mm = mesmerize_core::extraction::model::Model { grid, comps: (0..r.k()).map(|j| mesmerize_core::extraction::footprint::Footprint::from_sparse(&r.a, j, &grid).unwrap()).collect(), c: vec![], b: vec![], f: vec![] };
        let ids: Vec<usize> = (0..r.k()).filter(|&j| j != k && { let cos = mm.comps[k].dot(&mm.comps[j]) / (mm.comps[k].norm() * mm.comps[j].norm()); cos > 0.1 }).collect();
        let sp = mesmerize_core::extraction::mixtures::footprint_explained(&mm, k, &ids);
        eprintln!("   nbrs {desc} explained {ex:.2} spatial {sp:.2}");
        eprintln!("k={k} matched={} dmin={dmin:.1} cen=({:.1},{:.1}) snr={:.2} r={:.2} nnz={nnz} cmax={cmax:.1} sn={:.2} acc={}", m.is_some(), c[k][1], c[k][2], r.snr_comp[k], r.r_values[k], r.neurons_sn[k], r.idx_components.contains(&k));
    }
}

#[test]
#[ignore]
fn debug_truth() {
    use mesmerize_core::extraction::score::truth_centroids;
    let (_movie, truth) = simulate(SimKind::TwoP, 128, 128, 500, 3);
    for (j, c) in truth_centroids(&truth).iter().enumerate() {
        let n = &truth.neurons[j];
        let tr = truth.trace(j);
        let mx = tr.iter().copied().fold(0f32, f32::max);
        eprintln!("true j={j} cen=({:.1},{:.1}) centre=({:.1},{:.1}) sig=({:.1},{:.1}) trmax={mx:.0} F0={:.0}", c[1], c[2], n.cy, n.cx, n.sigma_major, n.sigma_minor, truth.baseline[j]);
    }
}
