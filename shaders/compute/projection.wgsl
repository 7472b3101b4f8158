// Streaming mean / max / std projection over time.
// CPU twin: core/src/imaging/projection.rs (ProjectionAccumulator). Each invocation owns one pixel: it folds the
// frames of the current batch with Welford's update, then merges the batch into the running state with Chan's
// formula, so batches of any size can be streamed through.

struct Params {
    n_pixels: u32,      // samples per frame (z * y * x)
    n_frames: u32,      // frames in this batch
    count_before: u32,  // frames folded in by earlier batches
    row_pitch: u32,     // invocations per dispatch row (x groups * 256), for 2D dispatch of big frames
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> frames: array<f32>;   // n_frames x n_pixels
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> m2: array<f32>;
@group(0) @binding(4) var<storage, read_write> maxv: array<f32>;

@compute @workgroup_size(256)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row_pitch + gid.x;
    if (i >= params.n_pixels) {
        return;
    }
    var b_mean = 0.0;
    var b_m2 = 0.0;
    var b_max = maxv[i];
    if (params.count_before == 0u) {
        b_max = frames[i];
    }
    for (var f = 0u; f < params.n_frames; f = f + 1u) {
        let x = frames[f * params.n_pixels + i];
        let k = f32(f + 1u);
        let d = x - b_mean;
        b_mean = b_mean + d / k;
        b_m2 = b_m2 + d * (x - b_mean);
        if (x > b_max || x != x) {
            b_max = x;
        }
    }
    let na = f32(params.count_before);
    let nb = f32(params.n_frames);
    let n = na + nb;
    let a_mean = mean[i];
    let delta = b_mean - a_mean;
    mean[i] = a_mean + delta * nb / n;
    m2[i] = m2[i] + b_m2 + delta * delta * na * nb / n;
    maxv[i] = b_max;
}
