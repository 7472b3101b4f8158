//! The worker side of an item (`mesmerize batch run-item`): claim the item, give the module a clean output
//! directory, then record the outcome, moving outputs from the work directory into the batch when one is used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::item::{Item, Status};
use super::table::Batch;
use super::{BatchError, ProcessId, RUNNER_PID_ENV, now};

/// An item a worker is running.
#[derive(Debug, Clone)]
pub struct WorkerRun {
    /// The item as claimed.
    pub item: Item,
    /// Where the module writes its outputs (the work directory's folder for the item, or the batch's `out/`).
    pub out_dir: PathBuf,
    /// Where the outputs end up (`items/UUID/out`).
    pub final_dir: PathBuf,
    /// The runner supervising this worker, if any.
    pub runner: Option<ProcessId>,
}

/// Claim item `uuid` for this process. Under a runner the runner has already marked it running; on its own (a
/// cluster job, an exported script) the worker marks it, and refuses when another live worker has it. Outputs of
/// earlier runs are cleared first, so a re-run never mixes old and new files.
pub fn begin_item(batch: &Batch, uuid: &str, work_dir: Option<&Path>) -> Result<WorkerRun, BatchError> {
    let runner = runner_from_env();
    let me = ProcessId::current();
    let item = batch.update(|t| {
        let it = t.get_mut(uuid).ok_or_else(|| batch.no_item(uuid))?;
        if runner.is_none() {
            if let Some(w) = it.worker.filter(|w| it.status.is_active() && *w != me && w.alive()) {
                return Err(BatchError::Invalid(format!("item {uuid} is already being run by process {}", w.pid)));
            }
            it.status = Status::Running;
            it.started = Some(now());
            it.runs += 1;
        }
        it.worker = Some(me);
        it.finished = None;
        it.error = None;
        it.outputs.clear();
        Ok(it.clone())
    })?;
    let final_dir = batch.out_dir(uuid);
    fresh_dir(&final_dir)?;
    let out_dir = match work_dir {
        Some(w) => {
            let d = w.join(format!("mesmerize-batch-{uuid}"));
            fresh_dir(&d)?;
            d
        }
        None => final_dir.clone(),
    };
    Ok(WorkerRun { item, out_dir, final_dir, runner })
}

/// Record the outcome of a run: on success the outputs (role -> file in `out_dir`) are moved into the batch
/// (status `moving` meanwhile) and the item is `done`; on failure it is `error` with the message.
pub fn finish_item(batch: &Batch, run: &WorkerRun, outcome: Result<BTreeMap<String, PathBuf>, String>) -> Result<Item, BatchError> {
    let uuid = run.item.uuid.as_str();
    let result = match outcome {
        Ok(outputs) => move_outputs(batch, run, &outputs),
        Err(e) => Err(e),
    };
    if run.out_dir != run.final_dir {
        let _ = std::fs::remove_dir_all(&run.out_dir);
    }
    batch.update(|t| {
        let it = t.get_mut(uuid).ok_or_else(|| batch.no_item(uuid))?;
        match &result {
            Ok(outputs) => {
                it.status = Status::Done;
                it.outputs = outputs.clone();
            }
            Err(e) => {
                it.status = Status::Error;
                it.error = Some(e.clone());
            }
        }
        it.finished = Some(now());
        Ok(it.clone())
    })
}

/// Move outputs into the batch; returns them as paths relative to the batch directory.
fn move_outputs(batch: &Batch, run: &WorkerRun, outputs: &BTreeMap<String, PathBuf>) -> Result<BTreeMap<String, String>, String> {
    let uuid = run.item.uuid.as_str();
    if run.out_dir != run.final_dir {
        batch
            .update(|t| {
                if let Some(it) = t.get_mut(uuid) {
                    it.status = Status::Moving;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        let entries = std::fs::read_dir(&run.out_dir).map_err(|e| format!("{}: {e}", run.out_dir.display()))?;
        for entry in entries {
            let from = entry.map_err(|e| format!("{}: {e}", run.out_dir.display()))?.path();
            let Some(name) = from.file_name() else { continue };
            move_file(&from, &run.final_dir.join(name))?;
        }
    }
    let mut rel = BTreeMap::new();
    for (role, path) in outputs {
        let name = path.file_name().ok_or_else(|| format!("output {role} has no file name: {}", path.display()))?;
        let dest = run.final_dir.join(name);
        if !dest.is_file() {
            return Err(format!("output {role} is missing: {}", dest.display()));
        }
        rel.insert(role.clone(), format!("items/{uuid}/out/{}", name.to_string_lossy()));
    }
    Ok(rel)
}

/// Rename, or copy and remove when the work directory is on another file system.
fn move_file(from: &Path, to: &Path) -> Result<(), String> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    crate::io::atomic::replace_via_temp(to, |tmp| std::fs::copy(from, tmp).map(|_| ()), std::convert::identity)
        .map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))?;
    std::fs::remove_file(from).map_err(|e| format!("{}: {e}", from.display()))
}

fn fresh_dir(d: &Path) -> Result<(), BatchError> {
    if d.exists() {
        std::fs::remove_dir_all(d).map_err(|e| BatchError::io(d, e))?;
    }
    std::fs::create_dir_all(d).map_err(|e| BatchError::io(d, e))
}

/// The runner named by the environment (`pid:start`), if this worker was started by one.
fn runner_from_env() -> Option<ProcessId> {
    let v = std::env::var(RUNNER_PID_ENV).ok()?;
    let (pid, start) = v.split_once(':').unwrap_or((v.as_str(), ""));
    Some(ProcessId { pid: pid.parse().ok()?, start: start.parse().ok() })
}

/// The environment value naming `p` as a worker's runner.
pub(crate) fn runner_env_value(p: &ProcessId) -> String {
    format!("{}:{}", p.pid, p.start.map(|s| s.to_string()).unwrap_or_default())
}

impl WorkerRun {
    /// Exit this worker when its runner dies (a kill -9 of the runner must not leave items running unsupervised;
    /// the restarted runner marks them interrupted and runs them again).
    pub fn exit_with_runner(&self) {
        let Some(runner) = self.runner else { return };
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(300));
                if !runner.alive() {
                    eprintln!("batch worker: runner process {} is gone; stopping", runner.pid);
                    std::process::exit(75);
                }
            }
        });
    }
}
