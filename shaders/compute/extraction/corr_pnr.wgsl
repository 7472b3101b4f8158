// CNMF-E summary images: the gSig spatial filter of every frame and the neighbour-correlation sums of the
// thresholded, standardised filtered movie. CPU twins: core/src/extraction/summary/gsig_filter.rs (GsigFilter) and
// neighbours.rs (neighbour_correlation). The per-pixel statistics between the two are pixel_stats.wgsl and
// psd_noise.wgsl. One dispatch handles one chunk of frames (the movie is held in several buffers when it exceeds a
// binding).

struct Params {
    nz: u32,         // planes (1 for 2D)
    h: u32,
    w: u32,
    n_frames: u32,   // frames in this chunk
    cy: u32,         // kernel half-size along y
    cx: u32,         // kernel half-size along x
    row_pitch: u32,  // invocations per dispatch row (x groups * 256)
    first: u32,      // 1 when this is the first chunk (the sums start from 0)
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> movie: array<f32>;          // n_frames x (nz * h * w)
// (2 cy + 1) x (2 cx + 1) kernel, row-major, then per row offset |i| = 0..=cy the half-width of its kept taps.
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read_write> filtered: array<f32>; // n_frames x (nz * h * w)

// One invocation per (pixel, frame): correlation of the plane with the kernel, edge pixels replicated.
@compute @workgroup_size(256)
fn filter_frames(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = params.nz * params.h * params.w;
    let p = gid.x;
    let f = gid.y + gid.z * 65535u;
    if (p >= d || f >= params.n_frames) {
        return;
    }
    let plane = p / (params.h * params.w);
    let y = i32((p / params.w) % params.h);
    let x = i32(p % params.w);
    let base = f * d + plane * params.h * params.w;
    let kx = 2u * params.cx + 1u;
    let cy = i32(params.cy);
    let cx = i32(params.cx);
    var acc = 0.0;
    for (var i = -cy; i <= cy; i = i + 1) {
        let yy = u32(clamp(y + i, 0, i32(params.h) - 1));
        let krow = u32(i + cy) * kx;
        for (var j = -cx; j <= cx; j = j + 1) {
            let k = taps[krow + u32(j + cx)];
            if (k != 0.0) {
                let xx = u32(clamp(x + j, 0, i32(params.w) - 1));
                acc = acc + k * movie[base + yy * params.w + xx];
            }
        }
    }
    filtered[f * d + p] = acc;
}

// The tile of input a 16 x 16 block of outputs reads: (16 + 2 cy) x (16 + 2 cx) floats, at most PATCH (the host
// uses filter_frames for larger kernels).
const PATCH: u32 = 3600u;
var<workgroup> block_in: array<f32, PATCH>;

// One workgroup per 16 x 16 block of one plane of one frame (z loops over plane-frames): the block's input with
// its borders (edge pixels replicated) is read once into workgroup memory, then each invocation sums only the kept
// taps of each kernel row.
@compute @workgroup_size(16, 16)
fn filter_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    let hw = params.h * params.w;
    let d = params.nz * hw;
    let kx = 2u * params.cx + 1u;
    let ky = 2u * params.cy + 1u;
    let tw = 16u + 2u * params.cx;
    let th = 16u + 2u * params.cy;
    let x0 = i32(wid.x * 16u) - i32(params.cx);
    let y0 = i32(wid.y * 16u) - i32(params.cy);
    let ox = wid.x * 16u + lid.x;
    let oy = wid.y * 16u + lid.y;
    let flat = lid.y * 16u + lid.x;
    for (var fz = wid.z; fz < params.nz * params.n_frames; fz = fz + nwg.z) {
        let base = (fz / params.nz) * d + (fz % params.nz) * hw;
        for (var i = flat; i < th * tw; i = i + 256u) {
            let yy = u32(clamp(y0 + i32(i / tw), 0, i32(params.h) - 1));
            let xx = u32(clamp(x0 + i32(i % tw), 0, i32(params.w) - 1));
            block_in[i] = movie[base + yy * params.w + xx];
        }
        workgroupBarrier();
        if (ox < params.w && oy < params.h) {
            var acc = 0.0;
            for (var i = 0u; i < ky; i = i + 1u) {
                let half = u32(taps[ky * kx + u32(abs(i32(i) - i32(params.cy)))]);
                let row = (lid.y + i) * tw + lid.x + params.cx;
                let krow = i * kx + params.cx;
                for (var j = row - half; j <= row + half; j = j + 1u) {
                    acc = acc + taps[krow + j - row] * block_in[j];
                }
            }
            filtered[base + oy * params.w + ox] = acc;
        }
        workgroupBarrier();
    }
}

// Per pixel: z = (x - mean >= thr ? (x - mean) * scale : 0) + offset (see neighbours.rs, Standardise).
struct Standardise {
    mean: f32,
    thr: f32,
    scale: f32,
    offset: f32,
};

@group(0) @binding(4) var<storage, read> zpar: array<Standardise>;
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;     // per pixel: sum_t z_p * sum_{q in N(p)} z_q

fn zval(v: f32, s: Standardise) -> f32 {
    let dv = v - s.mean;
    var a = 0.0;
    if (dv >= s.thr) {
        a = dv * s.scale;
    }
    return a + s.offset;
}

// One invocation per pixel, looping over the chunk's frames; 8 neighbours in 2D, 26 in 3D, inside the volume.
@compute @workgroup_size(256)
fn correlate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = params.nz * params.h * params.w;
    let p = gid.y * params.row_pitch + gid.x;
    if (p >= d) {
        return;
    }
    let hw = params.h * params.w;
    let z0 = i32(p / hw);
    let y0 = i32((p / params.w) % params.h);
    let x0 = i32(p % params.w);
    var dz_lo = 0;
    var dz_hi = 0;
    if (params.nz > 1u) {
        dz_lo = -1;
        dz_hi = 1;
    }
    let sp = zpar[p];
    var total = 0.0;
    for (var f = 0u; f < params.n_frames; f = f + 1u) {
        let frame = f * d;
        let zp = zval(filtered[frame + p], sp);
        var nb = 0.0;
        for (var dz = dz_lo; dz <= dz_hi; dz = dz + 1) {
            let zz = z0 + dz;
            if (zz < 0 || zz >= i32(params.nz)) {
                continue;
            }
            for (var dy = -1; dy <= 1; dy = dy + 1) {
                let yy = y0 + dy;
                if (yy < 0 || yy >= i32(params.h)) {
                    continue;
                }
                for (var dx = -1; dx <= 1; dx = dx + 1) {
                    let xx = x0 + dx;
                    if (xx < 0 || xx >= i32(params.w) || (dz == 0 && dy == 0 && dx == 0)) {
                        continue;
                    }
                    let q = u32(zz) * hw + u32(yy) * params.w + u32(xx);
                    nb = nb + zval(filtered[frame + q], zpar[q]);
                }
            }
        }
        total = total + zp * nb;
    }
    if (params.first == 1u) {
        sums[p] = total;
    } else {
        sums[p] = sums[p] + total;
    }
}
