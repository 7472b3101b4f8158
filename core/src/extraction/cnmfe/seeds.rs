//! Seed candidates of one pass of CNMF-E's greedy initialisation (CaImAn's `init_neurons_corr_pnr`, automatic
//! seeds): pixels whose `corr * pnr` passes both thresholds, smoothed by a 3 x 3 median, that are the maximum of
//! a square window of side `round(gSiz / 4)`, strongest first.

/// Search state over the frame: `corr * pnr` where both pass their thresholds, and which pixels are done.
#[derive(Debug, Clone)]
pub struct SearchMap {
    /// Frame rows.
    pub h: usize,
    /// Frame columns.
    pub w: usize,
    /// `corr * pnr`, 0 where a threshold fails.
    pub v: Vec<f32>,
    /// Pixels never to seed again (tried, inside a found neuron, or in the ignored border).
    pub done: Vec<bool>,
}

impl SearchMap {
    /// Start from the correlation and PNR images; `border` pixels at each edge are never seeds.
    pub fn new(h: usize, w: usize, corr: &[f32], pnr: &[f32], min_corr: f32, min_pnr: f32, border: usize) -> Self {
        let v: Vec<f32> = corr.iter().zip(pnr).map(|(&c, &p)| score(c, p, min_corr, min_pnr)).collect();
        let mut done: Vec<bool> = v.iter().map(|&x| x <= 0.0).collect();
        for i in 0..h {
            for j in 0..w {
                if i < border || j < border || i + border >= h || j + border >= w {
                    done[i * w + j] = true;
                }
            }
        }
        Self { h, w, v, done }
    }

    /// Candidate seeds `(pixel, value)`, strongest first; `window` is the side of the local-maximum window.
    pub fn candidates(&self, window: usize, min_v: f32) -> Vec<(usize, f32)> {
        let (h, w) = (self.h, self.w);
        let smooth = median3(&self.v, h, w);
        let mut s: Vec<f32> = smooth.iter().zip(&self.done).map(|(&x, &d)| if d { 0.0 } else { x }).collect();
        s.iter_mut().for_each(|x| *x = x.max(0.0));
        let r = (window / 2) as isize;
        let mut out = Vec::new();
        for i in 0..h as isize {
            for j in 0..w as isize {
                let p = (i * w as isize + j) as usize;
                let v = s[p];
                if v < min_v || v <= 0.0 {
                    continue;
                }
                let mut is_max = true;
                'win: for di in -r..=r {
                    for dj in -r..=r {
                        let (y, x) = (i + di, j + dj);
                        if (di, dj) == (0, 0) || y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                            continue;
                        }
                        let q = (y * w as isize + x) as usize;
                        // Ties go to the lower pixel index, so a plateau gives one seed.
                        if s[q] > v || (s[q] == v && q < p) {
                            is_max = false;
                            break 'win;
                        }
                    }
                }
                if is_max {
                    out.push((p, v));
                }
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// `corr * pnr` when both pass their thresholds, else 0.
#[inline]
pub fn score(corr: f32, pnr: f32, min_corr: f32, min_pnr: f32) -> f32 {
    if corr >= min_corr && pnr >= min_pnr { corr * pnr } else { 0.0 }
}

/// 3 x 3 median with replicated borders (OpenCV's `medianBlur(v, 3)`).
fn median3(v: &[f32], h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0f32; v.len()];
    let mut win = [0f32; 9];
    for i in 0..h {
        for j in 0..w {
            let mut n = 0;
            for di in [-1isize, 0, 1] {
                for dj in [-1isize, 0, 1] {
                    let y = (i as isize + di).clamp(0, h as isize - 1) as usize;
                    let x = (j as isize + dj).clamp(0, w as isize - 1) as usize;
                    win[n] = v[y * w + x];
                    n += 1;
                }
            }
            win.sort_unstable_by(f32::total_cmp);
            out[i * w + j] = win[4];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_per_blob_strongest_first() {
        let (h, w) = (20, 20);
        let mut corr = vec![0.0f32; h * w];
        let mut pnr = vec![0.0f32; h * w];
        for (cy, cx, a) in [(5.0f32, 5.0f32, 20.0f32), (14.0, 13.0, 30.0)] {
            for i in 0..h {
                for j in 0..w {
                    let d2 = (i as f32 - cy).powi(2) + (j as f32 - cx).powi(2);
                    corr[i * w + j] += (-d2 / 8.0).exp();
                    pnr[i * w + j] += a * (-d2 / 8.0).exp();
                }
            }
        }
        let m = SearchMap::new(h, w, &corr, &pnr, 0.5, 5.0, 1);
        let c = m.candidates(3, 2.5);
        assert_eq!(c.iter().map(|x| x.0).collect::<Vec<_>>(), vec![14 * w + 13, 5 * w + 5]);
    }
}
