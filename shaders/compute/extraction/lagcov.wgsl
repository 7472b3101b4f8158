// Lagged covariance images of CNMF-E's ring fit (CPU twin: `lag_covariances` in core/src/extraction/cnmfe/lagcov.rs):
//   out[q, k] = sum_t x_q(t) x_{q + lag_k}(t)
// for the pixels q of one band of grid rows and every canonical lag k (dy > 0, or dy == 0 and dx >= 0); 0 where
// q + lag_k is off the grid. x keeps the CPU's time-chunked pixel-major layout: pixel q's samples of chunk c are
// the 32 floats (8 vec4s) at (c * d + q) * 32. One invocation takes one pixel and a group of GROUP lags, so the
// pixel's samples are read once per GROUP products; per chunk each product sums in four lanes, as the CPU does.

struct Params {
    h: u32,
    w: u32,
    n_lags: u32,
    chunks: u32,
    row0: u32,          // first grid row of the band
    band_pixels: u32,   // pixels in the band
    groups: u32,        // ceil(n_lags / GROUP)
    _pad: u32,
};

const GROUP: u32 = 8u;
const VECS: u32 = 8u;   // vec4s per chunk (CHUNK = 32 samples)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> lags: array<vec2<i32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // band_pixels x n_lags

@compute @workgroup_size(256)
fn lag_products(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 256u;
    if (idx >= params.band_pixels * params.groups) {
        return;
    }
    // Neighbouring invocations take neighbouring pixels with the same lags: their reads overlap in cache.
    let ql = idx % params.band_pixels;
    let k0 = (idx / params.band_pixels) * GROUP;
    let d = params.h * params.w;
    let q = params.row0 * params.w + ql;
    let row = i32(q / params.w);
    let col = i32(q % params.w);
    var partner: array<u32, 8>;
    var live: array<u32, 8>;
    for (var j = 0u; j < GROUP; j = j + 1u) {
        partner[j] = q;
        live[j] = 0u;
        let k = k0 + j;
        if (k < params.n_lags) {
            let lag = lags[k];
            let r = row + lag.x;
            let c = col + lag.y;
            if (r < i32(params.h) && c >= 0 && c < i32(params.w)) {
                partner[j] = u32(r) * params.w + u32(c);
                live[j] = 1u;
            }
        }
    }
    var acc: array<f32, 8>;
    for (var c = 0u; c < params.chunks; c = c + 1u) {
        let base = c * d;
        // Zeroed explicitly each chunk: left to the declaration's implicit zero, the sums ran on across chunks
        // (seen with naga + lavapipe).
        var part: array<vec4<f32>, 8>;
        for (var j = 0u; j < GROUP; j = j + 1u) {
            part[j] = vec4<f32>(0.0);
        }
        for (var s = 0u; s < VECS; s = s + 1u) {
            let a = x[(base + q) * VECS + s];
            for (var j = 0u; j < GROUP; j = j + 1u) {
                part[j] = part[j] + a * x[(base + partner[j]) * VECS + s];
            }
        }
        for (var j = 0u; j < GROUP; j = j + 1u) {
            let p = part[j];
            acc[j] = acc[j] + ((p.x + p.z) + (p.y + p.w));
        }
    }
    for (var j = 0u; j < GROUP; j = j + 1u) {
        let k = k0 + j;
        if (k < params.n_lags) {
            out[ql * params.n_lags + k] = select(0.0, acc[j], live[j] == 1u);
        }
    }
}
