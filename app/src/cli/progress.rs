//! Progress bars on stderr for the core's [`Progress`] trait.

use indicatif::{ProgressBar, ProgressStyle};
use mesmerize_core::progress::Progress;

/// An indicatif bar (hidden automatically when stderr is not a terminal).
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar with no length yet.
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self(bar)
    }
    /// Remove the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: u64) {
        self.0.set_message(label.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
