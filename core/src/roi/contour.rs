//! Outlines of CNMF footprints, as CaImAn's `get_contours` draws them (thr = 0.9, thr_method = 'nrg').
//!
//! CaImAn sorts a footprint's weights in decreasing order, maps each pixel to the cumulative fraction of the
//! footprint's energy (sum of squared weights) held by it and all larger pixels, sets every other pixel to 1, and
//! traces the `thr` iso-line of that map with marching squares (skimage's `find_contours`, low values
//! fully connected). Inside the line are the largest pixels holding `thr` of the energy. We do the same on the
//! footprint's bounding box with a one-pixel margin beyond the image filled with 1, so every line closes, and clamp
//! the points to the image, where CaImAn closes lines cut by the border along it. Where CaImAn concatenates several
//! disjoint lines with NaN separators, we keep the one enclosing the largest area: an ROI has one outline and JSON
//! has no NaN. Points are rounded to 1e-4 px so states written as JSON text read back exactly.

use std::collections::HashMap;

/// Energy fraction the outline encloses (CaImAn's default `thr`).
pub const CONTOUR_THR: f64 = 0.9;

/// Closed iso-lines of `field` (`rows x cols`, row-major) at `level`, as `[x = column, y = row]` points; each closed
/// line ends with its first point, as skimage returns them. Values above `level` are outside; below-or-equal ones
/// inside, and inside corners touching diagonally are connected (skimage's `fully_connected='low'`).
pub(crate) fn iso_lines(field: &[f64], rows: usize, cols: usize, level: f64) -> Vec<Vec<[f64; 2]>> {
    if rows < 2 || cols < 2 || field.len() != rows * cols {
        return Vec::new();
    }
    let at = |r: usize, c: usize| field[r * cols + c];
    // Edge keys: 2 * (r * cols + c) for the horizontal edge (r, c)-(r, c+1), +1 for the vertical edge (r, c)-(r+1, c).
    let h_edge = |r: usize, c: usize| 2 * (r * cols + c);
    let v_edge = |r: usize, c: usize| 2 * (r * cols + c) + 1;
    let point = |key: usize| -> [f64; 2] {
        let (cell, vertical) = (key / 2, key % 2 == 1);
        let (r, c) = (cell / cols, cell % cols);
        let a = at(r, c);
        let b = if vertical { at(r + 1, c) } else { at(r, c + 1) };
        let t = if b == a { 0.5 } else { (level - a) / (b - a) };
        if vertical { [c as f64, r as f64 + t] } else { [c as f64 + t, r as f64] }
    };
    let mut segments: Vec<[usize; 2]> = Vec::new();
    for r in 0..rows - 1 {
        for c in 0..cols - 1 {
            let case = usize::from(at(r, c) > level)
                | usize::from(at(r, c + 1) > level) << 1
                | usize::from(at(r + 1, c) > level) << 2
                | usize::from(at(r + 1, c + 1) > level) << 3;
            let (top, bottom, left, right) = (h_edge(r, c), h_edge(r + 1, c), v_edge(r, c), v_edge(r, c + 1));
            let pairs: &[[usize; 2]] = match case {
                1 | 14 => &[[top, left]],
                2 | 13 => &[[top, right]],
                3 | 12 => &[[left, right]],
                4 | 11 => &[[left, bottom]],
                5 | 10 => &[[top, bottom]],
                7 | 8 => &[[right, bottom]],
                // Saddles: the two low corners connect, so each high corner is cut off on its own.
                6 => &[[top, right], [left, bottom]],
                9 => &[[top, left], [right, bottom]],
                _ => &[],
            };
            segments.extend_from_slice(pairs);
        }
    }
    // Join segments sharing an edge point; each edge point belongs to at most two segments.
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, s) in segments.iter().enumerate() {
        for &k in s {
            by_edge.entry(k).or_default().push(i);
        }
    }
    let mut used = vec![false; segments.len()];
    let mut lines = Vec::new();
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let mut keys = vec![segments[start][0], segments[start][1]];
        // Walk forward from the last key, then backward from the first, until no unused segment continues.
        for forward in [true, false] {
            loop {
                let end = if forward { keys[keys.len() - 1] } else { keys[0] };
                let next = by_edge.get(&end).and_then(|v| v.iter().copied().find(|&s| !used[s]));
                let Some(s) = next else { break };
                used[s] = true;
                let other = if segments[s][0] == end { segments[s][1] } else { segments[s][0] };
                if forward {
                    keys.push(other);
                } else {
                    keys.insert(0, other);
                }
            }
        }
        lines.push(keys.into_iter().map(point).collect());
    }
    lines
}

/// Signed area of a closed point list (shoelace), to pick the main outline among several.
fn area(line: &[[f64; 2]]) -> f64 {
    let n = line.len();
    (0..n).map(|i| {
        let (a, b) = (line[i], line[(i + 1) % n]);
        a[0] * b[1] - b[0] * a[1]
    })
    .sum::<f64>()
        * 0.5
}

/// CaImAn's energy map value of each footprint entry: cumulative fraction of the energy held by it and all larger
/// entries (ties broken by pixel index).
pub(crate) fn energy_levels(weights: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let total: f64 = weights.iter().map(|&w| f64::from(w).powi(2)).sum();
    let mut out = vec![1.0; weights.len()];
    if total <= 0.0 || !total.is_finite() {
        return out;
    }
    let mut acc = 0.0;
    for &i in &order {
        acc += f64::from(weights[i]).powi(2);
        out[i] = acc / total;
    }
    out
}

/// Outline of the pixels `(y, x, level)` of one `h x w` plane at `thr`; `None` when no pixel is at or below `thr`.
pub(crate) fn plane_outline(pixels: &[(usize, usize, f64)], h: usize, w: usize, thr: f64) -> Option<Vec<[f64; 2]>> {
    if pixels.is_empty() || h == 0 || w == 0 {
        return None;
    }
    let (mut y0, mut y1, mut x0, mut x1) = (usize::MAX, 0, usize::MAX, 0);
    for &(y, x, _) in pixels {
        (y0, y1, x0, x1) = (y0.min(y), y1.max(y), x0.min(x), x1.max(x));
    }
    // Box with a one-pixel margin all round (it may stick out of the image: those pixels are 1 like any other).
    let (rows, cols) = (y1 - y0 + 3, x1 - x0 + 3);
    let mut field = vec![1.0f64; rows * cols];
    for &(y, x, v) in pixels {
        field[(y - y0 + 1) * cols + (x - x0 + 1)] = v;
    }
    let (fx, fy) = (x0 as f64 - 1.0, y0 as f64 - 1.0);
    let (max_x, max_y) = ((w - 1) as f64, (h - 1) as f64);
    iso_lines(&field, rows, cols, thr)
        .into_iter()
        .map(|line| {
            let mut pts: Vec<[f64; 2]> = Vec::with_capacity(line.len());
            for p in line {
                let q = [snap((p[0] + fx).clamp(0.0, max_x)), snap((p[1] + fy).clamp(0.0, max_y))];
                if pts.last() != Some(&q) {
                    pts.push(q);
                }
            }
            pts
        })
        .filter(|pts| pts.len() >= 3)
        .max_by(|a, b| area(a).abs().total_cmp(&area(b).abs()))
}

/// Round an outline coordinate to 1e-4 px: finer is meaningless, and short decimals survive JSON text exactly.
fn snap(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// The square around pixel (x, y): the outline of a footprint whose single largest pixel already holds more than
/// `thr` of the energy (CaImAn draws nothing there; an ROI needs an outline to be clicked).
pub(crate) fn pixel_square(x: usize, y: usize) -> Vec<[f64; 2]> {
    let (x, y) = (x as f64, y as f64);
    vec![[x - 0.5, y - 0.5], [x + 0.5, y - 0.5], [x + 0.5, y + 0.5], [x - 0.5, y + 0.5], [x - 0.5, y - 0.5]]
}

/// Outline of a 2D footprint (C-order indices over `[h, w]`), CaImAn style; empty for an empty footprint.
pub fn footprint_contour(indices: &[u32], weights: &[f32], h: usize, w: usize, thr: f64) -> Vec<[f64; 2]> {
    let w = w.max(1);
    let levels = energy_levels(weights);
    let pixels: Vec<(usize, usize, f64)> = indices
        .iter()
        .zip(&levels)
        .map(|(&i, &v)| (i as usize / w, i as usize % w, v))
        .filter(|&(y, _, _)| y < h)
        .collect();
    if let Some(line) = plane_outline(&pixels, h, w, thr) {
        return line;
    }
    peak(indices, weights).map_or_else(Vec::new, |i| pixel_square(i as usize % w, i as usize / w))
}

/// Outlines of a 3D footprint (C-order indices over `[z, h, w]`), one per plane that has pixels inside the
/// energy threshold (the threshold is over the whole 3D footprint, as CaImAn's).
pub fn footprint_contours_3d(indices: &[u32], weights: &[f32], dims: [usize; 3], thr: f64) -> Vec<(usize, Vec<[f64; 2]>)> {
    let [zn, h, w] = dims;
    let plane = (h * w).max(1);
    let levels = energy_levels(weights);
    let mut by_plane: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); zn];
    for (&i, &v) in indices.iter().zip(&levels) {
        let (z, r) = (i as usize / plane, i as usize % plane);
        if z < zn {
            by_plane[z].push((r / w.max(1), r % w.max(1), v));
        }
    }
    let out: Vec<(usize, Vec<[f64; 2]>)> = by_plane
        .iter()
        .enumerate()
        .filter_map(|(z, px)| plane_outline(px, h, w, thr).map(|line| (z, line)))
        .collect();
    if !out.is_empty() {
        return out;
    }
    match peak(indices, weights) {
        Some(i) if (i as usize) < zn * plane => {
            let (z, r) = (i as usize / plane, i as usize % plane);
            vec![(z, pixel_square(r % w.max(1), r / w.max(1)))]
        }
        _ => Vec::new(),
    }
}

/// Index of the largest weight.
fn peak(indices: &[u32], weights: &[f32]) -> Option<u32> {
    indices.iter().zip(weights).max_by(|a, b| a.1.total_cmp(b.1)).map(|(&i, _)| i)
}

/// Whether point (x, y) lies inside the closed point list (even-odd rule); used to check outlines.
pub fn encloses(line: &[[f64; 2]], x: f64, y: f64) -> bool {
    let n = line.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (line[i], line[(i + 1) % n]);
        if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_low_pixel_gives_a_diamond() {
        // 3x3 field, centre 0, others 1, level 0.5: the line crosses each edge to the centre half way.
        let mut f = vec![1.0; 9];
        f[4] = 0.0;
        let lines = iso_lines(&f, 3, 3, 0.5);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line.len(), 5);
        assert_eq!(line.first(), line.last());
        for p in [[1.0, 0.5], [1.5, 1.0], [1.0, 1.5], [0.5, 1.0]] {
            assert!(line.contains(&p), "{line:?}");
        }
        assert!((area(line).abs() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn diagonal_low_pixels_stay_connected() {
        // Low corners touching diagonally form one region (fully_connected='low').
        #[rustfmt::skip]
        let f = vec![
            1.0, 1.0, 1.0, 1.0,
            1.0, 0.0, 1.0, 1.0,
            1.0, 1.0, 0.0, 1.0,
            1.0, 1.0, 1.0, 1.0,
        ];
        let lines = iso_lines(&f, 4, 4, 0.5);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(encloses(&lines[0], 1.0, 1.0) && encloses(&lines[0], 2.0, 2.0));
    }

    #[test]
    fn energy_levels_accumulate_from_the_largest() {
        let lv = energy_levels(&[1.0, 3.0, 2.0]);
        let t = 14.0;
        assert_eq!(lv, vec![14.0 / t, 9.0 / t, 13.0 / t]);
    }

    #[test]
    fn border_footprint_outline_is_clamped_to_the_image() {
        // A blob in the image corner: the outline runs along the border instead of leaving the image.
        let (h, w) = (10usize, 10usize);
        let mut idx = Vec::new();
        let mut wts = Vec::new();
        for y in 0..4u32 {
            for x in 0..4u32 {
                idx.push(y * w as u32 + x);
                wts.push((-((x * x + y * y) as f32) / 6.0).exp());
            }
        }
        let line = footprint_contour(&idx, &wts, h, w, CONTOUR_THR);
        assert!(line.iter().all(|p| (0.0..=9.0).contains(&p[0]) && (0.0..=9.0).contains(&p[1])));
        assert!(line.iter().any(|p| p[0] == 0.0) && line.iter().any(|p| p[1] == 0.0));
        assert!(encloses(&line, 0.5, 0.5));
    }

    #[test]
    fn gaussian_outline_sits_at_the_90_percent_energy_radius() {
        // Squared weights exp(-d^2 / sigma^2) hold 90% of their energy within sigma * sqrt(ln 10).
        let (h, w, sigma, c) = (40usize, 40usize, 2.0f64, 20.0f64);
        let (mut idx, mut wts) = (Vec::new(), Vec::new());
        for i in 0..h * w {
            let d2 = ((i % w) as f64 - c).powi(2) + ((i / w) as f64 - c).powi(2);
            if d2 <= 64.0 {
                idx.push(i as u32);
                wts.push((-d2 / (2.0 * sigma * sigma)).exp() as f32);
            }
        }
        let line = footprint_contour(&idx, &wts, h, w, CONTOUR_THR);
        let r90 = sigma * 10f64.ln().sqrt();
        let radii: Vec<f64> = line.iter().map(|p| ((p[0] - c).powi(2) + (p[1] - c).powi(2)).sqrt()).collect();
        let mean = radii.iter().sum::<f64>() / radii.len() as f64;
        assert!((mean - r90).abs() < 0.35, "mean radius {mean} vs {r90}");
        assert!(radii.iter().all(|r| (r - r90).abs() < 0.8), "{radii:?}");
    }

    #[test]
    fn dominant_pixel_falls_back_to_its_square() {
        let line = footprint_contour(&[23, 24], &[10.0, 0.1], 10, 10, CONTOUR_THR);
        assert_eq!(line, pixel_square(3, 2));
        assert!(footprint_contour(&[], &[], 10, 10, CONTOUR_THR).is_empty());
    }
}
