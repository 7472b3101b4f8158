// Colour-mapped scalar image: one R32Float frame, a LUT atlas (one 256-texel row per colormap), zoom and pan.
// Twin: app/src/widget/image_view.rs (`Params` there must stay in sync with `Params` here).

struct Params {
    // widget width, height (logical px), scale (logical px per image px), has_image (0 or 1)
    view: vec4<f32>,
    // image point at the widget centre (x, y in image px), image width, height
    center_size: vec4<f32>,
    // level min, level max, LUT row, gamma
    levels: vec4<f32>,
};

@group(0) @binding(0) var frame_tex: texture_2d<f32>;
@group(0) @binding(1) var lut_tex: texture_2d<f32>;
@group(0) @binding(2) var<uniform> params: Params;

struct VsOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

// One triangle covering the viewport (which iced sets to the widget's bounds).
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VsOut {
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    var out: VsOut;
    out.position = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    if (params.view.w < 0.5) {
        return vec4<f32>(0.0);
    }
    let local = in.uv * params.view.xy;
    let img = params.center_size.xy + (local - 0.5 * params.view.xy) / params.view.z;
    let size = params.center_size.zw;
    if (img.x < 0.0 || img.y < 0.0 || img.x >= size.x || img.y >= size.y) {
        return vec4<f32>(0.0);
    }
    let texel = vec2<i32>(floor(img));
    let v = textureLoad(frame_tex, texel, 0).r;
    let span = params.levels.y - params.levels.x;
    var t = 0.0;
    if (abs(span) > 0.0) {
        t = clamp((v - params.levels.x) / span, 0.0, 1.0);
    } else if (v > params.levels.x) {
        t = 1.0;
    }
    t = pow(t, params.levels.w);
    // NaN samples fail every comparison above; show them as the colormap's low end.
    if (!(t >= 0.0 && t <= 1.0)) {
        t = 0.0;
    }
    let index = i32(round(t * 255.0));
    return textureLoad(lut_tex, vec2<i32>(index, i32(params.levels.z)), 0);
}
