//! `mesmerize corr-pnr`: CNMF-E's correlation and peak-to-noise-ratio images for a `gSig`, written as float32
//! TIFFs (PREFIX_corr.tiff, PREFIX_pnr.tiff), on the CPU or in WGSL.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use mesmerize_core::device::DeviceChoice;
use mesmerize_core::extraction::Movie;
use mesmerize_core::extraction::summary::{CorrPnr, corr_pnr_in_place};
use mesmerize_core::progress::Progress;
use mesmerize_gpu::GpuContext;
use mesmerize_gpu::extraction::summary::GpuSummary;

use super::OpenArgs;
use super::progress::Bar;

/// Arguments of `mesmerize corr-pnr`.
#[derive(Debug, Args)]
pub struct CorrPnrArgs {
    /// Input movie.
    pub input: PathBuf,
    #[command(flatten)]
    pub open: OpenArgs,
    /// gSig: expected half-size of a neuron in pixels, `N` or `Y,X`.
    #[arg(long, value_parser = parse_gsig)]
    pub gsig: Gsig,
    /// Output prefix: PREFIX_corr.tiff and PREFIX_pnr.tiff.
    #[arg(long)]
    pub out: PathBuf,
    /// Plain Gaussian blur instead of CNMF-E's mean-subtracted (centred) PSF filter.
    #[arg(long)]
    pub no_center_psf: bool,
    /// auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// A parsed `--gsig`: one value for both axes or `Y,X`.
#[derive(Debug, Clone)]
pub struct Gsig(pub Vec<f64>);

/// Parse `N` or `Y,X` (positive numbers).
pub fn parse_gsig(s: &str) -> Result<Gsig, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| format!("'{s}' is not N or Y,X (numbers)")))
        .collect::<Result<_, _>>()?;
    if v.is_empty() || v.len() > 2 {
        return Err(format!("'{s}': give one value or two (Y,X)"));
    }
    if v.iter().any(|g| !(g.is_finite() && *g > 0.0)) {
        return Err(format!("'{s}': gSig must be positive"));
    }
    Ok(Gsig(v))
}


/// Correlation and PNR images on the device `choice` picks (the GPU path uploads the movie once).
pub fn compute(movie: Movie, gsig: &[f64], center_psf: bool, choice: DeviceChoice, progress: &dyn Progress) -> anyhow::Result<(CorrPnr, String)> {
    Ok(match GpuContext::request(choice)? {
        Some(ctx) => {
            let gpu = GpuSummary::upload(&ctx, &movie)?;
            (gpu.compute(gsig, center_psf, progress)?, format!("gpu: {}", ctx.describe()))
        }
        None => (corr_pnr_in_place(movie, gsig, center_psf, progress)?, "cpu".to_string()),
    })
}

/// Compute and write the two images.
pub fn run(args: &CorrPnrArgs) -> anyhow::Result<()> {
    let img = args.open.open(&args.input)?;
    let s = img.shape();
    let mut meta = img.meta().clone();
    let bar = Bar::new();
    let movie = Movie::load(&img, &bar)?;
    drop(img);
    let (out, device) = compute(movie, &args.gsig.0, !args.no_center_psf, args.device, &bar)
        .with_context(|| format!("corr-pnr of {}", args.input.display()))?;
    bar.finish();
    super::projections::write_images(&args.out, s, &[("corr", &out.corr), ("pnr", &out.pnr)])?;
    // Each image's sidecar: the input's metadata plus a `corr_pnr` history entry with the parameters.
    let mut history = meta.extra.get("history_trace").and_then(|h| h.as_array().cloned()).unwrap_or_default();
    history.push(serde_json::json!({ "corr_pnr": { "gSig": args.gsig.0, "center_psf": !args.no_center_psf, "device": device,
        "input": args.input.display().to_string() } }));
    meta.extra.insert("history_trace".into(), serde_json::Value::Array(history));
    for name in ["corr", "pnr"] {
        let path = super::projections::with_suffix(&args.out, name);
        mesmerize_core::io::tiff::write_sidecar(&path, &meta).with_context(|| format!("metadata of {}", path.display()))?;
    }
    Ok(())
}

/// `mesmerize bench corr-pnr`: simulate a 1-photon movie in memory, then time `corr_pnr` on each device asked for.
pub fn bench(size: &str, frames: usize, gsig: f64, device: DeviceChoice, seed: u64, json: bool) -> anyhow::Result<()> {
    use mesmerize_core::progress::NoProgress;
    use mesmerize_core::simulate::{SimConfig, SimKind, Simulator};
    use rayon::prelude::*;
    let (w, h) = size
        .split_once(['x', 'X'])
        .and_then(|(a, b)| Some((a.trim().parse::<usize>().ok()?, b.trim().parse::<usize>().ok()?)))
        .with_context(|| format!("--size '{size}' is not WxH"))?;
    let mut cfg = SimConfig::new(SimKind::OneP);
    (cfg.width, cfg.height, cfg.frames, cfg.seed) = (w, h, frames, seed);
    let sim = Simulator::new(cfg)?;
    let start = std::time::Instant::now();
    let mut data = vec![0.0f32; w * h * frames];
    data.par_chunks_mut(w * h).enumerate().try_for_each(|(t, frame)| sim.try_render_frame(t, frame))?;
    eprintln!("simulated {w}x{h}x{frames} 1p movie in {:.1} s", start.elapsed().as_secs_f64());
    let movie = Movie::new(vec![h, w], frames, data)?;
    let mut choices = Vec::new();
    if device != DeviceChoice::Gpu {
        choices.push(DeviceChoice::Cpu);
    }
    if device != DeviceChoice::Cpu {
        choices.push(DeviceChoice::Gpu);
    }
    for choice in choices {
        if choice == DeviceChoice::Gpu {
            let Some(ctx) = GpuContext::request(DeviceChoice::Gpu).ok().flatten() else {
                eprintln!("no wgpu adapter: GPU corr-pnr not measured");
                continue;
            };
            let t0 = std::time::Instant::now();
            let gpu = GpuSummary::upload(&ctx, &movie)?;
            let upload = t0.elapsed().as_secs_f64();
            let mut times = Vec::new();
            let mut out = None;
            for g in [gsig, gsig + 1.0, gsig] {
                let t1 = std::time::Instant::now();
                out = Some(gpu.compute(&[g], true, &NoProgress)?);
                times.push(t1.elapsed().as_secs_f64());
            }
            let checksum: f64 = out.map_or(0.0, |o| o.pnr.iter().map(|&v| f64::from(v)).sum());
            let name = format!("gpu: {}", ctx.describe());
            if json {
                println!("{}", serde_json::json!({"bench": "corr_pnr", "device": name, "shape": [frames, h, w], "gsig": gsig,
                    "upload_s": upload, "seconds_per_gsig": times, "pnr_checksum": checksum}));
            } else {
                println!("corr-pnr {w}x{h}x{frames} gSig {gsig} on {name}: upload {upload:.3} s, per gSig {times:.3?} s");
            }
        } else {
            // The command filters its movie in place; the copy is made before the clock starts.
            let own = movie.clone();
            let t0 = std::time::Instant::now();
            let out = corr_pnr_in_place(own, &[gsig], true, &NoProgress)?;
            let secs = t0.elapsed().as_secs_f64();
            let checksum: f64 = out.pnr.iter().map(|&v| f64::from(v)).sum();
            if json {
                println!("{}", serde_json::json!({"bench": "corr_pnr", "device": "cpu", "shape": [frames, h, w], "gsig": gsig,
                    "seconds": secs, "threads": rayon::current_num_threads(), "pnr_checksum": checksum}));
            } else {
                println!("corr-pnr {w}x{h}x{frames} gSig {gsig} on cpu ({} threads): {secs:.3} s", rayon::current_num_threads());
            }
        }
    }
    Ok(())
}
