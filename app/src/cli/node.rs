//! `mesmerize node` (run one analysis node on .trn files) and `mesmerize flowchart run` (run a `.fc` flowchart
//! headless), so that scripts and tests can drive every node.
//!
//! Non-Transmission values (a Linkage node's matrix, Inconsistent's R, MaxIncStat's monocrit) are read and written as
//! JSON files: `{"kind": "linkage", "Z": [[...]], "params": {...}}`, `{"kind": "inconsistency", "R": [[...]],
//! "depth": d}`, `{"kind": "monocrit", "values": [...], "stat": "..."}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mesmerize_core::analysis::Transmission;
use mesmerize_core::analysis::flowchart::{self, Runner};
use mesmerize_core::analysis::ndarray::Array2;
use mesmerize_core::analysis::nodes::{
    self, InconsistencyData, Inputs, LinkageData, MonocritData, NodeContext, ParamDefault, ParamKind, Port, PortKind,
};
use serde_json::{Value, json};

/// `mesmerize node` arguments.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Node name as in the docs (Butterworth, Normalize, FCluster, ...). Omit with --list.
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// Input .trn for the node's first Transmission input ("-" for none, e.g. LoadProjDF or Inconsistent).
    #[arg(required_unless_present = "list")]
    pub input: Option<PathBuf>,
    /// Output: the node's Transmission (.trn), or JSON for a node whose outputs are not Transmissions (Linkage).
    #[arg(required_unless_present = "list")]
    pub output: Option<PathBuf>,
    /// Parameters as a JSON object (names as in the docs), or @FILE to read them from a file.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// More inputs, TERMINAL=FILE (.trn, or JSON for Linkage / IncM / Monocrit terminals); repeatable.
    #[arg(long = "in", value_name = "TERMINAL=FILE")]
    pub extra_inputs: Vec<String>,
    /// Which output terminal to write (default: the first).
    #[arg(long)]
    pub out_terminal: Option<String>,
    /// Project directory (LoadProjDF, and the project path of loaded Transmissions).
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// List every node with its terminals and parameters, then exit.
    #[arg(long)]
    pub list: bool,
    /// With --list: one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `mesmerize flowchart` subcommands.
#[derive(Debug, Subcommand)]
pub enum FlowchartCommand {
    /// Run a flowchart headless and save the Transmission its last node produced.
    Run {
        /// The .fc file.
        flow: PathBuf,
        /// Project directory (LoadProjDF nodes read it).
        #[arg(long, conflicts_with = "input")]
        project: Option<PathBuf>,
        /// A .trn file fed in place of the flowchart's LoadFile / LoadProjDF node.
        #[arg(long)]
        input: Option<PathBuf>,
        /// The .trn file to write.
        #[arg(long)]
        out: PathBuf,
        /// Node whose Transmission to save (default: the one sink node producing a Transmission).
        #[arg(long)]
        node: Option<String>,
    },
    /// Check a flowchart (node types, parameters, connections, cycles) and print its nodes in execution order.
    Check {
        /// The .fc file.
        flow: PathBuf,
    },
}

/// Run `mesmerize node`.
pub fn run_node(a: &NodeArgs) -> anyhow::Result<()> {
    if a.list {
        return list(a.json);
    }
    let (Some(name), Some(input), Some(output)) = (&a.name, &a.input, &a.output) else { bail!("NAME, IN and OUT are required") };
    let spec = nodes::find(name)?;
    let params: Value = parse_params(&a.params)?;
    let ctx = NodeContext { project: a.project.clone(), base_dir: std::env::current_dir().ok() };
    let mut inputs: Inputs = BTreeMap::new();
    if input.as_os_str() != "-" {
        // IN goes to the first Transmission input (FCluster: Data); other kinds come with --in TERMINAL=FILE.
        let first = spec
            .inputs
            .iter()
            .find(|t| t.kind == PortKind::Transmission)
            .with_context(|| format!("{} takes no Transmission input; pass - as IN and its inputs with --in", spec.name))?;
        inputs.entry(first.name.to_string()).or_default().push(read_port(input, first.kind, a.project.as_deref())?);
    }
    for e in &a.extra_inputs {
        let (term, file) = e.split_once('=').with_context(|| format!("--in {e}: expected TERMINAL=FILE"))?;
        let t = spec.input(term).with_context(|| {
            format!("{} has no input '{term}' (inputs: {})", spec.name, spec.inputs.iter().map(|t| t.name).collect::<Vec<_>>().join(", "))
        })?;
        inputs.entry(term.to_string()).or_default().push(read_port(Path::new(file), t.kind, a.project.as_deref())?);
    }
    let outputs = nodes::run_node(spec.name, &inputs, &params, &ctx).map_err(|e| anyhow::anyhow!("{}: {e}", spec.name))?;
    let term = match &a.out_terminal {
        Some(t) => t.clone(),
        None => match spec.outputs.first() {
            Some(t) => t.name.to_string(),
            None => {
                eprintln!("{}: done (the node has no output terminal; {} not written)", spec.name, output.display());
                return Ok(());
            }
        },
    };
    let value = outputs.get(&term).with_context(|| format!("{} produced nothing on output '{term}'", spec.name))?;
    write_port(output, value)?;
    eprintln!("{}: wrote {} ({})", spec.name, output.display(), value.kind().name());
    Ok(())
}

/// Run a `flowchart` subcommand.
pub fn run_flowchart(cmd: &FlowchartCommand) -> anyhow::Result<()> {
    match cmd {
        FlowchartCommand::Check { flow } => {
            let chart = flowchart::load(flow)?;
            for name in chart.topological_order()? {
                let n = chart.node(&name)?;
                out!("{name}\t{}\t{}", n.node_type, n.params)?;
            }
            Ok(())
        }
        FlowchartCommand::Run { flow, project, input, out, node } => {
            let mut chart = flowchart::load(flow)?;
            if let Some(inp) = input {
                let sources: Vec<String> = chart
                    .nodes()
                    .iter()
                    .filter(|n| matches!(nodes::find(&n.node_type).map(|s| s.name), Ok("LoadFile" | "LoadProjDF")))
                    .map(|n| n.name.clone())
                    .collect();
                anyhow::ensure!(!sources.is_empty(), "{}: no LoadFile or LoadProjDF node to feed --input into", flow.display());
                let path = std::path::absolute(inp).unwrap_or_else(|_| inp.clone());
                for s in sources {
                    replace_with_load_file(&mut chart, &s, &path)?;
                }
            }
            let base = flow.parent().map(Path::to_path_buf);
            let ctx = NodeContext { project: project.clone(), base_dir: base };
            let mut runner = Runner::new();
            let report = runner.run(&chart, &ctx)?;
            eprintln!("flowchart: ran {} nodes: {}", report.computed.len(), report.computed.join(", "));
            let target = match node {
                Some(n) => n.clone(),
                None => sink(&chart, &runner)?,
            };
            let t = runner
                .outputs(&target)
                .and_then(|o| o.values().find_map(|p| if let Port::Transmission(t) = p { Some(t) } else { None }))
                .with_context(|| format!("node '{target}' produced no Transmission"))?;
            t.to_hdf5(out)?;
            eprintln!("flowchart: wrote {} from node '{target}'", out.display());
            Ok(())
        }
    }
}

/// Swap a source node for a LoadFile of `path`, keeping its name and outgoing connections.
fn replace_with_load_file(chart: &mut flowchart::Flowchart, name: &str, path: &Path) -> anyhow::Result<()> {
    let outgoing: Vec<_> = chart.connections().iter().filter(|c| c.from.node == name).cloned().collect();
    chart.remove_node(name)?;
    chart.add_node(name, "LoadFile", json!({"path": path.display().to_string()}))?;
    for c in outgoing {
        chart.connect(c.from, c.to)?;
    }
    Ok(())
}

/// The one node with a Transmission output that feeds nothing (the end of the pipeline).
fn sink(chart: &flowchart::Flowchart, runner: &Runner) -> anyhow::Result<String> {
    let sinks: Vec<String> = chart
        .nodes()
        .iter()
        .filter(|n| chart.connections().iter().all(|c| c.from.node != n.name))
        .filter(|n| runner.outputs(&n.name).is_some_and(|o| o.values().any(|p| p.kind() == PortKind::Transmission)))
        .map(|n| n.name.clone())
        .collect();
    match sinks.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no node at the end of the flowchart produced a Transmission"),
        many => bail!("several end nodes produced Transmissions ({}); choose one with --node", many.join(", ")),
    }
}

fn parse_params(text: &str) -> anyhow::Result<Value> {
    let text = match text.strip_prefix('@') {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("--params: cannot read {f}"))?,
        None => text.to_string(),
    };
    let v: Value = serde_json::from_str(&text).context("--params is not valid JSON")?;
    anyhow::ensure!(v.is_object(), "--params must be a JSON object, got {v}");
    Ok(v)
}

fn matrix_json(m: &Array2<f64>) -> Value {
    Value::Array(m.rows().into_iter().map(|r| Value::from(r.to_vec())).collect())
}

fn matrix_from(v: &Value, what: &str, file: &Path) -> anyhow::Result<Array2<f64>> {
    let rows = v.as_array().with_context(|| format!("{}: '{what}' is not a list of rows", file.display()))?;
    let ncol = rows.first().and_then(Value::as_array).map_or(0, Vec::len);
    let mut data = Vec::with_capacity(rows.len() * ncol);
    for r in rows {
        let r = r.as_array().filter(|r| r.len() == ncol).with_context(|| format!("{}: '{what}' rows differ in length", file.display()))?;
        for x in r {
            data.push(x.as_f64().with_context(|| format!("{}: '{what}' holds a non-number", file.display()))?);
        }
    }
    Ok(Array2::from_shape_vec((rows.len(), ncol), data)?)
}

fn read_port(file: &Path, kind: PortKind, project: Option<&Path>) -> anyhow::Result<Port> {
    if kind == PortKind::Transmission {
        let mut t = Transmission::from_hdf5(file)?;
        if let Some(p) = project {
            t.proj_path = Some(p.to_path_buf());
        }
        return Ok(Port::from_transmission(t));
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let found = v.get("kind").and_then(Value::as_str).unwrap_or("");
    anyhow::ensure!(found == kind.name(), "{}: holds '{found}', this terminal takes '{}'", file.display(), kind.name());
    Ok(match kind {
        PortKind::Linkage => Port::Linkage(LinkageData { z: matrix_from(&v["Z"], "Z", file)?, params: v["params"].clone() }),
        PortKind::Inconsistency => Port::Inconsistency(InconsistencyData {
            r: matrix_from(&v["R"], "R", file)?,
            depth: v["depth"].as_u64().unwrap_or(2) as usize,
        }),
        PortKind::Monocrit => Port::Monocrit(MonocritData {
            values: v["values"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default(),
            stat: v["stat"].as_str().unwrap_or("").to_string(),
        }),
        PortKind::Transmission => unreachable!("handled above"),
    })
}

fn write_port(file: &Path, p: &Port) -> anyhow::Result<()> {
    let v = match p {
        Port::Transmission(t) => return Ok(t.to_hdf5(file)?),
        Port::Linkage(l) => json!({"kind": "linkage", "Z": matrix_json(&l.z), "params": l.params}),
        Port::Inconsistency(i) => json!({"kind": "inconsistency", "R": matrix_json(&i.r), "depth": i.depth}),
        Port::Monocrit(m) => json!({"kind": "monocrit", "values": m.values, "stat": m.stat}),
    };
    std::fs::write(file, serde_json::to_string_pretty(&v)?).with_context(|| format!("cannot write {}", file.display()))
}

fn list(as_json: bool) -> anyhow::Result<()> {
    let kind = |k: &ParamKind| match k {
        ParamKind::Int { min, max } => format!("int {min}..={max}"),
        ParamKind::Float => "float".into(),
        ParamKind::Bool => "bool".into(),
        ParamKind::Text => "text".into(),
        ParamKind::Choice(c) => format!("one of {}", c.join("|")),
        ParamKind::Column => "column".into(),
        ParamKind::Columns => "columns".into(),
    };
    let default = |d: &ParamDefault| match d {
        ParamDefault::Required => json!("(required)"),
        ParamDefault::Null => Value::Null,
        ParamDefault::Int(i) => json!(i),
        ParamDefault::Float(f) => json!(f),
        ParamDefault::Bool(b) => json!(b),
        ParamDefault::Text(t) => json!(t),
        ParamDefault::LastOutput => json!("(last output)"),
    };
    let all: Vec<Value> = nodes::registry()
        .iter()
        .map(|s| {
            json!({
                "name": s.name, "category": s.category, "help": s.help, "aliases": s.aliases,
                "inputs": s.inputs.iter().map(|t| json!({"name": t.name, "kind": t.kind.name(), "optional": t.optional, "multi": t.multi})).collect::<Vec<_>>(),
                "outputs": s.outputs.iter().map(|t| json!({"name": t.name, "kind": t.kind.name()})).collect::<Vec<_>>(),
                "params": s.params.iter().map(|p| json!({"name": p.name, "type": kind(&p.kind), "default": default(&p.default), "help": p.help})).collect::<Vec<_>>(),
            })
        })
        .collect();
    if as_json {
        out!("{}", Value::Array(all))?;
        return Ok(());
    }
    for s in nodes::registry() {
        out!("{} ({:?}): {}", s.name, s.category, s.help)?;
        for p in s.params {
            out!("    {} [{}] = {}: {}", p.name, kind(&p.kind), default(&p.default), p.help)?;
        }
    }
    Ok(())
}
