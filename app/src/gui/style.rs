//! The app's dark theme and the few container styles the screens share.

use iced::widget::container;
use iced::{Border, Color, Theme, color};

/// Panel background, a step lighter than the window.
pub const PANEL: Color = color!(0x1f2229);
/// Background of the image area, darker than the window so images stand out.
pub const CANVAS: Color = color!(0x0d0e11);
/// Secondary (dimmed) text.
pub const MUTED: Color = color!(0x8b92a1);
/// Section headers in panels.
pub const ACCENT: Color = color!(0x6cb6ff);

/// The Mesmerize dark theme.
pub fn theme() -> Theme {
    Theme::custom(
        "Mesmerize dark",
        iced::theme::Palette {
            background: color!(0x16181d),
            text: color!(0xe3e6ec),
            primary: color!(0x3d8fd9),
            success: color!(0x3fb27f),
            warning: color!(0xe0a93b),
            danger: color!(0xe05561),
        },
    )
}

/// A side or bottom panel.
pub fn panel(_theme: &Theme) -> container::Style {
    container::Style {
        background: Some(PANEL.into()),
        border: Border { color: color!(0x2b2f38), width: 1.0, radius: 6.0.into() },
        ..container::Style::default()
    }
}

/// The dark area behind an image.
pub fn canvas(_theme: &Theme) -> container::Style {
    container::Style {
        background: Some(CANVAS.into()),
        border: Border { color: color!(0x2b2f38), width: 1.0, radius: 6.0.into() },
        ..container::Style::default()
    }
}

/// The top title bar.
pub fn header(_theme: &Theme) -> container::Style {
    container::Style { background: Some(color!(0x111317).into()), ..container::Style::default() }
}
