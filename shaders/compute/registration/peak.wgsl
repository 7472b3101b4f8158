// Integer arg-max of the correlation inside the search window (lags wrap around), each lag divided by the taper
// autocorrelation damping (precomputed per lag on the CPU). Ties go to the first lag in row-major window order,
// as the CPU's scan. One workgroup per frame. CPU twin: the integer peak in `Registrar::estimate`.
// Writes est[b] = (dy, dx, peak / norm, 0).

@group(0) @binding(1) var<storage, read> tables: array<f32>;
@group(0) @binding(2) var<storage, read> spec: array<vec2<f32>>;     // correlation in the real parts
@group(0) @binding(3) var<storage, read_write> est: array<vec4<f32>>;

var<workgroup> best_v: array<f32, 256>;
var<workgroup> best_i: array<u32, 256>;

@compute @workgroup_size(256)
fn peak(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let b = wid.x;
    let count = dims.win_h * dims.win_w;
    let base = b * dims.ph * dims.pw;
    var bv = bitcast<f32>(0xff800000u); // -inf
    var bi = 0xffffffffu;
    for (var idx = t; idx < count; idx = idx + WG) {
        let dy = i32(idx / dims.win_w) - i32(dims.max_y);
        let dx = i32(idx % dims.win_w) - i32(dims.max_x);
        let row = u32((dy + i32(dims.ph)) % i32(dims.ph));
        let col = u32((dx + i32(dims.pw)) % i32(dims.pw));
        let v = spec[base + row * dims.pw + col].x / tables[dims.off_dint + idx];
        if (v > bv) {
            bv = v;
            bi = idx;
        }
    }
    best_v[t] = bv;
    best_i[t] = bi;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            let ov = best_v[t + stride];
            let oi = best_i[t + stride];
            if (ov > best_v[t] || (ov == best_v[t] && oi < best_i[t])) {
                best_v[t] = ov;
                best_i[t] = oi;
            }
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        var dy = 0.0;
        var dx = 0.0;
        if (best_i[0] != 0xffffffffu) {
            dy = f32(i32(best_i[0] / dims.win_w) - i32(dims.max_y));
            dx = f32(i32(best_i[0] % dims.win_w) - i32(dims.max_x));
        }
        est[b] = vec4<f32>(dy, dx, best_v[0] / dims.norm, 0.0);
    }
}
