//! The `--device auto|cpu|gpu` choice every compute entry point takes.

use std::fmt;
use std::str::FromStr;

/// Where a computation should run; `Auto` takes a real GPU when one exists and the CPU otherwise.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// A discrete or integrated GPU if wgpu finds one; software adapters (lavapipe) count as no GPU.
    #[default]
    Auto,
    /// Always the rayon CPU path.
    Cpu,
    /// Any wgpu adapter, software ones included; an error when there is none.
    Gpu,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(format!("unknown device '{other}': expected auto, cpu or gpu")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        })
    }
}

/// Failure of a compute entry point, whichever device ran it.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// Reading the input failed.
    #[error(transparent)]
    Imaging(#[from] crate::imaging::ImagingError),
    /// The GPU path failed (no adapter, device lost, out of memory, ...).
    #[error("GPU: {0}")]
    Device(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}
