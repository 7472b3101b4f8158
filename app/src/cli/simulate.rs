//! `mesmerize simulate`: synthetic movies with ground truth, written as DIR/movie.tiff (uint16),
//! DIR/movie.json (json_minimal) and DIR/truth.h5.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mesmerize_core::io::tiff::{write_sidecar, TiffWriter};
use mesmerize_core::simulate::{MotionKind, SimConfig, SimKind, Simulator};
use mesmerize_core::{Dtype, Metadata};
use rayon::prelude::*;

use super::progress::Bar;
use mesmerize_core::progress::Progress;

/// Arguments of `mesmerize simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Modality: 2p (two-photon), 1p (micro-endoscope, CNMF-E's target) or 3d (volumes).
    #[arg(long, value_parser = parse_kind)]
    pub kind: SimKind,
    /// Output directory (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Frame size WIDTHxHEIGHT, e.g. 512x512 (default per kind).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(usize, usize)>,
    /// Planes per volume (3d only).
    #[arg(long)]
    pub planes: Option<usize>,
    /// Time points (frames, or volumes for 3d).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Motion: none, rigid or piecewise.
    #[arg(long, default_value = "none", value_parser = parse_motion)]
    pub motion: MotionKind,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of neurons (default from the kind's density).
    #[arg(long)]
    pub neurons: Option<usize>,
    /// Frame (volume) rate in Hz (default per kind).
    #[arg(long)]
    pub fps: Option<f64>,
}

fn parse_kind(s: &str) -> Result<SimKind, String> {
    s.parse().map_err(|e| format!("{e}"))
}
fn parse_motion(s: &str) -> Result<MotionKind, String> {
    s.parse().map_err(|e| format!("{e}"))
}
fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (w, h) = s.to_ascii_lowercase().split_once('x').map(|(a, b)| (a.trim().to_string(), b.trim().to_string())).ok_or("size must be WIDTHxHEIGHT, e.g. 512x512")?;
    let w = w.parse::<usize>().map_err(|_| format!("bad width '{w}'"))?;
    let h = h.parse::<usize>().map_err(|_| format!("bad height '{h}'"))?;
    Ok((w, h))
}

impl SimulateArgs {
    fn config(&self) -> SimConfig {
        let mut cfg = SimConfig::new(self.kind);
        if let Some((w, h)) = self.size {
            cfg.width = w;
            cfg.height = h;
        }
        if let Some(p) = self.planes {
            cfg.planes = p;
        }
        if let Some(f) = self.frames {
            cfg.frames = f;
        }
        if let Some(fps) = self.fps {
            cfg.fps = fps;
        }
        cfg.n_neurons = self.neurons.or(cfg.n_neurons);
        cfg.motion = self.motion;
        cfg.seed = self.seed;
        cfg
    }
}

/// Run the simulator and write the three files.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let movie = write_simulation(args.config(), &args.out)?;
    eprintln!("wrote {}, {}, {}", movie.display(), movie.with_extension("json").display(), args.out.join("truth.h5").display());
    Ok(())
}

/// Simulate `cfg` into `dir`; returns the movie's path.
pub fn write_simulation(cfg: SimConfig, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let sim = Simulator::new(cfg.clone())?;
    let shape = sim.shape();
    let movie = dir.join("movie.tiff");
    let mut writer = TiffWriter::create(&movie, shape, Dtype::U16, None)?;
    let bar = Bar::new();
    bar.start("simulating", shape.t as u64);
    // Render a batch of time points in parallel, then write them in order.
    let batch = rayon::current_num_threads().max(1) * 4;
    let mut frames = vec![vec![0.0f32; shape.frame_len()]; batch];
    for t0 in (0..shape.t).step_by(batch) {
        if bar.cancelled() {
            anyhow::bail!("cancelled: nothing was written to {}", dir.display());
        }
        let n = batch.min(shape.t - t0);
        frames[..n].par_iter_mut().enumerate().for_each(|(i, f)| sim.render_frame(t0 + i, f));
        for f in &frames[..n] {
            for plane in f.chunks(shape.plane_len()) {
                writer.write_plane(plane)?;
            }
        }
        bar.advance(n as u64);
    }
    bar.finish();
    let report = writer.finish()?;
    if report.clipped > 0 {
        tracing::warn!("{} samples were clipped to the uint16 range", report.clipped);
    }
    let mut meta = Metadata::new("mesmerize simulate", cfg.fps, "20260101_000000");
    meta.extra.insert(
        "orig_meta".into(),
        serde_json::json!({
            "kind": cfg.kind.name(), "motion": cfg.motion.name(), "seed": cfg.seed,
            "neurons": sim.truth().n_neurons(), "noise_std": sim.truth().noise_std,
        }),
    );
    write_sidecar(&movie, &meta)?;
    sim.truth().write_h5(&dir.join("truth.h5"))?;
    Ok(movie)
}

/// The demo's movie: a 1p simulation cached in the temp directory by seed (made once, reused).
pub fn demo_movie(seed: u64) -> anyhow::Result<PathBuf> {
    // Keyed by the app and truth-format versions too, so a newer simulator never shows a stale cached movie.
    let dir = std::env::temp_dir().join(format!(
        "mesmerize-demo-1p-seed{seed}-v{}-t{}",
        env!("CARGO_PKG_VERSION"),
        mesmerize_core::simulate::TRUTH_FORMAT_VERSION
    ));
    let movie = dir.join("movie.tiff");
    if movie.is_file() && dir.join("truth.h5").is_file() {
        return Ok(movie);
    }
    let mut cfg = SimConfig::new(SimKind::OneP);
    cfg.seed = seed;
    cfg.frames = 600;
    tracing::info!("simulating the demo movie into {}", dir.display());
    write_simulation(cfg, &dir)
}
