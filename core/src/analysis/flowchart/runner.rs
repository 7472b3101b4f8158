//! Execution: nodes in topological order, each result cached under a key of (type, parameters, input keys), so a
//! parameter change recomputes that node and what lies downstream and nothing else.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use super::{Flowchart, FlowchartError};
use crate::analysis::nodes::{self, Inputs, NodeContext, Outputs};

/// What a run did: which nodes were computed and which came from the cache.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    /// Nodes computed in this run, in execution order.
    pub computed: Vec<String>,
    /// Nodes whose cached outputs were reused.
    pub cached: Vec<String>,
}

/// Runs a flowchart and keeps each node's last outputs for the next run.
#[derive(Default)]
pub struct Runner {
    cache: HashMap<String, (u64, Outputs)>,
}

impl Runner {
    /// A runner with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget a node's cached result (e.g. LoadProjDF after the project changed); downstream nodes recompute too.
    pub fn invalidate(&mut self, node: &str) {
        self.cache.remove(node);
    }

    /// The outputs a node produced in the last run.
    pub fn outputs(&self, node: &str) -> Option<&Outputs> {
        self.cache.get(node).map(|(_, o)| o)
    }

    /// Run every node in topological order. A node with a required input left unconnected is skipped (with
    /// everything downstream of it), as the editor shows nodes that are still being wired; a node that fails stops
    /// the run with an error naming it.
    pub fn run(&mut self, chart: &Flowchart, ctx: &NodeContext) -> Result<RunReport, FlowchartError> {
        let order = chart.topological_order()?;
        let mut keys: HashMap<String, u64> = HashMap::new();
        let mut report = RunReport::default();
        self.cache.retain(|k, _| chart.node(k).is_ok());
        for name in order {
            let node = chart.node(&name)?;
            let spec = chart.spec_of(&name)?;
            let mut inputs: Inputs = BTreeMap::new();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            spec.name.hash(&mut hasher);
            node.params.to_string().hash(&mut hasher);
            let mut complete = true;
            for c in chart.inputs_of(&name) {
                let Some(key) = keys.get(&c.from.node) else {
                    complete = false;
                    continue;
                };
                let value = self.cache.get(&c.from.node).and_then(|(_, o)| o.get(&c.from.terminal));
                match value {
                    Some(v) => {
                        (c.to.terminal.as_str(), &c.from.node, &c.from.terminal, key).hash(&mut hasher);
                        inputs.entry(c.to.terminal.clone()).or_default().push(v.clone());
                    }
                    // The upstream node ran but produced nothing on this terminal.
                    None => complete = false,
                }
            }
            let missing_required = spec.inputs.iter().any(|t| !t.optional && inputs.get(t.name).is_none_or(Vec::is_empty));
            if !complete || missing_required {
                self.cache.remove(&name);
                continue;
            }
            let key = hasher.finish();
            if self.cache.get(&name).is_some_and(|(k, _)| *k == key) {
                report.cached.push(name.clone());
            } else {
                let outputs = nodes::run_node(&node.node_type, &inputs, &node.params, ctx)
                    .map_err(|source| FlowchartError::Node { node: name.clone(), source })?;
                self.cache.insert(name.clone(), (key, outputs));
                report.computed.push(name.clone());
            }
            keys.insert(name, key);
        }
        Ok(report)
    }
}
