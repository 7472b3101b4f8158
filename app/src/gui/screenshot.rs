//! The `--screenshot PNG` switch shared by every screen: wait until the screen says its content is drawn, let a few
//! more frames pass, capture the window, save it as PNG and exit. The result goes to a [`CaptureOutcome`] that the
//! `run_*` function turns into the process's exit status.
//!
//! A screen embeds `Option<Capture>`, maps [`Capture::subscription`] into its own subscription, and forwards
//! [`CaptureMessage`]s to [`Capture::update`] together with its own "ready" flag.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iced::window::{self, Screenshot};
use iced::{Subscription, Task};

/// Ticks to wait after the screen reports ready (each tick also triggers a redraw).
const SETTLE_TICKS: u32 = 4;
/// Interval between readiness checks.
const TICK: Duration = Duration::from_millis(100);
/// Give up when the screen is not ready after this long.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Errors of the screenshot shell.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CaptureError {
    /// The screen never reported its content drawn.
    #[error("the window content was not drawn within {0:?} (is the wgpu renderer available? try ICED_BACKEND=wgpu)")]
    Timeout(Duration),
    /// iced reported no window.
    #[error("no window to capture")]
    NoWindow,
    /// The captured image is empty or malformed.
    #[error("the screenshot is empty or malformed ({0} bytes for {1}x{2})")]
    Malformed(usize, u32, u32),
    /// Writing the PNG failed.
    #[error("writing {path}: {message}")]
    Save {
        /// Destination.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Where a capture reports how it ended: `None` while running (or when the user closed the window).
pub type CaptureOutcome = Arc<Mutex<Option<Result<PathBuf, CaptureError>>>>;

/// Messages of the capture state machine.
#[derive(Debug, Clone)]
pub enum CaptureMessage {
    /// Time to check readiness.
    Tick,
    /// The window id arrived (or none exists).
    Window(Option<window::Id>),
    /// The screenshot arrived.
    Taken(Screenshot),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Settling(u32),
    Capturing,
    Done,
}

/// State of one pending screenshot.
#[derive(Debug)]
pub struct Capture {
    path: PathBuf,
    outcome: CaptureOutcome,
    started: Instant,
    phase: Phase,
}

impl Capture {
    /// Prepare to capture the window into `path`, reporting to `outcome`.
    pub fn new(path: PathBuf, outcome: CaptureOutcome) -> Self {
        Self { path, outcome, started: Instant::now(), phase: Phase::Waiting }
    }

    /// Ticks while the capture is pending.
    pub fn subscription(&self) -> Subscription<CaptureMessage> {
        match self.phase {
            Phase::Waiting | Phase::Settling(_) => iced::time::every(TICK).map(|_| CaptureMessage::Tick),
            Phase::Capturing | Phase::Done => Subscription::none(),
        }
    }

    /// Advance the capture; `ready` is the screen's word that its content (e.g. the first frame) is on the GPU.
    pub fn update(&mut self, message: CaptureMessage, ready: bool) -> Task<CaptureMessage> {
        match (message, self.phase) {
            (CaptureMessage::Tick, Phase::Waiting) => {
                if ready {
                    self.phase = Phase::Settling(0);
                } else if self.started.elapsed() > TIMEOUT {
                    return self.finish(Err(CaptureError::Timeout(TIMEOUT)));
                }
                Task::none()
            }
            (CaptureMessage::Tick, Phase::Settling(n)) => {
                if n + 1 >= SETTLE_TICKS {
                    self.phase = Phase::Capturing;
                    window::oldest().map(CaptureMessage::Window)
                } else {
                    self.phase = Phase::Settling(n + 1);
                    Task::none()
                }
            }
            (CaptureMessage::Window(Some(id)), Phase::Capturing) => {
                window::screenshot(id).map(CaptureMessage::Taken)
            }
            (CaptureMessage::Window(None), Phase::Capturing) => self.finish(Err(CaptureError::NoWindow)),
            (CaptureMessage::Taken(shot), Phase::Capturing) => {
                let result = save_png(&shot, &self.path).map(|()| self.path.clone());
                self.finish(result)
            }
            _ => Task::none(),
        }
    }

    fn finish(&mut self, result: Result<PathBuf, CaptureError>) -> Task<CaptureMessage> {
        self.phase = Phase::Done;
        if let Ok(mut slot) = self.outcome.lock() {
            *slot = Some(result);
        }
        iced::exit()
    }
}

/// Save a window screenshot (RGBA8, sRGB) as PNG.
pub fn save_png(shot: &Screenshot, path: &Path) -> Result<(), CaptureError> {
    let (w, h) = (shot.size.width, shot.size.height);
    if w == 0 || h == 0 || shot.rgba.len() != (w as usize) * (h as usize) * 4 {
        return Err(CaptureError::Malformed(shot.rgba.len(), w, h));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CaptureError::Save { path: path.to_path_buf(), message: e.to_string() })?;
    }
    image::save_buffer_with_format(path, &shot.rgba, w, h, image::ExtendedColorType::Rgba8, image::ImageFormat::Png)
        .map_err(|e| CaptureError::Save { path: path.to_path_buf(), message: e.to_string() })
}

/// Turn a finished capture into the `run_*` result: an error unless the PNG was written.
pub fn conclude(outcome: &CaptureOutcome) -> anyhow::Result<()> {
    let result = outcome.lock().map_err(|_| anyhow::anyhow!("screenshot state poisoned"))?.take();
    match result {
        Some(Ok(path)) => {
            eprintln!("screenshot saved to {}", path.display());
            Ok(())
        }
        Some(Err(e)) => Err(anyhow::anyhow!("screenshot failed: {e}")),
        None => Err(anyhow::anyhow!("screenshot failed: the window closed before it was taken")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_a_png_and_rejects_malformed_shots() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/shot.png");
        let shot = Screenshot::new(vec![255u8; 4 * 3 * 2], iced::Size::new(3, 2), 1.0);
        save_png(&shot, &path).expect("saved");
        let img = image::open(&path).expect("readable").to_rgba8();
        assert_eq!(img.dimensions(), (3, 2));
        let bad = Screenshot::new(vec![0u8; 5], iced::Size::new(3, 2), 1.0);
        assert!(matches!(save_png(&bad, &path), Err(CaptureError::Malformed(..))));
    }

    #[test]
    fn waits_for_ready_then_settles() {
        let outcome = CaptureOutcome::default();
        let mut c = Capture::new(PathBuf::from("x.png"), outcome);
        let _ = c.update(CaptureMessage::Tick, false);
        assert_eq!(c.phase, Phase::Waiting);
        let _ = c.update(CaptureMessage::Tick, true);
        assert_eq!(c.phase, Phase::Settling(0));
        for _ in 0..SETTLE_TICKS {
            let _ = c.update(CaptureMessage::Tick, true);
        }
        assert_eq!(c.phase, Phase::Capturing);
    }
}
