//! Custom iced widgets drawn with our own wgpu pipelines.

pub mod colormap;
pub mod image_view;
