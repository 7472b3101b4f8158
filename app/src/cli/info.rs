//! `mesmerize info FILE [--json]`.

use std::path::Path;

use super::OpenArgs;

/// Print shape, axes, dtype and metadata; `--json` prints one document for scripts.
pub fn run(file: &Path, open: &OpenArgs, json: bool) -> anyhow::Result<()> {
    let img = open.open(file)?;
    let s = img.shape();
    if json {
        let doc = serde_json::json!({
            "path": file.display().to_string(),
            "shape": s.dims(),
            "axes": s.axes(),
            "dtype": img.dtype().name(),
            "meta": img.meta().to_json(),
            "access": img.access(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let m = img.meta();
    println!("file    {}", file.display());
    println!("shape   {:?} ({})", s.dims(), s.axes());
    println!("dtype   {}", img.dtype().name());
    println!("read    {}", img.access());
    println!("origin  {}", m.origin);
    println!("fps     {}", m.fps.map_or("unknown".into(), |f| format!("{f}")));
    println!("date    {}", m.date.as_deref().unwrap_or("unknown"));
    if let Some(fps) = m.fps {
        println!("length  {:.2} s", s.t as f64 / fps);
    }
    Ok(())
}
