// Rigid shift of each frame by its estimate: out(y, x) = frame(y + dy, x + dx), separable Keys cubic (a = -0.5),
// indices clamped (copy border) or NaN / zero where the source lies outside [0, n-1]. Same arithmetic order as the
// CPU twin `shift_rigid` in core/src/registration/warp.rs (horizontal taps per row, then the vertical combination).

@group(0) @binding(1) var<storage, read> frames: array<f32>;        // n_frames x h x w
@group(0) @binding(2) var<storage, read> est: array<vec4<f32>>;     // (dy, dx, peak, _) per frame
@group(0) @binding(3) var<storage, read_write> out: array<f32>;     // n_frames x h x w

@compute @workgroup_size(256)
fn warp_rigid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    let n = dims.h * dims.w;
    if (i >= dims.n_frames * n) {
        return;
    }
    let b = i / n;
    let p = i % n;
    let y = p / dims.w;
    let x = p % dims.w;
    let dy = est[b].x;
    let dx = est[b].y;
    if (dims.border != 0u) {
        let sy = f32(y) + dy;
        let sx = f32(x) + dx;
        if (sy < 0.0 || sy > f32(dims.h - 1u) || sx < 0.0 || sx > f32(dims.w - 1u)) {
            out[i] = dims.fill;
            return;
        }
    }
    let iy = i32(floor(dy));
    let ix = i32(floor(dx));
    let wy = cubic_weights(dy - floor(dy));
    let wx = cubic_weights(dx - floor(dx));
    let hm = i32(dims.h) - 1;
    let wm = i32(dims.w) - 1;
    let c0 = u32(clamp(i32(x) + ix - 1, 0, wm));
    let c1 = u32(clamp(i32(x) + ix, 0, wm));
    let c2 = u32(clamp(i32(x) + ix + 1, 0, wm));
    let c3 = u32(clamp(i32(x) + ix + 2, 0, wm));
    var acc = 0.0;
    for (var a = 0; a < 4; a = a + 1) {
        let row = b * n + u32(clamp(i32(y) + iy - 1 + a, 0, hm)) * dims.w;
        let r = wx.x * frames[row + c0] + wx.y * frames[row + c1] + wx.z * frames[row + c2] + wx.w * frames[row + c3];
        if (a == 0) {
            acc = wy[a] * r;
        } else {
            acc = acc + wy[a] * r;
        }
    }
    out[i] = acc;
}
