//! One greedy seeding round of CNMF-E's initialisation on one movie (raw data, or the residual of earlier
//! rounds): filter with `gSig`, build the correlation / PNR images, then take seeds strongest first; each accepted
//! neuron is removed from the filtered data and the images are recomputed around it before the next seed.
//!
//! The raw data are never copied: the raw box of a seed is read from the movie minus the neurons accepted so far
//! in this round that overlap it.

use rayon::prelude::*;

use super::extract::extract_ac;
use super::seeds::{SearchMap, score};
use crate::extraction::ExtractionError;
use crate::extraction::movie::Movie;
use crate::extraction::params::CnmfParams;
use crate::extraction::summary::corr_pnr::{CorrPnr, pixel_statistics};
use crate::extraction::summary::gsig_filter::{FilterScratch, GsigFilter, filter_movie};
use crate::extraction::summary::neighbours::{Standardise, neighbour_correlation};
use crate::progress::{NoProgress, Progress};

/// A neuron found by a round: footprint over full-frame pixels (C order) and its non-negative trace.
#[derive(Debug, Clone)]
pub struct Found {
    /// Pixels of the footprint, ascending.
    pub pixels: Vec<u32>,
    /// Footprint values.
    pub values: Vec<f32>,
    /// Trace (`T` values, >= 0).
    pub trace: Vec<f32>,
    /// Seed pixel `(row, column)`.
    pub center: (usize, usize),
    /// Bounding box of the footprint `(r0, r1, c0, c1)`, half-open.
    bbox: (usize, usize, usize, usize),
}

/// The parameters a round reads, checked once.
#[derive(Debug, Clone)]
pub struct RoundSettings {
    /// Lateral `gSig` `(y, x)`.
    pub gsig: [f64; 2],
    /// Neuron diameter `gSiz`, px (the larger lateral entry).
    pub gsiz: usize,
    /// `center_psf`.
    pub center_psf: bool,
    /// `min_corr`.
    pub min_corr: f32,
    /// `min_pnr`.
    pub min_pnr: f32,
    /// `min_pixel`.
    pub min_pixel: usize,
    /// `border_pix`.
    pub border: usize,
}

impl RoundSettings {
    /// Read and check the initialisation parameters for an `h x w` movie.
    pub fn from_params(p: &CnmfParams, h: usize, w: usize) -> Result<Self, ExtractionError> {
        let gsig = match p.gsig[..] {
            [g] => [g, g],
            [.., gy, gx] => [gy, gx],
            [] => return Err(ExtractionError::BadParameter("gSig is empty".into())),
        };
        let gsiz = p.gsiz.iter().rev().take(2).copied().max().unwrap_or(0);
        if gsiz == 0 {
            return Err(ExtractionError::BadParameter("gSiz must be at least 1 px".into()));
        }
        if 2 * p.border_pix + 1 >= h.min(w) {
            return Err(ExtractionError::BadParameter(format!(
                "border_pix {} leaves nothing of the {h} x {w} frame",
                p.border_pix
            )));
        }
        Ok(Self {
            gsig,
            gsiz,
            center_psf: p.center_psf,
            min_corr: p.min_corr as f32,
            min_pnr: p.min_pnr as f32,
            min_pixel: p.min_pixel,
            border: p.border_pix,
        })
    }
}

/// Box of half-size `r` around `(i, j)` clipped to the frame: `(r0, r1, c0, c1)`, half-open.
fn around(i: usize, j: usize, r: usize, h: usize, w: usize) -> (usize, usize, usize, usize) {
    (i.saturating_sub(r), (i + r + 1).min(h), j.saturating_sub(r), (j + r + 1).min(w))
}

/// Frame-major copy (`t x n`) of a box of the movie.
fn gather(m: &Movie, (r0, r1, c0, c1): (usize, usize, usize, usize)) -> Vec<f32> {
    let (d, w) = (m.d(), m.dims[1]);
    let bw = c1 - c0;
    let n = (r1 - r0) * bw;
    let mut out = vec![0f32; m.t * n];
    out.par_chunks_mut(n).enumerate().for_each(|(t, o)| {
        let f = &m.data[t * d..(t + 1) * d];
        for (k, r) in (r0..r1).enumerate() {
            o[k * bw..(k + 1) * bw].copy_from_slice(&f[r * w + c0..r * w + c1]);
        }
    });
    out
}

/// Seed neurons in `raw` (at most `budget`); returns them and the correlation / PNR images before any removal.
pub fn seed_round(
    raw: &Movie,
    s: &RoundSettings,
    budget: usize,
    progress: &dyn Progress,
) -> Result<(Vec<Found>, CorrPnr), ExtractionError> {
    let (h, w, t) = (raw.dims[0], raw.dims[1], raw.t);
    let d = h * w;
    let mut filtered = filter_movie(raw, &s.gsig, s.center_psf)?;
    // Each pixel's standardisation is kept: after a neuron is removed only the pixels it touched are recomputed.
    let (pnr0, mut zpar) = pixel_statistics(&filtered.data, d, t, &NoProgress)?;
    let corr0 = neighbour_correlation(&filtered.data, &[h, w], t, &zpar, &NoProgress)?;
    let images = CorrPnr { dims: vec![h, w], corr: corr0, pnr: pnr0 };
    let (mut corr, mut pnr) = (images.corr.clone(), images.pnr.clone());
    let mut map = SearchMap::new(h, w, &corr, &pnr, s.min_corr, s.min_pnr, s.border);
    let filter = GsigFilter::new(&s.gsig, &[h, w], s.center_psf)?;
    let mut scratch = FilterScratch::default();
    let min_v = s.min_corr * s.min_pnr;
    let window = ((s.gsiz as f64 / 4.0).round_ties_even() as usize).max(1);
    let mut found: Vec<Found> = Vec::new();
    progress.start("CNMF-E seeds", 0);
    'search: while found.len() < budget {
        let seeds = map.candidates(window, min_v);
        if seeds.is_empty() {
            break;
        }
        for (p, _) in seeds {
            if progress.cancelled() {
                return Err(ExtractionError::Cancelled);
            }
            map.done[p] = true;
            if map.v[p] < min_v {
                continue; // weakened by a neuron found after the candidates were listed
            }
            let (i, j) = (p / w, p % w);
            if !has_transient(&filtered, p) {
                map.v[p] = 0.0;
                continue;
            }
            let bx = around(i, j, s.gsiz, h, w);
            let (bh, bw) = (bx.1 - bx.0, bx.3 - bx.2);
            let fbox = gather(&filtered, bx);
            let mut rbox = gather(raw, bx);
            remove_found(&mut rbox, bx, &found, w, t);
            let ctr = (i - bx.0) * bw + (j - bx.2);
            let Some(ex) = extract_ac(&fbox, &rbox, t, (bh, bw), ctr) else { continue };
            let support = ex.a.iter().filter(|&&v| v > 0.0).count();
            let trace: Vec<f32> = ex.c.iter().map(|&v| v.max(0.0)).collect();
            if support < s.min_pixel.max(1) || trace.iter().all(|&v| v == 0.0) {
                continue;
            }
            // Accepted: never seed inside its brighter half again.
            let amax = ex.a.iter().copied().fold(0.0f32, f32::max);
            let (mut pixels, mut values) = (Vec::new(), Vec::new());
            let mut bb = (usize::MAX, 0, usize::MAX, 0);
            for (k, &v) in ex.a.iter().enumerate() {
                if v <= 0.0 {
                    continue;
                }
                let (r, c) = (bx.0 + k / bw, bx.2 + k % bw);
                pixels.push((r * w + c) as u32);
                values.push(v);
                bb = (bb.0.min(r), bb.1.max(r + 1), bb.2.min(c), bb.3.max(c + 1));
                if v > amax / 2.0 {
                    map.done[r * w + c] = true;
                }
            }
            let neuron = Found { pixels, values, trace, center: (i, j), bbox: bb };
            update_around(&mut filtered, &neuron, &filter, &mut scratch, s, (&mut corr, &mut pnr, &mut zpar), &mut map);
            found.push(neuron);
            progress.advance(1);
            if found.len() >= budget {
                break 'search;
            }
        }
    }
    debug_assert_eq!(corr.len(), d);
    Ok((found, images))
}

/// CaImAn's quick check: the seed's frame-to-frame differences have a jump of at least 3 standard deviations.
fn has_transient(filtered: &Movie, p: usize) -> bool {
    let d = filtered.d();
    let diffs: Vec<f64> = (1..filtered.t)
        .map(|t| f64::from(filtered.data[t * d + p]) - f64::from(filtered.data[(t - 1) * d + p]))
        .collect();
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let sd = (diffs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
    diffs.iter().copied().fold(f64::MIN, f64::max) >= 3.0 * sd
}

/// Subtract the neurons found so far from a frame-major raw box of a `w`-column frame.
fn remove_found(rbox: &mut [f32], (r0, r1, c0, c1): (usize, usize, usize, usize), found: &[Found], w: usize, t: usize) {
    let bw = c1 - c0;
    let n = (r1 - r0) * bw;
    for f in found {
        if f.bbox.0 >= r1 || f.bbox.1 <= r0 || f.bbox.2 >= c1 || f.bbox.3 <= c0 {
            continue;
        }
        let inside: Vec<(usize, f32)> = f
            .pixels
            .iter()
            .zip(&f.values)
            .filter_map(|(&p, &v)| {
                let (r, c) = (p as usize / w, p as usize % w);
                (r >= r0 && r < r1 && c >= c0 && c < c1).then(|| ((r - r0) * bw + (c - c0), v))
            })
            .collect();
        for (ti, frame) in rbox.chunks_exact_mut(n).enumerate().take(t) {
            let c = f.trace[ti];
            if c == 0.0 {
                continue;
            }
            for &(k, v) in &inside {
                frame[k] -= v * c;
            }
        }
    }
}

/// Remove an accepted neuron from the filtered movie and recompute the images around it, as CaImAn does (PNR
/// within `2 gSiz`, correlation within `gSiz`). Only the pixels whose filtered series changed (where the filtered
/// footprint is non-zero) get new statistics, and only the correlation of pixels next to them changes; every other
/// pixel would get back exactly the value it has, so it is left alone.
fn update_around(
    filtered: &mut Movie,
    f: &Found,
    filter: &GsigFilter,
    scratch: &mut FilterScratch,
    s: &RoundSettings,
    (corr, pnr, zpar): (&mut [f32], &mut [f32], &mut [Standardise]),
    map: &mut SearchMap,
) {
    let (h, w, t) = (filtered.dims[0], filtered.dims[1], filtered.t);
    let d = h * w;
    let (i, j) = f.center;
    let b2 = around(i, j, 2 * s.gsiz, h, w);
    let (h2, w2) = (b2.1 - b2.0, b2.3 - b2.2);
    let mut img = vec![0f32; h2 * w2];
    for (&p, &v) in f.pixels.iter().zip(&f.values) {
        let (r, c) = (p as usize / w, p as usize % w);
        if r >= b2.0 && r < b2.1 && c >= b2.2 && c < b2.3 {
            img[(r - b2.0) * w2 + (c - b2.2)] = v;
        }
    }
    let mut af = vec![0f32; h2 * w2];
    filter.apply_plane(&img, h2, w2, &mut af, scratch);
    filtered.data.par_chunks_mut(d).zip(f.trace.par_iter()).for_each(|(frame, &c)| {
        if c == 0.0 {
            return;
        }
        for r in 0..h2 {
            let row = &mut frame[(b2.0 + r) * w + b2.2..(b2.0 + r) * w + b2.3];
            for (x, &a) in row.iter_mut().zip(&af[r * w2..(r + 1) * w2]) {
                *x -= a * c;
            }
        }
    });
    // The rectangle of changed pixels.
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    for (q, &a) in af.iter().enumerate() {
        if a != 0.0 {
            let (r, c) = (b2.0 + q / w2, b2.2 + q % w2);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r + 1), c0.min(c), c1.max(c + 1));
        }
    }
    if r0 < r1 && f.trace.iter().any(|&c| c != 0.0) {
        let rect = (r0, r1, c0, c1);
        let rw = c1 - c0;
        let Ok((lp, lz)) = pixel_statistics(&gather(filtered, rect), (r1 - r0) * rw, t, &NoProgress) else { return };
        for (q, (&pv, &zv)) in lp.iter().zip(&lz).enumerate() {
            let p = (r0 + q / rw) * w + c0 + q % rw;
            (pnr[p], zpar[p]) = (pv, zv);
        }
        // Correlation of the pixels within one pixel of the rectangle (and inside the gSiz box), from a box one
        // pixel larger still so each of them has all its neighbours.
        let b1 = around(i, j, s.gsiz, h, w);
        let reg = (r0.saturating_sub(1).max(b1.0), (r1 + 1).min(b1.1), c0.saturating_sub(1).max(b1.2), (c1 + 1).min(b1.3));
        if reg.0 < reg.1 && reg.2 < reg.3 {
            let bx = (reg.0.saturating_sub(1), (reg.1 + 1).min(h), reg.2.saturating_sub(1), (reg.3 + 1).min(w));
            let bw = bx.3 - bx.2;
            let zb: Vec<Standardise> = (bx.0..bx.1).flat_map(|r| zpar[r * w + bx.2..r * w + bx.3].iter().copied()).collect();
            let Ok(lc) = neighbour_correlation(&gather(filtered, bx), &[bx.1 - bx.0, bw], t, &zb, &NoProgress) else { return };
            for r in reg.0..reg.1 {
                for c in reg.2..reg.3 {
                    corr[r * w + c] = lc[(r - bx.0) * bw + (c - bx.2)];
                }
            }
        }
    }
    for r in b2.0..b2.1 {
        for c in b2.2..b2.3 {
            let p = r * w + c;
            map.v[p] = if map.done[p] { 0.0 } else { score(corr[p], pnr[p], s.min_corr, s.min_pnr) };
        }
    }
}
