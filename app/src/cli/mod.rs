//! The command line (a stable contract: docs/cli.md): argument parsing and dispatch to one module per subcommand.

/// Print a line on stdout, returning the write error instead of panicking, so a closed pipe (`| head`) ends a
/// command quietly (main treats a broken pipe as success).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)
    }};
}

mod batch;
mod bench;
mod bench_nodes;
mod cnmf;
mod corr_pnr;
mod info;
mod mc;
mod node;
mod open;
mod progress;
mod project;
mod projections;
mod simulate;
mod trn;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use open::OpenArgs;

/// Mesmerize-RS: calcium-imaging analysis. With no subcommand the desktop app opens.
#[derive(Debug, Parser)]
#[command(name = "mesmerize", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Screenshot of the welcome window to this PNG, then exit (for tests and docs).
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the viewer on a freshly simulated 1-photon movie.
    Demo {
        /// Save a screenshot of the first frames to this PNG and exit.
        #[arg(long, value_name = "PNG")]
        screenshot: Option<PathBuf>,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        start: ViewStart,
    },
    /// Open the viewer on a movie.
    View {
        /// Movie (TIFF / BigTIFF / ImageJ / OME-TIFF).
        file: PathBuf,
        #[command(flatten)]
        open: OpenArgs,
        /// Save a screenshot of the first frames to this PNG and exit.
        #[arg(long, value_name = "PNG")]
        screenshot: Option<PathBuf>,
        #[command(flatten)]
        start: ViewStart,
    },
    /// Shape, axes, dtype and metadata of a movie.
    Info {
        /// Movie file.
        file: PathBuf,
        #[command(flatten)]
        open: OpenArgs,
        /// One JSON document on stdout: {"shape", "axes", "dtype", "meta", ...}.
        #[arg(long)]
        json: bool,
    },
    /// Mean, max and std projections over time, written as float32 TIFFs (PREFIX_mean/max/std.tiff).
    Projections(projections::ProjectionArgs),
    /// NoRMCorre motion correction (rigid, or piecewise-rigid with --pw-rigid).
    Mc(mc::McArgs),
    /// CNMF-E correlation and peak-to-noise-ratio images for a gSig (PREFIX_corr.tiff, PREFIX_pnr.tiff).
    CorrPnr(corr_pnr::CorrPnrArgs),
    /// CNMF source extraction (2D, or 3D for (t, z, y, x) movies); result in CaImAn's HDF5 layout.
    Cnmf(cnmf::CnmfArgs),
    /// CNMF-E source extraction for 1-photon movies; result in CaImAn's HDF5 layout.
    Cnmfe(cnmf::CnmfArgs),
    /// Write a synthetic movie with ground truth (movie.tiff, movie.json, truth.h5).
    Simulate(simulate::SimulateArgs),
    /// Projects: create, configure, add samples, list and filter the DataFrame, export Transmissions.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Transmissions (.trn): import curves from .npy, export a column, show columns and history.
    #[command(subcommand)]
    Trn(trn::TrnCommand),
    /// Run one analysis node on .trn files (names and parameters as in the docs; --list shows them all).
    Node(node::NodeArgs),
    /// Flowcharts (.fc): run one headless, or check it.
    #[command(subcommand)]
    Flowchart(node::FlowchartCommand),
    /// Batch manager: a durable queue of motion correction / CNMF items run in worker processes; cluster export.
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// Benchmarks (results on stdout, one JSON object per line with --json).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Where the viewer starts (also what `--screenshot` shows).
#[derive(Debug, Clone, clap::Args)]
pub struct ViewStart {
    /// Time point to show first.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    /// Plane to show first (volumes).
    #[arg(long, default_value_t = 0)]
    pub plane: usize,
    /// Start on the maximum projection over z (volumes).
    #[arg(long)]
    pub max_z: bool,
    /// Colormap: gray, viridis, inferno, magma, plasma, cividis, turbo.
    #[arg(long, default_value = "gray", value_parser = crate::widget::colormap::Colormap::parse)]
    pub colormap: crate::widget::colormap::Colormap,
}

impl ViewStart {
    fn options(&self, img: &mesmerize_core::ImgData) -> anyhow::Result<crate::gui::viewer::ViewerOptions> {
        let s = img.shape();
        anyhow::ensure!(self.frame < s.t, "--frame {} is past the movie's {} time points", self.frame, s.t);
        anyhow::ensure!(self.plane < s.z, "--plane {} is past the movie's {} planes", self.plane, s.z);
        anyhow::ensure!(!self.max_z || s.volumetric, "--max-z needs a volume (t, z, y, x)");
        Ok(crate::gui::viewer::ViewerOptions { t: self.frame, z: self.plane, max_z: self.max_z, colormap: self.colormap })
    }
}

/// Log to stderr; `RUST_LOG` overrides the verbosity flags.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn,mesmerize=info,mesmerize_gpu=info,mesmerize_core=info",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).with_target(false).without_time().init();
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // Headless commands stop cleanly on Ctrl-C; the GUI keeps the default (its window decides).
    if matches!(cli.command, Some(Command::Mc(_) | Command::CorrPnr(_) | Command::Cnmf(_) | Command::Cnmfe(_) | Command::Projections(_) | Command::Simulate(_) | Command::Project(_) | Command::Node(_) | Command::Flowchart(_) | Command::Batch(_) | Command::Bench(_) | Command::Info { .. })) {
        progress::install_interrupt_handler();
    }
    match cli.command {
        None => crate::gui::run_welcome(cli.screenshot),
        Some(Command::Demo { screenshot, seed, start }) => {
            let movie = simulate::demo_movie(seed)?;
            let img = open::OpenArgs::default().open(&movie)?;
            let options = start.options(&img)?;
            crate::gui::run_viewer_with(img, options, screenshot)
        }
        Some(Command::View { file, open, screenshot, start }) => {
            let img = open.open(&file)?;
            let options = start.options(&img)?;
            crate::gui::run_viewer_with(img, options, screenshot)
        }
        Some(Command::Info { file, open, json }) => info::run(&file, &open, json),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Mc(args)) => mc::run(&args),
        Some(Command::CorrPnr(args)) => corr_pnr::run(&args),
        Some(Command::Cnmf(args)) => cnmf::run(&args, false),
        Some(Command::Cnmfe(args)) => cnmf::run(&args, true),
        Some(Command::Projections(args)) => projections::run(&args),
        Some(Command::Project(cmd)) => project::run(cmd),
        Some(Command::Trn(cmd)) => trn::run(cmd),
        Some(Command::Node(args)) => node::run_node(&args),
        Some(Command::Flowchart(cmd)) => node::run_flowchart(&cmd),
        Some(Command::Batch(cmd)) => batch::run(cmd),
        Some(Command::Bench(cmd)) => bench::run(cmd),
    }
}
