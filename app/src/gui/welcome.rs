//! The welcome window shown by a bare `mesmerize`: what the app is and how to open data.

use iced::widget::{column, container, rule, text};
use iced::{Element, Fill, Font, Length, Subscription, Task};

use super::screenshot::{Capture, CaptureMessage};
use super::style;

/// State of the welcome screen.
#[derive(Debug)]
pub struct Welcome {
    capture: Option<Capture>,
}

/// User intents on the welcome screen.
#[derive(Debug, Clone)]
pub enum Message {
    /// Screenshot shell progress.
    Capture(CaptureMessage),
}

impl Welcome {
    /// A welcome screen, optionally capturing itself.
    pub fn new(capture: Option<Capture>) -> Self {
        Self { capture }
    }

    /// Handle a message.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Capture(m) => match &mut self.capture {
                // Text-only screen: ready as soon as the window shows it.
                Some(c) => c.update(m, true).map(Message::Capture),
                None => Task::none(),
            },
        }
    }

    /// The window content.
    pub fn view(&self) -> Element<'_, Message> {
        let mono = Font::MONOSPACE;
        let command = |cmd: &'static str, what: &'static str| {
            column![text(cmd).font(mono).size(16).color(style::ACCENT), text(what).size(14).color(style::MUTED)]
                .spacing(4)
        };
        let body = column![
            text("Mesmerize").size(40),
            text("calcium imaging analysis: viewer, motion correction, CNMF(E), projects and flowcharts")
                .size(15)
                .color(style::MUTED),
            rule::horizontal(1),
            command("mesmerize view FILE", "open a movie (TIFF, 2D or 3D) in the viewer"),
            command("mesmerize demo", "open the viewer on a simulated one-photon movie"),
            command("mesmerize --help", "command line tools: simulate, info, mc, cnmf, cnmfe, project, batch, ..."),
        ]
        .spacing(18);
        container(container(body).padding(32).width(Length::Fixed(680.0)).style(style::panel)).center(Fill).into()
    }

    /// Background work: the screenshot shell.
    pub fn subscription(&self) -> Subscription<Message> {
        self.capture.as_ref().map_or_else(Subscription::none, |c| c.subscription().map(Message::Capture))
    }
}
