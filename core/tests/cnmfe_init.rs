//! CNMF-E on simulated 1p movies: the ring background explains the true background, and the correlation / PNR
//! initialisation finds the true neurons. Timing on a 256 x 256 x 2000 movie: the ignored `cnmfe_timing` test.

use mesmerize_core::extraction::cnmfe::{fit_ring, init_corr_pnr, subtract_background};
use mesmerize_core::extraction::params::{CnmfParams, Mode};
use mesmerize_core::extraction::{Movie, SparseColumns};
use mesmerize_core::progress::NoProgress;
use mesmerize_core::simulate::{SimConfig, SimKind, Simulator, Truth};
use ndarray::Array2;
use rayon::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Neuron window gSiz for the simulator's gSig = 5 neurons (CaImAn's default 2 gSig + 1).
const GSIZ: usize = 11;

/// A small noisy 1p movie (128 x 128 x 600, fixed seed) rendered in memory, with its simulator.
fn one_p_movie(seed: u64) -> Result<(Simulator, Movie), Box<dyn std::error::Error>> {
    let mut cfg = SimConfig::new(SimKind::OneP);
    cfg.width = 128;
    cfg.height = 128;
    cfg.frames = 600;
    cfg.seed = seed;
    let sim = Simulator::new(cfg)?;
    let d = sim.shape().frame_len();
    let mut data = vec![0f32; d * 600];
    data.par_chunks_mut(d).enumerate().for_each(|(t, f)| sim.render_frame(t, f));
    let movie = Movie::new(vec![128, 128], 600, data)?;
    Ok((sim, movie))
}

/// True footprints (unit peak) and fluorescence (resting level + calcium) as CNMF's A and C.
fn true_ac(tr: &Truth) -> (SparseColumns, Array2<f32>) {
    let k = tr.n_neurons();
    let mut a = SparseColumns::new(tr.width * tr.height);
    let mut c = Array2::zeros((k, tr.frames));
    for n in 0..k {
        a.push_dense(&tr.footprint(n));
        for t in 0..tr.frames {
            c[[n, t]] = tr.fluorescence(n, t);
        }
    }
    (a, c)
}

/// Offset + true background, frame-major (T x d).
fn true_background(tr: &Truth) -> Vec<f32> {
    let (h, w, t) = (tr.height, tr.width, tr.frames);
    let maps: Vec<Vec<f32>> = (0..tr.background.n_components()).map(|m| tr.background.spatial_map(m, h, w)).collect();
    let mut out = vec![tr.offset as f32; h * w * t];
    out.par_chunks_mut(h * w).enumerate().for_each(|(ti, f)| {
        for (m, map) in maps.iter().enumerate() {
            let tm = tr.background.temporal_at(m, ti) as f32;
            f.iter_mut().zip(map).for_each(|(o, &s)| *o += tm * s);
        }
    });
    out
}

/// Pixels no true footprint touches.
fn neuron_free(tr: &Truth) -> Vec<bool> {
    let mut free = vec![true; tr.width * tr.height];
    for n in 0..tr.n_neurons() {
        for (f, v) in free.iter_mut().zip(tr.footprint(n)) {
            if v > 0.0 {
                *f = false;
            }
        }
    }
    free
}

/// (rms error of B against the truth, correlation of their fluctuations around the temporal means) over `mask`.
fn background_scores(est: &[f32], truth: &[f32], d: usize, mask: &[bool]) -> (f64, f64) {
    let t = est.len() / d;
    let mean = |x: &[f32], p: usize| (0..t).map(|i| f64::from(x[i * d + p])).sum::<f64>() / t as f64;
    let (mut se, mut n, mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in (0..d).filter(|&p| mask[p]) {
        let (me, mt) = (mean(est, p), mean(truth, p));
        for i in 0..t {
            let (e, g) = (f64::from(est[i * d + p]), f64::from(truth[i * d + p]));
            se += (e - g) * (e - g);
            n += 1.0;
            sxy += (e - me) * (g - mt);
            sxx += (e - me) * (e - me);
            syy += (g - mt) * (g - mt);
        }
    }
    ((se / n).sqrt(), sxy / (sxx * syy).sqrt())
}

#[test]
fn cnmfe_ring_background_matches_truth() -> TestResult {
    let (sim, y) = one_p_movie(11)?;
    let tr = sim.truth();
    let d = y.d();
    let truth_b = true_background(tr);
    let free = neuron_free(tr);
    let everywhere = vec![true; d];
    // With the true neurons removed, the ring model must reproduce the background everywhere.
    let (a, c) = true_ac(tr);
    let ring = fit_ring(&y, &a, &c, GSIZ, 1.5, 2, &NoProgress)?;
    let ymb = subtract_background(&y, &a, &c, &ring);
    let est: Vec<f32> = y.data.iter().zip(&ymb.data).map(|(a, b)| a - b).collect();
    let (rms, corr) = background_scores(&est, &truth_b, d, &everywhere);
    let fluct = {
        let t = y.t;
        let mut s = 0.0;
        for p in 0..d {
            let m = (0..t).map(|i| f64::from(truth_b[i * d + p])).sum::<f64>() / t as f64;
            s += (0..t).map(|i| (f64::from(truth_b[i * d + p]) - m).powi(2)).sum::<f64>();
        }
        (s / (d * t) as f64).sqrt()
    };
    eprintln!(
        "ring (true A, C): rms error {rms:.2} counts (noise std {:.1}, background fluctuation std {fluct:.1}), fluctuation corr {corr:.3}, W nnz {}",
        tr.noise_std,
        ring.w.data.len()
    );
    assert!(corr > 0.95, "fluctuation correlation {corr}");
    assert!(rms < 0.25 * tr.noise_std, "rms {rms}");
    // Without any neurons (the first CNMF-E round), the background in neuron-free pixels is still right.
    let a0 = SparseColumns::new(d);
    let c0 = Array2::zeros((0, y.t));
    let ring0 = fit_ring(&y, &a0, &c0, GSIZ, 1.5, 2, &NoProgress)?;
    let ymb0 = subtract_background(&y, &a0, &c0, &ring0);
    let est0: Vec<f32> = y.data.iter().zip(&ymb0.data).map(|(a, b)| a - b).collect();
    let (rms0, corr0) = background_scores(&est0, &truth_b, d, &free);
    eprintln!("ring (no neurons), neuron-free pixels: rms error {rms0:.2}, fluctuation corr {corr0:.3}");
    assert!(corr0 > 0.9, "fluctuation correlation {corr0}");
    assert!(rms0 < 0.25 * tr.noise_std, "rms {rms0}");
    Ok(())
}

#[test]
fn cnmfe_ring_refuses_3d() -> TestResult {
    let t = 12;
    let data: Vec<f32> = (0..8 * 8 * 2 * t).map(|i| (i % 7) as f32).collect();
    let y = Movie::new(vec![2, 8, 8], t, data)?;
    let a = SparseColumns::new(128);
    let c = Array2::zeros((0, t));
    let e = fit_ring(&y, &a, &c, 11, 1.5, 2, &NoProgress);
    assert!(matches!(e, Err(mesmerize_core::extraction::ExtractionError::BadInput(m)) if m.contains("2D")));
    let init = init_corr_pnr(&y, &CnmfParams::defaults(Mode::Cnmfe), &NoProgress);
    assert!(matches!(init, Err(mesmerize_core::extraction::ExtractionError::BadInput(m)) if m.contains("2D")));
    Ok(())
}

/// Wall time of the CNMF-E pieces on a 256 x 256 x 2000 1p movie made by
/// `mesmerize simulate --kind 1p --out DIR --frames 2000`; set `CNMFE_MOVIE=DIR/movie.tiff`.
#[test]
#[ignore]
fn cnmfe_timing() -> TestResult {
    use mesmerize_core::{ImgData, OpenOptions};
    use std::time::Instant;
    let Ok(path) = std::env::var("CNMFE_MOVIE") else {
        eprintln!("set CNMFE_MOVIE to a simulated 1p movie.tiff");
        return Ok(());
    };
    let y = Movie::load(&ImgData::open(std::path::Path::new(&path), &OpenOptions::default())?, &NoProgress)?;
    let d = y.d();
    let a0 = SparseColumns::new(d);
    let c0 = Array2::zeros((0, y.t));
    let gsiz: usize = std::env::var("CNMFE_GSIZ").ok().and_then(|s| s.parse().ok()).unwrap_or(GSIZ);
    let t0 = Instant::now();
    let ring = fit_ring(&y, &a0, &c0, gsiz, 1.5, 2, &NoProgress)?;
    eprintln!("fit_ring {:?}: {:.2} s (W nnz {})", y.dims, t0.elapsed().as_secs_f64(), ring.w.data.len());
    let t0 = Instant::now();
    let ymb = subtract_background(&y, &a0, &c0, &ring);
    eprintln!("subtract_background: {:.2} s", t0.elapsed().as_secs_f64());
    drop(ymb);
    let mut p = CnmfParams::defaults(Mode::Cnmfe);
    p.gsig = vec![5.0, 5.0];
    p.gsiz = vec![gsiz, gsiz];
    let t0 = Instant::now();
    let init = init_corr_pnr(&y, &p, &NoProgress)?;
    eprintln!("init_corr_pnr: {:.2} s, {} neurons", t0.elapsed().as_secs_f64(), init.a.n_cols());
    Ok(())
}

/// Value-weighted centroid `(row, column)` of each footprint.
fn centroids(a: &SparseColumns, w: usize) -> Vec<(f64, f64)> {
    (0..a.n_cols())
        .map(|k| {
            let (idx, val) = a.col(k);
            let (mut sy, mut sx, mut s) = (0.0, 0.0, 0.0);
            for (&p, &v) in idx.iter().zip(val) {
                let v = f64::from(v);
                sy += v * (p as usize / w) as f64;
                sx += v * (p as usize % w) as f64;
                s += v;
            }
            (sy / s, sx / s)
        })
        .collect()
}

/// Greedy one-to-one matching of true and found centres within `max_dist` px: (matched, found, true).
fn match_centres(truth: &[(f64, f64)], found: &[(f64, f64)], max_dist: f64) -> (usize, usize, usize) {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, a) in truth.iter().enumerate() {
        for (j, b) in found.iter().enumerate() {
            let dist = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
            if dist <= max_dist {
                pairs.push((dist, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut ut, mut uf) = (vec![false; truth.len()], vec![false; found.len()]);
    let mut n = 0;
    for (_, i, j) in pairs {
        if !ut[i] && !uf[j] {
            ut[i] = true;
            uf[j] = true;
            n += 1;
        }
    }
    (n, found.len(), truth.len())
}

#[test]
fn cnmfe_init_finds_true_neurons() -> TestResult {
    let (sim, y) = one_p_movie(5)?;
    let tr = sim.truth();
    let mut p = CnmfParams::defaults(Mode::Cnmfe);
    p.gsig = vec![5.0, 5.0];
    p.gsiz = vec![GSIZ, GSIZ];
    p.min_corr = 0.8;
    p.min_pnr = 10.0;
    let t0 = std::time::Instant::now();
    let init = init_corr_pnr(&y, &p, &NoProgress)?;
    let secs = t0.elapsed().as_secs_f64();
    let truth: Vec<(f64, f64)> = tr.neurons.iter().map(|n| (n.cy, n.cx)).collect();
    let found = centroids(&init.a, tr.width);
    let (matched, nf, nt) = match_centres(&truth, &found, 4.0);
    let recall = matched as f64 / nt as f64;
    let false_pos = nf - matched;
    eprintln!(
        "init: {nf} found, {nt} true, {matched} matched within 4 px (recall {recall:.3}), {false_pos} unmatched; {secs:.2} s"
    );
    for (j, f) in found.iter().enumerate() {
        let best = truth.iter().map(|a| ((a.0 - f.0).powi(2) + (a.1 - f.1).powi(2)).sqrt()).fold(f64::MAX, f64::min);
        if best > 4.0 {
            eprintln!(
                "  unmatched found {j} at ({:.1}, {:.1}), nearest true {best:.1} px, nnz {}",
                f.0,
                f.1,
                init.a.col(j).0.len()
            );
        }
    }
    assert_eq!(init.c.dim(), (nf, y.t));
    assert_eq!((init.corr.len(), init.pnr.len()), (y.d(), y.d()));
    assert!(recall >= 0.9, "recall {recall}");
    assert!(false_pos * 10 <= nt, "{false_pos} false positives");
    Ok(())
}
