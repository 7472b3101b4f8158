//! Image view: a shader widget that shows one f32 frame through levels and a colormap, with zoom (wheel, about the
//! cursor) and pan (drag). The frame is an R32Float texture read with `textureLoad` (nearest pixel, no filtering);
//! the colormap is a row of a LUT atlas texture. Shader: `shaders/render/image_view.wgsl`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use iced::mouse;
use iced::widget::shader::{self, Action, Viewport};
use iced::{Point, Rectangle};

use super::colormap::{Colormap, LUT_SIZE, lut_atlas};
use crate::gui::frame_cache::Frame;

/// Smallest and largest zoom factor relative to "fit to widget".
pub const ZOOM_RANGE: (f32, f32) = (0.25, 64.0);

/// Zoom and pan of an image view; `center` is the image point (x, y, in pixels) shown at the widget's centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewTransform {
    /// Magnification relative to fitting the whole image in the widget.
    pub zoom: f32,
    /// Image point at the widget centre; `None` means the image centre.
    pub center: Option<[f32; 2]>,
}

impl Default for ViewTransform {
    fn default() -> Self {
        Self { zoom: 1.0, center: None }
    }
}

impl ViewTransform {
    /// Logical pixels per image pixel for an image of `size` (w, h) in a widget of `bounds`.
    pub fn scale(&self, size: [f32; 2], bounds: Rectangle) -> f32 {
        let fit = (bounds.width / size[0].max(1.0)).min(bounds.height / size[1].max(1.0));
        fit * self.zoom
    }
    /// Image point at the widget centre.
    pub fn center_or(&self, size: [f32; 2]) -> [f32; 2] {
        self.center.unwrap_or([size[0] / 2.0, size[1] / 2.0])
    }
    /// Image coordinates (x, y) under widget-local point `p`.
    pub fn to_image(&self, p: Point, size: [f32; 2], bounds: Rectangle) -> [f32; 2] {
        let s = self.scale(size, bounds);
        let c = self.center_or(size);
        [c[0] + (p.x - bounds.width / 2.0) / s, c[1] + (p.y - bounds.height / 2.0) / s]
    }
    /// Zoom by `factor`, keeping the image point under widget-local `p` where it is.
    pub fn zoomed_about(&self, factor: f32, p: Point, size: [f32; 2], bounds: Rectangle) -> Self {
        let under = self.to_image(p, size, bounds);
        let zoom = (self.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        let next = Self { zoom, center: self.center };
        let s = next.scale(size, bounds);
        let center = [under[0] - (p.x - bounds.width / 2.0) / s, under[1] - (p.y - bounds.height / 2.0) / s];
        Self { zoom, center: Some(center) }
    }
    /// Move the image by a drag of `dx, dy` logical pixels.
    pub fn panned(&self, dx: f32, dy: f32, size: [f32; 2], bounds: Rectangle) -> Self {
        let s = self.scale(size, bounds);
        let c = self.center_or(size);
        Self { zoom: self.zoom, center: Some([c[0] - dx / s, c[1] - dy / s]) }
    }
}

/// Display settings: levels, gamma and colormap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Display {
    /// Value shown as the colormap's low end.
    pub min: f32,
    /// Value shown as the colormap's high end.
    pub max: f32,
    /// Gamma applied after scaling to 0..1.
    pub gamma: f32,
    /// Colormap.
    pub colormap: Colormap,
}

impl Default for Display {
    fn default() -> Self {
        Self { min: 0.0, max: 1.0, gamma: 1.0, colormap: Colormap::Gray }
    }
}

/// The shader program: what to show and how the widget reports zoom, pan and hover back to the app.
pub struct ImageView<Message> {
    id: u64,
    frame: Option<Arc<Frame>>,
    display: Display,
    transform: ViewTransform,
    on_view: fn(ViewTransform) -> Message,
    on_hover: fn(Option<[f32; 2]>) -> Message,
    presented: Arc<AtomicU64>,
}

impl<Message> ImageView<Message> {
    /// A view with instance `id` (unique among image views on screen) showing `frame`.
    pub fn new(
        id: u64,
        frame: Option<Arc<Frame>>,
        display: Display,
        transform: ViewTransform,
        on_view: fn(ViewTransform) -> Message,
        on_hover: fn(Option<[f32; 2]>) -> Message,
    ) -> Self {
        Self { id, frame, display, transform, on_view, on_hover, presented: Arc::new(AtomicU64::new(0)) }
    }
    /// Store the serial of each frame the GPU received into `presented` (so screenshots can wait for real pixels).
    pub fn presented(mut self, presented: Arc<AtomicU64>) -> Self {
        self.presented = presented;
        self
    }
    fn size(&self) -> Option<[f32; 2]> {
        self.frame.as_ref().map(|f| [f.width as f32, f.height as f32])
    }
}

/// Per-widget interaction state: the last cursor position of a drag in progress.
#[derive(Debug, Default)]
pub struct DragState {
    last: Option<Point>,
}

impl<Message> shader::Program<Message> for ImageView<Message> {
    type State = DragState;
    type Primitive = ImagePrimitive;

    fn update(
        &self,
        state: &mut DragState,
        event: &iced::Event,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Option<Action<Message>> {
        let size = self.size()?;
        let iced::Event::Mouse(event) = event else { return None };
        match event {
            mouse::Event::WheelScrolled { delta } => {
                let p = cursor.position_in(bounds)?;
                let lines = match delta {
                    mouse::ScrollDelta::Lines { y, .. } => *y,
                    mouse::ScrollDelta::Pixels { y, .. } => *y / 40.0,
                };
                let t = self.transform.zoomed_about(1.2f32.powf(lines), p, size, bounds);
                Some(Action::publish((self.on_view)(t)).and_capture())
            }
            mouse::Event::ButtonPressed(mouse::Button::Left) => {
                let p = cursor.position_in(bounds)?;
                state.last = Some(p);
                Some(Action::capture())
            }
            mouse::Event::ButtonReleased(mouse::Button::Left) => state.last.take().map(|_| Action::capture()),
            mouse::Event::CursorMoved { .. } => {
                if let Some(last) = state.last {
                    let p = cursor.position_from(bounds.position())?;
                    state.last = Some(p);
                    let t = self.transform.panned(p.x - last.x, p.y - last.y, size, bounds);
                    return Some(Action::publish((self.on_view)(t)).and_capture());
                }
                let hover = cursor.position_in(bounds).map(|p| self.transform.to_image(p, size, bounds));
                let inside = hover.filter(|h| h[0] >= 0.0 && h[1] >= 0.0 && h[0] < size[0] && h[1] < size[1]);
                Some(Action::publish((self.on_hover)(inside)))
            }
            mouse::Event::CursorLeft => Some(Action::publish((self.on_hover)(None))),
            _ => None,
        }
    }

    fn draw(&self, _state: &DragState, _cursor: mouse::Cursor, bounds: Rectangle) -> ImagePrimitive {
        let (size, scale, center) = match self.size() {
            Some(size) => (size, self.transform.scale(size, bounds), self.transform.center_or(size)),
            None => ([1.0, 1.0], 1.0, [0.0, 0.0]),
        };
        let params = Params {
            view: [bounds.width, bounds.height, scale, if self.frame.is_some() { 1.0 } else { 0.0 }],
            center_size: [center[0], center[1], size[0], size[1]],
            levels: [self.display.min, self.display.max, self.display.colormap.row() as f32, self.display.gamma],
        };
        ImagePrimitive { id: self.id, frame: self.frame.clone(), params, presented: self.presented.clone() }
    }

    fn mouse_interaction(&self, state: &DragState, bounds: Rectangle, cursor: mouse::Cursor) -> mouse::Interaction {
        if state.last.is_some() {
            mouse::Interaction::Grabbing
        } else if cursor.is_over(bounds) && self.frame.is_some() {
            mouse::Interaction::Crosshair
        } else {
            mouse::Interaction::default()
        }
    }
}

/// Uniforms of `image_view.wgsl` (keep in sync with `Params` in shaders/render/image_view.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    /// Widget width, height (logical px), scale (logical px per image px), has_image (0 or 1).
    pub view: [f32; 4],
    /// Image point at the widget centre (x, y), image width, height.
    pub center_size: [f32; 4],
    /// Level min, level max, LUT row, gamma.
    pub levels: [f32; 4],
}

/// What one image view hands the GPU for a frame.
#[derive(Debug)]
pub struct ImagePrimitive {
    id: u64,
    frame: Option<Arc<Frame>>,
    params: Params,
    presented: Arc<AtomicU64>,
}

/// An R32Float texture holding one frame, re-uploaded only when a different frame arrives.
#[derive(Debug)]
pub struct FrameTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    width: u32,
    height: u32,
    serial: u64,
}

impl FrameTexture {
    /// A texture for frames of `width x height`.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> Self {
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("viewer.frame.texture"),
            size: wgpu::Extent3d { width: width.max(1), height: height.max(1), depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::R32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some("viewer.frame.texture_view"),
            ..Default::default()
        });
        Self { texture, view, width, height, serial: 0 }
    }
    /// True when frames of this size fit.
    pub fn fits(&self, width: usize, height: usize) -> bool {
        self.width as usize == width && self.height as usize == height
    }
    /// Upload `frame` unless it is the one already held; returns whether it wrote.
    pub fn upload(&mut self, queue: &wgpu::Queue, frame: &Frame) -> bool {
        if frame.serial == self.serial || !self.fits(frame.width, frame.height) {
            return false;
        }
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &self.texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            bytemuck::cast_slice(&frame.data),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(4 * self.width),
                rows_per_image: Some(self.height),
            },
            wgpu::Extent3d { width: self.width, height: self.height, depth_or_array_layers: 1 },
        );
        self.serial = frame.serial;
        true
    }
    /// Serial of the frame held, 0 if none.
    pub fn serial(&self) -> u64 {
        self.serial
    }
}

/// GPU state of one image view instance.
#[derive(Debug)]
struct Instance {
    frame: FrameTexture,
    uniforms: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// Pipeline shared by all image views: render pipeline, bind group layout, LUT atlas; plus per-instance state.
#[derive(Debug)]
pub struct ImagePipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    lut_view: wgpu::TextureView,
    instances: HashMap<u64, Instance>,
}

impl ImagePipeline {
    fn make_instance(&self, device: &wgpu::Device, width: u32, height: u32) -> Instance {
        let frame = FrameTexture::new(device, width, height);
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("viewer.frame.params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("viewer.frame.bind_group"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&frame.view) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&self.lut_view) },
                wgpu::BindGroupEntry { binding: 2, resource: uniforms.as_entire_binding() },
            ],
        });
        Instance { frame, uniforms, bind_group }
    }
}

impl shader::Pipeline for ImagePipeline {
    fn new(device: &wgpu::Device, queue: &wgpu::Queue, format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("viewer.frame.shader"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../../shaders/render/image_view.wgsl").into()),
        });
        let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: false },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("viewer.frame.bind_group_layout"),
            entries: &[
                texture_entry(0),
                texture_entry(1),
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("viewer.frame.pipeline_layout"),
            bind_group_layouts: &[&layout],
            push_constant_ranges: &[],
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("viewer.frame.pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[],
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview: None,
            cache: None,
        });
        // LUT entries are sRGB colours: on an sRGB target, store them as sRGB so the output encoding restores them.
        let lut_format =
            if format.is_srgb() { wgpu::TextureFormat::Rgba8UnormSrgb } else { wgpu::TextureFormat::Rgba8Unorm };
        let rows = Colormap::ALL.len() as u32;
        let lut_size = wgpu::Extent3d { width: LUT_SIZE as u32, height: rows, depth_or_array_layers: 1 };
        let lut = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("viewer.colormap.lut"),
            size: lut_size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: lut_format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &lut,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            &lut_atlas(),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(4 * LUT_SIZE as u32),
                rows_per_image: Some(rows),
            },
            lut_size,
        );
        let lut_view =
            lut.create_view(&wgpu::TextureViewDescriptor { label: Some("viewer.colormap.lut_view"), ..Default::default() });
        Self { pipeline, layout, lut_view, instances: HashMap::new() }
    }
}

impl shader::Primitive for ImagePrimitive {
    type Pipeline = ImagePipeline;

    fn prepare(
        &self,
        pipeline: &mut ImagePipeline,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _bounds: &Rectangle,
        _viewport: &Viewport,
    ) {
        let (w, h) = self.frame.as_ref().map_or((1, 1), |f| (f.width, f.height));
        let stale = pipeline.instances.get(&self.id).is_none_or(|inst| !inst.frame.fits(w, h));
        if stale {
            let inst = pipeline.make_instance(device, w as u32, h as u32);
            pipeline.instances.insert(self.id, inst);
        }
        let Some(inst) = pipeline.instances.get_mut(&self.id) else { return };
        if let Some(frame) = &self.frame {
            inst.frame.upload(queue, frame);
            self.presented.store(inst.frame.serial(), Ordering::Release);
        }
        queue.write_buffer(&inst.uniforms, 0, bytemuck::bytes_of(&self.params));
    }

    fn draw(&self, pipeline: &ImagePipeline, render_pass: &mut wgpu::RenderPass<'_>) -> bool {
        let Some(inst) = pipeline.instances.get(&self.id) else { return true };
        render_pass.set_pipeline(&pipeline.pipeline);
        render_pass.set_bind_group(0, &inst.bind_group, &[]);
        render_pass.draw(0..3, 0..1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Rectangle {
        Rectangle { x: 0.0, y: 0.0, width: 400.0, height: 200.0 }
    }

    #[test]
    fn fit_keeps_aspect_and_centres() {
        let t = ViewTransform::default();
        let size = [100.0, 100.0];
        assert_eq!(t.scale(size, bounds()), 2.0);
        assert_eq!(t.to_image(Point::new(200.0, 100.0), size, bounds()), [50.0, 50.0]);
        assert_eq!(t.to_image(Point::new(100.0, 0.0), size, bounds()), [0.0, 0.0]);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let size = [128.0, 96.0];
        let p = Point::new(310.0, 40.0);
        let t0 = ViewTransform::default();
        let before = t0.to_image(p, size, bounds());
        let t1 = t0.zoomed_about(3.0, p, size, bounds());
        let after = t1.to_image(p, size, bounds());
        assert!((before[0] - after[0]).abs() < 1e-3 && (before[1] - after[1]).abs() < 1e-3);
        assert_eq!(t1.zoom, 3.0);
        let t2 = t1.zoomed_about(1e6, p, size, bounds());
        assert_eq!(t2.zoom, ZOOM_RANGE.1);
    }

    #[test]
    fn pan_moves_the_image_with_the_cursor() {
        let size = [100.0, 100.0];
        let t = ViewTransform::default().panned(20.0, -10.0, size, bounds());
        // Dragging right by 20 logical px (10 image px at scale 2) shows what was 10 px to the left.
        assert_eq!(t.center, Some([40.0, 55.0]));
    }

    #[test]
    fn params_layout_matches_the_shader() {
        assert_eq!(std::mem::size_of::<Params>(), 48);
    }
}
