// The HALS updates of CNMF (CPU twins in core/src/extraction/sweeps.rs):
//   temporal_sweeps  one invocation per time point: every component's trace value at that time, component by
//                    component, `sweeps` passes (the time points do not interact once footprints are fixed)
//   spatial_sweeps   one invocation per pixel: every neuron's footprint value at that pixel, then each background
//                    value, `sweeps` passes (the pixels do not interact once traces are fixed)
//   column_dots      one invocation per pair of columns of the sparse footprint matrix: the entries of A^T A
// Integer and float inputs of each kernel sit in one buffer each, at the offsets in Params.

struct Params {
    n: u32,        // components (neurons + background)
    t: u32,        // time points (temporal) / pixels (spatial)
    k: u32,        // neurons (spatial) / first dense column (column_dots)
    nb: u32,       // background components (spatial)
    sweeps: u32,
    count: u32,    // invocations that do work
    off0: u32,     // offsets into ints, see each kernel
    off1: u32,
    off2: u32,
    off3: u32,
    _pad0: u32,
    _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ints: array<u32>;
@group(0) @binding(2) var<storage, read> floats: array<f32>;
@group(0) @binding(3) var<storage, read_write> rw0: array<f32>;
@group(0) @binding(4) var<storage, read_write> rw1: array<f32>;

fn invocation(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// ints: row_ptr (n + 1) at 0, cols at off0; floats: diag (n) at 0, g_ij at off1, A^T Y (n x t) at off2;
// rw0: traces (n x t).
@compute @workgroup_size(256)
fn temporal_sweeps(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let tt = invocation(gid, nwg);
    if (tt >= params.count) {
        return;
    }
    let t = params.t;
    for (var s = 0u; s < params.sweeps; s = s + 1u) {
        for (var i = 0u; i < params.n; i = i + 1u) {
            let gii = floats[i];
            if (gii <= 0.0) {
                continue;
            }
            var num = floats[params.off2 + i * t + tt];
            for (var e = ints[i]; e < ints[i + 1u]; e = e + 1u) {
                num = num - floats[params.off1 + e] * rw0[ints[params.off0 + e] * t + tt];
            }
            rw0[i * t + tt] = max(num / gii, 0.0);
        }
    }
}

// ints: pix_ptr (d + 1) at 0, component of each entry at off0; floats: C C^T (n x n) at 0, (Y C^T) per entry at
// off1, (Y C^T) of the background pixel-major (d x nb) at off2; rw0: entry values; rw1: background (d x nb).
@compute @workgroup_size(256)
fn spatial_sweeps(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = invocation(gid, nwg);
    if (p >= params.count) {
        return;
    }
    let n = params.n;
    let k = params.k;
    let nb = params.nb;
    let s0 = ints[p];
    let s1 = ints[p + 1u];
    for (var s = 0u; s < params.sweeps; s = s + 1u) {
        for (var a = s0; a < s1; a = a + 1u) {
            let i = ints[params.off0 + a];
            let cii = floats[i * n + i];
            if (cii <= 0.0) {
                continue;
            }
            var num = floats[params.off1 + a] - cii * rw0[a];
            for (var o = s0; o < s1; o = o + 1u) {
                let cij = floats[i * n + ints[params.off0 + o]];
                if (o != a && cij != 0.0) {
                    num = num - cij * rw0[o];
                }
            }
            for (var m = 0u; m < nb; m = m + 1u) {
                num = num - floats[i * n + k + m] * rw1[p * nb + m];
            }
            rw0[a] = max(rw0[a] + num / cii, 0.0);
        }
        for (var m = 0u; m < nb; m = m + 1u) {
            let row = (k + m) * n;
            let cmm = floats[row + k + m];
            if (cmm <= 0.0) {
                continue;
            }
            var acc = 0.0;
            for (var o = s0; o < s1; o = o + 1u) {
                let w = floats[row + ints[params.off0 + o]];
                let v = rw0[o];
                if (w != 0.0 && v != 0.0) {
                    acc = acc + w * v;
                }
            }
            for (var m2 = 0u; m2 < nb; m2 = m2 + 1u) {
                if (m2 != m) {
                    acc = acc + floats[row + k + m2] * rw1[p * nb + m2];
                }
            }
            rw1[p * nb + m] = max((floats[params.off2 + p * nb + m] - acc) / cmm, 0.0);
        }
    }
}

// ints: indptr (n + 1) at 0, pixel indices at off0, pairs (2 per pair) at off1; floats: values; rw0: dots.
@compute @workgroup_size(256)
fn column_dots(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = invocation(gid, nwg);
    if (q >= params.count) {
        return;
    }
    var i = ints[params.off1 + 2u * q];
    var j = ints[params.off1 + 2u * q + 1u];
    // A dense (background) column second, so sparse x dense reads the dense one by index.
    if (i >= params.k && j < params.k) {
        let x = i;
        i = j;
        j = x;
    }
    var s = 0.0;
    var x = ints[i];
    let xe = ints[i + 1u];
    var y = ints[j];
    let ye = ints[j + 1u];
    if (i >= params.k) {
        // Both dense: entry by entry.
        for (; x < xe; x = x + 1u) {
            s = s + floats[x] * floats[y];
            y = y + 1u;
        }
    } else if (j >= params.k) {
        for (; x < xe; x = x + 1u) {
            let v = floats[x];
            if (v != 0.0) {
                s = s + v * floats[y + ints[params.off0 + x]];
            }
        }
    } else {
        while (x < xe && y < ye) {
            let px = ints[params.off0 + x];
            let py = ints[params.off0 + y];
            if (px < py) {
                x = x + 1u;
            } else if (py < px) {
                y = y + 1u;
            } else {
                s = s + floats[x] * floats[y];
                x = x + 1u;
                y = y + 1u;
            }
        }
    }
    rw0[q] = s;
}
