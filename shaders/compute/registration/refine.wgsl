// Sub-pixel refinement as `Registrar::refine` (core/src/registration/phase_corr.rs): the band-limited
// (|f| <= 0.25 cycles/px) upsampled DFT of the cross-power spectrum on a (1/up)-spaced grid of +-0.75 px around the
// integer peak, as two matrix products, divided by the damping; then the best grid point inside the window and a
// parabola through it and its neighbours. Phases are exact integer twiddles (table) times precomputed fractional
// phases, never WGSL sin/cos (their error bound is 2^-11).

@group(0) @binding(1) var<storage, read> tables: array<f32>;
@group(0) @binding(2) var<storage, read> band: array<vec2<f32>>;        // n_frames x (2 ky_max + 1) x (kx_max + 1)
@group(0) @binding(3) var<storage, read_write> stage: array<vec2<f32>>; // n_frames x (kx_max + 1) x n_grid
@group(0) @binding(4) var<storage, read_write> est: array<vec4<f32>>;   // in: integer peak; out: refined shift
@group(0) @binding(5) var<storage, read_write> grid: array<f32>;        // n_frames x n_grid x n_grid

fn tab_c(off: u32, i: u32) -> vec2<f32> {
    return vec2<f32>(tables[off + 2u * i], tables[off + 2u * i + 1u]);
}

// e^{+2 pi i k p / n} for integers k, p and n a power of two dividing nmax (exact table lookup).
fn int_phase(k: i32, p: i32, n: u32) -> vec2<f32> {
    let m = u32(((k * p) % i32(n) + i32(n)) % i32(n));
    let tw = tab_c(dims.off_tw, m * (dims.nmax / n));
    return vec2<f32>(tw.x, -tw.y);
}

fn offset(i: u32) -> f32 {
    return f32(i32(i) - i32(dims.half)) / dims.up_f;
}

// Stage 1: for every kept column kx and every grid row iy, the sum over the band rows ky.
@compute @workgroup_size(256)
fn refine_stage(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    let ncol = dims.kx_max + 1u;
    let per_frame = ncol * dims.n_grid;
    if (i >= dims.n_frames * per_frame) {
        return;
    }
    let b = i / per_frame;
    let r = i % per_frame;
    let kx = r / dims.n_grid;
    let iy = r % dims.n_grid;
    let py = i32(est[b].x);
    let nky = 2u * dims.ky_max + 1u;
    var acc = vec2<f32>(0.0, 0.0);
    for (var j = 0u; j < nky; j = j + 1u) {
        let k = i32(j) - i32(dims.ky_max);
        let ph = cmul(int_phase(k, py, dims.ph), tab_c(dims.off_fy, j * dims.n_grid + iy));
        acc = acc + cmul(band[(b * nky + j) * ncol + kx], ph);
    }
    stage[(b * ncol + kx) * dims.n_grid + iy] = acc;
}

fn lerp_lag(off: u32, n: u32, tau: f32) -> f32 {
    let a = abs(tau);
    let i = u32(floor(a));
    if (i + 1u >= n) {
        return tables[off + n - 1u];
    }
    let f = a - floor(a);
    return tables[off + i] * (1.0 - f) + tables[off + i + 1u] * f;
}

fn damping(dy: f32, dx: f32) -> f32 {
    return max(lerp_lag(dims.off_acy, dims.n_acy, dy) * lerp_lag(dims.off_acx, dims.n_acx, dx), 1e-3);
}

fn inside(d: f32, c: f32, r: f32) -> bool {
    return d >= c - r - 1e-5 && d <= c + r + 1e-5;
}

fn vertex(m: f32, c: f32, p: f32) -> f32 {
    let den = m - 2.0 * c + p;
    if (den < 0.0) {
        return clamp(0.5 * (m - p) / den, -0.5, 0.5);
    }
    return 0.0;
}

// Stage 2 (one workgroup per frame): the sum over kx (interior columns weighted 2), damping, then the best point
// and the parabolic vertex by invocation 0.
@compute @workgroup_size(256)
fn refine_grid(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let b = wid.x;
    let n = dims.n_grid;
    let ncol = dims.kx_max + 1u;
    let py = est[b].x;
    let px = est[b].y;
    let gbase = b * n * n;
    for (var idx = t; idx < n * n; idx = idx + WG) {
        let iy = idx / n;
        let jx = idx % n;
        var acc = 0.0;
        for (var kx = 0u; kx < ncol; kx = kx + 1u) {
            var weight = 2.0;
            if (kx == 0u || (dims.pw % 2u == 0u && kx == dims.pw / 2u)) {
                weight = 1.0;
            }
            let v = stage[(b * ncol + kx) * n + iy];
            let ph = cmul(int_phase(i32(kx), i32(px), dims.pw), tab_c(dims.off_fx, kx * n + jx));
            acc = acc + weight * (v.x * ph.x - v.y * ph.y);
        }
        grid[gbase + idx] = acc / damping(py + offset(iy), px + offset(jx));
    }
    storageBarrier();
    if (t != 0u) {
        return;
    }
    var bi = dims.half;
    var bj = dims.half;
    var best = bitcast<f32>(0xff800000u);
    for (var iy = 0u; iy < n; iy = iy + 1u) {
        for (var jx = 0u; jx < n; jx = jx + 1u) {
            let v = grid[gbase + iy * n + jx];
            if (inside(py + offset(iy), dims.center_y, dims.radius_y) && inside(px + offset(jx), dims.center_x, dims.radius_x) && v > best) {
                best = v;
                bi = iy;
                bj = jx;
            }
        }
    }
    var fy = 0.0;
    var fx = 0.0;
    if (bi > 0u && bi + 1u < n) {
        fy = vertex(grid[gbase + (bi - 1u) * n + bj], best, grid[gbase + (bi + 1u) * n + bj]);
    }
    if (bj > 0u && bj + 1u < n) {
        fx = vertex(grid[gbase + bi * n + bj - 1u], best, grid[gbase + bi * n + bj + 1u]);
    }
    let dy = clamp(py + offset(bi) + fy / dims.up_f, dims.center_y - dims.radius_y, dims.center_y + dims.radius_y);
    let dx = clamp(px + offset(bj) + fx / dims.up_f, dims.center_x - dims.radius_x, dims.center_x + dims.radius_x);
    est[b] = vec4<f32>(dy, dx, best / dims.norm, 1.0);
}
