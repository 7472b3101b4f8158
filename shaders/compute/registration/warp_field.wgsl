// Piecewise-rigid warp: out(y, x) = frame(y + dy(y, x), x + dx(y, x)), the displacement bilinear between the
// nodes of a grid (constant beyond the outermost), then 16-tap Keys cubic (a = -0.5) with clamped indices, or
// NaN / zero where the source lies outside [0, n-1]. CPU twin: `warp_field` in core/src/registration/warp.rs.
// Standalone (no common.wgsl). Keep `FieldDims` in sync with `FieldDims` in gpu_kernels/src/registration/field_warp.rs.

struct FieldDims {
    h: u32,
    w: u32,
    ny: u32,        // node rows
    nx: u32,        // node columns
    n_frames: u32,
    border: u32,    // 0 copy, 1 NaN, 2 zero
    fill: f32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> fd: FieldDims;
@group(0) @binding(1) var<storage, read> frames: array<f32>;   // n_frames x h x w
@group(0) @binding(2) var<storage, read> nodes: array<f32>;    // ys (ny) then xs (nx)
@group(0) @binding(3) var<storage, read> shifts: array<f32>;   // per frame: dy (ny x nx) then dx (ny x nx)
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // n_frames x h x w

const WG: u32 = 256u;

// (i0, i1, t) of v among the increasing nodes at `off`..`off + n`, clamped to the ends (as `locate` on the CPU).
fn locate(off: u32, n: u32, v: f32) -> vec3<f32> {
    if (n == 1u || v <= nodes[off]) {
        return vec3<f32>(0.0, 0.0, 0.0);
    }
    if (v >= nodes[off + n - 1u]) {
        return vec3<f32>(f32(n - 1u), f32(n - 1u), 0.0);
    }
    var i1 = 1u;
    while (i1 < n - 1u && nodes[off + i1] <= v) {
        i1 = i1 + 1u;
    }
    let i0 = i1 - 1u;
    return vec3<f32>(f32(i0), f32(i1), (v - nodes[off + i0]) / (nodes[off + i1] - nodes[off + i0]));
}

fn blend(base: u32, ly: vec3<f32>, lx: vec3<f32>) -> f32 {
    let i0 = u32(ly.x);
    let i1 = u32(ly.y);
    let j0 = u32(lx.x);
    let j1 = u32(lx.y);
    let a = shifts[base + i0 * fd.nx + j0] * (1.0 - lx.z) + shifts[base + i0 * fd.nx + j1] * lx.z;
    let b = shifts[base + i1 * fd.nx + j0] * (1.0 - lx.z) + shifts[base + i1 * fd.nx + j1] * lx.z;
    return a * (1.0 - ly.z) + b * ly.z;
}

@compute @workgroup_size(256)
fn warp_field(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * WG + gid.x;
    let n = fd.h * fd.w;
    if (i >= fd.n_frames * n) {
        return;
    }
    let b = i / n;
    let p = i % n;
    let y = p / fd.w;
    let x = p % fd.w;
    let ly = locate(0u, fd.ny, f32(y));
    let lx = locate(fd.ny, fd.nx, f32(x));
    let nn = fd.ny * fd.nx;
    let dy = blend(b * 2u * nn, ly, lx);
    let dx = blend(b * 2u * nn + nn, ly, lx);
    if (fd.border != 0u) {
        let sy = f32(y) + dy;
        let sx = f32(x) + dx;
        if (sy < 0.0 || sy > f32(fd.h - 1u) || sx < 0.0 || sx > f32(fd.w - 1u)) {
            out[i] = fd.fill;
            return;
        }
    }
    // y + floor(dy) and frac(dy) rather than floor(y + dy): the fraction keeps the precision of dy.
    let iy = i32(y) + i32(floor(dy));
    let ix = i32(x) + i32(floor(dx));
    let wy = cubic_weights(dy - floor(dy));
    let wx = cubic_weights(dx - floor(dx));
    let hm = i32(fd.h) - 1;
    let wm = i32(fd.w) - 1;
    let c0 = u32(clamp(ix - 1, 0, wm));
    let c1 = u32(clamp(ix, 0, wm));
    let c2 = u32(clamp(ix + 1, 0, wm));
    let c3 = u32(clamp(ix + 2, 0, wm));
    var acc = 0.0;
    for (var a = 0; a < 4; a = a + 1) {
        let row = b * n + u32(clamp(iy - 1 + a, 0, hm)) * fd.w;
        acc = acc + wy[a] * (wx.x * frames[row + c0] + wx.y * frames[row + c1] + wx.z * frames[row + c2] + wx.w * frames[row + c3]);
    }
    out[i] = acc;
}
