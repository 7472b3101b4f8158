//! Timing breakdown of one 512x512 frame's registration steps (ignored by default; run with --ignored).

use std::sync::Arc;
use std::time::Instant;

use mesmerize_core::registration::{shift_rigid, BorderMode, Fft2, RegScratch, Registrar, SearchWindow};

#[test]
#[ignore = "timing aid"]
fn time_steps_512() {
    let (h, w) = (512, 512);
    let frame: Vec<f32> = (0..h * w).map(|i| ((i * 7919) % 1013) as f32).collect();
    let fft = Arc::new(Fft2::new(h, w));
    let reg = Registrar::new(fft.clone(), &frame, 10);
    let mut s = RegScratch::default();
    let n = 50;
    let t0 = Instant::now();
    for _ in 0..n {
        let _ = reg.estimate(&frame, SearchWindow { center: (0.0, 0.0), radius: (10.0, 10.0) }, &mut s);
    }
    let est = t0.elapsed().as_secs_f64() / n as f64;
    let reg1 = Registrar::new(fft.clone(), &frame, 1);
    let t0 = Instant::now();
    for _ in 0..n {
        let _ = reg1.estimate(&frame, SearchWindow { center: (0.0, 0.0), radius: (10.0, 10.0) }, &mut s);
    }
    let est_int = t0.elapsed().as_secs_f64() / n as f64;
    let mut out = vec![0.0; h * w];
    let mut tmp = Vec::new();
    let t0 = Instant::now();
    for _ in 0..n {
        shift_rigid(&frame, h, w, 1.3, -2.7, BorderMode::Copy, &mut tmp, &mut out);
    }
    let warp = t0.elapsed().as_secs_f64() / n as f64;
    eprintln!("per frame: estimate {:.2} ms (integer only {:.2} ms, refine {:.2} ms), rigid warp {:.2} ms", est * 1e3, est_int * 1e3, (est - est_int) * 1e3, warp * 1e3);
}
