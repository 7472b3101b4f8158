//! The iced desktop app (stub until the viewer lands).

use std::path::PathBuf;

use mesmerize_core::ImgData;

/// Open the viewer on a movie; with `screenshot`, render the first frames, save a PNG and exit.
pub fn run_viewer(_img: ImgData, _screenshot: Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::bail!("the viewer is not built yet")
}

/// Open the welcome window.
pub fn run_welcome(_screenshot: Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::bail!("the welcome window is not built yet")
}
