// Per-pixel noise level from the power spectral density (CPU twin: `BandNoise` in
// core/src/extraction/summary/corr_pnr.rs, CaImAn's `get_noise_fft` with noise_range (0.25, 0.5] and 'mean'): the
// n-point DFT of the pixel's mean-subtracted PSD samples, by a mixed-radix Stockham FFT in workgroup memory (real
// samples packed in pairs as an n/2-point complex transform when n is even), then the mean power over the band.
// One workgroup per pixel. The host substitutes M (the complex length) and PER (= ceil(M / 256)) before building.
// StatsParams comes from stats_params.wgsl, prepended by the host.

@group(0) @binding(0) var<uniform> params: StatsParams;
@group(0) @binding(2) var<storage, read_write> acc: array<vec4<f32>>;    // per pixel: sum, max (accumulate_mean_max)
@group(0) @binding(3) var<storage, read_write> series: array<f32>;       // np x n, this pixel block
@group(0) @binding(4) var<storage, read> twiddles: array<vec2<f32>>;     // w_n^j = exp(-2 pi i j / n), j < n
@group(0) @binding(5) var<storage, read_write> noise: array<vec4<f32>>;  // per pixel: mean, sn, pnr, -

const WG: u32 = 256u;
const M: u32 = {M}u;
const PER: u32 = {PER}u;

var<workgroup> buf: array<vec2<f32>, M>;
var<workgroup> part: array<f32, WG>;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn conj(a: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x, -a.y);
}

@compute @workgroup_size(256)
fn band_noise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let j = wid.y * nwg.x + wid.x;
    if (j >= params.np) {
        return; // the whole workgroup leaves together
    }
    let p = params.p0 + j;
    let a = acc[p];
    let mean = a.x / f32(params.t);
    let row = j * params.n;
    let m = params.m;
    // Load the mean-subtracted samples (pairs when packed).
    for (var i = 0u; i < PER; i = i + 1u) {
        let o = lid + i * WG;
        if (o < m) {
            if (params.packed == 1u) {
                buf[o] = vec2<f32>(series[row + 2u * o] - mean, series[row + 2u * o + 1u] - mean);
            } else {
                buf[o] = vec2<f32>(series[row + o] - mean, 0.0);
            }
        }
    }
    workgroupBarrier();
    // Stockham stages: after a stage of radix p on span L (L' = L p, r' = m / L'), element f' r' + a' holds
    // sum_q w_{L'}^{f' q} Y[(f' mod L) r + a' + r' q] with r = r' p.
    for (var s = 0u; s < params.n_stages; s = s + 1u) {
        let st = params.stages[s];
        let radix = st.x;
        let span = st.y;
        let rp = st.z;
        let r = rp * radix;
        var out: array<vec2<f32>, PER>;
        for (var i = 0u; i < PER; i = i + 1u) {
            let o = lid + i * WG;
            if (o < m) {
                let f = o / rp;
                let base = (f % span) * r + o % rp;
                let step = f * rp;
                var idx = 0u;
                var sum = buf[base];
                for (var q = 1u; q < radix; q = q + 1u) {
                    idx = idx + step;
                    if (idx >= m) {
                        idx = idx - m;
                    }
                    sum = sum + cmul(twiddles[idx * params.tw_stride], buf[base + q * rp]);
                }
                out[i] = sum;
            }
        }
        workgroupBarrier();
        for (var i = 0u; i < PER; i = i + 1u) {
            let o = lid + i * WG;
            if (o < m) {
                buf[o] = out[i];
            }
        }
        workgroupBarrier();
    }
    // Power over the band; unpack X_k = E_k + w_n^k O_k from the packed transform.
    var power = 0.0;
    for (var k = params.band_lo + lid; k < params.band_hi; k = k + WG) {
        var x: vec2<f32>;
        if (params.packed == 1u) {
            let zk = buf[k % m];
            let zc = conj(buf[(m - k % m) % m]);
            let e = 0.5 * (zk + zc);
            let d = 0.5 * (zk - zc);
            let od = vec2<f32>(d.y, -d.x); // (zk - zc) / 2i
            x = e + cmul(twiddles[k], od);
        } else {
            x = buf[k];
        }
        power = power + dot(x, x);
    }
    part[lid] = power;
    workgroupBarrier();
    for (var w = WG / 2u; w > 0u; w = w / 2u) {
        if (lid < w) {
            part[lid] = part[lid] + part[lid + w];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let nb = params.band_hi - params.band_lo;
        var sn = 0.0;
        if (params.n >= 4u && nb > 0u) {
            sn = sqrt(part[0] / (f32(params.n) * f32(nb)));
        }
        var pnr = 0.0;
        if (sn > 0.0) {
            pnr = max((a.y - mean) / sn, 0.0);
        }
        noise[p] = vec4<f32>(mean, sn, pnr, 0.0);
    }
}
