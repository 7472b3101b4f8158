//! Summary images against CaImAn's semantics: correlation and PNR images (`correlation_pnr`, with and without the
//! centred PSF) and the plain local correlation image, on a small 1-photon-like movie. The fixtures and the numpy
//! script that made them are in tests/fixtures/extraction/ (make_corr_pnr_golden.py).

use std::path::PathBuf;

use mesmerize_core::extraction::Movie;
use mesmerize_core::extraction::summary::{corr_pnr, corr_pnr_from_filtered, corr_pnr_in_place, filter_movie, local_correlation};
use mesmerize_core::progress::NoProgress;
use mesmerize_core::{ImgData, OpenOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/extraction").join(name)
}

fn load(name: &str) -> Movie {
    let img = ImgData::open(fixture(name), &OpenOptions::default()).expect("fixture opens");
    let s = img.shape();
    Movie { dims: vec![s.y, s.x], t: s.t, data: img.to_vec(&NoProgress).expect("fixture reads") }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3)).fold(0.0, f32::max)
}

#[test]
fn corr_pnr_and_local_correlation_match_caiman_semantics() {
    let movie = load("corr_pnr_movie.tif");
    assert_eq!((movie.t, movie.dims.as_slice()), (200, &[36usize, 32][..]));
    let golden = load("corr_pnr_golden.tif");
    let page = |i: usize| golden.frame(i).to_vec();
    for (case, (gsig, center)) in [(&[3.0, 3.0][..], true), (&[2.0, 3.0][..], false)].into_iter().enumerate() {
        let got = corr_pnr(&movie, gsig, center, &NoProgress).expect("corr_pnr runs");
        assert_eq!(got.dims, vec![36, 32]);
        let (corr, pnr) = (page(2 * case), page(2 * case + 1));
        let dc = max_abs_diff(&got.corr, &corr);
        let dp = max_rel_diff(&got.pnr, &pnr);
        eprintln!("gSig {gsig:?} center_psf {center}: max |corr diff| {dc:.2e}, max rel pnr diff {dp:.2e}");
        assert!(dc < 1e-4, "corr differs by {dc}");
        assert!(dp < 1e-3, "pnr differs by {dp}");
        // The two-step API gives the same images.
        let filtered = filter_movie(&movie, gsig, center).expect("filter runs");
        let two = corr_pnr_from_filtered(&filtered);
        assert!(max_abs_diff(&two.corr, &got.corr) < 1e-6 && max_abs_diff(&two.pnr, &got.pnr) < 1e-5);
        // Filtering in place (the command's path) changes nothing.
        let in_place = corr_pnr_in_place(movie.clone(), gsig, center, &NoProgress).expect("in place runs");
        assert_eq!(in_place, got);
    }
    let lc = local_correlation(&movie);
    let d = max_abs_diff(&lc, &page(4));
    eprintln!("local correlation: max |diff| {d:.2e}");
    assert!(d < 1e-4, "local correlation differs by {d}");
}

#[test]
fn bad_gsig_is_a_clear_parameter_error() {
    let movie = load("corr_pnr_movie.tif");
    for g in [&[0.0][..], &[-2.0][..], &[50.0][..], &[1.0, 2.0, 3.0][..]] {
        let e = corr_pnr(&movie, g, true, &NoProgress).expect_err("bad gSig refused");
        assert!(matches!(e, mesmerize_core::extraction::ExtractionError::BadParameter(_)), "{g:?}: {e}");
        assert!(e.to_string().contains("gSig"), "{e}");
    }
}

#[test]
fn volumes_are_filtered_plane_by_plane_and_correlate_with_26_neighbours() {
    let movie = load("corr_pnr_movie.tif");
    // Two identical planes: each plane's PNR equals the 2D one; correlation sees the copy as a perfect neighbour.
    let (h, w) = (36, 32);
    let mut data = Vec::with_capacity(2 * movie.data.len());
    for t in 0..movie.t {
        data.extend_from_slice(movie.frame(t));
        data.extend_from_slice(movie.frame(t));
    }
    let vol = Movie { dims: vec![2, h, w], t: movie.t, data };
    let two_d = corr_pnr(&movie, &[3.0], true, &NoProgress).expect("2D");
    let three_d = corr_pnr(&vol, &[1.0, 3.0, 3.0], true, &NoProgress).expect("3D");
    assert_eq!(three_d.dims, vec![2, h, w]);
    assert!(max_rel_diff(&three_d.pnr[..h * w], &two_d.pnr) < 1e-5);
    assert!(max_rel_diff(&three_d.pnr[h * w..], &two_d.pnr) < 1e-5);
    let lc = local_correlation(&vol);
    assert_eq!(lc.len(), 2 * h * w);
    assert!(lc.iter().all(|v| v.is_finite() && *v <= 1.0 + 1e-5));
}
