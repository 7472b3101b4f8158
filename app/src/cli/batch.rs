//! `mesmerize batch`: the batch manager's buttons on the command line (new, add, list, run, abort, show, delete,
//! export) and the worker (`run-item`) that the runner, exported scripts and cluster jobs start per item.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use mesmerize_core::batch::{
    Batch, BatchError, InputSpec, Item, Module, NewItem, RunEvents, RunOptions, Status, SystemConfig, WORK_DIR_ENV, begin_item, finish_item,
    item_script, resolve_item, run_batch, slurm_script,
};
use serde_json::{Value, json};

use super::progress::interrupted;

/// `mesmerize batch ...`
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Create an empty batch directory (any path: spaces and special characters are fine).
    New {
        /// The batch directory to create.
        dir: PathBuf,
    },
    /// Add an item at the end of the queue (also while the batch runs); bad parameters are refused here.
    Add(AddArgs),
    /// The items: position, UUID, module, name, status, run time.
    List {
        /// Batch directory.
        dir: PathBuf,
        /// One JSON array on stdout, an object per item (uuid, module, name, status, error, input, outputs, ...).
        #[arg(long)]
        json: bool,
    },
    /// Process the batch: every item that is not done, in order, each in a worker process; items added meanwhile
    /// are picked up. Exits non-zero when an item failed or was aborted.
    Run(RunArgs),
    /// Abort the batch (the current item, and stop), the current item only (--current), or one item (--item).
    Abort {
        /// Batch directory.
        dir: PathBuf,
        /// Abort this item (running now, or when its turn comes) and go on with the next.
        #[arg(long, value_name = "UUID", conflicts_with = "current")]
        item: Option<String>,
        /// Abort the current item and go on with the next.
        #[arg(long)]
        current: bool,
    },
    /// One item: parameters, input, outputs, timings and the end of its log.
    Show {
        /// Batch directory.
        dir: PathBuf,
        /// Item UUID.
        uuid: String,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Delete an item with its data (refused while it runs or while other items use its output).
    Delete {
        /// Batch directory.
        dir: PathBuf,
        /// Item UUID.
        uuid: String,
    },
    /// Run one item in this process (what the runner, exported scripts and cluster jobs call).
    RunItem {
        /// Batch directory.
        dir: PathBuf,
        /// Item UUID.
        uuid: String,
        /// When the input is another item's output that is not done yet, wait up to this many seconds for it.
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        wait_input: u64,
    },
    /// Cluster export: a SLURM job-array script and one shell script per item.
    Export {
        /// Batch directory.
        dir: PathBuf,
        /// The SLURM script to write (submit with `sbatch OUT.sh`).
        #[arg(long, value_name = "OUT.sh")]
        slurm: PathBuf,
        /// Directory for the per-item scripts (default: `scripts/` in the batch).
        #[arg(long, value_name = "DIR")]
        scripts: Option<PathBuf>,
    },
}

/// Arguments of `batch add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Batch directory.
    pub dir: PathBuf,
    /// caiman_motion_correction (or mc), cnmf, cnmf_3d, cnmfe, corr_pnr.
    #[arg(long)]
    pub module: String,
    /// A movie file, or the UUID of a motion-correction item whose output to use.
    #[arg(long, value_name = "MOVIE|UUID")]
    pub input: String,
    /// Parameters (CaImAn names; the formats of `mesmerize mc --params` / `cnmf --params`; corr_pnr: {"gSig": N}).
    #[arg(long, value_name = "P.json")]
    pub params: Option<PathBuf>,
    /// Item name (default: the module's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Copy the movie into the batch (a self-contained batch, as the viewer's work environment is saved into it).
    #[arg(long)]
    pub copy: bool,
    /// auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

/// Arguments of `batch run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Batch directory.
    pub dir: PathBuf,
    /// Start at this item ("Start at selection"); it runs even when done.
    #[arg(long, value_name = "UUID")]
    pub from: Option<String>,
    /// Run items that are already done again too.
    #[arg(long)]
    pub rerun_done: bool,
    /// Wait until this local time before starting: HH:MM (the next one), or YYYY-MM-DD HH:MM.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Threads per item (default: the system configuration's `threads`, else all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fast work directory for outputs, moved into the batch when an item is done (default: the system
    /// configuration's `work_dir`).
    #[arg(long, value_name = "DIR", conflicts_with = "no_work_dir")]
    pub work_dir: Option<PathBuf>,
    /// Write outputs straight into the batch even when the system configuration names a work directory.
    #[arg(long)]
    pub no_work_dir: bool,
}

/// Run a `batch` subcommand.
pub fn run(cmd: BatchCommand) -> anyhow::Result<()> {
    match cmd {
        BatchCommand::New { dir } => {
            let b = Batch::create(&dir)?;
            eprintln!("new batch {}", b.dir().display());
            Ok(())
        }
        BatchCommand::Add(args) => add(&args),
        BatchCommand::List { dir, json } => list(&dir, json),
        BatchCommand::Run(args) => run_batch_cmd(&args),
        BatchCommand::Abort { dir, item, current } => {
            let b = Batch::open(&dir)?;
            let msg = b.request_abort(item.as_deref(), item.is_none() && !current)?;
            eprintln!("{msg}");
            Ok(())
        }
        BatchCommand::Show { dir, uuid, json } => show(&dir, &uuid, json),
        BatchCommand::Delete { dir, uuid } => {
            let b = Batch::open(&dir)?;
            let it = b.delete(&uuid)?;
            eprintln!("deleted item {} ({}) and its data", it.uuid, it.name);
            Ok(())
        }
        BatchCommand::RunItem { dir, uuid, wait_input } => run_item(&dir, &uuid, wait_input),
        BatchCommand::Export { dir, slurm, scripts } => export(&dir, &slurm, scripts.as_deref()),
    }
}

fn add(args: &AddArgs) -> anyhow::Result<()> {
    let b = Batch::open(&args.dir)?;
    let module = Module::parse(&args.module)?;
    let params: Value = match &args.params {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", p.display()))?
        }
        None => json!({}),
    };
    let is_item = b.read()?.get(&args.input).is_some();
    let input = match (is_item, args.copy) {
        (true, true) => bail!("--copy takes a movie file, not an item UUID"),
        (true, false) => InputSpec::Item(args.input.clone()),
        (false, true) => InputSpec::Copy(PathBuf::from(&args.input)),
        (false, false) => InputSpec::Movie(PathBuf::from(&args.input)),
    };
    let new = NewItem { module, name: args.name.clone(), input, params, device: args.device.clone() };
    let (item, warnings) = b.add(new).map_err(|e| match &args.params {
        Some(p) => anyhow::anyhow!("{}: {e}", p.display()),
        None => e.into(),
    })?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    eprintln!("added {} item '{}'", item.module, item.name);
    out!("{}", item.uuid)?;
    Ok(())
}

fn item_json(b: &Batch, pos: usize, it: &Item) -> Value {
    json!({
        "position": pos,
        "uuid": it.uuid,
        "module": it.module.name(),
        "name": it.name,
        "status": it.status.name(),
        "error": it.error,
        "input": serde_json::to_value(&it.input).unwrap_or(Value::Null),
        "device": it.device,
        "added": it.added,
        "started": it.started,
        "finished": it.finished,
        "duration_s": it.duration(),
        "runs": it.runs,
        "worker_pid": it.worker.map(|w| w.pid),
        "outputs": it.outputs.iter().map(|(k, v)| (k.clone(), Value::String(b.resolve(v).to_string_lossy().into_owned()))).collect::<serde_json::Map<_, _>>(),
        "log": b.log_path(&it.uuid).to_string_lossy(),
    })
}

fn list(dir: &Path, as_json: bool) -> anyhow::Result<()> {
    let b = Batch::open(dir)?;
    let t = b.read()?;
    if as_json {
        let v: Vec<Value> = t.items.iter().enumerate().map(|(i, it)| item_json(&b, i, it)).collect();
        out!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    if let Some(r) = t.live_runner() {
        out!("running: runner pid {}", r.process.pid)?;
    }
    out!("{:>3}  {:36}  {:24}  {:8}  {:>9}  name", "#", "uuid", "module", "status", "time")?;
    for (i, it) in t.items.iter().enumerate() {
        let time = it.duration().map(|d| format!("{d:.1} s")).unwrap_or_default();
        out!("{i:>3}  {:36}  {:24}  {:8}  {time:>9}  {}", it.uuid, it.module.name(), it.status.name(), it.name)?;
        if let Some(e) = it.error.as_ref().filter(|_| matches!(it.status, Status::Error | Status::Aborted)) {
            out!("       {}", e.lines().next().unwrap_or(""))?;
        }
    }
    Ok(())
}

fn show(dir: &Path, uuid: &str, as_json: bool) -> anyhow::Result<()> {
    let b = Batch::open(dir)?;
    let t = b.read()?;
    let pos = t.position(uuid).ok_or_else(|| BatchError::NoItem { uuid: uuid.into(), batch: b.dir().to_path_buf() })?;
    let it = &t.items[pos];
    let mut v = item_json(&b, pos, it);
    v["params"] = b.params(uuid).unwrap_or_else(|e| json!({ "unreadable": e.to_string() }));
    let log = std::fs::read_to_string(b.log_path(uuid)).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    v["log_tail"] = json!(tail);
    if as_json {
        out!("{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        out!("{}", it.uuid)?;
        out!("{} '{}' ({}), position {pos}, {} run(s)", it.module, it.name, it.status, it.runs)?;
        out!("input: {}", it.input)?;
        if let Some(e) = &it.error {
            out!("error: {e}")?;
        }
        if let Some(d) = it.duration() {
            out!("time: {d:.1} s")?;
        }
        for (role, p) in &it.outputs {
            out!("output {role}: {}", b.resolve(p).display())?;
        }
        out!("params: {}", serde_json::to_string_pretty(&v["params"])?)?;
        out!("log ({}):", b.log_path(uuid).display())?;
        for l in tail {
            out!("  {l}")?;
        }
    }
    Ok(())
}

/// Prints the runner's events on stderr: one line per item start and end, the worker's output indented.
struct Printer {
    started: std::cell::Cell<usize>,
}

impl RunEvents for Printer {
    fn item_started(&self, item: &Item) {
        self.started.set(self.started.get() + 1);
        eprintln!("[{}] {} '{}' ({}) started", self.started.get(), item.module, item.name, item.uuid);
    }
    fn line(&self, item: &Item, line: &str) {
        eprintln!("  [{}] {line}", item.name);
    }
    fn item_finished(&self, item: &Item) {
        let time = item.duration().map(|d| format!(" in {d:.1} s")).unwrap_or_default();
        match &item.error {
            Some(e) if item.status != Status::Done => eprintln!("    {} '{}': {}{time}: {e}", item.module, item.name, item.status),
            _ => eprintln!("    {} '{}': {}{time}", item.module, item.name, item.status),
        }
    }
    fn cancelled(&self) -> bool {
        interrupted()
    }
}

fn run_batch_cmd(args: &RunArgs) -> anyhow::Result<()> {
    let b = Batch::open(&args.dir)?;
    let sys = SystemConfig::load_default()?;
    if let Some(at) = &args.at {
        wait_until(at)?;
    }
    let exe = std::env::current_exe().context("cannot find the mesmerize program to start workers")?;
    let worker = |uuid: &str| {
        let mut c = Command::new(&exe);
        c.arg("batch").arg("run-item").arg(b.dir()).arg(uuid);
        c
    };
    let opts = RunOptions {
        from: args.from.clone(),
        rerun_done: args.rerun_done,
        threads: args.threads.or(sys.threads),
        work_dir: if args.no_work_dir { None } else { args.work_dir.clone().or(sys.work_dir) },
        ..RunOptions::default()
    };
    if let Some(w) = &opts.work_dir {
        std::fs::create_dir_all(w).with_context(|| format!("work directory {}", w.display()))?;
    }
    let summary = run_batch(&b, &worker, &opts, &Printer { started: Default::default() })?;
    for u in &summary.recovered {
        tracing::warn!("item {u} was interrupted by an earlier runner's crash: marked aborted");
    }
    let (done, error, aborted) = (summary.count(Status::Done), summary.count(Status::Error), summary.count(Status::Aborted));
    eprintln!("batch {}: {done} done, {error} error, {aborted} aborted{}", b.dir().display(), if summary.stopped { " (stopped)" } else { "" });
    if error + aborted > 0 {
        bail!("{} of {} items did not finish (see `mesmerize batch list`)", error + aborted, summary.finished.len());
    }
    Ok(())
}

/// Sleep until a local time (the docs' `mesmerize-scheduler -t`), stopping on Ctrl-C.
fn wait_until(at: &str) -> anyhow::Result<()> {
    use chrono::{Local, NaiveDateTime, NaiveTime, TimeZone};
    let now = Local::now();
    let target = if let Ok(t) = NaiveTime::parse_from_str(at.trim(), "%H:%M") {
        let today = now.date_naive().and_time(t);
        let day = if today > now.naive_local() { today } else { today + chrono::Duration::days(1) };
        Local.from_local_datetime(&day).earliest()
    } else {
        let dt = NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%dT%H:%M"))
            .map_err(|_| anyhow::anyhow!("--at '{at}': expected HH:MM or YYYY-MM-DD HH:MM (24-hour, local time)"))?;
        Local.from_local_datetime(&dt).earliest()
    }
    .ok_or_else(|| anyhow::anyhow!("--at '{at}': not a valid local time"))?;
    let wait = (target - now).to_std().unwrap_or_default();
    eprintln!("waiting until {} ({:.0} min) to start the batch", target.format("%Y-%m-%d %H:%M"), wait.as_secs_f64() / 60.0);
    let start = Instant::now();
    while start.elapsed() < wait {
        if interrupted() {
            bail!("interrupted while waiting to start");
        }
        std::thread::sleep((wait - start.elapsed()).min(Duration::from_secs(1)));
    }
    Ok(())
}

/// The worker: claim the item, run its module into the output directory, record the outcome.
fn run_item(dir: &Path, uuid: &str, wait_input: u64) -> anyhow::Result<()> {
    let b = Batch::open(dir)?;
    let sys = SystemConfig::load_default()?;
    let supervised = std::env::var_os(mesmerize_core::batch::RUNNER_PID_ENV).is_some();
    if std::env::var_os("RAYON_NUM_THREADS").is_none()
        && let Some(n) = sys.threads
    {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    let work_dir: Option<PathBuf> = match std::env::var_os(WORK_DIR_ENV) {
        Some(w) => Some(PathBuf::from(w)),
        None if !supervised => sys.work_dir.clone(),
        None => None,
    };
    let item = b.item(uuid)?;
    wait_for_input(&b, &item, wait_input)?;
    let run = begin_item(&b, uuid, work_dir.as_deref())?;
    run.exit_with_runner();
    eprintln!(
        "item {} '{}' ({}), run {}, {} threads, outputs to {}",
        run.item.uuid,
        run.item.name,
        run.item.module,
        run.item.runs,
        rayon::current_num_threads(),
        run.out_dir.display()
    );
    let outcome = execute(&b, &run.item, &run.out_dir).map_err(|e| format!("{e:#}"));
    if let Err(e) = &outcome {
        eprintln!("error: {e}");
    }
    let done = finish_item(&b, &run, outcome)?;
    match done.status {
        Status::Done => {
            eprintln!("item {} done", done.uuid);
            Ok(())
        }
        other => bail!("item {} ended {other}: {}", done.uuid, done.error.unwrap_or_default()),
    }
}

/// With `--wait-input`, wait while the input item is not done yet (cluster arrays start items out of order).
fn wait_for_input(b: &Batch, item: &Item, seconds: u64) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        match resolve_item(b, item) {
            Err(BatchError::NotReady(why)) if start.elapsed().as_secs() < seconds => {
                if interrupted() {
                    bail!("interrupted while waiting for the input: {why}");
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            _ => return Ok(()),
        }
    }
}

/// Run the item's module through the same code as its subcommand; returns its outputs by role.
fn execute(b: &Batch, item: &Item, out: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let r = resolve_item(b, item)?;
    for n in &r.notes {
        eprintln!("{n}");
    }
    let params_path = b.item_dir(&item.uuid).join("resolved_params.json");
    mesmerize_core::io::atomic::write_atomic(&params_path, serde_json::to_string_pretty(&r.params)?.as_bytes())
        .with_context(|| format!("cannot write {}", params_path.display()))?;
    let img = mesmerize_core::ImgData::open(&r.input, &Default::default()).with_context(|| format!("input {}", r.input.display()))?;
    let volumetric = img.shape().volumetric;
    drop(img);
    let input = r.input.to_string_lossy().into_owned();
    let params = params_path.to_string_lossy().into_owned();
    let stem = |suffix: &str| out.join(format!("{}{suffix}", item.uuid));
    let mut outputs = BTreeMap::new();
    let argv: Vec<String> = match item.module {
        Module::CaimanMotionCorrection => {
            let movie = stem("_mc.tiff");
            let shifts = stem("_mc.shifts.json");
            let argv = strings(&["mc", &input, "--out", &movie.to_string_lossy(), "--params", &params, "--shifts", &shifts.to_string_lossy(), "--bit-depth", &r.bit_depth, "--name", &item.name, "--device", &item.device]);
            outputs.insert("movie".into(), movie);
            outputs.insert("shifts".into(), shifts);
            argv
        }
        Module::Cnmf | Module::Cnmf3d | Module::Cnmfe => {
            match (item.module, volumetric) {
                (Module::Cnmf3d, false) => bail!("cnmf_3d needs a volume (t, z, y, x); {input} is a 2D movie (use cnmf)"),
                (Module::Cnmf | Module::Cnmfe, true) => bail!("{} needs a 2D movie; {input} is a volume (use cnmf_3d)", item.module),
                _ => {}
            }
            let result = stem("_results.hdf5");
            let sub = if item.module == Module::Cnmfe { "cnmfe" } else { "cnmf" };
            let argv = strings(&[sub, &input, "--params", &params, "--out", &result.to_string_lossy(), "--device", &item.device]);
            outputs.insert("result".into(), result);
            argv
        }
        Module::CorrPnr => {
            let g = mesmerize_core::batch::gsig(&r.params).map_err(|e| anyhow::anyhow!("{}: {e}", b.params_path(&item.uuid).display()))?;
            let gs = g.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",");
            let prefix = out.join(&item.uuid);
            let mut argv = strings(&["corr-pnr", &input, "--gsig", &gs, "--out", &prefix.to_string_lossy(), "--device", &item.device]);
            if r.params.get("center_psf").and_then(Value::as_bool) == Some(false) {
                argv.push("--no-center-psf".into());
            }
            outputs.insert("corr".into(), stem("_corr.tiff"));
            outputs.insert("pnr".into(), stem("_pnr.tiff"));
            argv
        }
    };
    eprintln!("running: mesmerize {}", argv.join(" "));
    let cli = super::Cli::try_parse_from(std::iter::once("mesmerize".to_string()).chain(argv)).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))?;
    match cli.command {
        Some(super::Command::Mc(a)) => super::mc::run(&a)?,
        Some(super::Command::Cnmf(a)) => super::cnmf::run(&a, false)?,
        Some(super::Command::Cnmfe(a)) => super::cnmf::run(&a, true)?,
        Some(super::Command::CorrPnr(a)) => super::corr_pnr::run(&a)?,
        other => bail!("internal: unexpected command {other:?}"),
    }
    Ok(outputs)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn export(dir: &Path, slurm: &Path, scripts: Option<&Path>) -> anyhow::Result<()> {
    let b = Batch::open(dir)?;
    let t = b.read()?;
    if t.items.is_empty() {
        bail!("batch {} has no items to export", b.dir().display());
    }
    let exe = std::env::current_exe().context("cannot find the mesmerize program")?;
    let scripts_dir = scripts.map(Path::to_path_buf).unwrap_or_else(|| b.dir().join("scripts"));
    std::fs::create_dir_all(&scripts_dir).with_context(|| format!("cannot create {}", scripts_dir.display()))?;
    for (i, it) in t.items.iter().enumerate() {
        let p = scripts_dir.join(format!("{i:03}_{}.sh", it.uuid));
        write_script(&p, &item_script(&b, it, &exe))?;
    }
    let job = b.dir().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "mesmerize-batch".into());
    write_script(slurm, &slurm_script(&b, &t.items, &exe, &job))?;
    eprintln!("wrote {} ({} array tasks) and {} item scripts in {}", slurm.display(), t.items.len(), t.items.len(), scripts_dir.display());
    Ok(())
}

fn write_script(path: &Path, text: &str) -> anyhow::Result<()> {
    mesmerize_core::io::atomic::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}
