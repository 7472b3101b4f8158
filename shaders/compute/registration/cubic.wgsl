// Keys cubic convolution weights (a = -0.5) for taps -1..=2 at fractional offset t; the CPU twin is
// `cubic_weights` in core/src/registration/warp.rs. Prepended to warp.wgsl and warp_field.wgsl.

fn keys(x_in: f32) -> f32 {
    let a = -0.5;
    let x = abs(x_in);
    if (x <= 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    } else if (x < 2.0) {
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    }
    return 0.0;
}

fn cubic_weights(t: f32) -> vec4<f32> {
    return vec4<f32>(keys(t + 1.0), keys(t), keys(1.0 - t), keys(2.0 - t));
}
