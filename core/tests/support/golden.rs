//! Golden reference files written by the Python scripts in `tests/golden/` (scipy, tslearn, scikit-learn): loading.
#![allow(dead_code)]

use serde_json::Value;

/// The JSON document at `tests/golden/REL`.
pub fn json(rel: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden").join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("golden file {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("golden file {}: {e}", p.display()))
}

/// A JSON array of numbers.
pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}
