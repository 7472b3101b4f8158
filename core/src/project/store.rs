//! The project DataFrame on disk: `dataframes/root.parquet` (pandas: `pd.read_parquet`, polars: `pl.read_parquet`),
//! written atomically, with a timestamped copy in `dataframes/backups/` made before every change.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::ProjectError;

/// File name of the project DataFrame inside `dataframes/`.
pub const ROOT_FILE: &str = "root.parquet";

/// Write `df` to `path` atomically: a crash or kill mid-write leaves the previous file as it was.
pub fn save_df(path: &Path, df: &DataFrame) -> Result<(), ProjectError> {
    let mut df = df.clone();
    crate::io::atomic::replace_via_temp(path, |tmp| -> Result<(), std::io::Error> {
        let mut f = std::fs::File::create(tmp)?;
        // Polars declares its string columns as Arrow string views in the file's Arrow schema; pyarrow cannot turn
        // a list of string views (our stimulus type columns) into pandas, so declare the classic large types.
        let arrow = df.schema().to_arrow(CompatLevel::oldest());
        let key = polars_parquet::write::schema_to_metadata_key(&arrow);
        ParquetWriter::new(&mut f)
            .with_key_value_metadata(Some(KeyValueMetadata::Static(vec![key])))
            .finish(&mut df)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(())
    }, std::convert::identity)
    .map_err(|e| ProjectError::io(path, e))
}

/// Read a DataFrame saved by [`save_df`] (or by pandas/polars as Parquet); errors name the file.
pub fn load_df(path: &Path) -> Result<DataFrame, ProjectError> {
    let f = std::fs::File::open(path).map_err(|e| ProjectError::io(path, e))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| ProjectError::corrupt(path, format!("not a readable Parquet DataFrame (corrupt or truncated?): {e}")))
}

/// Copy the current DataFrame file into `backups/` under a timestamped name; returns the backup's path (None when
/// there is nothing to back up yet).
pub fn backup(dataframes: &Path) -> Result<Option<PathBuf>, ProjectError> {
    let root = dataframes.join(ROOT_FILE);
    if !root.exists() {
        return Ok(None);
    }
    let dir = dataframes.join("backups");
    std::fs::create_dir_all(&dir).map_err(|e| ProjectError::io(&dir, e))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut dest = dir.join(format!("root_{}_{:06}.parquet", now.as_secs(), now.subsec_micros()));
    let mut n = 1;
    while dest.exists() {
        dest = dir.join(format!("root_{}_{:06}_{n}.parquet", now.as_secs(), now.subsec_micros()));
        n += 1;
    }
    crate::io::atomic::replace_via_temp(&dest, |tmp| std::fs::copy(&root, tmp).map(|_| ()), std::convert::identity).map_err(|e| ProjectError::io(&dest, e))?;
    Ok(Some(dest))
}

/// Backups, oldest first.
pub fn list_backups(dataframes: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dataframes.join("backups"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "parquet")).collect())
        .unwrap_or_default();
    v.sort();
    v
}
