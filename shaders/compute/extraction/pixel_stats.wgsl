// Per-pixel statistics of the gSig-filtered movie for CNMF-E's PNR and correlation images, on the device (CPU twin:
// `pixel_pnr_and_standardise` and `pixel_statistics` in core/src/extraction/summary/corr_pnr.rs):
//   accumulate_mean_max  sum and max over frames (one dispatch per frame chunk)
//   gather_series        the PSD samples of each pixel, pixel-major, for psd_noise.wgsl (per frame chunk and block)
//   accumulate_moments   first two moments of the thresholded (x - mean) / sn (per frame chunk)
//   standardise          the per-pixel standardisation the correlation kernel reads
// Frames are summed 64 at a time before the block sums are added, which keeps f32 sums of thousands of frames
// accurate without relying on compensated summation surviving the driver's optimiser.
// StatsParams comes from stats_params.wgsl, prepended by the host.

@group(0) @binding(0) var<uniform> params: StatsParams;
@group(0) @binding(1) var<storage, read> filtered: array<f32>;           // n_frames x d, this chunk
@group(0) @binding(2) var<storage, read_write> acc: array<vec4<f32>>;    // per pixel: sum, max, -, -
@group(0) @binding(3) var<storage, read_write> series: array<f32>;       // np x n, this pixel block
@group(0) @binding(5) var<storage, read_write> noise: array<vec4<f32>>;  // per pixel: mean, sn, pnr, -
@group(0) @binding(6) var<storage, read_write> moments: array<vec2<f32>>; // per pixel: sum a, sum a^2
@group(0) @binding(7) var<storage, read_write> zpar: array<vec4<f32>>;   // per pixel: mean, thr, scale, offset

const BLOCK: u32 = 64u;
// Larger than any finite filtered value: the threshold of a pixel whose standardised series is all zeros.
const NEVER: f32 = 3.0e38;

fn pixel_of(gid: vec3<u32>) -> u32 {
    return gid.y * params.row_pitch + gid.x;
}

@compute @workgroup_size(256)
fn accumulate_mean_max(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = pixel_of(gid);
    if (p >= params.d) {
        return;
    }
    var total = 0.0;
    var mx = -3.4028235e38;
    var f = 0u;
    while (f < params.n_frames) {
        let end = min(f + BLOCK, params.n_frames);
        var part = 0.0;
        for (var g = f; g < end; g = g + 1u) {
            let v = filtered[g * params.d + p];
            part = part + v;
            mx = max(mx, v);
        }
        total = total + part;
        f = end;
    }
    if (params.first == 1u) {
        acc[p] = vec4<f32>(total, mx, 0.0, 0.0);
    } else {
        let a = acc[p];
        acc[p] = vec4<f32>(a.x + total, max(a.y, mx), 0.0, 0.0);
    }
}

// The frame PSD sample s is taken from.
fn sample_frame(s: u32) -> u32 {
    if (s < params.len0) {
        return params.start0 + s;
    }
    if (s < params.len0 + params.len1) {
        return params.start1 + s - params.len0;
    }
    return params.start2 + s - params.len0 - params.len1;
}

var<workgroup> tile: array<array<f32, 17>, 16>;

// A 16 x 16 tile transpose: reads along pixels of a frame, writes along samples of a pixel (both coalesced).
// Workgroups cover (pixels of the block / 16, samples / 16); samples whose frame is not in this chunk are left.
@compute @workgroup_size(16, 16)
fn gather_series(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let pix0 = wid.x * 16u;
    let s0 = wid.y * 16u;
    // Read: thread (x = pixel, y = sample).
    let s_in = s0 + lid.y;
    let j_in = pix0 + lid.x;
    if (s_in < params.n && j_in < params.np) {
        let f = sample_frame(s_in);
        if (f >= params.f0 && f < params.f0 + params.n_frames) {
            tile[lid.y][lid.x] = filtered[(f - params.f0) * params.d + params.p0 + j_in];
        }
    }
    workgroupBarrier();
    // Write: thread (x = sample, y = pixel).
    let s_out = s0 + lid.x;
    let j_out = pix0 + lid.y;
    if (s_out < params.n && j_out < params.np) {
        let f = sample_frame(s_out);
        if (f >= params.f0 && f < params.f0 + params.n_frames) {
            series[j_out * params.n + s_out] = tile[lid.x][lid.y];
        }
    }
}

@compute @workgroup_size(256)
fn accumulate_moments(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = pixel_of(gid);
    if (p >= params.d) {
        return;
    }
    let nz = noise[p];
    let mean = nz.x;
    let sn = nz.y;
    var s1 = 0.0;
    var s2 = 0.0;
    if (sn > 0.0) {
        let thr = 3.0 * sn;
        var f = 0u;
        while (f < params.n_frames) {
            let end = min(f + BLOCK, params.n_frames);
            var b1 = 0.0;
            var b2 = 0.0;
            for (var g = f; g < end; g = g + 1u) {
                let dv = filtered[g * params.d + p] - mean;
                if (dv >= thr) {
                    let a = dv / sn;
                    b1 = b1 + a;
                    b2 = b2 + a * a;
                }
            }
            s1 = s1 + b1;
            s2 = s2 + b2;
            f = end;
        }
    }
    if (params.first == 1u) {
        moments[p] = vec2<f32>(s1, s2);
    } else {
        moments[p] = moments[p] + vec2<f32>(s1, s2);
    }
}

@compute @workgroup_size(256)
fn standardise(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = pixel_of(gid);
    if (p >= params.d) {
        return;
    }
    let nz = noise[p];
    let sn = nz.y;
    var z = vec4<f32>(0.0, NEVER, 0.0, 0.0);
    if (sn > 0.0) {
        let mo = moments[p];
        let t = f32(params.t);
        let abar = mo.x / t;
        let v = mo.y / t - abar * abar;
        if (v > 0.0) {
            let sd = sqrt(v);
            z = vec4<f32>(nz.x, 3.0 * sn, 1.0 / (sn * sd), -abar / sd);
        }
    }
    zpar[p] = z;
}
