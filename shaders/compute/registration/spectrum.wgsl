// Spectrum products. `template_conj`: conjugate template spectrum times the Gaussian smoothing of the correlation
// (exp(-2 pi^2 sigma^2 |f|^2), separable, from `tables`); CPU twin: `Registrar::new`. `cross_power`: each frame's
// spectrum times it (in place, to be inverted), and the low band kept for the sub-pixel refinement; CPU twin: the
// product in `Registrar::estimate`.

@group(0) @binding(1) var<storage, read> tables: array<f32>;
@group(0) @binding(2) var<storage, read_write> spec: array<vec2<f32>>;  // n_frames x ph x pw
@group(0) @binding(3) var<storage, read_write> tmpl: array<vec2<f32>>;  // ph x pw
@group(0) @binding(4) var<storage, read_write> band: array<vec2<f32>>;  // n_frames x (2 ky_max + 1) x (kx_max + 1)

@compute @workgroup_size(256)
fn template_conj(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if (i >= dims.ph * dims.pw) {
        return;
    }
    let g = tables[dims.off_gy + i / dims.pw] * tables[dims.off_gx + i % dims.pw];
    let c = spec[i];
    tmpl[i] = vec2<f32>(c.x * g, -c.y * g);
}

@compute @workgroup_size(256)
fn cross_power(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    let np = dims.ph * dims.pw;
    if (i >= dims.n_frames * np) {
        return;
    }
    let b = i / np;
    let r = i % np;
    let p = cmul(spec[i], tmpl[r]);
    spec[i] = p;
    let ky = r / dims.pw;
    let kx = r % dims.pw;
    var kys = i32(ky);
    if (ky > dims.ph / 2u) {
        kys = kys - i32(dims.ph);
    }
    if (abs(kys) <= i32(dims.ky_max) && kx <= dims.kx_max) {
        let j = u32(kys + i32(dims.ky_max));
        band[(b * (2u * dims.ky_max + 1u) + j) * (dims.kx_max + 1u) + kx] = p;
    }
}
