//! The iced desktop app: one Elm-style module per screen (viewer, welcome), the shared `--screenshot` shell, and
//! the viewer's prefetching frame cache.

pub mod frame_cache;
pub mod screenshot;
pub mod style;
pub mod viewer;
pub mod welcome;

use std::path::PathBuf;
use std::time::Instant;

use iced::{Size, Task};
use mesmerize_core::ImgData;

use frame_cache::{CacheConfig, FrameCache, FrameKey, Travel};
use screenshot::{Capture, CaptureOutcome};
use crate::widget::image_view::FrameTexture;

/// Initial window size (also the size of `--screenshot` images).
const WINDOW_SIZE: Size = Size::new(1280.0, 800.0);

fn capture_for(screenshot: &Option<PathBuf>, outcome: &CaptureOutcome) -> Option<Capture> {
    screenshot.as_ref().map(|p| Capture::new(p.clone(), outcome.clone()))
}

/// Open the viewer on a movie at a given position, projection and colormap; with `screenshot`, render the first
/// frames, save a PNG and exit.
pub fn run_viewer_with(img: ImgData, options: viewer::ViewerOptions, screenshot: Option<PathBuf>) -> anyhow::Result<()> {
    let outcome = CaptureOutcome::default();
    let title = img
        .path()
        .and_then(|p| p.file_name())
        .map_or_else(|| "Mesmerize viewer".to_string(), |n| format!("{} — Mesmerize viewer", n.to_string_lossy()));
    let boot = {
        let outcome = outcome.clone();
        let screenshot = screenshot.clone();
        move || {
            let viewer = viewer::Viewer::new(img.clone(), options, capture_for(&screenshot, &outcome));
            let startup = viewer.startup();
            (viewer, startup)
        }
    };
    iced::application(boot, viewer::Viewer::update, viewer::Viewer::view)
        .title(move |_: &viewer::Viewer| title.clone())
        .subscription(viewer::Viewer::subscription)
        .theme(|_: &viewer::Viewer| style::theme())
        .window_size(WINDOW_SIZE)
        .run()
        .map_err(|e| anyhow::anyhow!("the viewer window failed: {e}"))?;
    if screenshot.is_some() { screenshot::conclude(&outcome) } else { Ok(()) }
}

/// Open the welcome window.
pub fn run_welcome(screenshot: Option<PathBuf>) -> anyhow::Result<()> {
    let outcome = CaptureOutcome::default();
    let boot = {
        let outcome = outcome.clone();
        let screenshot = screenshot.clone();
        move || (welcome::Welcome::new(capture_for(&screenshot, &outcome)), Task::none())
    };
    iced::application(boot, welcome::Welcome::update, welcome::Welcome::view)
        .title("Mesmerize")
        .subscription(welcome::Welcome::subscription)
        .theme(|_: &welcome::Welcome| style::theme())
        .window_size(Size::new(900.0, 560.0))
        .run()
        .map_err(|e| anyhow::anyhow!("the welcome window failed: {e}"))?;
    if screenshot.is_some() { screenshot::conclude(&outcome) } else { Ok(()) }
}

/// Planes per second for reading `n` planes through the viewer's frame cache and uploading each into the viewer's
/// frame texture, moving along time (or through z, volume after volume, when `along_z`), as scrubbing does.
pub fn bench_scrub(img: &ImgData, along_z: bool, n: usize, device: &wgpu::Device, queue: &wgpu::Queue) -> anyhow::Result<f64> {
    let s = img.shape();
    anyhow::ensure!(s.t > 0 && s.z > 0 && s.plane_len() > 0, "the stack is empty");
    let cache = FrameCache::new(img.clone(), CacheConfig::default());
    let mut texture = FrameTexture::new(device, s.x as u32, s.y as u32);
    let start = Instant::now();
    for i in 0..n {
        // Along z: sweep the planes of one volume, then the next volume, so every plane read is a fresh one.
        let (key, travel) = if along_z {
            (FrameKey::plane((i / s.z) % s.t, i % s.z), Travel::AlongZ)
        } else {
            (FrameKey::plane(i % s.t, 0), Travel::Forward)
        };
        let frame = cache.get_blocking(key, travel)?;
        texture.upload(queue, &frame);
        // Keep the queue from growing without bound, as a presenting window would.
        if i % 16 == 15 {
            queue.submit([]);
        }
    }
    queue.submit([]);
    device
        .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
        .map_err(|e| anyhow::anyhow!("waiting for the GPU: {e}"))?;
    Ok(n as f64 / start.elapsed().as_secs_f64().max(1e-9))
}
