//! The spatial high-pass filter NoRMCorre applies to 1-photon frames before estimating shifts (`gSig_filt`): a
//! Gaussian of sigma `g` minus a constant over a disc of radius ~1.5 g (a zero-sum kernel), which removes the smooth
//! background so cells drive the registration. Used for estimation only; shifts are applied to the raw frames.

/// Prepared filter for one sigma.
#[derive(Debug, Clone)]
pub struct HighPass {
    gauss: Vec<f32>,
    radius: usize,
    /// Half-width of the disc on each row offset -radius..=radius.
    disc: Vec<usize>,
    /// Constant subtracted per disc pixel (1 / disc area, so the kernel sums to zero).
    level: f32,
}

fn reflect(i: i64, n: usize) -> usize {
    let n = n as i64;
    let mut i = i;
    while i < 0 || i >= n {
        i = if i < 0 { -i - 1 } else { 2 * n - i - 1 };
    }
    i as usize
}

impl HighPass {
    /// Filter for `gsig` (kernel size (3 * gsig) / 2 * 2 + 1, as CaImAn sizes it).
    pub fn new(gsig: f64) -> Self {
        let g = gsig.max(0.5);
        let size = ((3.0 * g) as usize / 2) * 2 + 1;
        let radius = size / 2;
        let raw: Vec<f64> = (0..size).map(|i| (-((i as f64 - radius as f64).powi(2)) / (2.0 * g * g)).exp()).collect();
        let sum: f64 = raw.iter().sum();
        let gauss: Vec<f32> = raw.iter().map(|v| (v / sum) as f32).collect();
        // Disc: kernel entries at least as large as the largest entry of the kernel's edge column.
        let g2 = |a: usize, b: usize| f64::from(gauss[a]) * f64::from(gauss[b]);
        let edge_max = (0..size).map(|a| g2(a, 0)).fold(0.0, f64::max);
        let mut disc = Vec::with_capacity(size);
        let mut count = 0usize;
        for a in 0..size {
            let half = (0..=radius).rev().find(|&d| g2(a, radius + d) >= edge_max - 1e-15).unwrap_or(0);
            // The disc row spans the columns radius - half ..= radius + half (what `apply` sums).
            count += 2 * half + 1;
            disc.push(half);
        }
        // The kernel (Gaussian over its box minus a constant over the disc) must sum to zero, so flat regions
        // filter to zero; CaImAn's differs only in the box corners, which it zeroes.
        let level = (1.0 / count.max(1) as f64) as f32;
        Self { gauss, radius, disc, level }
    }

    /// Filter a frame (reflecting borders).
    pub fn apply(&self, input: &[f32], h: usize, w: usize, out: &mut [f32]) {
        let r = self.radius as i64;
        // Separable Gaussian: rows then columns.
        let mut tmp = vec![0.0f32; h * w];
        for y in 0..h {
            let row = &input[y * w..(y + 1) * w];
            for x in 0..w {
                let mut acc = 0.0;
                for (k, g) in self.gauss.iter().enumerate() {
                    acc += g * row[reflect(x as i64 + k as i64 - r, w)];
                }
                tmp[y * w + x] = acc;
            }
        }
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, g) in self.gauss.iter().enumerate() {
                    acc += g * tmp[reflect(y as i64 + k as i64 - r, h) * w + x];
                }
                out[y * w + x] = acc;
            }
        }
        // Minus level * (sum over the disc), with per-row prefix sums of the reflected input.
        let mut prefix = vec![0.0f32; w + 2 * self.radius + 1];
        let mut disc_sum = vec![0.0f32; h * w];
        for y in 0..h {
            let row = &input[y * w..(y + 1) * w];
            prefix[0] = 0.0;
            for i in 0..w + 2 * self.radius {
                prefix[i + 1] = prefix[i] + row[reflect(i as i64 - r, w)];
            }
            // Row y contributes to outputs y' = y - (a - r) for each disc row a.
            for (a, &half) in self.disc.iter().enumerate() {
                let yo = y as i64 - (a as i64 - r);
                if yo < 0 || yo >= h as i64 {
                    continue;
                }
                let dst = &mut disc_sum[yo as usize * w..(yo as usize + 1) * w];
                for (x, d) in dst.iter_mut().enumerate() {
                    // input columns x - half ..= x + half -> prefix indices shifted by r.
                    let lo = x + self.radius - half;
                    let hi = x + self.radius + half + 1;
                    *d += prefix[hi] - prefix[lo];
                }
            }
        }
        // Rows outside the frame reflect too: add their contributions.
        for yo in 0..h {
            for (a, &half) in self.disc.iter().enumerate() {
                let ys = yo as i64 + a as i64 - r;
                if ys >= 0 && ys < h as i64 {
                    continue;
                }
                let row = &input[reflect(ys, h) * w..][..w];
                for x in 0..w {
                    let mut s = 0.0;
                    for xx in x as i64 - half as i64..=x as i64 + half as i64 {
                        s += row[reflect(xx, w)];
                    }
                    disc_sum[yo * w + x] += s;
                }
            }
        }
        for (o, d) in out.iter_mut().zip(&disc_sum) {
            *o -= self.level * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_images_filter_to_nearly_zero_and_spots_survive() {
        let (h, w) = (24, 30);
        let hp = HighPass::new(3.0);
        let flat = vec![1000.0f32; h * w];
        let mut out = vec![0.0; h * w];
        hp.apply(&flat, h, w, &mut out);
        let flat_max = out.iter().map(|v| v.abs()).fold(0.0, f32::max);
        let mut spot = flat.clone();
        spot[12 * w + 15] += 1000.0;
        let mut out2 = vec![0.0; h * w];
        hp.apply(&spot, h, w, &mut out2);
        assert!(flat_max < 0.05 * out2[12 * w + 15].abs(), "flat {flat_max} vs spot {}", out2[12 * w + 15]);
        assert!(out2[12 * w + 15] > 0.0);
    }
}
