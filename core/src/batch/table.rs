//! The batch directory and its table: every change is read-modify-write under an exclusive lock on `batch.lock`,
//! and the table is replaced atomically (temp file, fsync, rename), so a crash at any moment leaves either the old
//! or the new table, never a half-written one, and a runner and `batch add` can change it at the same time.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::item::{Input, Item, Module, Status};
use super::{BatchError, ProcessId, inputs, now};

/// Format tag of `batch.json`.
pub const FORMAT: &str = "mesmerize-batch-v1";
const TABLE_FILE: &str = "batch.json";
const LOCK_FILE: &str = "batch.lock";

/// The runner processing the batch, and what the user asked it to stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnerState {
    /// The runner process.
    pub process: ProcessId,
    /// When it started.
    pub started: f64,
    /// Stop after aborting the current item.
    #[serde(default)]
    pub abort_batch: bool,
    /// Items to abort (the current one when it is among them).
    #[serde(default)]
    pub abort_items: Vec<String>,
}

/// The contents of `batch.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Always [`FORMAT`].
    pub format: String,
    /// Items in the order they run.
    pub items: Vec<Item>,
    /// The runner, while one is running.
    #[serde(default)]
    pub runner: Option<RunnerState>,
}

impl Table {
    /// The item with this UUID.
    pub fn get(&self, uuid: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.uuid == uuid)
    }
    /// The item with this UUID, to change it.
    pub fn get_mut(&mut self, uuid: &str) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.uuid == uuid)
    }
    /// Position of the item in the run order.
    pub fn position(&self, uuid: &str) -> Option<usize> {
        self.items.iter().position(|i| i.uuid == uuid)
    }
    /// The runner, when it is still alive.
    pub fn live_runner(&self) -> Option<&RunnerState> {
        self.runner.as_ref().filter(|r| r.process.alive())
    }
}

/// How a new item gets its input.
#[derive(Debug, Clone)]
pub enum InputSpec {
    /// Use a movie file where it is.
    Movie(PathBuf),
    /// Copy a movie (and its metadata sidecar) into the batch, so the batch holds everything it needs.
    Copy(PathBuf),
    /// Take another item's output movie (by UUID).
    Item(String),
}

/// What `batch add` asks for.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// What to run.
    pub module: Module,
    /// The user's name (default: the module name).
    pub name: Option<String>,
    /// Input.
    pub input: InputSpec,
    /// Parameters (CaImAn names; see [`inputs::validate_params`]).
    pub params: Value,
    /// `auto`, `cpu` or `gpu`.
    pub device: String,
}

/// A batch directory.
#[derive(Debug, Clone)]
pub struct Batch {
    dir: PathBuf,
}

impl Batch {
    /// Create a new, empty batch (the directory may exist if it is empty).
    pub fn create(dir: &Path) -> Result<Self, BatchError> {
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir).map_err(|e| BatchError::io(dir, e))?;
            if entries.next().is_some() {
                return Err(BatchError::Exists(dir.to_path_buf()));
            }
        }
        std::fs::create_dir_all(dir.join("items")).map_err(|e| BatchError::io(dir, e))?;
        let b = Self { dir: absolute(dir)? };
        b.write(&Table { format: FORMAT.into(), items: Vec::new(), runner: None })?;
        Ok(b)
    }

    /// Open an existing batch.
    pub fn open(dir: &Path) -> Result<Self, BatchError> {
        if !dir.join(TABLE_FILE).is_file() {
            return Err(BatchError::NotABatch(dir.to_path_buf()));
        }
        Ok(Self { dir: absolute(dir)? })
    }

    /// The batch directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The table file.
    pub fn table_path(&self) -> PathBuf {
        self.dir.join(TABLE_FILE)
    }
    /// The item's directory.
    pub fn item_dir(&self, uuid: &str) -> PathBuf {
        self.dir.join("items").join(uuid)
    }
    /// The item's parameter file.
    pub fn params_path(&self, uuid: &str) -> PathBuf {
        self.item_dir(uuid).join("params.json")
    }
    /// The item's log (stdout and stderr of its worker runs).
    pub fn log_path(&self, uuid: &str) -> PathBuf {
        self.item_dir(uuid).join("log.txt")
    }
    /// Where the item's outputs end up.
    pub fn out_dir(&self, uuid: &str) -> PathBuf {
        self.item_dir(uuid).join("out")
    }
    /// A path relative to the batch directory, made absolute.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The table as it is now (a reader never sees a half-written table, so no lock is needed).
    pub fn read(&self) -> Result<Table, BatchError> {
        let path = self.table_path();
        let text = std::fs::read_to_string(&path).map_err(|e| BatchError::io(&path, e))?;
        let t: Table = serde_json::from_str(&text).map_err(|e| BatchError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if t.format != FORMAT {
            return Err(BatchError::Corrupt { path, reason: format!("format '{}', expected '{FORMAT}'", t.format) });
        }
        Ok(t)
    }

    /// Change the table: `f` runs under the batch's exclusive lock on the current table, and its changes are written
    /// atomically when it succeeds (nothing is written when it fails).
    pub fn update<R>(&self, f: impl FnOnce(&mut Table) -> Result<R, BatchError>) -> Result<R, BatchError> {
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| BatchError::io(&lock_path, e))?;
        lock.lock().map_err(|e| BatchError::io(&lock_path, e))?;
        let mut table = self.read()?;
        let before = table.clone();
        let r = f(&mut table)?;
        if table != before {
            self.write(&table)?;
        }
        Ok(r)
        // The lock is released when `lock` is dropped.
    }

    fn write(&self, table: &Table) -> Result<(), BatchError> {
        let path = self.table_path();
        let text = serde_json::to_string_pretty(table).map_err(|e| BatchError::Invalid(e.to_string()))?;
        crate::io::atomic::write_atomic(&path, text.as_bytes()).map_err(|e| BatchError::io(&path, e))
    }

    /// The item with this UUID.
    pub fn item(&self, uuid: &str) -> Result<Item, BatchError> {
        self.read()?.get(uuid).cloned().ok_or_else(|| self.no_item(uuid))
    }

    pub(crate) fn no_item(&self, uuid: &str) -> BatchError {
        BatchError::NoItem { uuid: uuid.into(), batch: self.dir.clone() }
    }

    /// The item's parameters as stored (an error naming the file when it is missing or not JSON).
    pub fn params(&self, uuid: &str) -> Result<Value, BatchError> {
        let path = self.params_path(uuid);
        let text = std::fs::read_to_string(&path).map_err(|e| BatchError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| BatchError::Invalid(format!("{}: not valid JSON: {e}", path.display())))
    }

    /// Add an item at the end of the queue (also while the batch runs). Parameters are checked first: bad ones are
    /// refused here, not when the item runs. Returns the item and warnings (e.g. unknown parameter names).
    pub fn add(&self, new: NewItem) -> Result<(Item, Vec<String>), BatchError> {
        let table = self.read()?;
        let warnings = inputs::validate_params(new.module, &new.params, &table)?;
        if !matches!(new.device.as_str(), "auto" | "cpu" | "gpu") {
            return Err(BatchError::Invalid(format!("device '{}': one of auto, cpu, gpu", new.device)));
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        let item_dir = self.item_dir(&uuid);
        std::fs::create_dir_all(&item_dir).map_err(|e| BatchError::io(&item_dir, e))?;
        let result = self.add_in(new, &uuid, &table);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&item_dir);
        }
        result.map(|i| (i, warnings))
    }

    fn add_in(&self, new: NewItem, uuid: &str, table: &Table) -> Result<Item, BatchError> {
        let input = match &new.input {
            InputSpec::Movie(p) => {
                check_movie(p)?;
                Input::Movie { path: absolute(p)?.to_string_lossy().into_owned() }
            }
            InputSpec::Copy(p) => {
                check_movie(p)?;
                Input::Copied { path: self.copy_input(p, uuid)? }
            }
            InputSpec::Item(src) => {
                let s = table.get(src).ok_or_else(|| self.no_item(src))?;
                if !s.module.makes_movie() {
                    return Err(BatchError::Invalid(format!(
                        "item {src} ({}) makes no movie; only {} items can be another item's input",
                        s.module,
                        Module::CaimanMotionCorrection
                    )));
                }
                Input::Item { uuid: src.clone() }
            }
        };
        // Parameters first, then the row: a row never points at a missing parameter file.
        let params_path = self.params_path(uuid);
        let text = serde_json::to_string_pretty(&new.params).map_err(|e| BatchError::Invalid(e.to_string()))?;
        crate::io::atomic::write_atomic(&params_path, text.as_bytes()).map_err(|e| BatchError::io(&params_path, e))?;
        let item = Item {
            uuid: uuid.to_string(),
            module: new.module,
            name: new.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| new.module.name().to_string()),
            input,
            status: Status::Pending,
            error: None,
            added: now(),
            started: None,
            finished: None,
            worker: None,
            runs: 0,
            device: new.device,
            outputs: Default::default(),
        };
        self.update(|t| {
            // The source item may have been deleted since we looked.
            if let Input::Item { uuid: src } = &item.input
                && t.get(src).is_none()
            {
                return Err(self.no_item(src));
            }
            t.items.push(item.clone());
            Ok(())
        })?;
        Ok(item)
    }

    /// Copy a movie and its metadata sidecar into `items/UUID/input/`; returns the movie's path relative to the batch.
    fn copy_input(&self, movie: &Path, uuid: &str) -> Result<String, BatchError> {
        let dir = self.item_dir(uuid).join("input");
        std::fs::create_dir_all(&dir).map_err(|e| BatchError::io(&dir, e))?;
        let name = movie.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "movie.tiff".into());
        let dest = dir.join(&name);
        crate::io::atomic::replace_via_temp(&dest, |tmp| std::fs::copy(movie, tmp).map(|_| ()), std::convert::identity)
            .map_err(|e| BatchError::io(movie, e))?;
        let sidecar = crate::io::meta::sidecar_path(movie);
        if sidecar.is_file() {
            let dest_side = crate::io::meta::sidecar_path(&dest);
            crate::io::atomic::replace_via_temp(&dest_side, |tmp| std::fs::copy(&sidecar, tmp).map(|_| ()), std::convert::identity)
                .map_err(|e| BatchError::io(&sidecar, e))?;
        }
        Ok(format!("items/{uuid}/input/{name}"))
    }

    /// Delete an item and its data. Refused while it runs, and while other items take their input or seeds from it.
    pub fn delete(&self, uuid: &str) -> Result<Item, BatchError> {
        let item = self.update(|t| {
            let pos = t.position(uuid).ok_or_else(|| self.no_item(uuid))?;
            let item = &t.items[pos];
            if item.status.is_active() && item.worker.is_some_and(|w| w.alive()) {
                return Err(BatchError::Invalid(format!("item {uuid} is {}; abort it before deleting it", item.status)));
            }
            let users: Vec<String> = t.items.iter().filter(|o| o.uuid != uuid && self.depends_on(o, uuid)).map(|o| format!("{} ({})", o.uuid, o.name)).collect();
            if !users.is_empty() {
                return Err(BatchError::Invalid(format!("item {uuid} is the input of {}; delete those first", users.join(", "))));
            }
            Ok(t.items.remove(pos))
        })?;
        // The row is gone first: a crash now leaves an orphan directory, never a row without its data.
        let dir = self.item_dir(uuid);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| BatchError::io(&dir, e))?;
        }
        Ok(item)
    }

    /// Whether `item` reads another item's data (input, `memmap_uuid` or `Ain`) from `uuid`.
    fn depends_on(&self, item: &Item, uuid: &str) -> bool {
        if matches!(&item.input, Input::Item { uuid: u } if u == uuid) {
            return true;
        }
        self.params(&item.uuid).map(|p| inputs::referenced_items(&p).iter().any(|u| u == uuid)).unwrap_or(false)
    }

    /// Ask the runner to abort an item (the running one by default) or, with `whole_batch`, the current item and
    /// the rest of the run. Without a live runner, a worker started on its own (`batch run-item`) is killed and its
    /// item marked aborted. Returns what was done, for the user.
    pub fn request_abort(&self, item: Option<&str>, whole_batch: bool) -> Result<String, BatchError> {
        self.update(|t| {
            if let Some(u) = item
                && t.get(u).is_none()
            {
                return Err(self.no_item(u));
            }
            let running: Option<String> = t.items.iter().find(|i| i.status.is_active()).map(|i| i.uuid.clone());
            let target = item.map(str::to_string).or(running);
            if let Some(r) = t.runner.as_mut().filter(|r| r.process.alive()) {
                r.abort_batch |= whole_batch;
                if let Some(u) = &target
                    && !r.abort_items.contains(u)
                {
                    r.abort_items.push(u.clone());
                }
                return Ok(match (&target, whole_batch) {
                    (Some(u), true) => format!("asked the runner (pid {}) to abort item {u} and stop the batch", r.process.pid),
                    (Some(u), false) => format!("asked the runner (pid {}) to abort item {u}", r.process.pid),
                    (None, true) => format!("asked the runner (pid {}) to stop the batch", r.process.pid),
                    (None, false) => "nothing is running".to_string(),
                });
            }
            let Some(u) = target else { return Ok("nothing is running".into()) };
            let it = t.get_mut(&u).ok_or_else(|| self.no_item(&u))?;
            if !it.status.is_active() {
                return Ok(format!("item {u} is {}, not running", it.status));
            }
            if let Some(w) = it.worker.filter(|w| w.alive()) {
                w.kill();
            }
            it.status = Status::Aborted;
            it.error = Some("aborted by the user".into());
            it.finished = Some(now());
            Ok(format!("aborted item {u}"))
        })
    }

    /// Mark items left running by a runner or worker that no longer exists (a crash, a kill -9) as aborted, so they
    /// can be run again. Returns their UUIDs.
    pub fn recover_interrupted(&self) -> Result<Vec<String>, BatchError> {
        self.update(|t| {
            let runner_alive = t.runner.as_ref().is_some_and(|r| r.process.alive());
            if !runner_alive {
                t.runner = None;
            }
            let mut marked = Vec::new();
            for it in t.items.iter_mut().filter(|i| i.status.is_active()) {
                let worker_alive = it.worker.is_some_and(|w| w.alive());
                if !worker_alive && !runner_alive {
                    it.status = Status::Aborted;
                    it.error = Some("interrupted: its runner or worker stopped (crash or kill) while it ran; run it again".into());
                    it.finished = Some(now());
                    marked.push(it.uuid.clone());
                }
            }
            Ok(marked)
        })
    }
}

/// An input movie must exist and be a file.
fn check_movie(p: &Path) -> Result<(), BatchError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(BatchError::Invalid(format!("{}: not a movie file", p.display()))),
        Err(e) => Err(BatchError::io(p, e)),
    }
}

fn absolute(p: &Path) -> Result<PathBuf, BatchError> {
    std::path::absolute(p).map_err(|e| BatchError::io(p, e))
}
