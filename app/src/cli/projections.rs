//! `mesmerize projections`: mean, max and std over time (per plane for volumes) in one streaming pass, written as
//! float32 TIFFs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mesmerize_core::device::DeviceChoice;
use mesmerize_core::imaging::projection::{CpuProjector, Projector};
use mesmerize_core::io::tiff::TiffWriter;
use mesmerize_core::{Dtype, StackShape};
use mesmerize_gpu::{GpuContext, GpuProjector};

use super::progress::Bar;
use super::OpenArgs;

/// Arguments of `mesmerize projections`.
#[derive(Debug, Args)]
pub struct ProjectionArgs {
    /// Input movie.
    pub input: PathBuf,
    #[command(flatten)]
    pub open: OpenArgs,
    /// Output prefix: PREFIX_mean.tiff, PREFIX_max.tiff, PREFIX_std.tiff.
    #[arg(long)]
    pub out: PathBuf,
    /// auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub(super) fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!("_{suffix}.tiff"));
    prefix.with_file_name(name)
}

/// Compute and write the three projections.
pub fn run(args: &ProjectionArgs) -> anyhow::Result<()> {
    let img = args.open.open(&args.input)?;
    let s = img.shape();
    let projector: Box<dyn Projector> = match GpuContext::request(args.device)? {
        Some(ctx) => Box::new(GpuProjector::new(ctx)),
        None => Box::new(CpuProjector),
    };
    let bar = Bar::new();
    let p = projector.project(&img, &bar).with_context(|| format!("projecting {}", args.input.display()))?;
    bar.finish();
    write_images(&args.out, s, &[("mean", &p.mean), ("max", &p.max), ("std", &p.std)])
}

/// Write one-time-point float32 images (a plane, or a volume for (t, z, y, x) input) as PREFIX_NAME.tiff.
pub(super) fn write_images(prefix: &Path, s: StackShape, images: &[(&str, &[f32])]) -> anyhow::Result<()> {
    let shape = if s.volumetric { StackShape::volume(1, s.z, s.y, s.x) } else { StackShape::movie(1, s.y, s.x) };
    for (name, data) in images {
        let path = with_suffix(prefix, name);
        let mut w = TiffWriter::create(&path, shape, Dtype::F32, None)?;
        for plane in data.chunks(s.plane_len()) {
            w.write_plane(plane)?;
        }
        w.finish()?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
