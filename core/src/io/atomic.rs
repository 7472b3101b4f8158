//! Writes that replace user data go to a temporary file in the same directory and are renamed into place, so a
//! crash never leaves a half-written file under the real name.

use std::io::Write;
use std::path::Path;

use atomic_write_file::AtomicWriteFile;

/// Write `bytes` to `path` atomically (temp file, fsync, rename, fsync of the directory).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicWriteFile::options().open(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Open `path` for an atomic write through a closure that streams into it; nothing appears under `path` unless
/// the closure succeeds.
pub fn with_atomic_file<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut AtomicWriteFile>) -> Result<(), E>,
) -> Result<(), E> {
    let mut f = AtomicWriteFile::options().open(path)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut f);
        write(&mut w)?;
        w.flush()?;
    }
    f.commit()?;
    Ok(())
}

/// Let `write` create a whole file at a temporary path beside `path` (for writers such as HDF5 that need a path of
/// their own), then fsync it and rename it over `path`; on failure the temporary file is removed and `path` is
/// untouched. `finish_err` turns a failure of the fsync or rename into the caller's error type.
pub fn replace_via_temp<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    finish_err: impl FnOnce(std::io::Error) -> E,
) -> Result<(), E> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{name}.{}.{stamp}.tmp", std::process::id()));
    let result = write(&tmp).and_then(|()| {
        let finish = || -> std::io::Result<()> {
            std::fs::File::open(&tmp).and_then(|f| f.sync_all())?;
            std::fs::rename(&tmp, path)?;
            // Make the rename durable; not every platform can open a directory, which is not an error.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        finish().map_err(finish_err)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
