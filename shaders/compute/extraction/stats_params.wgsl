// Uniforms shared by pixel_stats.wgsl and psd_noise.wgsl (prepended to both); keep in sync with `StatsParams` in
// gpu_kernels/src/extraction/pixel_stats.rs.

struct StatsParams {
    d: u32,           // pixels per frame
    t: u32,           // frames in the movie
    n_frames: u32,    // frames in this chunk
    f0: u32,          // first frame of this chunk
    row_pitch: u32,   // per-pixel kernels: invocations per dispatch row (x groups * 256)
    first: u32,       // 1 on the movie's first chunk (accumulators start from 0)
    p0: u32,          // first pixel of this pixel block (gather, noise)
    np: u32,          // pixels in the block
    n: u32,           // PSD samples per pixel (T, or 3 segments of a long movie)
    m: u32,           // complex FFT length: n / 2 when n is even (samples packed in pairs), else n
    packed: u32,      // 1 when n is even
    n_stages: u32,    // mixed-radix stages of the FFT
    band_lo: u32,     // noise band: frequency bins [band_lo, band_hi) of the n-point DFT
    band_hi: u32,
    start0: u32,      // PSD sample s -> frame: three segments (start, length); s < len0 is frame start0 + s ...
    len0: u32,
    start1: u32,
    len1: u32,
    start2: u32,
    tw_stride: u32,   // FFT twiddle w_m^j is table entry j * tw_stride (2 when packed: w_m = w_n^2)
    stages: array<vec4<u32>, 16>, // per stage: radix p, span L before it, r' = m / (L p), unused
};
