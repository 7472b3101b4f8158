// Declarations shared by the registration kernels (prepended to each of them by the Rust side).
// CPU twin of the whole pipeline: core/src/registration/phase_corr.rs (Registrar) and warp.rs (shift_rigid).
// Keep `Dims` in sync with `Dims` in gpu_kernels/src/registration/kernels.rs.

struct Dims {
    h: u32,            // frame rows
    w: u32,            // frame columns
    ph: u32,           // padded rows (power of two >= h)
    pw: u32,           // padded columns (power of two >= w)
    n_frames: u32,     // frames in this batch
    max_y: u32,        // search half-window, rows
    max_x: u32,        // search half-window, columns
    up: u32,           // upsample factor of the sub-pixel refinement
    half: u32,         // ceil(0.75 * up): grid points either side of the integer peak
    n_grid: u32,       // 2 * half + 1
    ky_max: u32,       // floor(ph / 4): rows of the band kept for the refinement are -ky_max..=ky_max
    kx_max: u32,       // min(floor(pw / 4), pw / 2): columns 0..=kx_max (Hermitian half)
    border: u32,       // 0 copy, 1 NaN, 2 zero
    nmax: u32,         // length of the twiddle table (max(ph, pw))
    win_h: u32,        // 2 * max_y + 1
    win_w: u32,        // 2 * max_x + 1
    off_tw: u32,       // offsets (in f32 units) into `tables`, see tables.rs
    off_fy: u32,
    off_fx: u32,
    off_wy: u32,
    off_wx: u32,
    off_acy: u32,
    off_acx: u32,
    off_gy: u32,
    off_gx: u32,
    off_dint: u32,
    n_acy: u32,        // h
    n_acx: u32,        // w
    norm: f32,         // ph * pw: scale of the unnormalised inverse FFT
    fill: f32,         // border value for NaN / zero modes
    center_y: f32,     // search window centre and radius (px)
    center_x: f32,
    radius_y: f32,
    radius_x: f32,
    up_f: f32,
    _pad: f32,
};

@group(0) @binding(0) var<uniform> dims: Dims;

const WG: u32 = 256u;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn is_finite_f32(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// Index of an invocation in a 1D range dispatched as a 2D grid of 256-wide workgroups.
fn linear_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * WG + gid.x;
}
