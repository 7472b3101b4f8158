//! `mesmerize bench ...`: the figures BENCHMARKS.md quotes, measured by the same code paths the app uses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use mesmerize_core::device::DeviceChoice;
use mesmerize_core::imaging::projection::{CpuProjector, Projector};
use mesmerize_core::io::tiff::TiffWriter;
use mesmerize_core::progress::NoProgress;
use mesmerize_core::{Dtype, ImgData, OpenOptions, StackShape};
use mesmerize_core::registration::{correct_movie, score, MotionParams, OutputDepth};
use mesmerize_core::simulate::{MotionKind, SimConfig, SimKind, Truth};
use mesmerize_gpu::{GpuContext, GpuProjector};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Every analysis node family on n curves x t points (500 x 3000), timed through the flowchart's code path.
    Nodes(super::bench_nodes::NodesBenchArgs),
    /// Open time of a big BigTIFF and scrubbing rates in t and z (files are made in DIR once and reused).
    Io {
        /// Directory for the benchmark files (needs ~GB free).
        #[arg(long)]
        dir: PathBuf,
        /// Size of the 2D movie in GB (512x512 uint16 frames).
        #[arg(long, default_value_t = 4.0)]
        gb: f64,
        /// Frames (planes) read per scrubbing measurement.
        #[arg(long, default_value_t = 2000)]
        n: usize,
        /// Drop the OS file cache before each measurement (Linux, needs root), so reads come from the disk.
        #[arg(long)]
        cold: bool,
    },
    /// Motion correction speed and accuracy on simulated 2p movies with known motion (made in DIR once).
    Mc {
        /// Directory for the simulated movies and the corrected outputs.
        #[arg(long)]
        dir: PathBuf,
        /// Frame size (square), px.
        #[arg(long, default_value_t = 512)]
        size: usize,
        /// Frames.
        #[arg(long, default_value_t = 1000)]
        frames: usize,
        /// Simulation seed.
        #[arg(long, default_value_t = 5)]
        seed: u64,
        /// rigid, piecewise or both.
        #[arg(long, default_value = "both")]
        motion: String,
    },
    /// CNMF-E correlation / PNR images of a simulated 1-photon movie (held in memory), wall time per device.
    CorrPnr {
        /// Frame size WxH, px.
        #[arg(long, default_value = "256x256")]
        size: String,
        /// Frames.
        #[arg(long, default_value_t = 2000)]
        frames: usize,
        /// gSig, px.
        #[arg(long, default_value_t = 3.0)]
        gsig: f64,
        /// Which paths to time: cpu, gpu or both (auto).
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// Simulation seed.
        #[arg(long, default_value_t = 3)]
        seed: u64,
        /// One JSON object per line on stdout instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// ROI curve extraction: N random polygon/ellipse ROIs on a uint16 TIFF movie written to the temp dir (deleted
    /// afterwards), read memory-mapped in one streaming pass.
    RoiCurves {
        /// Number of ROIs (half polygons, half ellipses, radius 4-7 px).
        #[arg(long, default_value_t = 5000)]
        rois: usize,
        /// Frame size WxH, px.
        #[arg(long, default_value = "512x512")]
        size: String,
        /// Frames.
        #[arg(long, default_value_t = 3000)]
        frames: usize,
        /// One JSON object on stdout instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Mean/max/std projection throughput of a movie on the CPU and on the GPU.
    Projection {
        /// Movie file.
        file: PathBuf,
        /// Which paths to time: cpu, gpu or both (auto).
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
    },
}

/// Run a benchmark and print its figures (one JSON object per line).
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Io { dir, gb, n, cold } => io(&dir, gb, n, cold),
        BenchCommand::Projection { file, device } => projection(&file, device),
        BenchCommand::CorrPnr { size, frames, gsig, device, seed, json } => {
            super::corr_pnr::bench(&size, frames, gsig, device, seed, json)
        }
        BenchCommand::Mc { dir, size, frames, seed, motion } => mc(&dir, size, frames, seed, &motion),
        BenchCommand::RoiCurves { rois, size, frames, json } => roi_curves(rois, &size, frames, json),
        BenchCommand::Nodes(args) => super::bench_nodes::run(&args),
    }
}

fn report(v: serde_json::Value) {
    println!("{v}");
}

/// Write a synthetic uint16 stack quickly (a moving gradient: content does not matter for I/O timing).
fn make_stack(path: &Path, shape: StackShape) -> anyhow::Result<()> {
    if path.is_file() {
        if let Ok(img) = ImgData::open(path, &OpenOptions::default()) {
            if img.shape() == shape {
                return Ok(());
            }
        }
    }
    eprintln!("writing {} ({:?})...", path.display(), shape.dims());
    let mut w = TiffWriter::create(path, shape, Dtype::U16, Some(true))?;
    let mut plane = vec![0.0f32; shape.plane_len()];
    for i in 0..shape.n_planes() {
        for (k, v) in plane.iter_mut().enumerate() {
            *v = ((k + i * 7) % 4096) as f32;
        }
        w.write_plane(&plane)?;
    }
    w.finish()?;
    Ok(())
}

fn read_rate(img: &ImgData, along_z: bool, n: usize) -> anyhow::Result<f64> {
    let s = img.shape();
    let mut buf = vec![0.0f32; s.plane_len()];
    let start = Instant::now();
    for i in 0..n {
        let (t, z) = if along_z { ((i / s.z) % s.t, i % s.z) } else { (i % s.t, 0) };
        img.read_plane(t, z, &mut buf)?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Empty the OS page cache so the next reads hit the disk; false when the OS does not let us.
fn drop_file_cache() -> bool {
    let synced = Command::new("sync").status().map(|s| s.success()).unwrap_or(false);
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn io(dir: &Path, gb: f64, n: usize, cold: bool) -> anyhow::Result<()> {
    let cold = cold && {
        let ok = drop_file_cache();
        if !ok {
            eprintln!("cannot drop the file cache (not root?): measuring with a warm cache");
        }
        ok
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let frames = ((gb * 1e9) / (512.0 * 512.0 * 2.0)).ceil() as usize;
    let movie = dir.join(format!("bench_{frames}x512x512_u16.tif"));
    make_stack(&movie, StackShape::movie(frames, 512, 512))?;
    let volume = dir.join("bench_400x25x512x512_u16.tif");
    make_stack(&volume, StackShape::volume(400, 25, 512, 512))?;

    // Open + first frame, repeated: the page index is rebuilt each time (the OS file cache is warm after the first).
    let mut times = Vec::new();
    for _ in 0..5 {
        if cold {
            drop_file_cache();
        }
        let start = Instant::now();
        let img = ImgData::open(&movie, &OpenOptions::default())?;
        let opened = start.elapsed().as_secs_f64();
        let _ = img.plane(0, 0)?;
        times.push(start.elapsed().as_secs_f64());
        eprintln!("open {opened:.4} s, open + frame 0 {:.4} s", start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let bytes = std::fs::metadata(&movie)?.len();
    report(serde_json::json!({"bench": "open_bigtiff_and_frame0", "cold_cache": cold, "file_bytes": bytes, "frames": frames,
        "median_s": times[times.len() / 2], "min_s": times[0], "max_s": times[times.len() - 1]}));

    let img = ImgData::open(&movie, &OpenOptions::default())?;
    let vol = ImgData::open(&volume, &OpenOptions::default())?;
    let rate = |img: &ImgData, along_z: bool| {
        if cold {
            drop_file_cache();
        }
        read_rate(img, along_z, n)
    };
    let t_rate = rate(&img, false)?;
    let z_rate = rate(&vol, true)?;
    report(serde_json::json!({"bench": "scrub_t_read", "cold_cache": cold, "planes_per_s": t_rate, "n": n, "access": img.access()}));
    report(serde_json::json!({"bench": "scrub_z_read", "cold_cache": cold, "planes_per_s": z_rate, "n": n}));
    match GpuContext::request(DeviceChoice::Gpu) {
        Ok(Some(ctx)) => {
            let adapter = ctx.describe();
            if cold {
                drop_file_cache();
            }
            let t_rate = crate::gui::bench_scrub(&img, false, n, &ctx.device, &ctx.queue)?;
            report(serde_json::json!({"bench": "scrub_t_read_upload", "cold_cache": cold, "planes_per_s": t_rate, "n": n, "adapter": adapter}));
            if cold {
                drop_file_cache();
            }
            let z_rate = crate::gui::bench_scrub(&vol, true, n, &ctx.device, &ctx.queue)?;
            report(serde_json::json!({"bench": "scrub_z_read_upload", "cold_cache": cold, "planes_per_s": z_rate, "n": n, "adapter": adapter}));
        }
        Ok(None) | Err(_) => eprintln!("no wgpu adapter: upload rates not measured"),
    }
    Ok(())
}

fn projection(file: &Path, device: DeviceChoice) -> anyhow::Result<()> {
    let img = ImgData::open(file, &OpenOptions::default())?;
    let s = img.shape();
    let mut projectors: Vec<Box<dyn Projector>> = Vec::new();
    if device != DeviceChoice::Gpu {
        projectors.push(Box::new(CpuProjector));
    }
    if device != DeviceChoice::Cpu {
        match GpuContext::request(DeviceChoice::Gpu)? {
            Some(ctx) => projectors.push(Box::new(GpuProjector::new(ctx))),
            None => eprintln!("no wgpu adapter: GPU projection not measured"),
        }
    }
    for p in projectors {
        let start = Instant::now();
        let out = p.project(&img, &NoProgress)?;
        let secs = start.elapsed().as_secs_f64();
        let checksum: f64 = out.mean.iter().map(|&v| f64::from(v)).sum();
        report(serde_json::json!({"bench": "projection", "device": p.name(), "shape": s.dims(), "seconds": secs,
            "frames_per_s": s.t as f64 / secs, "megapixels_per_s": s.len() as f64 / secs / 1e6, "mean_checksum": checksum}));
    }
    Ok(())
}

/// Simulate a 2p movie into `dir` unless an identical one is already there.
fn simulated(dir: &Path, size: usize, frames: usize, seed: u64, motion: MotionKind) -> anyhow::Result<PathBuf> {
    let movie = dir.join("movie.tiff");
    // Reused only when the shape matches and the truth file is of the current format (same simulator).
    let fresh = ImgData::open(&movie, &OpenOptions::default()).ok().is_some_and(|img| img.shape() == StackShape::movie(frames, size, size))
        && Truth::read_h5(&dir.join("truth.h5")).is_ok_and(|t| t.seed == seed);
    if fresh {
        return Ok(movie);
    }
    let mut cfg = SimConfig::new(SimKind::TwoP);
    cfg.width = size;
    cfg.height = size;
    cfg.frames = frames;
    cfg.seed = seed;
    cfg.motion = motion;
    super::simulate::write_simulation(cfg, dir)
}

fn mc(dir: &Path, size: usize, frames: usize, seed: u64, which: &str) -> anyhow::Result<()> {
    let motions: Vec<MotionKind> = match which {
        "rigid" => vec![MotionKind::Rigid],
        "piecewise" => vec![MotionKind::Piecewise],
        "both" => vec![MotionKind::Rigid, MotionKind::Piecewise],
        other => anyhow::bail!("--motion must be rigid, piecewise or both, found '{other}'"),
    };
    let still = ImgData::open(simulated(&dir.join("2p_none"), size, frames, seed, MotionKind::None)?, &OpenOptions::default())?;
    for motion in motions {
        let sub = dir.join(format!("2p_{}", motion.name()));
        let movie = simulated(&sub, size, frames, seed, motion)?;
        let truth = Truth::read_h5(&sub.join("truth.h5"))?;
        let img = ImgData::open(&movie, &OpenOptions::default())?;
        let params = match motion {
            MotionKind::Piecewise => MotionParams { max_shifts: (10, 10), pw_rigid: true, ..Default::default() },
            _ => MotionParams { max_shifts: (10, 10), ..Default::default() },
        };
        let out = dir.join(format!("corrected_{}.tif", motion.name()));
        let start = Instant::now();
        let r = correct_movie(&img, &params, &out, OutputDepth::Float32, &NoProgress)?;
        let total = start.elapsed().as_secs_f64();
        let rigid = score::rigid(&r.rigid, &truth);
        let border = r.bord_px + 10;
        let field = score::field(&r, &params, &truth, size, size, 8, border);
        let corrected = ImgData::open(&out, &OpenOptions::default())?;
        let corr = score::mean_image_corr(&corrected, &still, rigid.offset, border)?;
        let raw_corr = score::mean_image_corr(&img, &still, [0.0, 0.0], border)?;
        report(serde_json::json!({
            "bench": "mc", "motion": motion.name(), "device": "cpu", "threads": rayon::current_num_threads(),
            "shape": [frames, size, size], "seconds_total": total, "seconds_template": r.seconds.0,
            "seconds_correction": r.seconds.1, "frames_per_s_correction": frames as f64 / r.seconds.1,
            "frames_per_s_total": frames as f64 / total, "output": "float32 TIFF written",
            "rms_shift_error_px": rigid.rms, "rms_shift_error_px_inliers": rigid.rms_inliers, "outlier_frames": rigid.outliers,
            "residual_motion_rms_px": field.map(|f| f.residual), "static_deformation_rms_px": field.map(|f| f.static_part),
            "field_error_rms_px_offset_removed": field.map(|f| f.total),
            "mean_image_corr": corr, "mean_image_corr_uncorrected": raw_corr,
        }));
    }
    Ok(())
}

/// Removes the benchmark's temporary directory however the benchmark ends.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("could not remove {}: {e}", self.0.display());
        }
    }
}

/// A seeded xorshift64* stream of uniform numbers in [0, 1): benchmark inputs that are the same on every machine
/// without a random-number dependency in the app.
pub(super) fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` random ROIs of radius 4-7 px inside a `w x h` frame, half polygons and half ellipses (fixed seed).
fn random_rois(n: usize, w: usize, h: usize) -> Vec<mesmerize_core::roi::Roi> {
    use mesmerize_core::roi::{Roi, RoiGeometry};
    let mut next = uniform_stream(0x2545_F491_4F6C_DD1D);
    (0..n)
        .map(|i| {
            let (cx, cy) = (8.0 + next() * (w as f64 - 16.0).max(0.0), 8.0 + next() * (h as f64 - 16.0).max(0.0));
            if i % 2 == 0 {
                let (rx, ry, angle_deg) = (4.0 + 3.0 * next(), 4.0 + 3.0 * next(), 180.0 * next());
                Roi::new(RoiGeometry::Ellipse { cx, cy, rx, ry, angle_deg })
            } else {
                let k = 5 + (next() * 4.0) as usize;
                let (xs, ys) = (0..k)
                    .map(|j| {
                        let a = std::f64::consts::TAU * (j as f64 + 0.3 * next()) / k as f64;
                        let r = 4.0 + 3.0 * next();
                        (cx + r * a.cos(), cy + r * a.sin())
                    })
                    .unzip();
                Roi::new(RoiGeometry::Polygon { xs, ys })
            }
        })
        .collect()
}

fn roi_curves(n: usize, size: &str, frames: usize, json: bool) -> anyhow::Result<()> {
    let (w, h) = size
        .split_once(['x', 'X'])
        .and_then(|(a, b)| Some((a.trim().parse::<usize>().ok()?, b.trim().parse::<usize>().ok()?)))
        .with_context(|| format!("--size '{size}' is not WxH"))?;
    anyhow::ensure!(w >= 16 && h >= 16 && frames > 0, "--size must be at least 16x16 and --frames at least 1");
    let dir = TempDir(std::env::temp_dir().join(format!("mesmerize-bench-roi-curves-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).with_context(|| format!("cannot create {}", dir.0.display()))?;
    let movie = dir.0.join("movie.tif");
    let t0 = Instant::now();
    make_stack(&movie, StackShape::movie(frames, h, w))?;
    eprintln!("wrote {} in {:.1} s", movie.display(), t0.elapsed().as_secs_f64());

    let t0 = Instant::now();
    let rois = random_rois(n, w, h);
    let masks = rois.iter().map(|r| r.mask(&[h, w])).collect::<Result<Vec<_>, _>>()?;
    let mask_s = t0.elapsed().as_secs_f64();
    let pixels: usize = masks.iter().map(|m| m.len()).sum();

    let img = ImgData::open(&movie, &OpenOptions::default())?;
    let t0 = Instant::now();
    let curves = mesmerize_core::roi::extract_curves(&img, &masks, &NoProgress)?;
    let secs = t0.elapsed().as_secs_f64();
    let checksum: f64 = curves.iter().map(|&v| f64::from(v)).sum();
    let rate = (n * frames) as f64 / secs;
    let threads = rayon::current_num_threads();
    if json {
        report(serde_json::json!({"bench": "roi_curves", "device": "cpu", "threads": threads, "shape": [frames, h, w],
            "rois": n, "mean_pixels_per_roi": pixels as f64 / n.max(1) as f64, "mask_seconds": mask_s, "seconds": secs,
            "roi_frames_per_s": rate, "access": img.access(), "file_cache": "warm (just written)", "curve_checksum": checksum}));
    } else {
        println!(
            "roi-curves: {n} ROIs ({:.0} px mean) on {w}x{h}x{frames} uint16 ({}), {threads} threads: masks {mask_s:.3} s, \
             curves {secs:.3} s = {rate:.3e} ROI-frames/s",
            pixels as f64 / n.max(1) as f64,
            img.access()
        );
    }
    Ok(())
}
