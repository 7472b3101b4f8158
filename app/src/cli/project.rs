//! `mesmerize project ...`: create and configure projects, add samples, list and filter the project DataFrame,
//! export Transmissions; the headless twin of the welcome window and project browser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mesmerize_core::project::{CustomColumn, FilterStep, NewSample, Project, ProjectConfig, Tab, WorkEnv};
use mesmerize_core::stimulus::{TimeUnit, load_map};
use polars::prelude::{AnyValue, DataFrame};
use serde_json::{Map, Value};

use super::open::OpenArgs;
use super::progress::Bar;

/// Project subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project directory with its configuration.
    New {
        /// New (or empty) directory.
        dir: PathBuf,
        /// ROI-bound category column (repeatable).
        #[arg(long = "roi-type-column", value_name = "NAME")]
        roi: Vec<String>,
        /// Stimulus type column (repeatable).
        #[arg(long = "stim-type-column", value_name = "NAME")]
        stim: Vec<String>,
        /// Custom column NAME:text|int|float[=REPLACE] (repeatable).
        #[arg(long = "custom-column", value_name = "SPEC")]
        custom: Vec<String>,
    },
    /// Show the configuration, or add columns to it (existing rows are labelled as documented).
    Config {
        /// Project directory.
        dir: PathBuf,
        /// Add a ROI type column.
        #[arg(long = "add-roi-type-column", value_name = "NAME")]
        roi: Vec<String>,
        /// Add a stimulus type column.
        #[arg(long = "add-stim-type-column", value_name = "NAME")]
        stim: Vec<String>,
        /// Add a custom column NAME:text|int|float[=REPLACE].
        #[arg(long = "add-custom-column", value_name = "SPEC")]
        custom: Vec<String>,
        /// Print the configuration as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a movie with its ROIs as a sample (one row per ROI).
    AddSample(Box<AddSampleArgs>),
    /// Remove a sample and its files.
    DeleteSample {
        /// Project directory.
        dir: PathBuf,
        /// SampleID (AnimalID-_-TrialID).
        sample_id: String,
    },
    /// Print the project DataFrame (filtered), or save the filters as a named tab.
    List {
        /// Project directory.
        dir: PathBuf,
        /// Start from this tab's rows.
        #[arg(long)]
        tab: Option<String>,
        /// COLUMN=EXPR as in the browser (a|b, $NOT:, $STR:, $STR=:, $STR!=:, $>:, $<:, $>=:, $<=:); repeatable.
        #[arg(long = "filter", value_name = "COLUMN=EXPR")]
        filters: Vec<String>,
        /// Save the resulting filters as a tab with this name.
        #[arg(long, value_name = "NAME")]
        save_tab: Option<String>,
        /// One JSON array of row objects on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Tabs of the project with their filter history.
    Tabs {
        /// Project directory.
        dir: PathBuf,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Spawn a Transmission (rows + `_RAW_CURVE`) from the project or a tab and save it as .trn.
    ExportTrn {
        /// Project directory.
        dir: PathBuf,
        /// Output .trn file.
        #[arg(long)]
        out: PathBuf,
        /// Start from this tab.
        #[arg(long)]
        tab: Option<String>,
        /// Further filters COLUMN=EXPR; repeatable.
        #[arg(long = "filter", value_name = "COLUMN=EXPR")]
        filters: Vec<String>,
    },
    /// List DataFrame backups, oldest first.
    Backups {
        /// Project directory.
        dir: PathBuf,
    },
    /// Make a backup the project DataFrame again (the current one is backed up first).
    Restore {
        /// Project directory.
        dir: PathBuf,
        /// Backup file name (from `project backups`) or path.
        backup: PathBuf,
    },
}

/// `project add-sample` options.
#[derive(Debug, Args)]
pub struct AddSampleArgs {
    /// Project directory.
    dir: PathBuf,
    /// The movie.
    #[arg(long)]
    image: PathBuf,
    #[command(flatten)]
    open: OpenArgs,
    /// AnimalID.
    #[arg(long)]
    animal: String,
    /// TrialID.
    #[arg(long)]
    trial: String,
    /// ROIs: a CNMF/CNMF-E result HDF5 (CaImAn's layout, from CaImAn or `mesmerize cnmf`) or a JSON list of ROI states.
    #[arg(long, value_name = "RESULT.hdf5|ROIS.json")]
    rois: PathBuf,
    /// Only the accepted components of a CNMF result.
    #[arg(long)]
    accepted_only: bool,
    /// TYPE=MAP.csv: stimulus map for a stimulus type column (name from column `name` or TYPE); repeatable.
    #[arg(long = "stim-map", value_name = "TYPE=CSV")]
    stim_maps: Vec<String>,
    /// Unit of the stimulus maps' start/end.
    #[arg(long, default_value = "frames", value_parser = parse_units)]
    stim_units: TimeUnit,
    /// COLUMN=VALUE: tag every ROI in a ROI type column; repeatable.
    #[arg(long = "tag", value_name = "COLUMN=VALUE")]
    tags: Vec<String>,
    /// INDEX:COLUMN=VALUE: tag one ROI; repeatable.
    #[arg(long = "roi-tag", value_name = "I:COLUMN=VALUE")]
    roi_tags: Vec<String>,
    /// COLUMN=VALUE: a custom column's value; repeatable.
    #[arg(long = "set", value_name = "COLUMN=VALUE")]
    set: Vec<String>,
    /// Comments.
    #[arg(long, default_value = "")]
    comments: String,
    /// Replace the sample if it exists.
    #[arg(long)]
    overwrite: bool,
    /// With --overwrite: keep the stored image data (only ROIs, tags, maps and values change).
    #[arg(long, requires = "overwrite")]
    keep_image: bool,
}

fn parse_units(s: &str) -> Result<TimeUnit, String> {
    match s {
        "frames" => Ok(TimeUnit::Frames),
        "seconds" => Ok(TimeUnit::Seconds),
        o => Err(format!("unknown unit '{o}': frames or seconds")),
    }
}

fn key_value(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = s.split_once('=').with_context(|| format!("{what} '{s}': expected COLUMN=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

/// Run a project subcommand.
pub fn run(cmd: ProjectCommand) -> anyhow::Result<()> {
    match cmd {
        ProjectCommand::New { dir, roi, stim, custom } => {
            let custom = custom.iter().map(|c| CustomColumn::parse(c)).collect::<Result<Vec<_>, _>>()?;
            let cfg = ProjectConfig { roi_type_columns: roi, stim_type_columns: stim, custom_columns: custom, ..Default::default() };
            Project::create(&dir, cfg)?;
            eprintln!("created project {}", dir.display());
            Ok(())
        }
        ProjectCommand::Config { dir, roi, stim, custom, json } => {
            let mut p = Project::open(&dir)?;
            if !(roi.is_empty() && stim.is_empty() && custom.is_empty()) {
                let mut cfg = p.config().clone();
                cfg.roi_type_columns.extend(roi);
                cfg.stim_type_columns.extend(stim);
                for c in &custom {
                    cfg.custom_columns.push(CustomColumn::parse(c)?);
                }
                p.set_config(cfg)?;
            }
            if json {
                out!("{}", serde_json::to_string_pretty(p.config())?)?;
            } else {
                let c = p.config();
                out!("ROI type columns:      {}", c.roi_type_columns.join(", "))?;
                out!("stimulus type columns: {}", c.stim_type_columns.join(", "))?;
                let cc: Vec<String> = c.custom_columns.iter().map(|c| format!("{} ({:?})", c.name, c.dtype).to_lowercase()).collect();
                out!("custom columns:        {}", cc.join(", "))?;
            }
            Ok(())
        }
        ProjectCommand::AddSample(a) => add_sample(&a),
        ProjectCommand::DeleteSample { dir, sample_id } => {
            Project::open(&dir)?.delete_sample(&sample_id)?;
            eprintln!("deleted sample {sample_id}");
            Ok(())
        }
        ProjectCommand::List { dir, tab, filters, save_tab, json } => {
            let p = Project::open(&dir)?;
            let t = tab_with(&p, tab.as_deref(), &filters, save_tab.as_deref())?;
            if save_tab.is_some() {
                p.save_tab(t.clone())?;
                eprintln!("saved tab '{}'", t.name);
            }
            let df = t.dataframe(p.dataframe())?;
            if json {
                out!("{}", serde_json::to_string(&rows_json(&df)?)?)?;
            } else {
                print_table(&df, p.config())?;
            }
            Ok(())
        }
        ProjectCommand::Tabs { dir, json } => {
            let p = Project::open(&dir)?;
            let tabs = p.tabs()?;
            if json {
                let v: Vec<Value> = tabs
                    .iter()
                    .map(|t| serde_json::json!({"name": t.name, "filters": t.filters, "filter_history": t.filter_history()}))
                    .collect();
                out!("{}", Value::Array(v))?;
            } else {
                for t in tabs {
                    out!("{}:", t.name)?;
                    for h in t.filter_history() {
                        out!("    {h}")?;
                    }
                }
            }
            Ok(())
        }
        ProjectCommand::ExportTrn { dir, out, tab, filters } => {
            let p = Project::open(&dir)?;
            let t = tab_with(&p, tab.as_deref(), &filters, None)?;
            let bar = Bar::new();
            let trn = p.spawn_transmission(&t, &bar)?;
            bar.finish();
            trn.to_hdf5(&out).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("wrote {} rows to {}", trn.df.height(), out.display());
            Ok(())
        }
        ProjectCommand::Backups { dir } => {
            for b in Project::open(&dir)?.backups() {
                out!("{}", b.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())?;
            }
            Ok(())
        }
        ProjectCommand::Restore { dir, backup } => {
            Project::open(&dir)?.restore_backup(&backup)?;
            eprintln!("restored {}", backup.display());
            Ok(())
        }
    }
}

/// The tab named (or root) plus extra CLI filters; named `save_as`, the tab's name, or `root`.
fn tab_with(p: &Project, tab: Option<&str>, filters: &[String], save_as: Option<&str>) -> anyhow::Result<Tab> {
    let mut t = p.tab(tab.unwrap_or("root"))?;
    for f in filters {
        t.filters.push(FilterStep::parse_cli(f)?);
    }
    if let Some(n) = save_as {
        t.name = n.to_string();
    } else if tab.is_none() && !filters.is_empty() {
        t.name = "filtered".into();
    }
    Ok(t)
}

fn add_sample(a: &AddSampleArgs) -> anyhow::Result<()> {
    let mut p = Project::open(&a.dir)?;
    let img = a.open.open(&a.image)?;
    let mut env = WorkEnv::new(img);
    let is_json = a.rois.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let text = std::fs::read_to_string(&a.rois).with_context(|| format!("reading {}", a.rois.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", a.rois.display()))?;
        env.set_rois_from_states(&v).with_context(|| format!("{}", a.rois.display()))?;
    } else {
        env.set_cnmf_rois(&a.rois, a.accepted_only)?;
    }
    for spec in &a.tags {
        let (col, val) = key_value(spec, "--tag")?;
        check_roi_column(&p, &col)?;
        for i in 0..env.rois.len() {
            env.rois.set_tag(i, &col, &val)?;
        }
    }
    for spec in &a.roi_tags {
        let (head, val) = key_value(spec, "--roi-tag")?;
        let (i, col) = head.split_once(':').with_context(|| format!("--roi-tag '{spec}': expected INDEX:COLUMN=VALUE"))?;
        let i: usize = i.parse().with_context(|| format!("--roi-tag '{spec}': '{i}' is not an ROI index"))?;
        if i >= env.rois.len() {
            bail!("--roi-tag '{spec}': there are {} ROIs", env.rois.len());
        }
        check_roi_column(&p, col)?;
        env.rois.set_tag(i, col, &val)?;
    }
    for spec in &a.stim_maps {
        let (ty, csv) = key_value(spec, "--stim-map")?;
        let map = load_map(Path::new(&csv), &ty, a.stim_units)?;
        env.stim_maps.insert(ty, map);
    }
    let mut custom = BTreeMap::new();
    for spec in &a.set {
        let (k, v) = key_value(spec, "--set")?;
        custom.insert(k, v);
    }
    let bar = Bar::new();
    env.compute_curves(&bar)?;
    let s = NewSample { animal_id: a.animal.clone(), trial_id: a.trial.clone(), work_env: &env, custom, comments: a.comments.clone() };
    let id = if a.overwrite { p.overwrite_sample(&s, !a.keep_image, &bar)? } else { p.add_sample(&s, &bar)? };
    bar.finish();
    eprintln!("added sample {id} with {} ROIs", env.rois.len());
    Ok(())
}

fn check_roi_column(p: &Project, col: &str) -> anyhow::Result<()> {
    if !p.config().roi_type_columns.iter().any(|c| c == col) {
        bail!("'{col}' is not a ROI type column of this project (ROI type columns: {})", p.config().roi_type_columns.join(", "));
    }
    Ok(())
}

/// Columns holding JSON text, printed as JSON values.
const JSON_COLUMNS: &[&str] = &["ROI_State", "meta", "stim_maps", "misc"];

fn rows_json(df: &DataFrame) -> anyhow::Result<Value> {
    let cols = df.columns();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut obj = Map::new();
        for c in cols {
            let name = c.name().as_str();
            let v = c.get(i)?;
            let j = match v {
                AnyValue::List(s) if s.dtype().is_primitive_numeric() => continue, // curves and other arrays
                AnyValue::String(s) if JSON_COLUMNS.contains(&name) => serde_json::from_str(s).unwrap_or(Value::String(s.into())),
                other => any_json(&other),
            };
            obj.insert(name.to_string(), j);
        }
        rows.push(Value::Object(obj));
    }
    Ok(Value::Array(rows))
}

fn any_json(v: &AnyValue) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).into()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int64(x) => Value::from(*x),
        AnyValue::Int32(x) => Value::from(*x),
        AnyValue::UInt32(x) => Value::from(*x),
        AnyValue::UInt64(x) => Value::from(*x),
        AnyValue::Float64(x) => serde_json::Number::from_f64(*x).map(Value::Number).unwrap_or(Value::Null),
        AnyValue::Float32(x) => serde_json::Number::from_f64(f64::from(*x)).map(Value::Number).unwrap_or(Value::Null),
        AnyValue::List(s) => Value::Array(s.iter().map(|x| any_json(&x)).collect()),
        other => Value::String(other.to_string()),
    }
}

fn print_table(df: &DataFrame, cfg: &ProjectConfig) -> std::io::Result<()> {
    let mut cols = vec!["SampleID", "uuid_curve"];
    cols.extend(cfg.column_names());
    let present: Vec<&str> = cols.into_iter().filter(|c| df.column(c).is_ok()).collect();
    out!("{}", present.join("\t"))?;
    for i in 0..df.height() {
        let cells: Vec<String> = present
            .iter()
            .map(|c| match df.column(c).and_then(|col| col.get(i)) {
                Ok(AnyValue::String(s)) => s.to_string(),
                Ok(v) => any_json(&v).to_string(),
                Err(_) => String::new(),
            })
            .collect();
        out!("{}", cells.join("\t"))?;
    }
    eprintln!("{} rows, {} samples", df.height(), {
        let mut ids: Vec<String> = df
            .column("SampleID")
            .ok()
            .and_then(|c| c.str().ok().map(|s| s.iter().flatten().map(str::to_string).collect()))
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids.len()
    });
    Ok(())
}
