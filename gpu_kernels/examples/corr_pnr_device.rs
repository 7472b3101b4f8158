//! Times CNMF-E's correlation / PNR images per `gSig` change on a GPU, the way the GUI's live tuning uses them:
//! the movie is uploaded once, then each `gSig` is one `GpuSummary::compute` (filter, statistics, correlation and
//! the read-back of both images). Also checks the images against the CPU twin. A small binary with no HDF5 or GUI
//! libraries, so it can be carried to a lent GPU machine (bench/gpu/README.md).
//!
//! `cargo run --release -p mesmerize_gpu --example corr_pnr_device -- [WxH] [FRAMES] [REPEATS]`

use std::time::Instant;

use mesmerize_core::device::DeviceChoice;
use mesmerize_core::extraction::Movie;
use mesmerize_core::extraction::summary::corr_pnr;
use mesmerize_core::progress::NoProgress;
use mesmerize_core::simulate::{SimConfig, SimKind, Simulator};
use mesmerize_gpu::GpuContext;
use mesmerize_gpu::extraction::summary::GpuSummary;
use rayon::prelude::*;

/// `gSig` values a user steps through while tuning.
const GSIGS: [f64; 5] = [3.0, 4.0, 5.0, 6.0, 7.0];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let size = args.get(1).map_or("256x256", String::as_str);
    let frames: usize = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let repeats: usize = args.get(3).map_or(Ok(5), |s| s.parse())?;
    let (w, h) = size.split_once('x').ok_or("size is WxH")?;
    let (w, h): (usize, usize) = (w.parse()?, h.parse()?);

    let mut cfg = SimConfig::new(SimKind::OneP);
    (cfg.width, cfg.height, cfg.frames, cfg.seed) = (w, h, frames, 3);
    let sim = Simulator::new(cfg)?;
    let t0 = Instant::now();
    let mut data = vec![0.0f32; w * h * frames];
    data.par_chunks_mut(w * h).enumerate().try_for_each(|(t, frame)| sim.try_render_frame(t, frame))?;
    println!("simulated {w}x{h}x{frames} 1p movie in {:.1} s", t0.elapsed().as_secs_f64());
    let movie = Movie::new(vec![h, w], frames, data)?;

    let ctx = GpuContext::request(DeviceChoice::Gpu)?.ok_or("no wgpu adapter")?;
    println!("adapter: {}", ctx.describe());
    let t0 = Instant::now();
    let gpu = GpuSummary::upload(&ctx, &movie)?;
    println!("upload: {:.3} s; statistics on the device: {}", t0.elapsed().as_secs_f64(), gpu.statistics_on_device());
    // Warm-up: builds the pipelines (the first gSig a user picks pays this once).
    let t0 = Instant::now();
    gpu.compute(&[GSIGS[0]], true, &NoProgress)?;
    println!("first compute (pipelines built): {:.3} s", t0.elapsed().as_secs_f64());

    let mut rows = Vec::new();
    for &g in &GSIGS {
        let mut times = Vec::with_capacity(repeats);
        let mut out = None;
        for _ in 0..repeats {
            let t = Instant::now();
            out = Some(gpu.compute(&[g], true, &NoProgress)?);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        rows.push((g, median(times.clone()), times, out));
    }
    // Parity with the CPU twin at one gSig.
    let (g, _, _, out) = &rows[2];
    let gpu_out = out.as_ref().ok_or("no output")?;
    let t = Instant::now();
    let cpu = corr_pnr(&movie, &[*g], true, &NoProgress)?;
    let cpu_s = t.elapsed().as_secs_f64();
    let max_abs = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let max_rel = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0f32, f32::max);
    let mean_abs = gpu_out.corr.iter().zip(&cpu.corr).map(|(x, y)| f64::from((x - y).abs())).sum::<f64>() / cpu.corr.len() as f64;
    let over = gpu_out.corr.iter().zip(&cpu.corr).filter(|(x, y)| (*x - *y).abs() > 1e-3).count();
    println!(
        "parity at gSig {g}: corr max abs {:.2e} (mean {mean_abs:.2e}, {over} of {} pixels over 1e-3), pnr max rel {:.2e}; CPU ({} threads) {:.3} s",
        max_abs(&gpu_out.corr, &cpu.corr),
        cpu.corr.len(),
        max_rel(&gpu_out.pnr, &cpu.pnr),
        rayon::current_num_threads(),
        cpu_s
    );
    println!("\n| gSig | median ms per compute | all runs, ms |");
    println!("|---|---|---|");
    for (g, med, times, _) in &rows {
        let all: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
        println!("| {g} | {med:.1} | {} |", all.join(", "));
    }
    Ok(())
}
