//! `mesmerize mc`: NoRMCorre motion correction of a movie, written as it is corrected, with its shifts and a
//! `caiman_motion_correction` history entry in the output's metadata.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use mesmerize_core::device::DeviceChoice;
use mesmerize_core::io::tiff::write_sidecar;
use mesmerize_core::registration::{correct_movie, correct_movie_batched, correct_volume, BatchRegistrar, MotionParams, OutputDepth};
use mesmerize_gpu::registration::GpuRigidRegistrar;
use mesmerize_gpu::GpuContext;

use super::progress::Bar;
use super::OpenArgs;

/// Arguments of `mesmerize mc` (flags override `--params`).
#[derive(Debug, Args)]
pub struct McArgs {
    /// Input movie.
    pub input: PathBuf,
    #[command(flatten)]
    pub open: OpenArgs,
    /// Output movie (TIFF; BigTIFF past 4 GB).
    #[arg(long)]
    pub out: PathBuf,
    /// CaImAn motion parameters (flat, or grouped as {"motion": {...}}).
    #[arg(long, value_name = "P.json")]
    pub params: Option<PathBuf>,
    /// Piecewise-rigid correction after the rigid step.
    #[arg(long)]
    pub pw_rigid: bool,
    /// Largest shift searched, Y,X px (max_shifts).
    #[arg(long, value_parser = parse_pair, value_name = "Y,X")]
    pub max_shifts: Option<(usize, usize)>,
    /// Patch strides, Y,X px.
    #[arg(long, value_parser = parse_pair, value_name = "Y,X")]
    pub strides: Option<(usize, usize)>,
    /// Patch overlaps, Y,X px.
    #[arg(long, value_parser = parse_pair, value_name = "Y,X")]
    pub overlaps: Option<(usize, usize)>,
    /// Largest deviation of a patch from the rigid shift, px (max_deviation_rigid).
    #[arg(long)]
    pub max_dev: Option<usize>,
    /// Refinement factor of the patch-shift grid (upsample_factor_grid; Mesmerize's "upsample").
    #[arg(long)]
    pub upsample: Option<usize>,
    /// Sub-pixel precision of shift estimates, 1/px (upsample_factor of the upsampled DFT; default 10).
    #[arg(long)]
    pub upsample_fft: Option<usize>,
    /// Template refinement passes (niter_rig).
    #[arg(long)]
    pub niter_rig: Option<usize>,
    /// High-pass filter sigma for 1p data, used for estimation only (gSig_filt).
    #[arg(long)]
    pub gsig_filt: Option<f64>,
    /// Volumes: register each plane over time on its own (rigid, or piecewise with --pw-rigid) instead of 3D rigid.
    #[arg(long)]
    pub planewise: bool,
    /// Volumes: largest z shift searched by 3D rigid correction, planes.
    #[arg(long)]
    pub max_shift_z: Option<usize>,
    /// Output bit depth: float32 ("Do not convert"), 16 or 8.
    #[arg(long, default_value = "float32", value_parser = parse_depth)]
    pub bit_depth: OutputDepth,
    /// Write the shifts here (default: OUT with .shifts.json).
    #[arg(long, value_name = "SHIFTS.json")]
    pub shifts: Option<PathBuf>,
    /// Name recorded in the history entry (the batch item's name; default: the output's file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

fn parse_pair(s: &str) -> Result<(usize, usize), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let num = |p: &str| p.parse::<usize>().map_err(|_| format!("'{p}' is not a whole number"));
    match parts.as_slice() {
        [a] => num(a).map(|n| (n, n)),
        [a, b] => Ok((num(a)?, num(b)?)),
        _ => Err(format!("expected Y,X, found '{s}'")),
    }
}

fn parse_depth(s: &str) -> Result<OutputDepth, String> {
    match s.to_ascii_lowercase().as_str() {
        "float32" | "f32" | "do not convert" | "32" => Ok(OutputDepth::Float32),
        "16" | "uint16" | "u16" => Ok(OutputDepth::U16),
        "8" | "uint8" | "u8" => Ok(OutputDepth::U8),
        other => Err(format!("unknown bit depth '{other}': float32, 16 or 8")),
    }
}

impl McArgs {
    fn motion_params(&self) -> anyhow::Result<MotionParams> {
        let mut p = match &self.params {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))?;
                let (p, unknown) = MotionParams::from_json(&v).with_context(|| format!("{}", path.display()))?;
                if !unknown.is_empty() {
                    tracing::warn!("{}: ignoring unknown motion parameters: {}", path.display(), unknown.join(", "));
                }
                p
            }
            None => MotionParams::default(),
        };
        p.pw_rigid |= self.pw_rigid;
        if let Some(v) = self.max_shifts {
            p.max_shifts = v;
        }
        if let Some(v) = self.strides {
            p.strides = v;
        }
        if let Some(v) = self.overlaps {
            p.overlaps = v;
        }
        if let Some(v) = self.max_dev {
            p.max_deviation_rigid = v;
        }
        if let Some(v) = self.upsample {
            p.upsample_factor_grid = v;
        }
        if let Some(v) = self.upsample_fft {
            p.upsample_factor = v;
        }
        if let Some(v) = self.niter_rig {
            p.niter_rig = v;
        }
        if self.gsig_filt.is_some() {
            p.gsig_filt = self.gsig_filt;
        }
        if let Some(v) = self.max_shift_z {
            p.max_shift_z = v;
        }
        Ok(p)
    }
}

/// Run motion correction.
pub fn run(args: &McArgs) -> anyhow::Result<()> {
    let img = args.open.open(&args.input)?;
    let params = args.motion_params()?;
    let s = img.shape();
    params.validate(s.y, s.x, s.t).with_context(|| format!("{}", args.input.display()))?;
    let shifts_path = args.shifts.clone().unwrap_or_else(|| args.out.with_extension("shifts.json"));
    let sidecar = mesmerize_core::io::meta::sidecar_path(&args.out);
    if shifts_path == sidecar {
        anyhow::bail!("--shifts {} would overwrite the metadata sidecar of {}; choose another name", shifts_path.display(), args.out.display());
    }
    if s.volumetric {
        return run_volume(args, &img, &params, &shifts_path);
    }
    // The GPU path does rigid correction without gSig_filt; anything else runs on the CPU (an explicit --device gpu
    // for it is an error, not a silent fallback).
    let gpu_capable = !params.pw_rigid && params.gsig_filt.is_none();
    if args.device == DeviceChoice::Gpu && !gpu_capable {
        anyhow::bail!("the GPU path does rigid correction without gSig_filt only; use --device cpu for --pw-rigid or --gsig-filt");
    }
    let ctx = if gpu_capable || args.device == DeviceChoice::Gpu { GpuContext::request(args.device)? } else { None };
    let bar = Bar::new();
    let result = match ctx {
        Some(ctx) => {
            let make = |template: &[f32]| -> Result<Box<dyn BatchRegistrar>, String> {
                GpuRigidRegistrar::new(&ctx, template, s.y, s.x, &params).map(|r| Box::new(r) as Box<dyn BatchRegistrar>).map_err(|e| e.to_string())
            };
            correct_movie_batched(&img, &params, &args.out, args.bit_depth, &bar, &make)
        }
        None => {
            tracing::info!("device: CPU ({} threads)", rayon::current_num_threads());
            correct_movie(&img, &params, &args.out, args.bit_depth, &bar)
        }
    }
    .with_context(|| format!("motion correction of {} failed", args.input.display()))?;
    bar.finish();
    let entry = params.history_entry(args.bit_depth.label(), result.bord_px, &item_name(args));
    write_outputs(args, &img, &shifts_path, &result.shifts_json(), result.write.clipped, entry)?;
    let (tpl, corr) = result.seconds;
    eprintln!(
        "corrected {} frames in {:.1} s (template {:.1} s, {:.0} frames/s); bord_px {}; wrote {} and {}",
        s.t,
        tpl + corr,
        tpl,
        s.t as f64 / corr.max(1e-9),
        result.bord_px,
        args.out.display(),
        shifts_path.display()
    );
    Ok(())
}

/// Volumes: 3D rigid, or plane by plane with --planewise (CPU).
fn run_volume(args: &McArgs, img: &mesmerize_core::ImgData, params: &MotionParams, shifts_path: &std::path::Path) -> anyhow::Result<()> {
    if args.device == DeviceChoice::Gpu {
        anyhow::bail!("the GPU path does not correct volumes yet; use --device cpu");
    }
    let s = img.shape();
    let bar = Bar::new();
    let result = correct_volume(img, params, args.planewise, &args.out, args.bit_depth, &bar)
        .with_context(|| format!("motion correction of {} failed", args.input.display()))?;
    bar.finish();
    let mut entry = params.history_entry(args.bit_depth.label(), result.bord_px, &item_name(args));
    entry["volume"] = serde_json::json!(if args.planewise { "planewise" } else { "rigid3d" });
    entry["max_shift_z"] = serde_json::json!(params.max_shift_z);
    write_outputs(args, img, shifts_path, &result.shifts_json(s.z), result.write.clipped, entry)?;
    let (tpl, corr) = result.seconds;
    eprintln!(
        "corrected {} volumes of {} planes in {:.1} s (template {:.1} s); bord_px {}; wrote {} and {}",
        s.t, s.z, tpl + corr, tpl, result.bord_px, args.out.display(), shifts_path.display()
    );
    Ok(())
}

/// Report clipping, write SHIFTS.json and the output's sidecar: the input's metadata plus the history entry.
fn write_outputs(
    args: &McArgs,
    img: &mesmerize_core::ImgData,
    shifts_path: &std::path::Path,
    shifts: &serde_json::Value,
    clipped: u64,
    entry: serde_json::Value,
) -> anyhow::Result<()> {
    if clipped > 0 {
        tracing::warn!("{clipped} samples were outside the {} range and were clipped", args.bit_depth.label());
    }
    let text = serde_json::to_string(shifts)?;
    mesmerize_core::io::atomic::write_atomic(shifts_path, text.as_bytes()).with_context(|| format!("cannot write {}", shifts_path.display()))?;
    let mut meta = img.meta().clone();
    let mut history = meta.extra.get("history_trace").and_then(|h| h.as_array().cloned()).unwrap_or_default();
    history.push(serde_json::json!({ "caiman_motion_correction": entry }));
    meta.extra.insert("history_trace".into(), serde_json::Value::Array(history));
    write_sidecar(&args.out, &meta)?;
    Ok(())
}

/// The name the history entry gives this correction (the original's batch item name): `--name`, else the output's
/// file stem.
fn item_name(args: &McArgs) -> String {
    if let Some(n) = &args.name {
        return n.clone();
    }
    args.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}
