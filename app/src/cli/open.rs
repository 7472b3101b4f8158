//! Options every subcommand that opens a movie shares: axes order, channel, planes, metadata file and format.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mesmerize_core::io::meta::MetaFormat;
use mesmerize_core::{Axes, ImgData, OpenOptions};

/// How to read a movie that does not describe itself.
#[derive(Debug, Clone, Default, Args)]
pub struct OpenArgs {
    /// Axes of the file's array, slowest first (e.g. txy, xyt, tzyx, tzxy); default: from the file's metadata.
    #[arg(long, value_parser = parse_axes)]
    pub axes: Option<Axes>,
    /// Channel to read when the file has several.
    #[arg(long, default_value_t = 0)]
    pub channel: usize,
    /// Planes per volume, to read a flat page sequence as (t, z) with --axes tzyx.
    #[arg(long)]
    pub planes: Option<usize>,
    /// Metadata file (default: the sidecar with the movie's name and .json, else OME-XML in the file).
    #[arg(long, value_name = "FILE")]
    pub meta: Option<PathBuf>,
    /// Metadata organizer: json_minimal, AwesomeImager or ome_tiff (default: guessed).
    #[arg(long, value_name = "FORMAT", value_parser = parse_meta_format)]
    pub meta_format: Option<MetaFormat>,
}

fn parse_axes(s: &str) -> Result<Axes, String> {
    s.parse()
}

fn parse_meta_format(s: &str) -> Result<MetaFormat, String> {
    s.parse()
}

impl OpenArgs {
    /// Open `path` lazily with these options.
    pub fn open(&self, path: &Path) -> anyhow::Result<ImgData> {
        let opts = OpenOptions {
            axes: self.axes.clone(),
            channel: self.channel,
            planes: self.planes,
            meta_path: self.meta.clone(),
            meta_format: self.meta_format,
        };
        ImgData::open(path, &opts).with_context(|| format!("cannot open {}", path.display()))
    }
}
