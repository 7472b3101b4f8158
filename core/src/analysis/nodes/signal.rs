//! Signal nodes: Butterworth, SavitzkyGolay, PowSpecDens, Resample, ScalerMeanVariance, Normalize, RFFT, iRFFT,
//! SigmaMAD.

use polars::prelude::*;
use rayon::prelude::*;
use realfft::RealFftPlanner;
use serde_json::json;

use super::columns::{common_rate, equal_length, map_curves, read_curves, row_rates, set_column};
use super::flat::{map_flat, same_len};
use super::spec::{IN, OUT};
use super::{Category, NodeCall, NodeError, NodeSpec, Outputs, ParamDefault as D, ParamKind as K, ParamSpec as P, data_err, out};
use crate::analysis::BlockSel;
use crate::analysis::signal::{butter, fftpack, filtfilt, savgol, spectral};

pub(super) const NODES: &[&NodeSpec] =
    &[&BUTTERWORTH, &SAVITZKY_GOLAY, &POW_SPEC_DENS, &RESAMPLE, &SCALER_MEAN_VARIANCE, &NORMALIZE, &RFFT, &IRFFT, &SIGMA_MAD];

thread_local! {
    static PLANNER: std::cell::RefCell<RealFftPlanner<f64>> = std::cell::RefCell::new(RealFftPlanner::new());
}

/// Run `f` with this thread's FFT planner (plans are cached per size and thread).
fn with_planner<R>(f: impl FnOnce(&mut RealFftPlanner<f64>) -> R) -> R {
    PLANNER.with(|p| f(&mut p.borrow_mut()))
}

const BUTTERWORTH: NodeSpec = NodeSpec {
    name: "Butterworth",
    aliases: &["ButterWorth"],
    category: Category::Signal,
    help: "low-pass Butterworth filter applied forwards and backwards (scipy butter + filtfilt)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("order", K::Int { min: 1, max: 100 }, D::Int(2), "order of the filter"),
        P::new(
            "freq_divisor",
            K::Float,
            D::Float(2.0),
            "the original's cutoff: normalised Wn = (1 / fps) / freq_divisor (kept for old flowcharts)",
        ),
        P::new("cutoff_hz", K::Float, D::Null, "cutoff frequency in Hz; when given it replaces freq_divisor"),
    ],
    run: run_butterworth,
};

fn run_butterworth(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let order = c.params.int("order") as usize;
    let divisor = c.params.float("freq_divisor");
    let cutoff = c.params.opt_float("cutoff_hz");
    if cutoff.is_none() && divisor <= 0.0 {
        return Err(NodeError::Param { param: "freq_divisor".into(), message: format!("must be > 0, got {divisor}") });
    }
    let rates = row_rates(t)?;
    // Normalised cutoff per row (rows may come from samples with different frame rates).
    let wns: Vec<f64> = rates
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let fps = r.ok_or_else(|| data_err(format!("Butterworth: row {i} has no fps in its 'meta' column")))?;
            let wn = match cutoff {
                Some(hz) => hz / (fps / 2.0),
                None => (1.0 / fps) / divisor,
            };
            if !(wn > 0.0 && wn < 1.0) {
                return Err(data_err(format!(
                    "Butterworth: row {i}: normalised cutoff Wn = {wn} (fps {fps}) must be between 0 and 1 exclusive"
                )));
            }
            Ok(wn)
        })
        .collect::<Result<_, _>>()?;
    let wn_log = if wns.iter().all(|w| *w == wns[0]) { json!(wns[0]) } else { json!(wns) };
    let extra = json!({"order": order, "Wn": wn_log, "freq_divider": divisor, "cutoff_hz": cutoff});
    let t = map_curves(t, &col, "_BUTTERWORTH", "butterworth", extra, |i, x| {
        let (b, a) = butter::butter(order, &[wns[i]], butter::BType::Lowpass)?;
        filtfilt::filtfilt(&b, &a, x)
    })?;
    out(t)
}

const SAVITZKY_GOLAY: NodeSpec = NodeSpec {
    name: "SavitzkyGolay",
    aliases: &["Savitzky_Golay"],
    category: Category::Signal,
    help: "Savitzky-Golay smoothing (scipy savgol_filter, mode 'interp')",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("window_length", K::Int { min: 1, max: 1_000_000 }, D::Int(3), "window size, odd"),
        P::new("polyorder", K::Int { min: 0, max: 1_000_000 }, D::Int(1), "polynomial order, less than window_length"),
    ],
    run: run_savgol,
};

fn run_savgol(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let w = c.params.int("window_length") as usize;
    let p = c.params.int("polyorder") as usize;
    if w % 2 == 0 {
        return Err(NodeError::Param { param: "window_length".into(), message: format!("must be odd, got {w}") });
    }
    if p >= w {
        return Err(NodeError::Param { param: "polyorder".into(), message: format!("must be less than window_length ({w}), got {p}") });
    }
    let extra = json!({"window_length": w, "polyorder": p});
    out(map_curves(t, &col, "_SAVITZKY_GOLAY", "savitzky_golay", extra, |_, x| savgol::savgol_filter(x, w, p, 0, 1.0))?)
}

const POW_SPEC_DENS: NodeSpec = NodeSpec {
    name: "PowSpecDens",
    aliases: &[],
    category: Category::Signal,
    help: "power spectral density (scipy periodogram) at the data's sampling rate; frequencies logged in the history",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: run_psd,
};

fn run_psd(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let fs = common_rate(t, "PowSpecDens")?;
    let curves = read_curves(t, &col)?;
    let n = equal_length(&curves, &col, "PowSpecDens").ok();
    let freqs = n.map(|n| spectral::periodogram_freqs(n, fs));
    let extra = json!({"sampling_rate": fs, "frequencies": freqs, "units": "frequency"});
    let mut t = map_curves(t, &col, "_POWER_SPECTRAL_DENSITY", "power_spectral_density", extra, |_, x| {
        Ok(with_planner(|pl| spectral::periodogram(pl, x, fs).1))
    })?;
    t.last_unit = Some("frequency".into());
    out(t)
}

const RESAMPLE: NodeSpec = NodeSpec {
    name: "Resample",
    aliases: &[],
    category: Category::Signal,
    help: "FFT resampling (scipy resample) to Rs samples per Tu seconds",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("Rs", K::Int { min: 1, max: 1_000_000 }, D::Int(10), "new sampling rate in Tu units of time"),
        P::new("Tu", K::Int { min: 1, max: 1_000_000 }, D::Int(1), "time unit in seconds (1: Rs is in Hz)"),
    ],
    run: run_resample,
};

fn run_resample(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let new_rate = c.params.int("Rs") as f64 / c.params.int("Tu") as f64;
    let rates = row_rates(t)?;
    let extra = json!({"output_rate": new_rate});
    out(map_curves(t, &col, "_RESAMPLE", "resample", extra, |i, x| {
        let fps = rates[i].ok_or("no fps in the 'meta' column (a frame rate must be set)")?;
        // The original's int((Ns / Nf) * new_rate): truncation, kept so that old histories reproduce.
        let num = ((x.len() as f64 / fps) * new_rate) as usize;
        if num == 0 {
            return Err(format!("resampling {} values at {fps} Hz to {new_rate} Hz leaves no samples", x.len()));
        }
        Ok(with_planner(|pl| spectral::resample(pl, x, num)))
    })?)
}

const SCALER_MEAN_VARIANCE: NodeSpec = NodeSpec {
    name: "ScalerMeanVariance",
    aliases: &["ScalerMeanVar"],
    category: Category::Signal,
    help: "scale each curve to mean mu and standard deviation std (tslearn TimeSeriesScalerMeanVariance)",
    inputs: IN,
    outputs: OUT,
    params: &[
        P::data_column(),
        P::new("mu", K::Float, D::Float(0.0), "mean of the output"),
        P::new("std", K::Float, D::Float(1.0), "standard deviation of the output"),
    ],
    run: run_scaler,
};

fn run_scaler(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let (mu, sd) = (c.params.float("mu"), c.params.float("std"));
    let extra = json!({"mu": mu, "std": sd});
    out(map_flat(t, &col, "_SCALER_MEAN_VARIANCE", "scaler_mean_variance", extra, |c| {
        c.map_rows(same_len, |_, x, y| {
            let n = x.len() as f64;
            let m = x.iter().sum::<f64>() / n;
            let s = (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
            // tslearn replaces a zero standard deviation by 1 (constant curves become mu).
            let s = if s == 0.0 { 1.0 } else { s };
            y.iter_mut().zip(x).for_each(|(y, v)| *y = (v - m) / s * sd + mu);
            Ok(())
        })
    })?)
}

const NORMALIZE: NodeSpec = NodeSpec {
    name: "Normalize",
    aliases: &[],
    category: Category::Signal,
    help: "scale each curve to [0, 1] by its own minimum and maximum",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: run_normalize,
};

fn run_normalize(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    out(map_flat(t, &col, "_NORMALIZE", "normalize", json!({}), |c| {
        c.map_rows(same_len, |_, x, y| {
            let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // numpy gives NaN (0/0) for a constant curve; so do we, rather than inventing a value.
            y.iter_mut().zip(x).for_each(|(y, v)| *y = (v - lo) / (hi - lo));
            Ok(())
        })
    })?)
}

const RFFT: NodeSpec = NodeSpec {
    name: "RFFT",
    aliases: &[],
    category: Category::Signal,
    help: "real discrete Fourier transform in scipy.fftpack's packed layout",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: run_rfft,
};

fn run_rfft(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let rate = common_rate(t, "RFFT")?;
    let curves = read_curves(t, &col)?;
    let n = equal_length(&curves, &col, "RFFT")?;
    let freqs: Vec<f64> = fftpack::rfftfreq_packed(n, 1.0).iter().map(|f| f * rate).collect();
    let nyquist = freqs.iter().copied().fold(0.0, f64::max);
    let extra = json!({"frequencies": freqs, "sampling_rate": rate, "nyquist_frequency": nyquist, "units": "frequency"});
    let mut t = map_curves(t, &col, "_RFFT", "rfft", extra, |_, x| Ok(with_planner(|pl| fftpack::rfft_packed(pl, x))))?;
    t.last_unit = Some("frequency".into());
    out(t)
}

const IRFFT: NodeSpec = NodeSpec {
    name: "iRFFT",
    aliases: &[],
    category: Category::Signal,
    help: "inverse of RFFT (scipy.fftpack.irfft)",
    inputs: IN,
    outputs: OUT,
    params: &[P::new("data_column", K::Column, D::Text("_RFFT"), "column holding packed spectra (RFFT's output)")],
    run: run_irfft,
};

fn run_irfft(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let extra = json!({"units": "time"});
    let mut t = map_curves(t, &col, "_IRFFT", "irfft", extra, |_, y| Ok(with_planner(|pl| fftpack::irfft_packed(pl, y))))?;
    t.last_unit = Some("time".into());
    out(t)
}

const SIGMA_MAD: NodeSpec = NodeSpec {
    name: "SigmaMAD",
    aliases: &[],
    category: Category::Signal,
    help: "median absolute deviation of each curve, a robust noise estimate (one number per row)",
    inputs: IN,
    outputs: OUT,
    params: &[P::data_column()],
    run: run_sigma_mad,
};

/// Median as numpy computes it (mean of the two middle values for even lengths; NaN if any value is NaN, or for an
/// empty array), by selection in O(n).
pub(crate) fn median(x: &[f64]) -> f64 {
    if x.is_empty() || x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    let n = v.len();
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}

fn run_sigma_mad(c: &NodeCall) -> Result<Outputs, NodeError> {
    let t = c.trn("In")?;
    let col = c.data_column(t)?;
    let curves = read_curves(t, &col)?;
    let mad: Vec<f64> = curves
        .par_iter()
        .map(|x| {
            let m = median(x);
            median(&x.iter().map(|v| (v - m).abs()).collect::<Vec<_>>())
        })
        .collect();
    let mut t = t.clone();
    set_column(&mut t, Column::new("_SIGMAMAD".into(), mad))?;
    t.history.add_operation(BlockSel::All, "sigmamad", json!({"data_column": col}))?;
    out(t)
}
