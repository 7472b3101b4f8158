//! Beeswarm plot data: the values of single-number columns split by a categorical column, each point keeping the
//! row's UUID so the datapoint tracer can find its curve.

use std::collections::BTreeMap;

/// One group of a beeswarm: its label, values per data column, and the UUID of each point's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Category label.
    pub label: String,
    /// Per data column, the values of the group's rows (NaN kept: the plot skips them).
    pub values: BTreeMap<String, Vec<f64>>,
    /// UUID of each point's row, in the same order.
    pub uuids: Vec<String>,
}

/// Split rows by `labels` (groups in order of first appearance), carrying `columns` (name, values) and `uuids`.
pub fn groups(labels: &[String], columns: &[(String, Vec<f64>)], uuids: &[String]) -> Result<Vec<Group>, String> {
    if uuids.len() != labels.len() || columns.iter().any(|(_, v)| v.len() != labels.len()) {
        return Err("beeswarm: labels, data columns and UUIDs must have one entry per row".into());
    }
    let mut out: Vec<Group> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let k = match out.iter().position(|g| &g.label == l) {
            Some(k) => k,
            None => {
                out.push(Group { label: l.clone(), values: columns.iter().map(|(n, _)| (n.clone(), Vec::new())).collect(), uuids: Vec::new() });
                out.len() - 1
            }
        };
        for (name, v) in columns {
            if let Some(g) = out[k].values.get_mut(name) {
                g.push(v[i]);
            }
        }
        out[k].uuids.push(uuids[i].clone());
    }
    Ok(out)
}
