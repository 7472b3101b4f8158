//! The batch manager: a durable queue of motion-correction and source-extraction items, each run in a worker
//! process of its own so that a crash or a kill of one item never takes the batch down.
//!
//! A batch is a directory: `batch.json` (the table of items, replaced atomically under a lock on `batch.lock`) and
//! `items/UUID/` per item (`params.json`, an optional copied `input/`, the worker's `log.txt`, and the outputs in
//! `out/`). Paths may contain spaces or any other characters.

mod error;
mod export;
mod inputs;
mod item;
mod process;
mod runner;
mod system_config;
mod table;
mod worker;

pub use error::BatchError;
pub use export::{item_script, shell_quote, slurm_script};
pub use inputs::{ResolvedItem, gsig, resolve_item, validate_params};
pub use item::{Input, Item, Module, Status};
pub use process::ProcessId;
pub use runner::{RunEvents, RunOptions, RunSummary, run_batch};
pub use system_config::SystemConfig;
pub use table::{Batch, InputSpec, NewItem, RunnerState, Table};
pub use worker::{WorkerRun, begin_item, finish_item};

/// Environment variable a runner sets for its workers: the runner's process id, so a worker stops when its runner
/// dies instead of running on unsupervised.
pub const RUNNER_PID_ENV: &str = "MESMERIZE_BATCH_RUNNER_PID";
/// Environment variable a runner sets for its workers: the fast work directory outputs are written to first.
pub const WORK_DIR_ENV: &str = "MESMERIZE_BATCH_WORK_DIR";

/// Seconds since the Unix epoch, the batch table's clock.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
