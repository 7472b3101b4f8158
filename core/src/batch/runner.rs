//! The runner (`mesmerize batch run`): processes items one after another, each in a worker process it supervises,
//! streaming the worker's output to the item's log and to the caller, and honouring abort requests written to the
//! table by `mesmerize batch abort` from another process.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::item::{Item, Status};
use super::table::{Batch, RunnerState};
use super::worker::runner_env_value;
use super::{BatchError, ProcessId, RUNNER_PID_ENV, WORK_DIR_ENV, now};

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Start at this item (it runs even when done); items before it are left alone.
    pub from: Option<String>,
    /// Also run items that are already done.
    pub rerun_done: bool,
    /// Threads per item (RAYON_NUM_THREADS of the workers).
    pub threads: Option<usize>,
    /// Fast work directory for outputs, moved into the batch when an item is done.
    pub work_dir: Option<PathBuf>,
    /// How often the runner checks for abort requests and worker exit.
    pub poll: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { from: None, rerun_done: false, threads: None, work_dir: None, poll: Duration::from_millis(200) }
    }
}

/// What the caller sees of a run (the CLI prints; the GUI will update its list and log panes).
pub trait RunEvents {
    /// An item is about to start.
    fn item_started(&self, item: &Item);
    /// A line of the worker's stdout or stderr.
    fn line(&self, item: &Item, line: &str);
    /// An item ended (done, error or aborted).
    fn item_finished(&self, item: &Item);
    /// The user asked the runner itself to stop (Ctrl-C): the current item is aborted and the run ends.
    fn cancelled(&self) -> bool;
}

/// Outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Items that finished done / error / aborted, in the order they ran.
    pub finished: Vec<(String, Status)>,
    /// Items found interrupted (runner crash) and marked aborted before the run started.
    pub recovered: Vec<String>,
    /// The run stopped early (abort of the batch, or Ctrl-C).
    pub stopped: bool,
}

impl RunSummary {
    /// How many items ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.finished.iter().filter(|(_, s)| *s == status).count()
    }
}

/// Run the batch: every item that is not done (or from `opts.from` on), including items added while it runs.
/// `worker` builds the command that runs one item (`mesmerize batch run-item DIR UUID`).
pub fn run_batch(batch: &Batch, worker: &dyn Fn(&str) -> Command, opts: &RunOptions, events: &dyn RunEvents) -> Result<RunSummary, BatchError> {
    let me = ProcessId::current();
    let recovered = batch.recover_interrupted()?;
    batch.update(|t| {
        if let Some(r) = t.live_runner().filter(|r| r.process != me) {
            return Err(BatchError::Busy { batch: batch.dir().to_path_buf(), pid: r.process.pid });
        }
        t.runner = Some(RunnerState { process: me, started: now(), abort_batch: false, abort_items: Vec::new() });
        Ok(())
    })?;
    let _release = ReleaseRunner { batch, me };
    let from = opts.from.clone();
    if let Some(u) = &from {
        batch.item(u)?;
    }
    let mut summary = RunSummary { recovered, ..Default::default() };
    let mut attempted: HashSet<String> = HashSet::new();
    loop {
        if events.cancelled() {
            summary.stopped = true;
            break;
        }
        let t = batch.read()?;
        if t.runner.as_ref().is_some_and(|r| r.abort_batch) {
            summary.stopped = true;
            break;
        }
        let start = from.as_deref().and_then(|u| t.position(u)).unwrap_or(0);
        let next = t.items.iter().skip(start).find(|i| {
            !attempted.contains(&i.uuid) && !i.status.is_active() && (i.status != Status::Done || opts.rerun_done || from.as_deref() == Some(i.uuid.as_str()))
        });
        let Some(next) = next else { break };
        let uuid = next.uuid.clone();
        attempted.insert(uuid.clone());
        if t.runner.as_ref().is_some_and(|r| r.abort_items.contains(&uuid)) {
            // Aborted by the user before its turn came: never started.
            let item = batch.update(|t| {
                if let Some(r) = t.runner.as_mut() {
                    r.abort_items.retain(|u| *u != uuid);
                }
                let it = t.get_mut(&uuid).ok_or_else(|| batch.no_item(&uuid))?;
                it.status = Status::Aborted;
                it.error = Some("aborted by the user before it started".into());
                Ok(it.clone())
            })?;
            events.item_finished(&item);
            summary.finished.push((uuid, Status::Aborted));
            continue;
        }
        if let Some(item) = run_one(batch, &uuid, worker, opts, events, me)? {
            summary.finished.push((item.uuid.clone(), item.status));
            if item.status == Status::Aborted && (events.cancelled() || batch.read()?.runner.as_ref().is_some_and(|r| r.abort_batch)) {
                summary.stopped = true;
                break;
            }
        }
    }
    Ok(summary)
}

/// Clears the table's runner entry when the run ends, however it ends.
struct ReleaseRunner<'a> {
    batch: &'a Batch,
    me: ProcessId,
}

impl Drop for ReleaseRunner<'_> {
    fn drop(&mut self) {
        let me = self.me;
        let _ = self.batch.update(|t| {
            if t.runner.as_ref().is_some_and(|r| r.process == me) {
                t.runner = None;
            }
            Ok(())
        });
    }
}

/// Run one item in a worker; None when the item was deleted meanwhile.
fn run_one(batch: &Batch, uuid: &str, worker: &dyn Fn(&str) -> Command, opts: &RunOptions, events: &dyn RunEvents, me: ProcessId) -> Result<Option<Item>, BatchError> {
    let item = batch.update(|t| {
        let it = t.get_mut(uuid).ok_or_else(|| batch.no_item(uuid))?;
        it.status = Status::Running;
        it.started = Some(now());
        it.finished = None;
        it.error = None;
        it.worker = None;
        it.runs += 1;
        it.outputs.clear();
        Ok(it.clone())
    })?;
    events.item_started(&item);
    let log_path = batch.log_path(uuid);
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| BatchError::io(&log_path, e))?;
    let _ = writeln!(log, "=== run {} of item {} ({}) started at {:.0} by runner pid {}", item.runs, item.uuid, item.name, now(), me.pid);

    let mut cmd = worker(uuid);
    cmd.env(RUNNER_PID_ENV, runner_env_value(&me)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(n) = opts.threads {
        cmd.env("RAYON_NUM_THREADS", n.to_string());
    }
    if let Some(w) = &opts.work_dir {
        cmd.env(WORK_DIR_ENV, w);
    }
    // Its own process group: a Ctrl-C at the terminal reaches the runner, which then aborts the worker.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return finalize(batch, uuid, None, Some(format!("cannot start the worker process: {e}")), &[], &mut log, events),
    };
    let child_id = ProcessId::of(child.id());
    batch.update(|t| {
        if let Some(it) = t.get_mut(uuid).filter(|i| i.status.is_active()) {
            it.worker = Some(child_id);
        }
        Ok(())
    })?;

    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>), child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>)]
        .into_iter()
        .flatten()
        .map(|stream| {
            let tx = tx.clone();
            std::thread::spawn(move || forward_lines(stream, &tx))
        })
        .collect();
    drop(tx);

    let mut tail: VecDeque<String> = VecDeque::new();
    let mut on_line = |line: String, log: &mut std::fs::File| {
        let _ = writeln!(log, "{line}");
        events.line(&item, &line);
        if tail.len() == 8 {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    let mut abort: Option<String> = None;
    let mut last_check = Instant::now();
    let status: ExitStatus = loop {
        // Once the worker has closed its output it is exiting: look at it every few milliseconds rather than at
        // the poll interval, so a batch of short items does not wait on the clock.
        let closed = match rx.recv_timeout(opts.poll) {
            Ok(line) => {
                on_line(line, &mut log);
                false
            }
            Err(mpsc::RecvTimeoutError::Timeout) => false,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(2));
                true
            }
        };
        if closed && let Some(st) = child.try_wait().map_err(|e| BatchError::io(&log_path, e))? {
            break st;
        }
        if last_check.elapsed() < opts.poll {
            continue;
        }
        last_check = Instant::now();
        if let Some(st) = child.try_wait().map_err(|e| BatchError::io(&log_path, e))? {
            break st;
        }
        if abort.is_none() {
            let requested = if events.cancelled() {
                Some("aborted: the runner was interrupted".to_string())
            } else {
                batch.read()?.runner.filter(|r| r.abort_batch || r.abort_items.iter().any(|u| u == uuid)).map(|_| "aborted by the user".to_string())
            };
            if let Some(reason) = requested {
                let _ = child.kill();
                abort = Some(reason);
            }
        }
    };
    for r in readers {
        let _ = r.join();
    }
    for line in rx.try_iter() {
        on_line(line, &mut log);
    }
    let tail: Vec<String> = tail.into_iter().collect();
    let why = abort.unwrap_or_else(|| format!("the worker stopped without finishing the item ({status})"));
    finalize(batch, uuid, Some(status), Some(why), &tail, &mut log, events)
}

/// After the worker: an item the worker left running or moving ends as aborted (when asked) or error; an item the
/// worker finished keeps its status. Clears the abort request for it.
fn finalize(
    batch: &Batch,
    uuid: &str,
    status: Option<ExitStatus>,
    why: Option<String>,
    tail: &[String],
    log: &mut std::fs::File,
    events: &dyn RunEvents,
) -> Result<Option<Item>, BatchError> {
    let item = batch.update(|t| {
        if let Some(r) = t.runner.as_mut() {
            r.abort_items.retain(|u| u != uuid);
        }
        let Some(it) = t.get_mut(uuid) else { return Ok(None) };
        if it.status.is_active() {
            let aborted = why.as_deref().is_some_and(|w| w.starts_with("aborted"));
            it.status = if aborted { Status::Aborted } else { Status::Error };
            let mut msg = why.clone().unwrap_or_else(|| "the worker stopped without finishing the item".into());
            if !aborted && let Some(last) = tail.iter().rev().find(|l| !l.trim().is_empty()) {
                msg.push_str(&format!("; last output: {last}"));
            }
            it.error = Some(msg);
            it.finished = Some(now());
        }
        Ok(Some(it.clone()))
    })?;
    if let Some(it) = &item {
        let code = status.map(|s| s.to_string()).unwrap_or_else(|| "not started".into());
        let _ = writeln!(log, "=== ended: {} ({code})", it.status);
        events.item_finished(it);
    }
    Ok(item)
}

/// Send each line of `stream` (lossy UTF-8, trailing newline and carriage returns removed) down `tx`.
fn forward_lines(stream: Box<dyn Read + Send>, tx: &mpsc::Sender<String>) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                // Progress bars redraw with '\r'; keep the last state of the line.
                let line = text.trim_end_matches(['\n', '\r']).rsplit('\r').next().unwrap_or("").to_string();
                if tx.send(line).is_err() {
                    return;
                }
            }
        }
    }
}
