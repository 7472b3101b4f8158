// All-pairs normalised cross-correlation peaks (CPU twin: mesmerize_core::analysis::cluster::xcorr::cc_matrices).
// One workgroup per job = two pairs packed into one complex inverse FFT: z = A + iB with A = X_i1 conj(X_j1) and
// B = X_i2 conj(X_j2), whose inverse transform is cc_1 + i cc_2 (both real). The curves were uploaded at unit norm,
// so each pair's function is scaled by its job's factor (1 / nfft, or 0 below tslearn's 1e-9 norm-product
// threshold), then reduced to its maximum and the first and last lag index holding it (tslearn order: lag -(sz-1)
// first).

@group(0) @binding(0) var<uniform> params: Params;
// [twiddles (twiddle_len)] then n_curves spectra of nfft bins each (written by xcorr_spectrum.wgsl).
@group(0) @binding(1) var<storage, read> spectra: array<vec2<f32>>;
// Per job 6 words: i1, j1, i2, j2, bitcast scale 1, bitcast scale 2.
@group(0) @binding(2) var<storage, read> jobs: array<u32>;
// Scratch: one nfft region per job of this dispatch.
@group(0) @binding(3) var<storage, read_write> fft_buf: array<vec2<f32>>;
// Per job `out_stride` words: max 1, first 1, last 1, max 2, first 2, last 2 [, cc 1 (2sz-1), cc 2 (2sz-1)].
@group(0) @binding(4) var<storage, read_write> results: array<u32>;

fn twiddle(k: u32) -> vec2<f32> {
    return spectra[k];
}

var<workgroup> red_val: array<vec2<f32>, 256>;
var<workgroup> red_first: array<vec2<u32>, 256>;
var<workgroup> red_last: array<vec2<u32>, 256>;

// Raw (natural order) index of lag index m.
fn raw_index(m: u32) -> u32 {
    if (m + 1u < params.sz) {
        return params.nfft + 1u + m - params.sz;
    }
    return m + 1u - params.sz;
}

@compute @workgroup_size(256)
fn pairs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let job = params.job_offset + wid.x;
    let jb = job * 6u;
    let a1 = params.twiddle_len + jobs[jb] * params.nfft;
    let b1 = params.twiddle_len + jobs[jb + 1u] * params.nfft;
    let a2 = params.twiddle_len + jobs[jb + 2u] * params.nfft;
    let b2 = params.twiddle_len + jobs[jb + 3u] * params.nfft;
    let s1 = bitcast<f32>(jobs[jb + 4u]);
    let s2 = bitcast<f32>(jobs[jb + 5u]);
    let base = wid.x * params.nfft;
    for (var k = lid; k < params.nfft; k = k + WG) {
        let p1 = cmul(spectra[a1 + k], vec2<f32>(spectra[b1 + k].x, -spectra[b1 + k].y));
        let p2 = cmul(spectra[a2 + k], vec2<f32>(spectra[b2 + k].x, -spectra[b2 + k].y));
        // A + iB
        fft_buf[base + bitrev(k)] = vec2<f32>(p1.x - p2.y, p1.y + p2.x);
    }
    storageBarrier();
    workgroupBarrier();
    fft_in_place(base, lid, true);

    let len = 2u * params.sz - 1u;
    let neg_inf = bitcast<f32>(0xff800000u);
    var best = vec2<f32>(neg_inf, neg_inf);
    var first = vec2<u32>(0xffffffffu, 0xffffffffu);
    var last = vec2<u32>(0u, 0u);
    let ob = job * params.out_stride;
    for (var m = lid; m < len; m = m + WG) {
        let raw = fft_buf[base + raw_index(m)];
        let v = vec2<f32>(raw.x * s1, raw.y * s2);
        if (v.x > best.x) {
            best.x = v.x;
            first.x = m;
            last.x = m;
        } else if (v.x == best.x) {
            last.x = m;
        }
        if (v.y > best.y) {
            best.y = v.y;
            first.y = m;
            last.y = m;
        } else if (v.y == best.y) {
            last.y = m;
        }
        if (params.write_cc == 1u) {
            results[ob + 6u + m] = bitcast<u32>(v.x);
            results[ob + 6u + len + m] = bitcast<u32>(v.y);
        }
    }
    red_val[lid] = best;
    red_first[lid] = first;
    red_last[lid] = last;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride >> 1u) {
        if (lid < stride) {
            let o_val = red_val[lid + stride];
            let o_first = red_first[lid + stride];
            let o_last = red_last[lid + stride];
            var v = red_val[lid];
            var f = red_first[lid];
            var l = red_last[lid];
            // Component-wise merge: larger value wins; equal values keep the earliest first and latest last.
            if (o_val.x > v.x) {
                v.x = o_val.x;
                f.x = o_first.x;
                l.x = o_last.x;
            } else if (o_val.x == v.x) {
                f.x = min(f.x, o_first.x);
                l.x = max(l.x, o_last.x);
            }
            if (o_val.y > v.y) {
                v.y = o_val.y;
                f.y = o_first.y;
                l.y = o_last.y;
            } else if (o_val.y == v.y) {
                f.y = min(f.y, o_first.y);
                l.y = max(l.y, o_last.y);
            }
            red_val[lid] = v;
            red_first[lid] = f;
            red_last[lid] = l;
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        results[ob] = bitcast<u32>(red_val[0].x);
        results[ob + 1u] = red_first[0].x;
        results[ob + 2u] = red_last[0].x;
        results[ob + 3u] = bitcast<u32>(red_val[0].y);
        results[ob + 4u] = red_first[0].y;
        results[ob + 5u] = red_last[0].y;
    }
}
