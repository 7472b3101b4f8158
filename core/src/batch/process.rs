//! Telling whether a runner or worker recorded in the table is still alive, robust to pid reuse.

use serde::{Deserialize, Serialize};

/// A process: its pid and, where the system says, its start time (so a pid reused after a crash is not mistaken
/// for the process that crashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks since boot (Linux `/proc/PID/stat` field 22); None where unknown.
    #[serde(default)]
    pub start: Option<u64>,
}

impl ProcessId {
    /// The calling process.
    pub fn current() -> Self {
        Self::of(std::process::id())
    }

    /// The process with this pid, as it is now.
    pub fn of(pid: u32) -> Self {
        Self { pid, start: stat(pid).map(|s| s.1) }
    }

    /// Whether this process (same pid and start time) is still running (zombies count as dead).
    pub fn alive(&self) -> bool {
        if cfg!(target_os = "linux") {
            return match stat(self.pid) {
                Some((state, start)) => state != 'Z' && state != 'X' && (self.start.is_none() || self.start == Some(start)),
                None => false,
            };
        }
        signal(self.pid, None)
    }

    /// Kill the process (SIGKILL) if it is still this process; true when a signal was sent.
    pub fn kill(&self) -> bool {
        self.alive() && signal(self.pid, Some(nix::sys::signal::Signal::SIGKILL))
    }
}

/// (state, start time) from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Send `sig` (None: only check that the process exists); true on success.
fn signal(pid: u32, sig: Option<nix::sys::signal::Signal>) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = ProcessId::current();
        assert!(me.alive());
        if me.start.is_some() {
            let reused = ProcessId { start: me.start.map(|s| s + 1), ..me };
            assert!(!reused.alive(), "a pid with another start time is another process");
        }
    }

    #[test]
    fn a_finished_child_is_dead() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let id = ProcessId::of(child.id());
        child.wait().expect("wait");
        assert!(!id.alive());
    }
}
