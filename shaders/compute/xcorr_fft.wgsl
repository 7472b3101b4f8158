// Shared by xcorr_spectrum.wgsl and xcorr_pairs.wgsl (prepended to each by gpu_kernels/src/xcorr.rs): an in-place
// radix-2 decimation-in-time FFT of one nfft-point region of `fft_buf`, run by one workgroup, with the stages
// separated by storage barriers. Each including file declares `params`, `fft_buf` and `twiddle(k)`.

// Uniforms of both xcorr kernels; keep in sync with `Params` in gpu_kernels/src/xcorr.rs.
struct Params {
    n_curves: u32,
    sz: u32,
    nfft: u32,
    log2n: u32,
    // Pairs kernel: first job of this dispatch, u32 words per job in `out`, 1 to also write the cc functions.
    job_offset: u32,
    out_stride: u32,
    write_cc: u32,
    twiddle_len: u32,
}

const WG: u32 = 256u;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Position of sample k after bit reversal over log2n bits.
fn bitrev(k: u32) -> u32 {
    return reverseBits(k) >> (32u - params.log2n);
}

// FFT of fft_buf[base .. base + nfft], whose input was stored in bit-reversed order; output in natural order.
// `inverse` conjugates the twiddles (no 1/n scaling). Must be called from uniform control flow.
fn fft_in_place(base: u32, lid: u32, inverse: bool) {
    let half_n = params.nfft >> 1u;
    for (var s = 0u; s < params.log2n; s = s + 1u) {
        let half = 1u << s;
        let tw_shift = params.log2n - 1u - s;
        for (var b = lid; b < half_n; b = b + WG) {
            let j = b & (half - 1u);
            let i0 = base + ((b >> s) << (s + 1u)) + j;
            let i1 = i0 + half;
            var w = twiddle(j << tw_shift);
            if (inverse) {
                w.y = -w.y;
            }
            let t = cmul(w, fft_buf[i1]);
            let u = fft_buf[i0];
            fft_buf[i0] = u + t;
            fft_buf[i1] = u - t;
        }
        storageBarrier();
        workgroupBarrier();
    }
}
