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
