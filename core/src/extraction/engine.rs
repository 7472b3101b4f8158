//! The update engine shared by CNMF, CNMF-E and 3D CNMF: alternating spatial / temporal HALS rounds with support
//! updates and merging, then residual traces, deconvolution, evaluation and dF/F into a [`CnmfResult`].

use std::time::Instant;

use ndarray::Array2;
use rayon::prelude::*;
use realfft::RealFftPlanner;

use super::deconv::noise::{NoiseMethod, psd_noise_with};
use super::error::ExtractionError;
use super::evaluate::{EvalThresholds, classify, event_snr, r_values};
use super::hals::{residual_traces, update_spatial, update_temporal};
use super::merge::merge_components;
use super::model::Model;
use super::params::CnmfParams;
use super::pixels::PixelMajor;
use super::products::FactorProducts;
use super::result::{CnmfResult, RingBackground};
use crate::progress::Progress;

/// What runs the heavy products and reports progress.
pub struct Engine<'a> {
    /// CPU twin or GPU kernels.
    pub products: &'a dyn FactorProducts,
    /// Progress sink and cancel flag.
    pub progress: &'a dyn Progress,
}

impl Engine<'_> {
    /// `Err(Cancelled)` once the user asked to stop.
    pub fn check(&self) -> Result<(), ExtractionError> {
        if self.progress.cancelled() { Err(ExtractionError::Cancelled) } else { Ok(()) }
    }
}

/// Per-axis (z, y, x) sigma from CaImAn's C-order `gSig` (2D: z = 0).
pub fn sigma3(p: &CnmfParams) -> [f64; 3] {
    match p.gsig.as_slice() {
        [y, x] => [0.0, *y, *x],
        [z, y, x] => [*z, *y, *x],
        [s] => [0.0, *s, *s],
        _ => [0.0, 5.0, 5.0],
    }
}

/// Per-axis (z, y, x) half window from `gSiz`.
pub fn half3(p: &CnmfParams) -> [usize; 3] {
    match p.gsiz.as_slice() {
        [y, x] => [0, y / 2, x / 2],
        [z, y, x] => [z / 2, y / 2, x / 2],
        [s] => [0, s / 2, s / 2],
        _ => [0, 5, 5],
    }
}

/// Dilation radius of footprint supports per axis: half a `gSig` scaled by `dist / 3`, at least one pixel.
pub fn support_radius(p: &CnmfParams) -> [usize; 3] {
    let s = sigma3(p);
    let f = (p.dist / 3.0).max(0.1);
    std::array::from_fn(|a| if s[a] <= 0.0 { 0 } else { ((s[a] * 0.5 * f).ceil() as usize).max(1) })
}

/// `rounds` alternations of spatial update, support update, temporal update and merging.
pub fn refine(model: &mut Model, y: &PixelMajor, p: &CnmfParams, eng: &Engine, rounds: usize) -> Result<(), ExtractionError> {
    let radius = support_radius(p);
    for _ in 0..rounds {
        eng.check()?;
        update_spatial(model, y, eng.products, 2);
        for f in &mut model.comps {
            f.reshape_support(&model.grid, 0.05, radius);
        }
        model.prune_empty();
        update_temporal(model, y, eng.products, 3);
        model.prune_empty();
        if p.do_merge {
            let gone = merge_components(model, p.merge_thr);
            if gone > 0 {
                update_temporal(model, y, eng.products, 2);
                model.prune_empty();
            }
        }
    }
    Ok(())
}

/// Noise std of every pixel from its PSD (CaImAn's `sn`).
pub fn pixel_noise(y: &PixelMajor, p: &CnmfParams) -> Vec<f32> {
    let method = NoiseMethod::parse(&p.noise_method).unwrap_or_default();
    (0..y.d)
        .into_par_iter()
        .map_init(RealFftPlanner::<f64>::new, |pl, i| psd_noise_with(pl, y.series(i), p.noise_range, method))
        .collect()
}

fn to_array(rows: &[Vec<f32>], t: usize) -> Array2<f32> {
    let mut a = Array2::<f32>::zeros((rows.len(), t));
    for (i, r) in rows.iter().enumerate() {
        a.row_mut(i).iter_mut().zip(r).for_each(|(o, v)| *o = *v);
    }
    a
}

/// Turn a fitted model into a result: residual traces, deconvolution (`p`), evaluation and dF/F.
#[allow(clippy::too_many_arguments)] // each argument is a distinct input of the result; a struct would only rename them
pub fn finalize(
    mut model: Model,
    y: &PixelMajor,
    dims: &[usize],
    p: &CnmfParams,
    eng: &Engine,
    ring: Option<RingBackground>,
    sn: Vec<f32>,
    mut timings: Vec<(String, f64)>,
) -> Result<CnmfResult, ExtractionError> {
    let t0 = Instant::now();
    let t = y.t;
    eng.check()?;
    let yra_hals = residual_traces(&model, y, eng.products);
    let raw: Vec<Vec<f32>> = model.c.iter().zip(&yra_hals).map(|(c, r)| c.iter().zip(r).map(|(a, b)| a + b).collect()).collect();
    let raw_arr = to_array(&raw, t);
    let k = model.k();
    let mut s = Array2::<f32>::zeros((k, t));
    let (mut g, mut bl, mut c1, mut nsn, mut lam) = (vec![Vec::new(); k], vec![0f32; k], vec![0f32; k], vec![0f32; k], vec![0f32; k]);
    if p.p > 0 && k > 0 {
        let opts = super::deconv::FoopsiOptions {
            p: p.p,
            g: None,
            sn: None,
            bas_nonneg: p.bas_nonneg,
            s_min: p.s_min,
            optimize_g: p.optimize_g,
            noise_range: p.noise_range,
            noise_method: NoiseMethod::parse(&p.noise_method).unwrap_or_default(),
            lags: p.lags,
            fudge_factor: p.fudge_factor,
        };
        let dec = super::deconv::deconvolve_all(&raw_arr, &opts);
        for (i, d) in dec.into_iter().enumerate() {
            model.c[i] = d.full_calcium();
            s.row_mut(i).iter_mut().zip(&d.s).for_each(|(o, v)| *o = *v);
            g[i] = d.g;
            bl[i] = d.baseline;
            c1[i] = d.c1;
            nsn[i] = d.sn;
            lam[i] = d.lam;
        }
    }
    let c = to_array(&model.c, t);
    let yra = &raw_arr - &c;
    timings.push(("deconvolution".into(), t0.elapsed().as_secs_f64()));
    let t1 = Instant::now();
    eng.check()?;
    let n_samples = (p.fr * p.decay_time).ceil().max(1.0) as usize;
    let snr: Vec<f32> = raw.par_iter().map(|r| event_snr(r, n_samples)).collect();
    let rv = r_values(&model, y);
    let th = EvalThresholds { min_snr: p.min_snr, snr_lowest: p.snr_lowest, rval_thr: p.rval_thr, rval_lowest: p.rval_lowest, n_samples };
    let (good, bad) = classify(&snr, &rv, &th);
    timings.push(("evaluation".into(), t1.elapsed().as_secs_f64()));
    let a = model.a_sparse();
    let d = model.grid.len();
    let mut b = Array2::<f32>::zeros((d, model.nb()));
    for (m, col) in model.b.iter().enumerate() {
        b.column_mut(m).iter_mut().zip(col).for_each(|(o, v)| *o = *v);
    }
    let f = to_array(&model.f, t);
    let t2 = Instant::now();
    let f_dff = if k > 0 { Some(super::deconv::detrend_df_f(&a, &b, &c, &f, Some(&yra), 8.0, 500, false, true, false)) } else { None };
    timings.push(("dff".into(), t2.elapsed().as_secs_f64()));
    Ok(CnmfResult {
        dims: dims.to_vec(),
        a,
        c,
        s,
        yra,
        b,
        f,
        ring,
        sn,
        g,
        bl,
        c1,
        neurons_sn: nsn,
        lam,
        f_dff,
        idx_components: good,
        idx_components_bad: bad,
        snr_comp: snr,
        r_values: rv,
        params: p.clone(),
        timings,
    })
}
