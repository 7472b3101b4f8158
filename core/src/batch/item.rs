//! One batch item: which module runs, on what input, how far it got, and where its outputs are.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::BatchError;

/// The analysis an item runs (the original's batch modules, plus the "inspect correlation and PNR" item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// NoRMCorre rigid / piecewise-rigid motion correction: a corrected movie.
    CaimanMotionCorrection,
    /// CNMF on a 2-photon movie.
    Cnmf,
    /// CNMF on a volume (t, z, y, x).
    Cnmf3d,
    /// CNMF-E on a 1-photon movie.
    Cnmfe,
    /// CNMF-E's correlation and PNR images for one gSig.
    CorrPnr,
}

impl Module {
    /// Every module, in the order the CLI lists them.
    pub const ALL: [Module; 5] = [Module::CaimanMotionCorrection, Module::Cnmf, Module::Cnmf3d, Module::Cnmfe, Module::CorrPnr];

    /// The name used in the table, on the command line and in history entries.
    pub fn name(self) -> &'static str {
        match self {
            Module::CaimanMotionCorrection => "caiman_motion_correction",
            Module::Cnmf => "cnmf",
            Module::Cnmf3d => "cnmf_3d",
            Module::Cnmfe => "cnmfe",
            Module::CorrPnr => "corr_pnr",
        }
    }

    /// Parse a module name (also `mc` and `motion_correction` for motion correction, `cnmf3d` for 3D CNMF).
    pub fn parse(s: &str) -> Result<Self, BatchError> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        match norm.as_str() {
            "caiman_motion_correction" | "motion_correction" | "mc" => Ok(Module::CaimanMotionCorrection),
            "cnmf" => Ok(Module::Cnmf),
            "cnmf_3d" | "cnmf3d" => Ok(Module::Cnmf3d),
            "cnmfe" | "cnmf_e" => Ok(Module::Cnmfe),
            "corr_pnr" | "corrpnr" => Ok(Module::CorrPnr),
            _ => Err(BatchError::Invalid(format!(
                "unknown module '{s}': one of {}",
                Module::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Whether the item's output is a movie that later items can take as their input.
    pub fn makes_movie(self) -> bool {
        self == Module::CaimanMotionCorrection
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an item is in its life (the batch manager's colours: pending, yellow, blue, green, red, orange).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to run.
    Pending,
    /// A worker is processing it.
    Running,
    /// Finished; its outputs are being moved from the work directory into the batch.
    Moving,
    /// Finished without error; outputs in place.
    Done,
    /// Failed; `error` says why.
    Error,
    /// Stopped by the user, or interrupted by a crash of its runner; can be run again.
    Aborted,
}

impl Status {
    /// The name used in the table and by `batch list --json`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Moving => "moving",
            Status::Done => "done",
            Status::Error => "error",
            Status::Aborted => "aborted",
        }
    }

    /// Whether a worker may be working on the item right now.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Running | Status::Moving)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an item runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// A movie file used where it is (absolute path).
    Movie {
        /// Absolute path of the movie.
        path: String,
    },
    /// A movie (a work environment's image) saved into the batch: path relative to the batch directory.
    Copied {
        /// Path relative to the batch directory.
        path: String,
    },
    /// The output movie of another item of this batch.
    Item {
        /// That item's UUID.
        uuid: String,
    },
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Movie { path } => write!(f, "{path}"),
            Input::Copied { path } => write!(f, "{path} (in the batch)"),
            Input::Item { uuid } => write!(f, "output of item {uuid}"),
        }
    }
}

/// One row of the batch table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Identity of the item; also the name of its directory under `items/`.
    pub uuid: String,
    /// What it runs.
    pub module: Module,
    /// The user's name for it (the original's "item name").
    pub name: String,
    /// What it runs on.
    pub input: Input,
    /// Where it is in its life.
    pub status: Status,
    /// Why it failed or was aborted.
    #[serde(default)]
    pub error: Option<String>,
    /// When it was added (seconds since the Unix epoch).
    pub added: f64,
    /// When its last run started.
    #[serde(default)]
    pub started: Option<f64>,
    /// When its last run ended.
    #[serde(default)]
    pub finished: Option<f64>,
    /// The worker process of the current or last run (pid and start time, to tell it from a reused pid).
    #[serde(default)]
    pub worker: Option<super::ProcessId>,
    /// How many times it was started.
    #[serde(default)]
    pub runs: u32,
    /// `auto`, `cpu` or `gpu`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Outputs by role (`movie`, `shifts`, `result`, `corr`, `pnr`), paths relative to the batch directory.
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

fn default_device() -> String {
    "auto".into()
}

impl Item {
    /// Seconds its last run took, when it has finished.
    pub fn duration(&self) -> Option<f64> {
        Some(self.finished? - self.started?)
    }
}
