//! Progress bars on stderr for the core's [`Progress`] trait.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use mesmerize_core::progress::{CancelToken, Progress};

/// Set by Ctrl-C in headless commands; long operations poll it through [`Bar`].
static INTERRUPT: OnceLock<CancelToken> = OnceLock::new();

/// Make the first Ctrl-C ask running operations to stop at their next check (outputs are written atomically, so
/// nothing half-written is left); a second one quits at once.
pub fn install_interrupt_handler() {
    let token = INTERRUPT.get_or_init(CancelToken::new).clone();
    let result = ctrlc::set_handler(move || {
        if token.is_cancelled() {
            std::process::exit(130);
        }
        token.cancel();
        eprintln!("\ninterrupted: stopping at the next checkpoint (Ctrl-C again to quit now)");
    });
    if let Err(e) = result {
        tracing::warn!("cannot install the Ctrl-C handler: {e}");
    }
}

/// An indicatif bar (hidden automatically when stderr is not a terminal). In a batch worker, whose stderr goes to
/// the runner and the item's log, progress is printed as plain lines at every 10 % instead.
pub struct Bar(ProgressBar, Option<TextProgress>);

/// Plain-line progress for batch workers.
struct TextProgress {
    label: std::sync::Mutex<String>,
    total: AtomicU64,
    pos: AtomicU64,
    decile: AtomicU64,
}

impl Bar {
    /// A bar with no length yet.
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let text = std::env::var_os(mesmerize_core::batch::RUNNER_PID_ENV).map(|_| TextProgress {
            label: std::sync::Mutex::new(String::new()),
            total: AtomicU64::new(0),
            pos: AtomicU64::new(0),
            decile: AtomicU64::new(0),
        });
        Self(bar, text)
    }
    /// Remove the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: u64) {
        if let Some(t) = &self.1 {
            if let Ok(mut l) = t.label.lock() {
                *l = label.to_string();
            }
            t.total.store(total, Ordering::Relaxed);
            t.pos.store(0, Ordering::Relaxed);
            t.decile.store(0, Ordering::Relaxed);
            eprintln!("progress: {label} 0/{total}");
        }
        self.0.set_message(label.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&self, n: u64) {
        if let Some(t) = &self.1 {
            let pos = t.pos.fetch_add(n, Ordering::Relaxed) + n;
            let total = t.total.load(Ordering::Relaxed).max(1);
            let decile = (pos * 10 / total).min(10);
            if decile > t.decile.fetch_max(decile, Ordering::Relaxed) {
                let label = t.label.lock().map(|l| l.clone()).unwrap_or_default();
                eprintln!("progress: {label} {pos}/{total} ({}%)", decile * 10);
            }
        }
        self.0.inc(n);
    }
    fn cancelled(&self) -> bool {
        INTERRUPT.get().is_some_and(CancelToken::is_cancelled)
    }
}

/// Whether Ctrl-C was pressed (for loops that are not a [`Progress`] consumer, e.g. the batch runner).
pub fn interrupted() -> bool {
    INTERRUPT.get().is_some_and(CancelToken::is_cancelled)
}
