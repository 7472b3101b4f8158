//! Spatial block means (CaImAn's `downscale` / `decimation_matrix`): the ring background lives on a grid `ssub`
//! times coarser, whose last row and column average whatever pixels remain; going back up repeats each coarse
//! value over its block (CaImAn's `np.repeat`, i.e. nearest-neighbour upsampling).

/// Shape of the coarse grid: `(n - 1) / s + 1` per axis, so partial blocks at the far edges are kept.
pub fn coarse_dims(h: usize, w: usize, s: usize) -> (usize, usize) {
    let s = s.max(1);
    ((h.max(1) - 1) / s + 1, (w.max(1) - 1) / s + 1)
}

/// Block means of a full-resolution `h x w` image into `out` (coarse `coarse_dims` image, C order).
pub fn block_mean(src: &[f32], h: usize, w: usize, s: usize, out: &mut [f32]) {
    let s = s.max(1);
    let (hd, wd) = coarse_dims(h, w, s);
    out[..hd * wd].fill(0.0);
    for i in 0..h {
        let row = &src[i * w..(i + 1) * w];
        let orow = &mut out[(i / s) * wd..(i / s + 1) * wd];
        for (j, &v) in row.iter().enumerate() {
            orow[j / s] += v;
        }
    }
    for bi in 0..hd {
        let rows = (h - bi * s).min(s);
        for bj in 0..wd {
            let cols = (w - bj * s).min(s);
            out[bi * wd + bj] /= (rows * cols) as f32;
        }
    }
}

/// Coarse pixel that full-resolution pixel `(i, j)` belongs to (the value it receives when upsampling).
#[inline]
pub fn coarse_index(i: usize, j: usize, wd: usize, s: usize) -> usize {
    (i / s) * wd + j / s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_edge_blocks_average_what_is_there() {
        // 3 x 5 image, s = 2 -> 2 x 3 coarse grid.
        let src: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let (hd, wd) = coarse_dims(3, 5, 2);
        assert_eq!((hd, wd), (2, 3));
        let mut out = vec![0.0; hd * wd];
        block_mean(&src, 3, 5, 2, &mut out);
        assert_eq!(out[0], (0.0 + 1.0 + 5.0 + 6.0) / 4.0);
        assert_eq!(out[2], (4.0 + 9.0) / 2.0);
        assert_eq!(out[3], (10.0 + 11.0) / 2.0);
        assert_eq!(out[5], 14.0);
        assert_eq!(coarse_index(2, 4, wd, 2), 5);
    }
}
