//! Cluster export: one shell script per item and a SLURM job-array script, both running items with
//! `mesmerize batch run-item`, so a batch that outgrows one machine goes to the cluster's scheduler unchanged.

use std::path::Path;

use super::inputs::referenced_items;
use super::item::{Input, Item};
use super::table::Batch;

/// Quote a string for POSIX shells (single quotes; embedded single quotes closed, escaped and reopened), so
/// batch paths with spaces or any other character survive.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A script that runs one item on this or any machine with `mesmerize` installed (the `MESMERIZE` environment
/// variable overrides the program, default `exe`).
pub fn item_script(batch: &Batch, item: &Item, exe: &Path) -> String {
    let mut s = String::new();
    s.push_str("#!/usr/bin/env bash\n");
    s.push_str(&format!("# Mesmerize-RS batch item {} ({}, {})\n", item.uuid, one_line(&item.name), item.module));
    s.push_str(&format!("# input: {}\n", one_line(&item.input.to_string())));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!("MESMERIZE=${{MESMERIZE:-{}}}\n", shell_quote(&exe.to_string_lossy())));
    s.push_str(&format!("exec \"$MESMERIZE\" batch run-item {} {} \"$@\"\n", shell_quote(&batch.dir().to_string_lossy()), item.uuid));
    s
}

/// A SLURM job-array script (`sbatch OUT.sh`): array task i runs item i. Items that read another item's output
/// (input, `memmap_uuid`, `Ain`) wait for it (`--wait-input`), and the array lists items in batch order, so inputs
/// are scheduled first.
pub fn slurm_script(batch: &Batch, items: &[Item], exe: &Path, job_name: &str) -> String {
    let mut s = String::new();
    s.push_str("#!/usr/bin/env bash\n");
    s.push_str(&format!("#SBATCH --job-name={}\n", job_name.replace(|c: char| c.is_whitespace() || c == '#', "_")));
    s.push_str(&format!("#SBATCH --array=0-{}\n", items.len().saturating_sub(1)));
    s.push_str("#SBATCH --output=mesmerize-batch-%A_%a.log\n");
    s.push_str("# Add your site's options (partition, time, memory, cpus-per-task) above, then submit with: sbatch THIS_FILE\n");
    s.push_str(&format!("# Batch: {}\n", one_line(&batch.dir().to_string_lossy())));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!("MESMERIZE=${{MESMERIZE:-{}}}\n", shell_quote(&exe.to_string_lossy())));
    s.push_str(&format!("BATCH={}\n", shell_quote(&batch.dir().to_string_lossy())));
    s.push_str("ITEMS=(\n");
    for (i, it) in items.iter().enumerate() {
        s.push_str(&format!("  {}  # {i}: {} ({})\n", it.uuid, one_line(&it.name), it.module));
    }
    s.push_str(")\n");
    s.push_str("WAIT=(\n");
    for it in items {
        // Items that read another item's output (input, `memmap_uuid`, `Ain`) wait for it on the cluster.
        let reads_other = matches!(it.input, Input::Item { .. }) || batch.params(&it.uuid).is_ok_and(|p| !referenced_items(&p).is_empty());
        let wait = if reads_other { "--wait-input=86400" } else { "--wait-input=0" };
        s.push_str(&format!("  {wait}\n"));
    }
    s.push_str(")\n");
    s.push_str("TASK=\"${SLURM_ARRAY_TASK_ID:?run this script with sbatch (SLURM_ARRAY_TASK_ID is not set)}\"\n");
    s.push_str("if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export RAYON_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi\n");
    s.push_str("exec \"$MESMERIZE\" batch run-item \"$BATCH\" \"${ITEMS[$TASK]}\" \"${WAIT[$TASK]}\"\n");
    s
}

/// Names in comments stay on one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(shell_quote("/plain/path-1.tiff"), "/plain/path-1.tiff");
        assert_eq!(shell_quote("my batch"), "'my batch'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
