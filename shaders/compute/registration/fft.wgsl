// Batched complex FFT of lines (rows or columns of every frame) in workgroup memory: Stockham autosort, radix 2,
// one workgroup per line, lengths up to MAX_N (powers of two). Lines of 2 * MAX_N are done as decimation in time:
// `fft_lines` with `sub = 2` transforms the even and the odd samples of each line in place (two sub-lines that
// never touch each other's samples), then `fft_combine` does the last radix-2 stage in global memory. Forward uses e^{-2 pi i k n / N}, inverse e^{+...}
// without the 1/N (as the CPU's unnormalised inverse). CPU twin: core/src/registration/fft2.rs (real-to-complex
// there; the GPU transforms full complex frames). Keep `Pass` in sync with `FftPass` in kernels.rs.

struct Pass {
    n: u32,               // line length (power of two <= MAX_N)
    lines_per_frame: u32,
    line_stride: u32,     // distance between the first elements of neighbouring lines of a frame
    elem_stride: u32,     // distance between neighbouring elements of a line
    frame_stride: u32,
    inverse: u32,
    sub: u32,             // sub-lines per line: 1, or 2 (even / odd samples, for lines longer than MAX_N)
    _pad0: u32,
};

@group(0) @binding(1) var<uniform> pass_: Pass;
@group(0) @binding(2) var<storage, read> tables: array<f32>;
@group(0) @binding(3) var<storage, read_write> spec: array<vec2<f32>>;

// 1024 complex f32 = 8 KiB: the device is opened with downlevel limits (16352 bytes of workgroup memory), so one
// buffer of 2048 would not fit; butterflies are staged in registers so a single buffer is enough.
const MAX_N: u32 = 1024u;
const PER_THREAD: u32 = 2u; // MAX_N / 2 / WG butterflies per invocation and stage

var<workgroup> buf: array<vec2<f32>, 1024>;

fn twiddle(m: u32) -> vec2<f32> {
    let o = dims.off_tw + 2u * m;
    return vec2<f32>(tables[o], tables[o + 1u]);
}

@compute @workgroup_size(256)
fn fft_lines(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let line = wid.y * nwg.x + wid.x;
    if (line >= dims.n_frames * pass_.lines_per_frame) {
        return;
    }
    let n = pass_.n; // sub-line length
    let half = n / 2u;
    let local = line % pass_.lines_per_frame;
    let base = (line / pass_.lines_per_frame) * pass_.frame_stride + (local / pass_.sub) * pass_.line_stride
        + (local % pass_.sub) * pass_.elem_stride;
    let es = pass_.elem_stride * pass_.sub;
    for (var i = t; i < n; i = i + WG) {
        buf[i] = spec[base + i * es];
    }
    workgroupBarrier();
    var ns = 1u;
    loop {
        if (ns >= n) {
            break;
        }
        var va: array<vec2<f32>, 2>;
        var vb: array<vec2<f32>, 2>;
        let step = dims.nmax / (2u * ns);
        for (var r = 0u; r < PER_THREAD; r = r + 1u) {
            let j = t + r * WG;
            if (j < half) {
                let k = j & (ns - 1u);
                var tw = twiddle(k * step);
                if (pass_.inverse != 0u) {
                    tw.y = -tw.y;
                }
                let a = buf[j];
                let b = cmul(buf[j + half], tw);
                va[r] = a + b;
                vb[r] = a - b;
            }
        }
        workgroupBarrier();
        for (var r = 0u; r < PER_THREAD; r = r + 1u) {
            let j = t + r * WG;
            if (j < half) {
                let k = j & (ns - 1u);
                let d = (j / ns) * ns * 2u + k;
                buf[d] = va[r];
                buf[d + ns] = vb[r];
            }
        }
        workgroupBarrier();
        ns = ns * 2u;
    }
    for (var i = t; i < n; i = i + WG) {
        spec[base + i * es] = buf[i];
    }
}

// Last decimation-in-time stage of lines of length 2 * pass_.n whose even and odd sub-lines were transformed in place
// by `fft_lines` (sub = 2): X[k] = E[k] + w^k O[k], X[k + n] = E[k] - w^k O[k]. One workgroup per line; every
// invocation reads its inputs before the barrier and writes after it, so the stage runs in place.
const COMBINE_PER_THREAD: u32 = 4u; // MAX_N / WG

@compute @workgroup_size(256)
fn fft_combine(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let lines_per_frame = pass_.lines_per_frame / 2u;
    let line = wid.y * nwg.x + wid.x;
    if (line >= dims.n_frames * lines_per_frame) {
        return;
    }
    let n = pass_.n;         // half the line length
    let es = pass_.elem_stride;
    let base = (line / lines_per_frame) * pass_.frame_stride + (line % lines_per_frame) * pass_.line_stride;
    let step = dims.nmax / (2u * n);
    var va: array<vec2<f32>, 4>;
    var vb: array<vec2<f32>, 4>;
    for (var r = 0u; r < COMBINE_PER_THREAD; r = r + 1u) {
        let k = t + r * WG;
        if (k < n) {
            var tw = twiddle(k * step);
            if (pass_.inverse != 0u) {
                tw.y = -tw.y;
            }
            let e = spec[base + (2u * k) * es];
            let o = cmul(spec[base + (2u * k + 1u) * es], tw);
            va[r] = e + o;
            vb[r] = e - o;
        }
    }
    storageBarrier();
    for (var r = 0u; r < COMBINE_PER_THREAD; r = r + 1u) {
        let k = t + r * WG;
        if (k < n) {
            spec[base + k * es] = va[r];
            spec[base + (k + n) * es] = vb[r];
        }
    }
}
