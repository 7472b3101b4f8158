//! `mesmerize cnmf` (2D or 3D by the input's axes) and `mesmerize cnmfe`: fit, evaluate, and write the result in
//! CaImAn's HDF5 layout with the parameters and a provenance record (history entry `cnmf`, `cnmf_3d` or `cnmfe`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use mesmerize_core::device::DeviceChoice;
use mesmerize_core::extraction::cnmf::fit_cnmf;
use mesmerize_core::extraction::cnmfe_fit::fit_cnmfe;
use mesmerize_core::extraction::engine::Engine;
use mesmerize_core::extraction::params::{CnmfParams, Mode};
use mesmerize_core::extraction::pixels::PixelMajor;
use mesmerize_core::extraction::products::{CpuProducts, FactorProducts};
use mesmerize_core::extraction::{CnmfResult, Movie};
use mesmerize_core::io::caiman_h5::{read_result, write_result};
use serde_json::{Value, json};

use super::OpenArgs;
use super::progress::Bar;

/// Arguments of `mesmerize cnmf` and `mesmerize cnmfe`.
#[derive(Debug, Args)]
pub struct CnmfArgs {
    /// Input movie (t, y, x) or (t, z, y, x).
    pub input: PathBuf,
    #[command(flatten)]
    pub open: OpenArgs,
    /// Parameters as JSON with CaImAn's names: flat, CaImAn's groups, or Mesmerize's cnmf_kwargs/eval_kwargs.
    #[arg(long, value_name = "P.json")]
    pub params: Option<PathBuf>,
    /// Result file (CaImAn HDF5 layout).
    #[arg(long, value_name = "RESULT.hdf5")]
    pub out: PathBuf,
    /// auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Print a JSON summary (components, accepted, timings) on stdout.
    #[arg(long)]
    pub json: bool,
}

fn read_params(path: Option<&Path>, mode: Mode, fps: Option<f64>) -> anyhow::Result<CnmfParams> {
    let Some(path) = path else {
        let mut p = CnmfParams::defaults(mode);
        if let Some(f) = fps {
            p.fr = f;
        }
        return Ok(p);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))?;
    let (mut p, warnings) = CnmfParams::from_json(mode, &v).with_context(|| format!("{}", path.display()))?;
    for w in warnings {
        tracing::warn!("{}: {w}", path.display());
    }
    // The movie's frame rate unless the user set `fr`.
    let has_fr = v.get("fr").is_some() || v.pointer("/data/fr").is_some() || v.pointer("/eval_kwargs/fr").is_some() || v.pointer("/cnmf_kwargs/fr").is_some();
    if let (false, Some(f)) = (has_fr, fps) {
        p.fr = f;
    }
    Ok(p)
}

/// The products on the device asked for; the CPU twin when there is no usable GPU. `y`: the movie most products
/// use, kept on the device (CNMF-E passes none: its movies are made during the fit and uploaded when first used).
fn products(choice: DeviceChoice, y: Option<&PixelMajor>) -> anyhow::Result<(Box<dyn FactorProducts>, String)> {
    use mesmerize_gpu::extraction::products::GpuProducts;
    match mesmerize_gpu::GpuContext::request(choice)? {
        Some(ctx) => {
            let g = match y {
                Some(y) => GpuProducts::new(&ctx, y)?,
                None => GpuProducts::without_movie(&ctx),
            };
            Ok((Box::new(g), format!("gpu: {}", ctx.describe())))
        }
        None => Ok((Box::new(CpuProducts), "cpu".into())),
    }
}

/// Say where the products ran (a GPU fit can fall back to the CPU per call).
fn log_calls(prod: &dyn FactorProducts) {
    if let Some(s) = prod.call_summary() {
        tracing::info!("{s}");
    }
}

fn provenance(args: &CnmfArgs, r: &CnmfResult, device: &str, wall: f64) -> Value {
    let key = r.params.mode.history_key();
    json!({
        "history_trace": [{ key: r.params.to_caiman_json() }],
        "input": args.input.display().to_string(),
        "mesmerize_version": env!("CARGO_PKG_VERSION"),
        "device": device,
        "wall_s": wall,
        "timings": r.timings.iter().map(|(k, v)| json!({"phase": k, "s": v})).collect::<Vec<_>>(),
    })
}

/// Run CNMF (`cnmfe = false`) or CNMF-E and write the result.
pub fn run(args: &CnmfArgs, cnmfe: bool) -> anyhow::Result<()> {
    let start = Instant::now();
    let img = args.open.open(&args.input)?;
    let s = img.shape();
    let mode = match (cnmfe, s.volumetric) {
        (true, _) => Mode::Cnmfe,
        (false, true) => Mode::Cnmf3d,
        (false, false) => Mode::Cnmf,
    };
    let p = read_params(args.params.as_deref(), mode, img.meta().fps)?;
    let dims = if s.volumetric { vec![s.z, s.y, s.x] } else { vec![s.y, s.x] };
    p.validate_for(&dims).with_context(|| format!("parameters for {}", args.input.display()))?;
    let bar = Bar::new();
    let movie = Movie::load(&img, &bar)?;
    // The file's mapped pages count in the resident set; the fit needs only the movie in memory.
    drop(img);
    let name = args.input.display().to_string();
    let (result, device) = if cnmfe {
        let ain = match &p.ain {
            Some(path) => Some(read_result(Path::new(path)).with_context(|| format!("Ain {path}"))?.a),
            None => None,
        };
        let (prod, device) = products(args.device, None)?;
        tracing::info!("cnmfe on {name}: products on {device}");
        let eng = Engine { products: prod.as_ref(), progress: &bar };
        let r = fit_cnmfe(&movie, &p, ain.as_ref(), &eng).with_context(|| format!("CNMF-E of {name}"))?;
        log_calls(prod.as_ref());
        (r, device)
    } else {
        let y = PixelMajor::from_movie(&movie);
        drop(movie);
        let (prod, device) = products(args.device, Some(&y))?;
        tracing::info!("cnmf on {name}: products on {device}");
        let eng = Engine { products: prod.as_ref(), progress: &bar };
        let r = fit_cnmf(&y, &dims, &p, &eng).with_context(|| format!("CNMF of {name}"))?;
        log_calls(prod.as_ref());
        (r, device)
    };
    bar.finish();
    let wall = start.elapsed().as_secs_f64();
    write_result(&args.out, &result, &provenance(args, &result, &device, wall)).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "{}: {} components, {} accepted, {:.1} s -> {}",
        p.mode.history_key(),
        result.k(),
        result.idx_components.len(),
        wall,
        args.out.display()
    );
    if args.json {
        println!(
            "{}",
            json!({"components": result.k(), "accepted": result.idx_components.len(), "wall_s": wall, "device": device,
                   "timings": result.timings.iter().map(|(k, v)| json!({"phase": k, "s": v})).collect::<Vec<_>>(), "out": args.out.display().to_string()})
        );
    }
    Ok(())
}
