// Spectra of n real curves for the all-pairs normalised cross-correlation (CPU twin:
// mesmerize_core::analysis::cluster::xcorr). One workgroup per curve: the curve, zero-padded to nfft, is FFT'd in
// place into its region of `fft_buf`, whose first `twiddle_len` entries hold exp(-2 pi i k / nfft).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> curves: array<f32>;
@group(0) @binding(2) var<storage, read_write> fft_buf: array<vec2<f32>>;

fn twiddle(k: u32) -> vec2<f32> {
    return fft_buf[k];
}

@compute @workgroup_size(256)
fn spectrum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let base = params.twiddle_len + c * params.nfft;
    for (var k = lid; k < params.nfft; k = k + WG) {
        var v = 0.0;
        if (k < params.sz) {
            v = curves[c * params.sz + k];
        }
        fft_buf[base + bitrev(k)] = vec2<f32>(v, 0.0);
    }
    storageBarrier();
    workgroupBarrier();
    fft_in_place(base, lid, false);
}
