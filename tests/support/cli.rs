//! Running the `mesmerize` binary from end-to-end tests: run, expect success, expect failure, parse `--json`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Run `mesmerize ARGS` in `cwd`.
pub fn mesmerize(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesmerize")).args(args).current_dir(cwd).output().expect("run mesmerize")
}

/// Run and require success (the failure message shows stderr).
pub fn ok(args: &[&str], cwd: &Path) -> Output {
    let o = mesmerize(args, cwd);
    assert!(o.status.success(), "mesmerize {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
    o
}

/// Run and require failure; returns stderr.
pub fn err(args: &[&str], cwd: &Path) -> String {
    let o = mesmerize(args, cwd);
    assert!(!o.status.success(), "mesmerize {} should fail", args.join(" "));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout as one JSON document.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}
