//! The viewer screen: a movie (2D or 3D) through the image view widget, with time and z sliders, playback at the
//! recording's frame rate, levels, colormap, zoom and pan. Frames come from a prefetching [`FrameCache`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use iced::futures::channel::oneshot;
use iced::keyboard::{self, key};
use iced::widget::{button, column, container, pick_list, row, rule, shader, slider, space, text, toggler};
use iced::{Center, Element, Fill, Font, Length, Subscription, Task};

use mesmerize_core::{ImgData, StackShape};

use super::frame_cache::{CacheConfig, CacheError, Frame, FrameCache, FrameKey, Slice, Travel};
use super::screenshot::{Capture, CaptureMessage};
use super::style;
use crate::widget::colormap::Colormap;
use crate::widget::image_view::{Display, ImageView, ViewTransform};

/// Playback rate when the metadata gives none.
const DEFAULT_FPS: f64 = 10.0;
/// Instance id of the viewer's image view.
const IMAGE_VIEW_ID: u64 = 1;
/// How far back a missing frame may be stood in for by a cached one while it loads.
const NEAREST_FALLBACK: usize = 16;
/// Quantiles used by "Auto" levels.
const AUTO_QUANTILES: (f64, f64) = (0.005, 0.998);
/// Frames (evenly spread over the recording) whose projections set the automatic levels.
const LEVEL_SAMPLE: usize = 64;

/// User intents and background events of the viewer.
#[derive(Debug, Clone)]
pub enum Message {
    /// Go to time point.
    Seek(usize),
    /// Go to plane.
    SeekZ(usize),
    /// Move by this many frames.
    Step(i64),
    /// Move by this many planes.
    StepZ(i64),
    /// Start or stop playback.
    TogglePlay,
    /// Playback clock.
    Tick(Instant),
    /// A requested frame was loaded (or failed).
    FrameReady(FrameKey, Result<Arc<Frame>, CacheError>),
    /// Set the low level.
    SetMin(f32),
    /// Set the high level.
    SetMax(f32),
    /// Levels from the movie's projections (or the current frame's percentiles until those are ready).
    AutoLevels,
    /// Background result: levels from the mean and max projections of a sample of frames.
    ProjectionLevels(Option<(f32, f32)>),
    /// Choose a colormap.
    SetColormap(Colormap),
    /// Show the maximum projection over z instead of one plane.
    SetMaxZ(bool),
    /// Zoom or pan changed.
    View(ViewTransform),
    /// Fit the image to the view.
    ResetView,
    /// Cursor over image pixel (x, y), or outside.
    Hover(Option<[f32; 2]>),
    /// Screenshot shell progress.
    Capture(CaptureMessage),
}

/// How the viewer starts: position, projection and colormap (the defaults show frame 0, plane 0, in gray).
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewerOptions {
    /// Time point to show first.
    pub t: usize,
    /// Plane to show first (volumes).
    pub z: usize,
    /// Start on the maximum projection over z (volumes).
    pub max_z: bool,
    /// Colormap to start with.
    pub colormap: Colormap,
}

#[derive(Debug, Clone, Copy)]
struct Playback {
    started: Instant,
    from_t: usize,
}

/// State of the viewer screen.
#[derive(Debug)]
pub struct Viewer {
    cache: FrameCache,
    shape: StackShape,
    title: String,
    subtitle: String,
    fps: Option<f64>,
    t: usize,
    z: usize,
    max_z: bool,
    frame: Option<Arc<Frame>>,
    playing: Option<Playback>,
    display: Display,
    level_range: (f32, f32),
    transform: ViewTransform,
    hover: Option<[f32; 2]>,
    presented: Arc<AtomicU64>,
    capture: Option<Capture>,
    error: Option<String>,
    /// Levels from the projections of a frame sample, once computed (`None` while pending or on failure).
    projection_levels: Option<(f32, f32)>,
    projection_pending: bool,
    /// The movie itself (shared with the cache), for background work such as the projection levels.
    source: ImgData,
    /// The user moved a level slider: background results no longer override the levels.
    user_levels: bool,
}

/// Levels from projections: low from the mean projection's 0.5 % quantile, high from the max projection's 99.8 %,
/// over up to [`LEVEL_SAMPLE`] frames spread evenly over the recording (all planes of a volume).
fn projection_levels(img: &ImgData) -> Option<(f32, f32)> {
    let s = img.shape();
    let n = s.t.min(LEVEL_SAMPLE).max(1);
    let len = s.frame_len();
    let mut acc = mesmerize_core::imaging::projection::ProjectionAccumulator::new(len);
    for i in 0..n {
        let t = if n > 1 { i * (s.t - 1) / (n - 1) } else { 0 };
        acc.push(&img.frame(t).ok()?);
    }
    let (mean, max, _) = acc.finish();
    let quantile = |v: &[f32], q: f64| -> Option<f32> {
        let mut finite: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        let k = ((finite.len() - 1) as f64 * q).round() as usize;
        let (_, v, _) = finite.select_nth_unstable_by(k, f32::total_cmp);
        Some(*v)
    };
    let lo = quantile(&mean, AUTO_QUANTILES.0)?;
    let hi = quantile(&max, AUTO_QUANTILES.1)?;
    Some((lo, if hi > lo { hi } else { lo + 1.0 }))
}

impl Viewer {
    /// Work to start with the window: the projection levels, computed off the UI thread.
    pub fn startup(&self) -> Task<Message> {
        if !self.projection_pending {
            return Task::none();
        }
        let img = self.source.clone();
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(projection_levels(&img));
        });
        Task::perform(rx, |r| Message::ProjectionLevels(r.unwrap_or(None)))
    }

    /// Open the viewer on `img`; reads the first frame (one plane) to set the levels.
    pub fn new(img: ImgData, options: ViewerOptions, capture: Option<Capture>) -> Self {
        let shape = img.shape();
        let title = img
            .path()
            .and_then(|p| p.file_name())
            .map_or_else(|| "in-memory movie".to_string(), |n| n.to_string_lossy().into_owned());
        let fps = img.meta().fps.filter(|f| f.is_finite() && *f > 0.0);
        let dims = if shape.volumetric {
            format!("{} × {} px · {} planes · {} volumes", shape.x, shape.y, shape.z, shape.t)
        } else {
            format!("{} × {} px · {} frames", shape.x, shape.y, shape.t)
        };
        let rate = fps.map_or_else(|| "fps unknown".to_string(), |f| format!("{f:.2} Hz"));
        let subtitle = format!("{dims} · {} · {rate} · {}", img.dtype().name(), img.meta().origin);
        let source = img.clone();
        let cache = FrameCache::new(img, CacheConfig::default());
        let mut viewer = Self {
            cache,
            shape,
            title,
            subtitle,
            fps,
            t: options.t.min(shape.t.saturating_sub(1)),
            z: options.z.min(shape.z.saturating_sub(1)),
            max_z: options.max_z && shape.volumetric,
            frame: None,
            playing: None,
            display: Display { colormap: options.colormap, ..Display::default() },
            level_range: (0.0, 1.0),
            transform: ViewTransform::default(),
            hover: None,
            presented: Arc::new(AtomicU64::new(0)),
            capture,
            error: None,
            projection_levels: None,
            projection_pending: shape.t > 0 && shape.plane_len() > 0,
            source,
            user_levels: false,
        };
        if shape.t == 0 || shape.plane_len() == 0 {
            viewer.error = Some("the movie has no frames".into());
            return viewer;
        }
        match viewer.cache.get_blocking(viewer.key(), Travel::Still) {
            Ok(frame) => {
                let (lo, hi) = frame.min_max().unwrap_or((0.0, 1.0));
                let pad = ((hi - lo) * 0.05).max(f32::EPSILON);
                viewer.level_range = (lo - pad, hi + pad);
                viewer.frame = Some(frame);
                viewer.auto_levels();
            }
            Err(e) => viewer.error = Some(e.to_string()),
        }
        viewer
    }

    fn key(&self) -> FrameKey {
        FrameKey { t: self.t, slice: if self.max_z { Slice::MaxZ } else { Slice::Plane(self.z) } }
    }

    fn playback_fps(&self) -> f64 {
        self.fps.unwrap_or(DEFAULT_FPS)
    }

    /// True once the frame at the current position reached the GPU (the screenshot shell waits for this).
    pub fn is_drawn(&self) -> bool {
        (!self.projection_pending
            && self.frame.as_ref().is_some_and(|f| f.key == self.key() && self.presented.load(Ordering::Acquire) == f.serial))
            || self.error.is_some()
    }

    fn auto_levels(&mut self) {
        let from_frame = || self.frame.as_ref().and_then(|f| f.percentiles(AUTO_QUANTILES.0, AUTO_QUANTILES.1));
        let Some((lo, hi)) = self.projection_levels.or_else(from_frame) else { return };
        let hi = if hi > lo { hi } else { lo + 1.0 };
        self.level_range = (self.level_range.0.min(lo), self.level_range.1.max(hi));
        self.display.min = lo;
        self.display.max = hi;
    }

    /// Show the frame at the current position: at once if cached, else ask the cache and keep the old frame.
    fn fetch(&mut self, travel: Travel) -> Task<Message> {
        let key = self.key();
        let (tx, rx) = oneshot::channel();
        let callback: super::frame_cache::Callback = Box::new(move |r| {
            let _ = tx.send(r);
        });
        match self.cache.request(key, travel, Some(callback)) {
            Some(frame) => {
                self.frame = Some(frame);
                Task::none()
            }
            None => {
                // Meanwhile show the nearest cached frame on the side we come from, so playback that outruns the
                // disk degrades to dropped frames instead of a frozen picture.
                let back = |d: usize| match travel {
                    Travel::Forward => key.t.checked_sub(d),
                    Travel::Backward => key.t.checked_add(d).filter(|&t| t < self.shape.t),
                    Travel::Still | Travel::AlongZ => None,
                };
                let nearest = (1..=NEAREST_FALLBACK).filter_map(back).find_map(|t| self.cache.get(FrameKey { t, ..key }));
                let shown_t = self.frame.as_ref().filter(|f| f.key.slice == key.slice).map(|f| f.key.t);
                if let Some(f) = nearest.filter(|f| shown_t.is_none_or(|s| f.key.t.abs_diff(key.t) < s.abs_diff(key.t))) {
                    self.frame = Some(f);
                }
                Task::perform(rx, move |r| Message::FrameReady(key, r.unwrap_or(Err(CacheError::Closed))))
            }
        }
    }

    fn seek(&mut self, t: usize) -> Task<Message> {
        let t = t.min(self.shape.t.saturating_sub(1));
        let travel = match t.cmp(&self.t) {
            std::cmp::Ordering::Greater => Travel::Forward,
            std::cmp::Ordering::Less => Travel::Backward,
            std::cmp::Ordering::Equal => return Task::none(),
        };
        self.t = t;
        self.fetch(travel)
    }

    fn seek_z(&mut self, z: usize) -> Task<Message> {
        let z = z.min(self.shape.z.saturating_sub(1));
        if z == self.z {
            return Task::none();
        }
        self.z = z;
        if self.max_z { Task::none() } else { self.fetch(Travel::AlongZ) }
    }

    /// Handle a message.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Seek(t) => {
                if let Some(p) = &mut self.playing {
                    *p = Playback { started: Instant::now(), from_t: t };
                }
                self.seek(t)
            }
            Message::SeekZ(z) => self.seek_z(z),
            Message::Step(d) => {
                self.playing = None;
                let t = self.t.saturating_add_signed(d as isize);
                self.seek(t)
            }
            Message::StepZ(d) => self.seek_z(self.z.saturating_add_signed(d as isize)),
            Message::TogglePlay => {
                self.playing = match self.playing {
                    Some(_) => None,
                    None if self.shape.t > 1 => {
                        let from_t = if self.t + 1 >= self.shape.t { 0 } else { self.t };
                        Some(Playback { started: Instant::now(), from_t })
                    }
                    None => None,
                };
                Task::none()
            }
            Message::Tick(now) => {
                let Some(p) = self.playing else { return Task::none() };
                let n = self.shape.t.max(1);
                let advanced = (now.saturating_duration_since(p.started).as_secs_f64() * self.playback_fps()) as usize;
                let t = (p.from_t + advanced) % n;
                if t == self.t {
                    return Task::none();
                }
                self.t = t;
                self.fetch(Travel::Forward)
            }
            Message::FrameReady(key, result) => {
                match result {
                    Ok(frame) if key == self.key() => {
                        self.frame = Some(frame);
                        self.error = None;
                    }
                    Ok(_) => {}
                    Err(CacheError::Closed) => {}
                    Err(e) => self.error = Some(e.to_string()),
                }
                Task::none()
            }
            Message::SetMin(v) => {
                self.user_levels = true;
                self.display.min = v.min(self.display.max);
                Task::none()
            }
            Message::SetMax(v) => {
                self.user_levels = true;
                self.display.max = v.max(self.display.min);
                Task::none()
            }
            Message::AutoLevels => {
                self.user_levels = false;
                self.auto_levels();
                Task::none()
            }
            Message::ProjectionLevels(levels) => {
                self.projection_pending = false;
                self.projection_levels = levels;
                if !self.user_levels {
                    self.auto_levels();
                }
                Task::none()
            }
            Message::SetColormap(c) => {
                self.display.colormap = c;
                Task::none()
            }
            Message::SetMaxZ(on) => {
                self.max_z = on;
                self.fetch(Travel::Still)
            }
            Message::View(t) => {
                self.transform = t;
                Task::none()
            }
            Message::ResetView => {
                self.transform = ViewTransform::default();
                Task::none()
            }
            Message::Hover(h) => {
                self.hover = h;
                Task::none()
            }
            Message::Capture(m) => {
                let ready = self.is_drawn();
                match &mut self.capture {
                    Some(c) => c.update(m, ready).map(Message::Capture),
                    None => Task::none(),
                }
            }
        }
    }

    /// Playback clock, keyboard shortcuts and the screenshot shell.
    pub fn subscription(&self) -> Subscription<Message> {
        let mut subs = vec![keyboard::listen().filter_map(shortcut)];
        if self.playing.is_some() {
            let period = Duration::from_secs_f64(1.0 / self.playback_fps()).max(Duration::from_millis(8));
            subs.push(iced::time::every(period).map(Message::Tick));
        }
        if let Some(c) = &self.capture {
            subs.push(c.subscription().map(Message::Capture));
        }
        Subscription::batch(subs)
    }

    /// The window content.
    pub fn view(&self) -> Element<'_, Message> {
        let header = container(
            row![
                text(&self.title).size(18),
                text(&self.subtitle).size(13).color(style::MUTED),
                space::horizontal(),
                text(self.status_line()).size(13).color(style::MUTED),
            ]
            .spacing(16)
            .align_y(Center),
        )
        .padding([8, 14])
        .width(Fill)
        .style(style::header);

        let image = shader(
            ImageView::new(IMAGE_VIEW_ID, self.frame.clone(), self.display, self.transform, Message::View, Message::Hover)
                .presented(self.presented.clone()),
        )
        .width(Fill)
        .height(Fill);
        let image_area = container(image).padding(1).width(Fill).height(Fill).style(style::canvas);

        let body = row![column![image_area, self.transport()].spacing(8).width(Fill), self.side_panel()]
            .spacing(8)
            .height(Fill);
        column![header, container(body).padding(8).height(Fill)].into()
    }

    fn status_line(&self) -> String {
        if let Some(e) = &self.error {
            return format!("error: {e}");
        }
        let loading = self.frame.as_ref().is_some_and(|f| f.key != self.key());
        let cached = self.cache.cached();
        format!("{}cache {cached} / {} frames", if loading { "loading… · " } else { "" }, self.cache.capacity())
    }

    fn readout(&self) -> String {
        let n = self.shape.t;
        match self.fps {
            Some(fps) => format!("frame {} / {n} · {:.2} s", self.t, self.t as f64 / fps),
            None => format!("frame {} / {n} · fps unknown ({DEFAULT_FPS} Hz)", self.t),
        }
    }

    fn transport(&self) -> Element<'_, Message> {
        let last_t = self.shape.t.saturating_sub(1) as f64;
        let play = button(text(if self.playing.is_some() { "❚❚ Pause" } else { "▶ Play" }).size(14))
            .on_press(Message::TogglePlay)
            .padding([6, 14])
            .width(Length::Fixed(96.0));
        let step = |label: &'static str, d: i64| button(text(label).size(14)).on_press(Message::Step(d)).padding([6, 10]);
        let time = slider(0.0..=last_t.max(0.0), self.t as f64, |v| Message::Seek(v.round() as usize)).step(1.0);
        let mono = Font::MONOSPACE;
        let mut rows = column![
            row![
                play,
                step("◀", -1),
                step("▶", 1),
                time,
                text(self.readout()).font(mono).size(13).width(Length::Fixed(320.0))
            ]
            .spacing(8)
            .align_y(Center)
        ]
        .spacing(8);
        if self.shape.volumetric {
            let last_z = self.shape.z.saturating_sub(1) as f64;
            let zs = slider(0.0..=last_z.max(0.0), self.z as f64, |v| Message::SeekZ(v.round() as usize)).step(1.0);
            let z_label = if self.max_z {
                format!("max over {} planes", self.shape.z)
            } else {
                format!("plane {} / {}", self.z, self.shape.z)
            };
            rows = rows.push(
                row![
                    text("z").size(14).width(Length::Fixed(96.0)).align_x(Center),
                    button(text("▼").size(14)).on_press_maybe((!self.max_z).then_some(Message::StepZ(-1))).padding([6, 10]),
                    button(text("▲").size(14)).on_press_maybe((!self.max_z).then_some(Message::StepZ(1))).padding([6, 10]),
                    zs,
                    text(z_label).font(mono).size(13).width(Length::Fixed(320.0)),
                ]
                .spacing(8)
                .align_y(Center),
            );
        }
        container(rows).padding(10).width(Fill).style(style::panel).into()
    }

    fn side_panel(&self) -> Element<'_, Message> {
        let section = |title: &'static str| text(title).size(13).color(style::ACCENT);
        let (lo, hi) = self.level_range;
        let step = ((hi - lo) / 1000.0).max(f32::EPSILON);
        let value = |label: &'static str, v: f32| {
            row![text(label).size(13).color(style::MUTED), space::horizontal(), text(fmt_value(v)).size(13).font(Font::MONOSPACE)]
        };
        let levels = column![
            section("LEVELS"),
            value("min", self.display.min),
            slider(lo..=hi, self.display.min.clamp(lo, hi), Message::SetMin).step(step),
            value("max", self.display.max),
            slider(lo..=hi, self.display.max.clamp(lo, hi), Message::SetMax).step(step),
            colorbar(self.display.colormap),
            button(text("Auto").size(13).width(Fill).align_x(Center))
                .on_press(Message::AutoLevels)
                .width(Fill)
                .padding([5, 10]),
        ]
        .spacing(6);
        let cmap = column![
            section("COLORMAP"),
            pick_list(Colormap::ALL, Some(self.display.colormap), Message::SetColormap).width(Fill).text_size(13),
        ]
        .spacing(6);
        let view = column![
            section("VIEW"),
            value("zoom", self.transform.zoom),
            button(text("Fit to window").size(13).width(Fill).align_x(Center))
                .on_press(Message::ResetView)
                .width(Fill)
                .padding([5, 10]),
            text("wheel: zoom · drag: pan").size(12).color(style::MUTED),
        ]
        .spacing(6);
        let mut panel = column![levels, rule::horizontal(1), cmap, rule::horizontal(1), view].spacing(14);
        if self.shape.volumetric {
            panel = panel.push(rule::horizontal(1)).push(
                column![
                    section("VOLUME"),
                    toggler(self.max_z).label("max projection over z").on_toggle(Message::SetMaxZ).text_size(13),
                ]
                .spacing(6),
            );
        }
        panel = panel.push(rule::horizontal(1)).push(column![section("CURSOR"), self.cursor_readout()].spacing(6));
        container(panel).padding(12).width(Length::Fixed(250.0)).height(Fill).style(style::panel).into()
    }

    fn cursor_readout(&self) -> Element<'_, Message> {
        let line = match (self.hover, &self.frame) {
            (Some([x, y]), Some(f)) => {
                let (xi, yi) = (x.floor() as usize, y.floor() as usize);
                let v = f.data.get(yi * f.width + xi).copied().unwrap_or(f32::NAN);
                format!("x {xi}  y {yi}\nvalue {}", fmt_value(v))
            }
            _ => "—".to_string(),
        };
        text(line).size(13).font(Font::MONOSPACE).into()
    }
}

/// A strip showing the colormap from low (left) to high (right).
fn colorbar<'a>(colormap: Colormap) -> Element<'a, Message> {
    const STEPS: usize = 48;
    let cells = (0..STEPS).map(|i| {
        let [r, g, b] = colormap.eval(i as f64 / (STEPS - 1) as f64);
        container(space::horizontal())
            .width(Fill)
            .height(10)
            .style(move |_: &iced::Theme| container::Style {
                background: Some(iced::Color::from_rgb8(r, g, b).into()),
                ..container::Style::default()
            })
            .into()
    });
    container(iced::widget::Row::with_children(cells).width(Fill)).padding([2, 0]).into()
}

/// A sample value with sensible precision for its magnitude.
fn fmt_value(v: f32) -> String {
    let a = v.abs();
    if !v.is_finite() {
        format!("{v}")
    } else if a >= 1000.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Keyboard shortcuts: space plays, arrows step in time (left/right) and z (up/down), Home/End jump.
fn shortcut(event: keyboard::Event) -> Option<Message> {
    let keyboard::Event::KeyPressed { key, .. } = event else { return None };
    match key.as_ref() {
        keyboard::Key::Named(key::Named::Space) => Some(Message::TogglePlay),
        keyboard::Key::Named(key::Named::ArrowRight) => Some(Message::Step(1)),
        keyboard::Key::Named(key::Named::ArrowLeft) => Some(Message::Step(-1)),
        keyboard::Key::Named(key::Named::ArrowUp) => Some(Message::StepZ(1)),
        keyboard::Key::Named(key::Named::ArrowDown) => Some(Message::StepZ(-1)),
        keyboard::Key::Named(key::Named::Home) => Some(Message::Seek(0)),
        keyboard::Key::Named(key::Named::End) => Some(Message::Seek(usize::MAX)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesmerize_core::Metadata;

    fn movie(t: usize, z: usize, fps: Option<f64>) -> ImgData {
        let (y, x) = (6, 8);
        let data = (0..t * z * y * x).map(|i| (i % 97) as f32 + (i / (y * x)) as f32).collect();
        let shape = if z > 1 { StackShape::volume(t, z, y, x) } else { StackShape::movie(t, y, x) };
        let mut meta = Metadata::unknown();
        meta.fps = fps;
        ImgData::from_f32(data, shape, meta).expect("stack")
    }

    fn settle(v: &mut Viewer) {
        // Frames arrive from the cache's threads; poll until the one at the position is shown.
        for _ in 0..500 {
            if let Some(f) = v.cache.get(v.key()) {
                let _ = v.update(Message::FrameReady(f.key, Ok(f)));
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("frame {:?} never arrived", v.key());
    }

    #[test]
    fn opens_on_frame_zero_with_auto_levels() {
        let v = Viewer::new(movie(30, 1, Some(30.0)), ViewerOptions::default(), None);
        assert_eq!(v.frame.as_ref().map(|f| f.key), Some(FrameKey::plane(0, 0)));
        assert!(v.display.max > v.display.min);
        assert_eq!(v.readout(), "frame 0 / 30 · 0.00 s");
    }

    #[test]
    fn seeking_clamps_and_shows_the_frame() {
        let mut v = Viewer::new(movie(30, 1, Some(30.0)), ViewerOptions::default(), None);
        let _ = v.update(Message::Seek(12));
        settle(&mut v);
        assert_eq!(v.frame.as_ref().map(|f| f.key.t), Some(12));
        assert_eq!(v.readout(), "frame 12 / 30 · 0.40 s");
        let _ = v.update(Message::Seek(999));
        assert_eq!(v.t, 29);
        let _ = v.update(Message::Step(-100));
        assert_eq!(v.t, 0);
    }

    #[test]
    fn playback_follows_the_clock_at_the_recording_rate() {
        let mut v = Viewer::new(movie(100, 1, None), ViewerOptions::default(), None);
        assert!(v.readout().contains("fps unknown"));
        let _ = v.update(Message::TogglePlay);
        let started = v.playing.expect("playing").started;
        let _ = v.update(Message::Tick(started + Duration::from_millis(1050)));
        assert_eq!(v.t, 10, "10 Hz when the metadata has no rate");
        let _ = v.update(Message::TogglePlay);
        assert!(v.playing.is_none());
    }

    #[test]
    fn volumes_step_through_z_and_project() {
        let mut v = Viewer::new(movie(4, 5, Some(2.0)), ViewerOptions::default(), None);
        let _ = v.update(Message::SeekZ(3));
        settle(&mut v);
        assert_eq!(v.frame.as_ref().map(|f| f.key), Some(FrameKey::plane(0, 3)));
        let _ = v.update(Message::SetMaxZ(true));
        settle(&mut v);
        assert_eq!(v.frame.as_ref().map(|f| f.key.slice), Some(Slice::MaxZ));
    }

    #[test]
    fn level_controls_keep_min_below_max() {
        let mut v = Viewer::new(movie(3, 1, None), ViewerOptions::default(), None);
        let _ = v.update(Message::SetMax(5.0));
        let _ = v.update(Message::SetMin(50.0));
        assert!(v.display.min <= v.display.max);
        let _ = v.update(Message::AutoLevels);
        assert!(v.display.max > v.display.min);
    }
}
