// CNMF-E's ring-model background subtraction, Y - B with B = up(W ds(Y - A C - b0)) + b0, for one block of frames
// (CPU twin: `subtract_background` / `background_subtracted` in core/src/extraction/cnmfe/ring.rs and cnmfe_fit.rs):
//   coarse_residual  ds(Y - A C - b0): block means on the ssub_b-downsampled grid
//   apply_w          W times the coarse residual
//   subtract         Y - b0 - up(W x), written pixel-major (the layout of the HALS updates)
// Everything constant across blocks sits in one u32 buffer `statics` at the offsets in Params: A by pixel (CSR:
// row_ptr, then (component, value bits) pairs), b0 (bits), W by column (indptr, then (row, value bits) pairs).

struct Params {
    h: u32,
    w: u32,
    s: u32,            // ssub_b
    wd: u32,           // coarse grid width
    dd: u32,           // coarse pixels
    nf: u32,           // frames in this block
    t0: u32,           // first frame of the block
    t: u32,            // frames in the movie (row length of C)
    a_ptr: u32,        // statics offsets
    a_ent: u32,
    b0: u32,
    w_ptr: u32,
    w_ent: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;              // nf x d, frame-major block
@group(0) @binding(2) var<storage, read> statics: array<u32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;              // K x t
@group(0) @binding(4) var<storage, read_write> xd: array<f32>;       // dd x nf
@group(0) @binding(5) var<storage, read_write> bd: array<f32>;       // dd x nf
@group(0) @binding(6) var<storage, read_write> out: array<f32>;      // d x nf, pixel-major

fn invocation(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

fn ac(p: u32, frame: u32) -> f32 {
    var s = 0.0;
    for (var e = statics[params.a_ptr + p]; e < statics[params.a_ptr + p + 1u]; e = e + 1u) {
        let at = params.a_ent + 2u * e;
        s = s + bitcast<f32>(statics[at + 1u]) * c[statics[at] * params.t + frame];
    }
    return s;
}

@compute @workgroup_size(256)
fn coarse_residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = invocation(gid, nwg);
    if (idx >= params.dd * params.nf) {
        return;
    }
    let i = idx / params.nf;
    let f = idx % params.nf;
    let d = params.h * params.w;
    let r0 = (i / params.wd) * params.s;
    let c0 = (i % params.wd) * params.s;
    let r1 = min(r0 + params.s, params.h);
    let c1 = min(c0 + params.s, params.w);
    var sum = 0.0;
    for (var r = r0; r < r1; r = r + 1u) {
        for (var q = c0; q < c1; q = q + 1u) {
            let p = r * params.w + q;
            sum = sum + (y[f * d + p] - ac(p, params.t0 + f) - bitcast<f32>(statics[params.b0 + p]));
        }
    }
    xd[idx] = sum / f32((r1 - r0) * (c1 - c0));
}

@compute @workgroup_size(256)
fn apply_w(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = invocation(gid, nwg);
    if (idx >= params.dd * params.nf) {
        return;
    }
    let j = idx / params.nf;
    let f = idx % params.nf;
    var sum = 0.0;
    for (var e = statics[params.w_ptr + j]; e < statics[params.w_ptr + j + 1u]; e = e + 1u) {
        let at = params.w_ent + 2u * e;
        sum = sum + bitcast<f32>(statics[at + 1u]) * xd[statics[at] * params.nf + f];
    }
    bd[idx] = sum;
}

@compute @workgroup_size(256)
fn subtract(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let d = params.h * params.w;
    let idx = invocation(gid, nwg);
    if (idx >= d * params.nf) {
        return;
    }
    let p = idx / params.nf;
    let f = idx % params.nf;
    let coarse = (p / params.w / params.s) * params.wd + (p % params.w) / params.s;
    out[idx] = y[f * d + p] - bitcast<f32>(statics[params.b0 + p]) - bd[coarse * params.nf + f];
}
