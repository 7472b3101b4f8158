//! End-to-end GUI smoke test: simulate a small 1p movie with the CLI, open it in the viewer under Xvfb with
//! `--screenshot`, and check that the PNG shows the movie's first frame (not a blank or half-drawn window).
//! Skipped, with a notice, where `xvfb-run` is not installed.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mesmerize");

fn have_xvfb() -> bool {
    Command::new("sh").args(["-c", "command -v xvfb-run"]).output().is_ok_and(|o| o.status.success())
}

fn screenshot(args: &[&str], png: &Path) {
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", BIN])
        .args(args)
        .arg("--screenshot")
        .arg(png)
        .env("ICED_BACKEND", "wgpu")
        .output()
        .expect("xvfb-run runs");
    assert!(
        out.status.success(),
        "mesmerize {args:?} --screenshot failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(png.is_file(), "no screenshot written at {}", png.display());
}

fn luminance(p: &image::Rgba<u8>) -> f64 {
    0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
}

fn std_dev(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt().max(1e-12)
}

/// Bounding box (x0, y0, x1, y1) of the gray-colormapped image: the UI's own colours are all tinted, while the
/// gray LUT gives r == g == b, so rows and columns dense in exact grays are the image.
fn image_rect(img: &image::RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = img.dimensions();
    let gray = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        p[0] == p[1] && p[1] == p[2]
    };
    let rows: Vec<usize> = (0..h).map(|y| (0..w).filter(|&x| gray(x, y)).count()).collect();
    let cols: Vec<usize> = (0..w).map(|x| (0..h).filter(|&y| gray(x, y)).count()).collect();
    let (rmax, cmax) = (*rows.iter().max()?, *cols.iter().max()?);
    if rmax < 32 || cmax < 32 {
        return None;
    }
    let dense_r: Vec<u32> = (0..h).filter(|&y| rows[y as usize] * 2 > rmax).collect();
    let dense_c: Vec<u32> = (0..w).filter(|&x| cols[x as usize] * 2 > cmax).collect();
    Some((*dense_c.first()?, *dense_r.first()?, *dense_c.last()? + 1, *dense_r.last()? + 1))
}

#[test]
fn viewer_screenshot_shows_the_first_frame() {
    if !have_xvfb() {
        eprintln!("gui_smoke: xvfb-run is not installed; skipping the GUI smoke test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = Command::new(BIN)
        .args(["simulate", "--kind", "1p", "--out"])
        .arg(dir.path())
        .args(["--size", "128x96", "--frames", "20", "--seed", "1"])
        .output()
        .expect("mesmerize simulate runs");
    assert!(sim.status.success(), "simulate failed: {}", String::from_utf8_lossy(&sim.stderr));
    let movie = dir.path().join("movie.tiff");
    let png = dir.path().join("viewer.png");
    screenshot(&["view", movie.to_str().expect("utf-8 path")], &png);

    let shot = image::open(&png).expect("PNG readable").to_rgba8();
    let (w, h) = shot.dimensions();
    assert!(w >= 640 && h >= 400, "unexpected window size {w}x{h}");
    let all: Vec<f64> = shot.pixels().map(luminance).collect();
    assert!(std_dev(&all) > 10.0, "the screenshot is (nearly) blank: std {:.2}", std_dev(&all));

    // The image region: its aspect ratio is the movie's, and its content correlates with frame 0.
    let (x0, y0, x1, y1) = image_rect(&shot).expect("no gray-mapped image region found in the screenshot");
    let (rw, rh) = (x1 - x0, y1 - y0);
    assert!(rw >= 200 && rh >= 150, "image region too small: {rw}x{rh}");
    let aspect = f64::from(rw) / f64::from(rh);
    assert!((aspect - 128.0 / 96.0).abs() < 0.05, "image region {rw}x{rh} does not keep the 4:3 aspect ratio");

    let img = mesmerize_core::ImgData::open(&movie, &mesmerize_core::OpenOptions::default()).expect("movie opens");
    let frame = img.plane(0, 0).expect("frame 0");
    let (fx, fy) = (img.shape().x as u32, img.shape().y as u32);
    let mut shown = Vec::new();
    let mut truth = Vec::new();
    for y in (y0..y1).step_by(2) {
        for x in (x0..x1).step_by(2) {
            let sx = ((x - x0) * fx / rw).min(fx - 1);
            let sy = ((y - y0) * fy / rh).min(fy - 1);
            shown.push(luminance(shot.get_pixel(x, y)));
            truth.push(f64::from(frame[(sy * fx + sx) as usize]));
        }
    }
    assert!(std_dev(&shown) > 5.0, "the image region is flat: std {:.2}", std_dev(&shown));
    let r = pearson(&shown, &truth);
    eprintln!("gui_smoke: image region {rw}x{rh} at ({x0}, {y0}), correlation with frame 0: {r:.3}");
    assert!(r > 0.6, "the image region does not show frame 0 (correlation {r:.3})");
}

#[test]
fn welcome_screenshot_is_not_blank() {
    if !have_xvfb() {
        eprintln!("gui_smoke: xvfb-run is not installed; skipping the GUI smoke test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("welcome.png");
    screenshot(&[], &png);
    let shot = image::open(&png).expect("PNG readable").to_rgba8();
    let all: Vec<f64> = shot.pixels().map(luminance).collect();
    assert!(std_dev(&all) > 5.0, "the welcome screenshot is blank");
}
