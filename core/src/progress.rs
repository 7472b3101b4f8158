//! Progress reporting and cancellation for long operations, independent of how they are shown (CLI bar, GUI).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress from long operations and tells them when to stop; implementations must be cheap to call.
pub trait Progress: Sync {
    /// A new phase begins with `total` units of work.
    fn start(&self, _label: &str, _total: u64) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// True once the user asked to stop; operations check it between units and return `Cancelled` errors.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress sink that ignores everything, for tests and quick calls.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Shared cancel flag that a GUI button or a signal handler can set while a worker runs.
#[derive(Debug, Default, Clone)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// Fresh token, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the operation to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
