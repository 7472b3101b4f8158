//! Pixel masks: which pixels (and with what weight) an ROI averages over, rasterised from its geometry.
//!
//! Coordinates follow the viewer: x is the column, y the row, and pixel (row y, column x) has its centre at (x, y).
//! A pixel belongs to a polygon or an ellipse when its centre lies inside; centres exactly on the outline count as
//! inside.

use super::RoiError;

/// Tolerance for "exactly on the outline": coordinates are in pixels, so this is far below any real distance.
const EPS: f64 = 1e-9;

/// The pixels an ROI covers, as C-order indices over the image's dims (`y * W + x`, or `(z * H + y) * W + x`);
/// `weights` is set for CNMF footprints, whose curve is the weighted mean `sum(w * y) / sum(w)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PixelMask {
    /// Pixel indices, C order over the image's dims.
    pub indices: Vec<u32>,
    /// Weight of each pixel (same length as `indices`); `None` for a plain mean.
    pub weights: Option<Vec<f32>>,
}

impl PixelMask {
    /// Number of pixels in the mask.
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    /// True when the mask holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Check that an `h x w` plane can be indexed with u32 and return its dims as i64.
fn plane_dims(h: usize, w: usize) -> Result<(i64, i64), RoiError> {
    if h.checked_mul(w).is_none_or(|n| n > u32::MAX as usize + 1) {
        return Err(RoiError::OutOfBounds(format!("a {h}x{w} image has more pixels than a u32 index can address")));
    }
    Ok((h as i64, w as i64))
}

/// Append the pixels of `spans` (inclusive column ranges, unsorted, possibly overlapping) on row `y`.
fn push_spans(out: &mut Vec<u32>, spans: &mut [(i64, i64)], y: i64, w: i64) {
    spans.sort_unstable();
    let mut next = 0i64; // first column not yet emitted on this row
    for &(a, b) in spans.iter() {
        let (a, b) = (a.max(next).max(0), b.min(w - 1));
        for x in a..=b {
            out.push((y * w + x) as u32);
        }
        next = next.max(b + 1);
    }
}

/// Pixels whose centre lies inside the polygon (even-odd rule, closed implicitly), by scanline over its bounding
/// box clipped to the `h x w` image.
pub(crate) fn polygon(xs: &[f64], ys: &[f64], h: usize, w: usize) -> Result<Vec<u32>, RoiError> {
    if xs.len() != ys.len() {
        return Err(RoiError::BadGeometry(format!("polygon has {} x but {} y coordinates", xs.len(), ys.len())));
    }
    if xs.len() < 3 {
        return Err(RoiError::BadGeometry(format!("polygon needs at least 3 vertices, found {}", xs.len())));
    }
    if xs.iter().chain(ys).any(|v| !v.is_finite()) {
        return Err(RoiError::BadGeometry("polygon has a non-finite vertex".into()));
    }
    let (hh, ww) = plane_dims(h, w)?;
    let n = xs.len();
    let (y_min, y_max) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let first = ((y_min - EPS).ceil() as i64).max(0);
    let last = ((y_max + EPS).floor() as i64).min(hh - 1);
    let mut out = Vec::new();
    let mut crossings: Vec<f64> = Vec::new();
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for row in first..=last {
        let yf = row as f64;
        crossings.clear();
        spans.clear();
        for i in 0..n {
            let j = (i + 1) % n;
            let (x0, y0, x1, y1) = (xs[i], ys[i], xs[j], ys[j]);
            if y0 == y1 {
                // Horizontal edge: centres on it are inside; it never crosses the scanline.
                if (yf - y0).abs() <= EPS {
                    spans.push(((x0.min(x1) - EPS).ceil() as i64, (x0.max(x1) + EPS).floor() as i64));
                }
                continue;
            }
            let x = x0 + (yf - y0) * (x1 - x0) / (y1 - y0);
            if (y0 <= yf) != (y1 <= yf) {
                crossings.push(x);
            }
            // A centre exactly on a sloped edge (vertices included) is inside even where the even-odd pairs miss it.
            if yf >= y0.min(y1) - EPS && yf <= y0.max(y1) + EPS && (x - x.round()).abs() <= EPS {
                let c = x.round() as i64;
                spans.push((c, c));
            }
        }
        crossings.sort_unstable_by(f64::total_cmp);
        for pair in crossings.chunks_exact(2) {
            spans.push(((pair[0] - EPS).ceil() as i64, (pair[1] + EPS).floor() as i64));
        }
        push_spans(&mut out, &mut spans, row, ww);
    }
    Ok(out)
}

/// Pixels whose centre satisfies `((dx cos a + dy sin a)/rx)^2 + ((-dx sin a + dy cos a)/ry)^2 <= 1`.
pub(crate) fn ellipse(cx: f64, cy: f64, rx: f64, ry: f64, angle_deg: f64, h: usize, w: usize) -> Result<Vec<u32>, RoiError> {
    if ![cx, cy, rx, ry, angle_deg].iter().all(|v| v.is_finite()) {
        return Err(RoiError::BadGeometry("ellipse has a non-finite parameter".into()));
    }
    if rx <= 0.0 || ry <= 0.0 {
        return Err(RoiError::BadGeometry(format!("ellipse radii must be positive, found rx={rx}, ry={ry}")));
    }
    let (hh, ww) = plane_dims(h, w)?;
    let (s, c) = angle_deg.to_radians().sin_cos();
    // Half extents of the rotated ellipse's bounding box.
    let ex = ((rx * c).powi(2) + (ry * s).powi(2)).sqrt();
    let ey = ((rx * s).powi(2) + (ry * c).powi(2)).sqrt();
    let (x0, x1) = (((cx - ex - EPS).ceil() as i64).max(0), ((cx + ex + EPS).floor() as i64).min(ww - 1));
    let (y0, y1) = (((cy - ey - EPS).ceil() as i64).max(0), ((cy + ey + EPS).floor() as i64).min(hh - 1));
    let mut out = Vec::new();
    for y in y0..=y1 {
        let dy = y as f64 - cy;
        for x in x0..=x1 {
            let dx = x as f64 - cx;
            let u = (dx * c + dy * s) / rx;
            let v = (-dx * s + dy * c) / ry;
            if u * u + v * v <= 1.0 + EPS {
                out.push((y * ww + x) as u32);
            }
        }
    }
    Ok(out)
}

/// The listed pixels, rounded to the nearest centre, deduplicated, with those outside the image dropped.
pub(crate) fn scatter(xs: &[f64], ys: &[f64], h: usize, w: usize) -> Result<Vec<u32>, RoiError> {
    if xs.len() != ys.len() {
        return Err(RoiError::BadGeometry(format!("scatter ROI has {} x but {} y coordinates", xs.len(), ys.len())));
    }
    let (hh, ww) = plane_dims(h, w)?;
    let mut out: Vec<u32> = xs
        .iter()
        .zip(ys)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (x.round() as i64, y.round() as i64))
        .filter(|&(x, y)| (0..ww).contains(&x) && (0..hh).contains(&y))
        .map(|(x, y)| (y * ww + x) as u32)
        .collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (x, y) of each index on a `w`-wide image.
    fn coords(idx: &[u32], w: usize) -> Vec<(usize, usize)> {
        idx.iter().map(|&i| (i as usize % w, i as usize / w)).collect()
    }

    /// Reference: every pixel of the image tested against every edge (even-odd), plus on-edge centres.
    fn brute_polygon(xs: &[f64], ys: &[f64], h: usize, w: usize) -> Vec<u32> {
        let n = xs.len();
        let mut out = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let (px, py) = (x as f64, y as f64);
                let mut inside = false;
                let mut on_edge = false;
                for i in 0..n {
                    let j = (i + 1) % n;
                    let (x0, y0, x1, y1) = (xs[i], ys[i], xs[j], ys[j]);
                    let cross = (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0);
                    let within = px >= x0.min(x1) - 1e-9 && px <= x0.max(x1) + 1e-9 && py >= y0.min(y1) - 1e-9 && py <= y0.max(y1) + 1e-9;
                    if cross.abs() < 1e-9 && within {
                        on_edge = true;
                    }
                    if (y0 > py) != (y1 > py) && px < x0 + (py - y0) * (x1 - x0) / (y1 - y0) {
                        inside = !inside;
                    }
                }
                if inside || on_edge {
                    out.push((y * w + x) as u32);
                }
            }
        }
        out
    }

    #[test]
    fn axis_aligned_square_counts_its_edges() {
        let idx = polygon(&[2.0, 12.0, 12.0, 2.0], &[3.0, 3.0, 8.0, 8.0], 20, 20).expect("mask");
        assert_eq!(idx.len(), 11 * 6);
        let c = coords(&idx, 20);
        assert!(c.contains(&(2, 3)) && c.contains(&(12, 8)) && !c.contains(&(13, 8)) && !c.contains(&(2, 9)));
    }

    #[test]
    fn half_pixel_square_holds_the_inner_centres() {
        let idx = polygon(&[1.5, 5.5, 5.5, 1.5], &[1.5, 1.5, 4.5, 4.5], 10, 10).expect("mask");
        assert_eq!(coords(&idx, 10), (2..=4).flat_map(|y| (2..=5).map(move |x| (x, y))).collect::<Vec<_>>());
    }

    #[test]
    fn right_triangle_includes_its_hypotenuse_and_apex() {
        let idx = polygon(&[0.0, 10.0, 0.0], &[0.0, 0.0, 10.0], 20, 20).expect("mask");
        assert_eq!(idx.len(), 66); // x, y >= 0 and x + y <= 10
        let c = coords(&idx, 20);
        assert!(c.contains(&(0, 10)) && c.contains(&(10, 0)) && c.contains(&(5, 5)) && !c.contains(&(6, 5)));
    }

    #[test]
    fn polygons_match_brute_force() {
        let shapes: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![3.2, 17.9, 9.4], vec![1.1, 6.3, 15.7]),
            (vec![5.0, 15.0, 10.0, 15.0, 5.0], vec![2.0, 2.0, 8.0, 14.0, 14.0]), // concave (arrow)
            (vec![-4.0, 8.5, 25.0, 3.0], vec![-3.0, 2.0, 9.5, 22.0]),            // clipped by the image
            (vec![2.0, 12.0, 2.0, 12.0], vec![2.0, 2.0, 12.0, 12.0]),            // self-intersecting bow tie
            (vec![4.0, 10.0, 16.0, 10.0], vec![10.0, 4.0, 10.0, 16.0]),          // diamond, vertices on centres
        ];
        for (xs, ys) in shapes {
            let got = polygon(&xs, &ys, 18, 20).expect("mask");
            assert_eq!(got, brute_polygon(&xs, &ys, 18, 20), "{xs:?} {ys:?}");
        }
    }

    #[test]
    fn rotated_ellipse_area_is_close_to_pi_rx_ry() {
        let idx = ellipse(30.0, 30.0, 10.0, 6.0, 30.0, 64, 64).expect("mask");
        let area = std::f64::consts::PI * 10.0 * 6.0;
        assert!((idx.len() as f64 - area).abs() / area < 0.03, "{} px vs {area}", idx.len());
        // The rotation is real: a point along the rotated major axis is in, the unrotated tip is out.
        let c = coords(&idx, 64);
        let (s, co) = 30f64.to_radians().sin_cos();
        assert!(c.contains(&((30.0 + 9.0 * co).round() as usize, (30.0 + 9.0 * s).round() as usize)));
        assert!(!c.contains(&(40, 30)));
    }

    #[test]
    fn circle_includes_centres_on_its_outline() {
        let idx = ellipse(5.0, 5.0, 3.0, 3.0, 0.0, 11, 11).expect("mask");
        let c = coords(&idx, 11);
        assert!(c.contains(&(8, 5)) && c.contains(&(5, 2)) && !c.contains(&(8, 6)));
    }

    #[test]
    fn ellipse_clipped_at_the_border_and_bad_radii_refused() {
        let idx = ellipse(0.0, 0.0, 3.0, 3.0, 0.0, 10, 10).expect("mask");
        assert!(coords(&idx, 10).iter().all(|&(x, y)| x * x + y * y <= 9));
        assert_eq!(idx.len(), 11);
        assert!(matches!(ellipse(5.0, 5.0, 0.0, 3.0, 0.0, 10, 10), Err(RoiError::BadGeometry(_))));
        assert!(matches!(ellipse(f64::NAN, 5.0, 1.0, 3.0, 0.0, 10, 10), Err(RoiError::BadGeometry(_))));
    }

    #[test]
    fn scatter_rounds_dedups_and_drops_outside() {
        let idx = scatter(&[1.2, 0.8, 3.0, -1.0, 4.6, f64::NAN], &[2.0, 2.4, 0.0, 1.0, 9.7, 1.0], 10, 5).expect("mask");
        assert_eq!(coords(&idx, 5), vec![(3, 0), (1, 2)]);
    }

    #[test]
    fn degenerate_polygons_are_refused() {
        assert!(matches!(polygon(&[1.0, 2.0], &[1.0, 2.0], 5, 5), Err(RoiError::BadGeometry(_))));
        assert!(matches!(polygon(&[1.0, 2.0, 3.0], &[1.0, 2.0], 5, 5), Err(RoiError::BadGeometry(_))));
        assert!(matches!(polygon(&[1.0, f64::INFINITY, 3.0], &[1.0, 2.0, 0.0], 5, 5), Err(RoiError::BadGeometry(_))));
    }
}
