//! ROI curves against a brute-force mean (2D movies, 3D stacks, a TIFF on disk), ROIs from a hand-built CNMF
//! result (outlines around the footprint peaks, traces from C/S/F_dff), state round trips and cancellation.

use std::sync::atomic::{AtomicU64, Ordering};

use mesmerize_core::extraction::params::Mode;
use mesmerize_core::extraction::{CnmfParams, CnmfResult, SparseColumns};
use mesmerize_core::io::tiff::TiffWriter;
use mesmerize_core::progress::{NoProgress, Progress};
use mesmerize_core::roi::contour::encloses;
use mesmerize_core::roi::{
    Footprint, PixelMask, Roi, RoiError, RoiGeometry, RoiMode, RoiSet, extract_curves, rois_from_cnmf,
};
use mesmerize_core::{Dtype, ImgData, Metadata, OpenOptions, StackShape};
use ndarray::Array2;

/// Deterministic pseudo-random numbers in [0, 1) (SplitMix64), so tests need no RNG crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    }
}

fn random_movie(shape: StackShape, seed: u64) -> ImgData {
    let mut rng = Rng(seed);
    let data: Vec<f32> = (0..shape.len()).map(|_| (rng.next() * 1000.0).round() as f32).collect();
    ImgData::from_f32(data, shape, Metadata::unknown()).expect("in-memory movie")
}

/// The reference: for every frame, read it whole and average each mask's pixels in f64.
fn brute_curves(img: &ImgData, masks: &[PixelMask]) -> Array2<f32> {
    let t = img.shape().t;
    let mut out = Array2::zeros((masks.len(), t));
    for ti in 0..t {
        let frame = img.frame(ti).expect("frame");
        for (i, m) in masks.iter().enumerate() {
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for (k, &p) in m.indices.iter().enumerate() {
                let w = m.weights.as_ref().map_or(1.0, |w| f64::from(w[k]));
                num += w * f64::from(frame[p as usize]);
                den += w;
            }
            out[[i, ti]] = (num / den) as f32;
        }
    }
    out
}

fn assert_close(a: &Array2<f32>, b: &Array2<f32>) {
    assert_eq!(a.dim(), b.dim());
    for ((idx, x), y) in a.indexed_iter().zip(b.iter()) {
        assert!((x - y).abs() <= 1e-4 * y.abs().max(1.0), "{idx:?}: {x} vs {y}");
    }
}

/// A Gaussian footprint of radius ~`sigma` around (cy, cx) on an `h x w` plane, C-order indices offset by `base`.
fn blob(cy: f64, cx: f64, sigma: f64, h: usize, w: usize, base: u32) -> Footprint {
    let mut f = Footprint::default();
    for y in 0..h {
        for x in 0..w {
            let d2 = (y as f64 - cy).powi(2) + (x as f64 - cx).powi(2);
            if d2 <= (2.5 * sigma).powi(2) {
                f.indices.push(base + (y * w + x) as u32);
                f.weights.push((-d2 / (2.0 * sigma * sigma)).exp() as f32);
            }
        }
    }
    f
}

fn manual_rois() -> Vec<Roi> {
    vec![
        Roi::new(RoiGeometry::Polygon { xs: vec![3.0, 15.0, 15.0, 3.0], ys: vec![2.0, 2.0, 9.0, 9.0] }),
        Roi::new(RoiGeometry::Polygon { xs: vec![20.2, 33.7, 25.1], ys: vec![4.4, 12.9, 21.3] }),
        Roi::new(RoiGeometry::Polygon { xs: vec![-5.0, 6.0, 6.0, -5.0], ys: vec![30.0, 30.0, 45.0, 45.0] }), // clipped
        Roi::new(RoiGeometry::Ellipse { cx: 30.0, cy: 28.0, rx: 10.0, ry: 6.0, angle_deg: 30.0 }),
        Roi::new(RoiGeometry::Ellipse { cx: 44.5, cy: 5.5, rx: 3.0, ry: 4.0, angle_deg: -70.0 }),
    ]
}

#[test]
fn curves_match_brute_force_on_a_2d_movie() {
    let (h, w) = (40, 50);
    let img = random_movie(StackShape::movie(37, h, w), 1);
    let mut rois = manual_rois();
    rois.push(Roi::new(RoiGeometry::Cnmf {
        cnmf_idx: 0,
        contour: vec![],
        footprint: blob(20.0, 10.0, 3.0, h, w, 0),
    }));
    rois.push(Roi::new(RoiGeometry::Scatter { xs: vec![1.0, 2.0, 2.2, 49.0], ys: vec![1.0, 1.0, 0.9, 39.0] }));
    let masks: Vec<PixelMask> = rois.iter().map(|r| r.mask(&[h, w]).expect("mask")).collect();
    assert_eq!(masks[0].len(), 13 * 8);
    assert_eq!(masks[6].len(), 3);
    // The ellipse mask is what its formula says, checked pixel by pixel over the whole image.
    let (s, c) = 30f64.to_radians().sin_cos();
    let expected: Vec<u32> = (0..h * w)
        .filter(|&i| {
            let (dx, dy) = ((i % w) as f64 - 30.0, (i / w) as f64 - 28.0);
            ((dx * c + dy * s) / 10.0).powi(2) + ((-dx * s + dy * c) / 6.0).powi(2) <= 1.0
        })
        .map(|i| i as u32)
        .collect();
    assert_eq!(masks[3].indices, expected);
    let area = std::f64::consts::PI * 60.0;
    assert!((expected.len() as f64 - area).abs() / area < 0.03);

    let got = extract_curves(&img, &masks, &NoProgress).expect("curves");
    assert_close(&got, &brute_curves(&img, &masks));
}

#[test]
fn curves_match_brute_force_on_a_3d_stack_with_vol_cnmf_footprints() {
    let (z, h, w) = (4, 20, 24);
    let img = random_movie(StackShape::volume(9, z, h, w), 2);
    let plane = (h * w) as u32;
    let mut set = RoiSet::new(RoiMode::VolCnmf);
    for (k, (zc, yc, xc)) in [(1usize, 8.0, 9.0), (2, 14.0, 17.0), (3, 3.0, 3.0)].into_iter().enumerate() {
        // The component spans its centre plane and the next one (weaker), like a cell cut by two planes.
        let mut f = blob(yc, xc, 2.0, h, w, zc as u32 * plane);
        if zc + 1 < z {
            let next = blob(yc, xc, 1.5, h, w, (zc + 1) as u32 * plane);
            f.indices.extend(next.indices);
            f.weights.extend(next.weights.iter().map(|v| v * 0.5));
        }
        set.push(Roi::new(RoiGeometry::VolCnmf { cnmf_idx: k, contours: vec![], footprint: f })).expect("push");
    }
    assert!(matches!(set.rois()[0].mask(&[h, w]), Err(RoiError::Dims(_))));
    let masks = set.masks(&[z, h, w]).expect("masks");
    let got = extract_curves(&img, &masks, &NoProgress).expect("curves");
    assert_eq!(got.dim(), (3, 9));
    assert_close(&got, &brute_curves(&img, &masks));
}

#[test]
fn curves_from_a_memory_mapped_tiff_match_the_in_memory_movie() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("movie.tif");
    let shape = StackShape::movie(25, 30, 33);
    let mem = random_movie(shape, 3);
    let mut wr = TiffWriter::create(&path, shape, Dtype::U16, None).expect("create");
    for t in 0..shape.t {
        wr.write_plane(&mem.plane(t, 0).expect("plane")).expect("write");
    }
    wr.finish().expect("finish");
    let file = ImgData::open(&path, &OpenOptions::default()).expect("open");
    let masks: Vec<PixelMask> = manual_rois()[..2].iter().map(|r| r.mask(&[30, 33]).expect("mask")).collect();
    let a = extract_curves(&file, &masks, &NoProgress).expect("file curves");
    let b = extract_curves(&mem, &masks, &NoProgress).expect("memory curves");
    assert_eq!(a, b);
}

/// Counts progress and asks to stop after `limit` frames.
struct StopAfter {
    done: AtomicU64,
    total: AtomicU64,
    limit: u64,
}
impl Progress for StopAfter {
    fn start(&self, _label: &str, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn cancelled(&self) -> bool {
        self.done.load(Ordering::Relaxed) >= self.limit
    }
}

#[test]
fn progress_is_per_frame_and_cancelling_stops_the_pass() {
    let img = random_movie(StackShape::movie(600, 16, 16), 4);
    let masks = vec![PixelMask { indices: vec![0, 1, 17], weights: None }];
    let all = StopAfter { done: AtomicU64::new(0), total: AtomicU64::new(0), limit: u64::MAX };
    extract_curves(&img, &masks, &all).expect("curves");
    assert_eq!((all.total.load(Ordering::Relaxed), all.done.load(Ordering::Relaxed)), (600, 600));

    let stop = StopAfter { done: AtomicU64::new(0), total: AtomicU64::new(0), limit: 10 };
    assert!(matches!(extract_curves(&img, &masks, &stop), Err(RoiError::Cancelled)));
    assert!(stop.done.load(Ordering::Relaxed) < 600, "the pass went on after the cancel");
}

/// A hand-built CNMF result with Gaussian footprints at `centers` (C-order coordinates).
fn cnmf_result(dims: &[usize], centers: &[Vec<f64>], t: usize) -> CnmfResult {
    let d: usize = dims.iter().product();
    let k = centers.len();
    let (h, w) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let mut a = SparseColumns::new(d);
    for c in centers {
        let (zc, yc, xc) = if c.len() == 3 { (c[0] as usize, c[1], c[2]) } else { (0, c[0], c[1]) };
        let mut entries = Vec::new();
        let nz = if dims.len() == 3 { dims[0] } else { 1 };
        for z in 0..nz {
            let dz = z.abs_diff(zc) as f64;
            if dims.len() == 3 && dz > 1.0 {
                continue;
            }
            let f = blob(yc, xc, 2.0 - 0.5 * dz, h, w, (z * h * w) as u32);
            entries.extend(f.indices.into_iter().zip(f.weights.into_iter().map(|v| v * (1.0 - 0.4 * dz as f32))));
        }
        a.push_col(entries);
    }
    let mat = |salt: f32| Array2::from_shape_fn((k, t), |(i, j)| (i * t + j) as f32 * 0.5 + salt);
    let mode = if dims.len() == 3 { Mode::Cnmf3d } else { Mode::Cnmf };
    CnmfResult {
        dims: dims.to_vec(),
        a,
        c: mat(1.0),
        s: mat(2.0),
        yra: mat(3.0),
        b: Array2::zeros((d, 1)),
        f: Array2::zeros((1, t)),
        ring: None,
        sn: vec![1.0; d],
        g: vec![vec![0.9]; k],
        bl: vec![0.0; k],
        c1: vec![0.0; k],
        neurons_sn: vec![1.0; k],
        lam: vec![0.0; k],
        f_dff: Some(mat(4.0)),
        idx_components: (0..k).filter(|i| i % 2 == 0).collect(),
        idx_components_bad: (0..k).filter(|i| i % 2 == 1).collect(),
        snr_comp: vec![3.0; k],
        r_values: vec![0.9; k],
        params: CnmfParams::defaults(mode),
        timings: Vec::new(),
    }
}

#[test]
fn rois_from_a_2d_cnmf_result() {
    let centers = vec![vec![10.0, 12.0], vec![25.0, 30.0], vec![1.0, 38.0], vec![29.5, 5.5]];
    let r = cnmf_result(&[32, 40], &centers, 6);
    let set = rois_from_cnmf(&r, false);
    assert_eq!((set.mode(), set.len()), (RoiMode::Cnmf, 4));
    for (k, roi) in set.rois().iter().enumerate() {
        let RoiGeometry::Cnmf { cnmf_idx, contour, footprint } = &roi.geometry else { panic!("not a CNMF ROI") };
        assert_eq!(*cnmf_idx, k);
        let (idx, val) = r.a.col(k);
        assert_eq!((footprint.indices.as_slice(), footprint.weights.as_slice()), (idx, val));
        // The outline is closed, inside the image, and encloses the peak but not the far tails of the blob.
        let (cy, cx) = (centers[k][0], centers[k][1]);
        assert!(contour.len() >= 4 && contour.first() == contour.last(), "{contour:?}");
        assert!(contour.iter().all(|p| (0.0..=39.0).contains(&p[0]) && (0.0..=31.0).contains(&p[1])));
        assert!(encloses(contour, cx.round(), cy.round()), "component {k}: {contour:?}");
        assert!(!encloses(contour, cx + 4.8, cy), "component {k} outline too wide");
        assert_eq!(roi.curve.as_deref(), Some(r.c.row(k).to_vec().as_slice()));
        assert_eq!(roi.spikes.as_deref(), Some(r.s.row(k).to_vec().as_slice()));
        assert_eq!(roi.dfof.as_deref(), r.f_dff.as_ref().map(|f| f.row(k).to_vec()).as_deref());
        assert_eq!(roi.roi_type(), "CNMFROI");
        assert!(roi.mask(&[32, 40]).expect("mask").weights.is_some());
    }
    let accepted = rois_from_cnmf(&r, true);
    let idx: Vec<usize> = accepted
        .rois()
        .iter()
        .map(|roi| match roi.geometry {
            RoiGeometry::Cnmf { cnmf_idx, .. } => cnmf_idx,
            _ => usize::MAX,
        })
        .collect();
    assert_eq!(idx, vec![0, 2]);
    // A CNMF set refuses manual ROIs, and its states survive JSON text exactly.
    let mut set = set;
    assert!(matches!(set.push(manual_rois().remove(0)), Err(RoiError::Mixed { .. })));
    set.set_tag(1, "cell_type", "interneuron").expect("tag");
    for roi in set.rois() {
        let text = serde_json::to_string(&roi.to_state(true)).expect("json");
        assert_eq!(&Roi::from_state(&serde_json::from_str(&text).expect("parse")).expect("state"), roi);
    }
}

#[test]
fn rois_from_a_3d_cnmf_result_have_outlines_per_plane() {
    let dims = [5usize, 20, 24];
    let centers = vec![vec![2.0, 8.0, 9.0], vec![0.0, 12.0, 16.0]];
    let r = cnmf_result(&dims, &centers, 5);
    let set = rois_from_cnmf(&r, false);
    assert_eq!((set.mode(), set.len()), (RoiMode::VolCnmf, 2));
    for (k, roi) in set.rois().iter().enumerate() {
        let RoiGeometry::VolCnmf { contours, .. } = &roi.geometry else { panic!("not a 3D CNMF ROI") };
        let zc = centers[k][0] as usize;
        let planes: Vec<usize> = contours.iter().map(|(z, _)| *z).collect();
        assert!(planes.contains(&zc), "component {k}: planes {planes:?}");
        assert!(planes.iter().all(|&z| z.abs_diff(zc) <= 1), "{planes:?}");
        let (_, centre) = contours.iter().find(|(z, _)| *z == zc).expect("centre plane");
        assert!(encloses(centre, centers[k][2], centers[k][1]));
        assert_eq!(roi.roi_type(), "VolCNMF");
        let text = serde_json::to_string(&roi.to_state(true)).expect("json");
        assert_eq!(&Roi::from_state(&serde_json::from_str(&text).expect("parse")).expect("state"), roi);
    }
    // Curves over the CNMF footprints of a 3D stack, through the set's masks.
    let img = random_movie(StackShape::volume(4, 5, 20, 24), 6);
    let masks = set.masks(&dims).expect("masks");
    assert_close(&extract_curves(&img, &masks, &NoProgress).expect("curves"), &brute_curves(&img, &masks));
}
