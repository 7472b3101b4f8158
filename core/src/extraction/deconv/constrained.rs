//! Noise-constrained deconvolution (CaImAn's `constrained_foopsi` with `method_deconvolution = 'oasis'`):
//! `min ||s||_1` subject to `||y - b - c||^2 <= sn^2 T`, `s = G c >= 0`, with the baseline `b` estimated.
//!
//! The penalised problem `min 1/2 ||y - b - c||^2 + lam ||s||_1` depends on `b` and `lam` almost only through
//! `delta = b + lam (1 - sum g)` (both lower the target uniformly; only the last `p` samples tell them apart), and
//! at the joint optimum `b = mean(y - c)`. So we search the single scalar `delta` until the residual meets the
//! noise constraint, running O(T) OASIS per step, and read `b` and `lam` off the solution.

use ndarray::Array2;
use rayon::prelude::*;

use super::ar::{decay_root, estimate_ar};
use super::noise::{NoiseMethod, psd_noise};
use super::oasis::{OasisKernel, end_excess, spikes_from_calcium};

/// Settings of [`constrained_foopsi`], under CaImAn's names; `Default` is CaImAn's `CNMFParams` temporal defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct FoopsiOptions {
    /// AR order: 0 (no deconvolution), 1 or 2 (higher orders are solved as AR(2)).
    pub p: usize,
    /// Known AR coefficients (estimated from the trace when `None`).
    pub g: Option<Vec<f32>>,
    /// Known noise std (estimated from the PSD when `None`).
    pub sn: Option<f32>,
    /// Keep the baseline non-negative.
    pub bas_nonneg: bool,
    /// Minimum spike size: `None` = L1 penalty only; `< 0` = `|s_min| sn sqrt(1 - d)`; `0` = automatic.
    pub s_min: Option<f64>,
    /// Large isolated events used to refine `g` (CaImAn's `optimize_g`; not implemented, see the module docs).
    pub optimize_g: usize,
    /// PSD band (fraction of the sampling rate) treated as noise.
    pub noise_range: [f64; 2],
    /// How the PSD band is averaged.
    pub noise_method: NoiseMethod,
    /// Extra autocovariance lags for the AR estimate.
    pub lags: usize,
    /// Shrinks the estimated AR roots to reduce the bias of the autocovariance estimate.
    pub fudge_factor: f64,
}

impl Default for FoopsiOptions {
    fn default() -> Self {
        Self {
            p: 2,
            g: None,
            sn: None,
            bas_nonneg: false,
            s_min: None,
            optimize_g: 0,
            noise_range: [0.25, 0.5],
            noise_method: NoiseMethod::Mean,
            lags: 5,
            fudge_factor: 0.96,
        }
    }
}

/// One deconvolved trace, as CaImAn's `constrained_foopsi` returns it: the full fit is
/// `c + baseline + c1 d^t` (see [`Deconvolved::full_calcium`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Deconvolved {
    /// Denoised calcium without baseline and without the initial transient `c1 d^t`.
    pub c: Vec<f32>,
    /// Deconvolved activity (`s_t = c_t - sum g_k c_{t-k}`, zero for `t < p`).
    pub s: Vec<f32>,
    /// Constant baseline `b`.
    pub baseline: f32,
    /// Calcium at `t = 0`, decaying as `d^t` (`d` the slow AR root).
    pub c1: f32,
    /// AR coefficients used.
    pub g: Vec<f32>,
    /// Noise std used for the constraint.
    pub sn: f32,
    /// Sparsity penalty at which the noise constraint is met.
    pub lam: f32,
}

impl Deconvolved {
    /// `c + baseline + c1 d^t`: the row CaImAn stores in `Estimates.C` (`constrained_foopsi_parallel`).
    pub fn full_calcium(&self) -> Vec<f32> {
        let g: Vec<f64> = self.g.iter().map(|&v| f64::from(v)).collect();
        let d = decay_root(&g);
        let mut dt = 1.0_f64;
        self.c
            .iter()
            .map(|&v| {
                let out = f64::from(v) + f64::from(self.baseline) + f64::from(self.c1) * dt;
                dt *= d;
                out as f32
            })
            .collect()
    }
}

/// Below this many samples a trace carries no usable AR/noise information: we return a flat fit.
const MIN_SAMPLES: usize = 5;
/// Relative tolerance on the residual for the noise constraint (CaImAn: 1e-4).
const RSS_TOL: f64 = 1e-4;
/// Cap on root-finding steps; each step is one O(T) OASIS run.
const MAX_STEPS: usize = 60;

/// Deconvolve one trace under CaImAn's noise-constrained semantics; never panics (non-finite or very short traces
/// give zeros or a flat fit).
pub fn constrained_foopsi(trace: &[f32], opts: &FoopsiOptions) -> Deconvolved {
    let t = trace.len();
    let p = opts.p.min(2);
    if trace.iter().any(|v| !v.is_finite()) {
        return flat(t, 0.0, opts, p, 0.0);
    }
    let y: Vec<f64> = trace.iter().map(|&v| f64::from(v)).collect();
    let mean = if t > 0 { y.iter().sum::<f64>() / t as f64 } else { 0.0 };
    if t < MIN_SAMPLES {
        let b = if opts.bas_nonneg { mean.max(0.0) } else { mean };
        return flat(t, b as f32, opts, p, opts.sn.unwrap_or(0.0));
    }
    let sn = match opts.sn {
        Some(v) if v.is_finite() && v >= 0.0 => v,
        _ => psd_noise(trace, opts.noise_range, opts.noise_method),
    };
    if p == 0 {
        // CaImAn: c = max(y, 0), no baseline, no kernel (and s = c; we report no spikes).
        return Deconvolved {
            c: trace.iter().map(|v| v.max(0.0)).collect(),
            s: vec![0.0; t],
            baseline: 0.0,
            c1: 0.0,
            g: Vec::new(),
            sn,
            lam: 0.0,
        };
    }
    let g: Vec<f32> = match &opts.g {
        Some(g) if !g.is_empty() && g.iter().all(|v| v.is_finite()) => g.iter().take(2).copied().collect(),
        _ => estimate_ar(trace, p, sn, opts.lags, opts.fudge_factor).into_iter().take(2).collect(),
    };
    let g64: Vec<f64> = g.iter().map(|&v| f64::from(v)).collect();
    let Some(kernel) = OasisKernel::new(&g64, t) else {
        return flat(t, mean as f32, opts, p, sn);
    };
    let mut solver = Constrained::new(&y, &g64, kernel, f64::from(sn));
    let mut fit = solver.solve_free_baseline();
    if opts.bas_nonneg && fit.b < 0.0 {
        fit = solver.solve_fixed_baseline(0.0);
    }
    if let Some(s_min) = opts.s_min {
        fit = solver.apply_s_min(fit, s_min);
    }
    finish(fit, &g64, g, sn)
}

/// Deconvolve every row of `traces` (`K x T`) in parallel.
pub fn deconvolve_all(traces: &Array2<f32>, opts: &FoopsiOptions) -> Vec<Deconvolved> {
    (0..traces.nrows())
        .into_par_iter()
        .map(|k| {
            let row: Vec<f32> = traces.row(k).iter().copied().collect();
            constrained_foopsi(&row, opts)
        })
        .collect()
}

/// Result with zero activity and constant baseline `b`.
fn flat(t: usize, b: f32, opts: &FoopsiOptions, p: usize, sn: f32) -> Deconvolved {
    let g = opts.g.clone().filter(|g| g.iter().all(|v| v.is_finite())).unwrap_or_else(|| vec![0.0; p]);
    Deconvolved { c: vec![0.0; t], s: vec![0.0; t], baseline: b, c1: 0.0, g, sn, lam: 0.0 }
}

/// Split the full calcium into CaImAn's `(c, c1)` and compute spikes.
fn finish(fit: Fit, g: &[f64], g32: Vec<f32>, sn: f32) -> Deconvolved {
    let s = spikes_from_calcium(&fit.c, g);
    let c1 = fit.c.first().copied().unwrap_or(0.0);
    let d = decay_root(g);
    let mut dt = 1.0;
    let c: Vec<f32> = fit
        .c
        .iter()
        .map(|&v| {
            let out = (v - c1 * dt).max(0.0);
            dt *= d;
            out as f32
        })
        .collect();
    Deconvolved {
        c,
        s: s.iter().map(|&v| v as f32).collect(),
        baseline: fit.b as f32,
        c1: c1 as f32,
        g: g32,
        sn,
        lam: fit.lam.max(0.0) as f32,
    }
}

/// A candidate solution: full calcium (with initial transient), baseline, penalty and residual.
#[derive(Debug, Clone)]
struct Fit {
    c: Vec<f64>,
    b: f64,
    lam: f64,
    rss: f64,
}

/// The noise-constrained search for one trace.
struct Constrained<'a> {
    y: &'a [f64],
    g: &'a [f64],
    kernel: OasisKernel,
    gamma: f64,
    thresh: f64,
    target: Vec<f64>,
}

impl<'a> Constrained<'a> {
    fn new(y: &'a [f64], g: &'a [f64], kernel: OasisKernel, sn: f64) -> Self {
        let gamma = (1.0 - g.iter().sum::<f64>()).max(1e-6);
        let thresh = sn * sn * y.len() as f64;
        Self { y, g, kernel, gamma, thresh, target: vec![0.0; y.len()] }
    }

    /// OASIS on `y - delta - lam * excess_t`, with `b` either fixed or set to `mean(y - c)`.
    fn eval(&mut self, delta: f64, lam_end: f64, fixed_b: Option<f64>) -> Fit {
        let t = self.y.len();
        let p = self.g.len();
        let lam_end = match fixed_b {
            Some(b) => ((delta - b) / self.gamma).max(0.0),
            None => lam_end,
        };
        for (k, (o, &v)) in self.target.iter_mut().zip(self.y).enumerate() {
            let extra = if k + p >= t { lam_end * end_excess(self.g, t, k) } else { 0.0 };
            *o = v - delta - extra;
        }
        let mut c = vec![0.0; t];
        self.kernel.solve(&self.target, 0.0, &mut c);
        let b = fixed_b.unwrap_or_else(|| self.y.iter().zip(&c).map(|(y, c)| y - c).sum::<f64>() / t as f64);
        let rss = self.y.iter().zip(&c).map(|(y, c)| (y - b - c) * (y - b - c)).sum();
        let lam = (delta - b) / self.gamma;
        Fit { c, b, lam, rss }
    }

    /// Joint `(b, c)` with the noise constraint tight; a flat fit when the whole trace is within the noise.
    fn solve_free_baseline(&mut self) -> Fit {
        self.search(None)
    }

    /// `c` with the baseline held at `b`.
    fn solve_fixed_baseline(&mut self, b: f64) -> Fit {
        self.search(Some(b))
    }

    fn search(&mut self, fixed_b: Option<f64>) -> Fit {
        let t = self.y.len();
        let (ymin, ymax) = self.y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let range = (ymax - ymin).max(1e-12);
        // With b fixed, delta = b + lam gamma and lam >= 0.
        let delta_floor = fixed_b;
        // Upper end: every target sample <= 0, so c = 0.
        let hi_delta = ymax + 1e-9 * range.max(ymax.abs());
        let mut lam_end = 0.0;
        let hi = self.eval(hi_delta, lam_end, fixed_b);
        if hi.rss <= self.thresh * (1.0 + RSS_TOL) {
            // Whole trace within the noise: no activity (CaImAn stops when c vanishes).
            let b = fixed_b.unwrap_or_else(|| self.y.iter().sum::<f64>() / t as f64);
            let rss = self.y.iter().map(|y| (y - b) * (y - b)).sum();
            return Fit { c: vec![0.0; t], b, lam: 0.0, rss };
        }
        let mut hi_d = hi_delta;
        let mut lo_d = match delta_floor {
            Some(f) => f,
            None => ymin - range,
        };
        let mut lo = self.eval(lo_d, lam_end, fixed_b);
        let mut step = range;
        let mut tries = 0;
        while lo.rss > self.thresh && delta_floor.is_none() && tries < 30 {
            step *= 2.0;
            lo_d -= step;
            lo = self.eval(lo_d, lam_end, fixed_b);
            tries += 1;
        }
        if lo.rss > self.thresh {
            // Cannot fit to within the noise even without penalty: best possible is the unpenalised fit.
            return lo;
        }
        // Illinois regula falsi on f(delta) = rss - thresh, f(lo) <= 0 < f(hi).
        let (mut f_lo, mut f_hi) = (lo.rss - self.thresh, hi.rss - self.thresh);
        let mut side = 0i8;
        let mut best = lo.clone();
        for _ in 0..MAX_STEPS {
            let w = hi_d - lo_d;
            let mut mid = hi_d - f_hi * w / (f_hi - f_lo);
            if !mid.is_finite() || mid <= lo_d + 1e-3 * w || mid >= hi_d - 1e-3 * w {
                mid = 0.5 * (lo_d + hi_d);
            }
            let fit = self.eval(mid, lam_end, fixed_b);
            lam_end = fit.lam.max(0.0);
            let f = fit.rss - self.thresh;
            if f.abs() <= RSS_TOL * self.thresh {
                return fit;
            }
            if f < 0.0 {
                lo_d = mid;
                f_lo = f;
                if side == -1 {
                    f_hi *= 0.5;
                }
                side = -1;
                best = fit;
            } else {
                hi_d = mid;
                f_hi = f;
                if side == 1 {
                    f_lo *= 0.5;
                }
                side = 1;
            }
            if hi_d - lo_d <= 1e-12 * range.max(1.0) {
                break;
            }
        }
        best
    }

    /// CaImAn's `penalty = 0` step: refit `y - b` without L1 penalty, allowing only spikes `>= s_min`
    /// (`s_min < 0`: `|s_min| sn sqrt(1 - d)`; `0`: the largest threshold that keeps the residual within the noise).
    fn apply_s_min(&mut self, fit: Fit, s_min: f64) -> Fit {
        let t = self.y.len();
        let target: Vec<f64> = self.y.iter().map(|y| y - fit.b).collect();
        let refit = |kernel: &mut OasisKernel, thr: f64| {
            let mut c = vec![0.0; t];
            kernel.solve(&target, thr, &mut c);
            let rss: f64 = target.iter().zip(&c).map(|(y, c)| (y - c) * (y - c)).sum();
            (c, rss)
        };
        let thr = if s_min > 0.0 {
            s_min
        } else if s_min < 0.0 {
            let d = decay_root(self.g);
            -s_min * (self.thresh / t as f64).sqrt() * (1.0 - d).max(0.0).sqrt()
        } else {
            // Binary search over the spike sizes of the L1 solution for the largest admissible threshold.
            let mut sizes: Vec<f64> = spikes_from_calcium(&fit.c, self.g).into_iter().filter(|&v| v > 1e-6).collect();
            sizes.sort_by(f64::total_cmp);
            if sizes.is_empty() {
                return fit;
            }
            let (mut lo, mut hi) = (0usize, sizes.len() - 1);
            let mut ok = None;
            while lo <= hi {
                let mid = (lo + hi) / 2;
                let (_, rss) = refit(&mut self.kernel, sizes[mid]);
                if rss < self.thresh {
                    ok = Some(sizes[mid]);
                    lo = mid + 1;
                } else {
                    if mid == 0 {
                        break;
                    }
                    hi = mid - 1;
                }
            }
            match ok {
                Some(v) => v,
                None => return fit,
            }
        };
        let (c, rss) = refit(&mut self.kernel, thr);
        Fit { c, b: fit.b, lam: fit.lam, rss }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let opts = FoopsiOptions::default();
        for tr in [vec![], vec![1.0], vec![1.0, 2.0, 3.0, 4.0], vec![0.0; 100], vec![3.5; 100]] {
            let d = constrained_foopsi(&tr, &opts);
            assert_eq!(d.c.len(), tr.len());
            assert!(d.s.iter().all(|v| *v == 0.0), "{tr:?}");
            assert!(d.c.iter().all(|v| v.is_finite()));
        }
        let mut nan = vec![1.0_f32; 50];
        nan[10] = f32::NAN;
        let d = constrained_foopsi(&nan, &opts);
        assert!(d.c.iter().chain(&d.s).all(|v| *v == 0.0));
        let p0 = constrained_foopsi(&[1.0, -2.0, 3.0, 4.0, 5.0, 6.0], &FoopsiOptions { p: 0, ..Default::default() });
        assert_eq!(p0.c, vec![1.0, 0.0, 3.0, 4.0, 5.0, 6.0]);
    }
}
