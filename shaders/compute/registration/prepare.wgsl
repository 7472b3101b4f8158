// Mean-subtract (over finite samples) and taper each frame, writing it as the real part of a zero-padded
// ph x pw complex frame. CPU twin: `prepare` in core/src/registration/phase_corr.rs. One workgroup per frame.

@group(0) @binding(1) var<storage, read> frames: array<f32>;          // n_frames x h x w
@group(0) @binding(2) var<storage, read> tables: array<f32>;
@group(0) @binding(3) var<storage, read_write> spec: array<vec2<f32>>; // n_frames x ph x pw

var<workgroup> part_sum: array<f32, 256>;
var<workgroup> part_cnt: array<u32, 256>;

@compute @workgroup_size(256)
fn prepare(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let b = wid.x;
    let n = dims.h * dims.w;
    let src = b * n;
    var s = 0.0;
    var c = 0u;
    for (var i = t; i < n; i = i + WG) {
        let v = frames[src + i];
        if (is_finite_f32(v)) {
            s = s + v;
            c = c + 1u;
        }
    }
    part_sum[t] = s;
    part_cnt[t] = c;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            part_sum[t] = part_sum[t] + part_sum[t + stride];
            part_cnt[t] = part_cnt[t] + part_cnt[t + stride];
        }
        workgroupBarrier();
    }
    var mean = 0.0;
    if (part_cnt[0] > 0u) {
        mean = part_sum[0] / f32(part_cnt[0]);
    }
    let np = dims.ph * dims.pw;
    let dst = b * np;
    for (var i = t; i < np; i = i + WG) {
        let y = i / dims.pw;
        let x = i % dims.pw;
        var d = 0.0;
        if (y < dims.h && x < dims.w) {
            let v = frames[src + y * dims.w + x];
            if (is_finite_f32(v)) {
                d = (v - mean) * tables[dims.off_wy + y] * tables[dims.off_wx + x];
            }
        }
        spec[dst + i] = vec2<f32>(d, 0.0);
    }
}
