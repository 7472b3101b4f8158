//! The system configuration the batch manager reads (the original's "System Configuration"): how many threads an
//! item may use and a fast work directory for its outputs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BatchError;

/// Settings of this machine, not of a batch: `{"threads": 8, "work_dir": "/fast/scratch"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Threads each item may use (None: all cores).
    #[serde(default)]
    pub threads: Option<usize>,
    /// A fast local directory items write their outputs to; they are moved into the batch when the item is done.
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
}

impl SystemConfig {
    /// Where the configuration lives: `$MESMERIZE_SYSTEM_CONFIG`, else `$XDG_CONFIG_HOME/mesmerize/system_config.json`,
    /// else `~/.config/mesmerize/system_config.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("MESMERIZE_SYSTEM_CONFIG") {
            return Some(PathBuf::from(p));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("mesmerize").join("system_config.json"))
    }

    /// The configuration at the default path (defaults when there is none).
    pub fn load_default() -> Result<Self, BatchError> {
        match Self::default_path() {
            Some(p) => Self::load(&p),
            None => Ok(Self::default()),
        }
    }

    /// Read a configuration file; a missing file gives the defaults, a bad one an error naming it.
    pub fn load(path: &Path) -> Result<Self, BatchError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(BatchError::io(path, e)),
        };
        let c: Self = serde_json::from_str(&text)
            .map_err(|e| BatchError::Invalid(format!("{}: not a valid system configuration ({e}); keys: threads, work_dir", path.display())))?;
        if c.threads == Some(0) {
            return Err(BatchError::Invalid(format!("{}: threads must be at least 1", path.display())));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_default_and_bad_keys_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(SystemConfig::load(&dir.path().join("none.json")).expect("missing"), SystemConfig::default());
        let p = dir.path().join("c.json");
        std::fs::write(&p, r#"{"threads": 3, "work_dir": "/tmp/w"}"#).expect("write");
        let c = SystemConfig::load(&p).expect("load");
        assert_eq!((c.threads, c.work_dir.as_deref()), (Some(3), Some(Path::new("/tmp/w"))));
        std::fs::write(&p, r#"{"thread": 3}"#).expect("write");
        let e = SystemConfig::load(&p).expect_err("unknown key").to_string();
        assert!(e.contains("c.json") && e.contains("thread"), "{e}");
    }
}
