// The heavy products of the CNMF updates on a pixel-major movie (`y[p * t + i]`), A in CSC over pixels.
// CPU twin: core/src/extraction/products.rs (CpuProducts); Rust side: gpu_kernels/src/extraction/products.rs.
//
// Layout: every pixel's time series is padded with zeros to `t4` vec4s (so all loads are 16-byte vec4 loads and
// padded lanes add nothing); so are the rows of `c`, the partials and the `K x t4` output. The movie lives in
// chunks of whole pixel rows (one storage buffer each); every dispatch sees one chunk and the items (entry blocks
// or entries) whose pixels fall in it, so `pixel - pixel_offset` indexes the chunk.
//
// at_y        pass 1: one workgroup per (block of <= 256 entries of one column within one chunk, tile of 64 vec4 =
//             256 time points); each invocation owns 4 time points and sums `a_e * y[p_e, t..t+4]` over the block's
//             entries in order (the CPU twin's axpy order), writing one partial row. A workgroup reads 1 KB of
//             contiguous time series per entry.
// at_y_reduce pass 2: `out[k, t]` = sum of column k's partial rows, in order (the CPU twin sums its blocks so too).
// y_ct_on     LANES invocations per stored entry (p, k), PER_GROUP entries per workgroup: strided vec4 partial
//             dots of y[p, :] . c[k, :] (LANES * 16 contiguous bytes per step), one barrier, then lane 0 sums the
//             LANES partials (few lanes, so no tree and a single barrier, which software rasterisers charge dearly).

// Uniforms; keep in sync with `Params` in gpu_kernels/src/extraction/products.rs.
struct Params {
    t4: u32,            // vec4s per padded time series, ceil(t / 4)
    n_tiles: u32,       // ceil(t4 / TILE4), time tiles of at_y
    item_offset: u32,   // first item of this chunk's dispatch
    item_count: u32,    // items in this dispatch
    pixel_offset: u32,  // first pixel held by this chunk's buffer
    n_cols: u32,        // columns (at_y_reduce)
    _pad0: u32,
    _pad1: u32,
};

const TILE4: u32 = 64u;       // vec4s per at_y workgroup (its size); keep in sync with TILE4 in products.rs
const LANES: u32 = 8u;        // invocations per entry in y_ct_on
const PER_GROUP: u32 = 32u;   // entries per y_ct_on workgroup (LANES * PER_GROUP = 256); keep in sync with products.rs

@group(0) @binding(0) var<uniform> params: Params;

// ---- at_y, pass 1 -------------------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;             // one chunk, pixel-major, padded
@group(0) @binding(2) var<storage, read> entries: array<vec2<u32>>;       // (pixel, bitcast value), CSC order
@group(0) @binding(3) var<storage, read> blocks: array<vec4<u32>>;        // (entry start, entry end, partial row, 0)
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>; // rows x t4

@compute @workgroup_size(64)
fn at_y(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = wid.x + wid.y * nwg.x;
    let block = g / params.n_tiles;
    let ti = (g % params.n_tiles) * TILE4 + lid;
    if (block >= params.item_count || ti >= params.t4) {
        return;
    }
    let b = blocks[params.item_offset + block];
    var acc = vec4<f32>(0.0);
    for (var e = b.x; e < b.y; e = e + 1u) {
        let en = entries[e];
        acc = acc + bitcast<f32>(en.y) * y[(en.x - params.pixel_offset) * params.t4 + ti];
    }
    partials[b.z * params.t4 + ti] = acc;
}

// ---- at_y, pass 2 -------------------------------------------------------------------------------------------------
@group(0) @binding(5) var<storage, read> row_ptr: array<u32>;            // n_cols + 1 partial-row offsets
@group(0) @binding(6) var<storage, read> partials_in: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> out_kt: array<vec4<f32>>; // n_cols x t4

@compute @workgroup_size(64)
fn at_y_reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = wid.x + wid.y * nwg.x;
    let k = g / params.n_tiles;
    let ti = (g % params.n_tiles) * TILE4 + lid;
    if (k >= params.n_cols || ti >= params.t4) {
        return;
    }
    var acc = vec4<f32>(0.0);
    for (var r = row_ptr[k]; r < row_ptr[k + 1u]; r = r + 1u) {
        acc = acc + partials_in[r * params.t4 + ti];
    }
    out_kt[k * params.t4 + ti] = acc;
}

// ---- y_ct_on ------------------------------------------------------------------------------------------------------
@group(0) @binding(8) var<storage, read> items: array<vec4<u32>>;        // (entry id, pixel, column, 0)
@group(0) @binding(9) var<storage, read> c: array<vec4<f32>>;            // n_cols x t4
@group(0) @binding(10) var<storage, read_write> out_e: array<f32>;       // one value per stored entry

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn y_ct_on(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = wid.x + wid.y * nwg.x;
    let slot = lid / LANES;
    let lane = lid % LANES;
    let i = g * PER_GROUP + slot;
    let valid = i < params.item_count;
    var it = vec4<u32>(0u);
    var acc = vec4<f32>(0.0);
    if (valid) {
        it = items[params.item_offset + i];
        let yb = (it.y - params.pixel_offset) * params.t4;
        let cb = it.z * params.t4;
        for (var ti = lane; ti < params.t4; ti = ti + LANES) {
            acc = acc + y[yb + ti] * c[cb + ti];
        }
    }
    red[lid] = (acc.x + acc.y) + (acc.z + acc.w);
    workgroupBarrier();
    if (valid && lane == 0u) {
        var s = 0.0;
        for (var l = 0u; l < LANES; l = l + 1u) {
            s = s + red[lid + l];
        }
        out_e[it.x] = s;
    }
}
