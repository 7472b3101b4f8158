//! Building the registration template from a sample of the movie: chunks of consecutive frames spread over the
//! recording, the pixel-wise median of the chunk means (robust to chunks caught mid-movement), refined by
//! registering the sample to it and rebuilding it.

use rayon::prelude::*;

/// Frames sampled for the template: `chunks` runs of `CHUNK` consecutive frames, evenly spread; (start, len) each.
pub const CHUNK: usize = 10;

/// Start and length of each sampled chunk, using at most `max_frames` frames of a `t`-frame movie.
pub fn sample_chunks(t: usize, max_frames: usize) -> Vec<(usize, usize)> {
    let max_frames = max_frames.max(CHUNK);
    if t <= max_frames {
        return (0..t).step_by(CHUNK).map(|s| (s, CHUNK.min(t - s))).collect();
    }
    let n = max_frames / CHUNK;
    (0..n).map(|i| (i * (t - CHUNK) / (n - 1).max(1), CHUNK)).collect()
}

/// Pixel-wise median of the chunk means; `frames` holds the sample's frames chunk after chunk.
pub fn median_of_chunk_means(frames: &[Vec<f32>], chunks: &[(usize, usize)], n: usize) -> Vec<f32> {
    let mut means: Vec<Vec<f32>> = Vec::with_capacity(chunks.len());
    let mut k = 0;
    for &(_, len) in chunks {
        let mut m = vec![0.0f64; n];
        let mut counts = vec![0u32; n];
        for f in &frames[k..k + len] {
            for ((acc, c), &v) in m.iter_mut().zip(counts.iter_mut()).zip(f) {
                if v.is_finite() {
                    *acc += f64::from(v);
                    *c += 1;
                }
            }
        }
        means.push(m.iter().zip(&counts).map(|(s, &c)| if c > 0 { (s / f64::from(c)) as f32 } else { f32::NAN }).collect());
        k += len;
    }
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
        let mut column = Vec::with_capacity(means.len());
        for (k, o) in chunk.iter_mut().enumerate() {
            let i = c * 4096 + k;
            column.clear();
            column.extend(means.iter().map(|m| m[i]).filter(|v| v.is_finite()));
            if column.is_empty() {
                continue;
            }
            let mid = column.len() / 2;
            let (_, upper, _) = column.select_nth_unstable_by(mid, f32::total_cmp);
            let upper = *upper;
            *o = if column.len() % 2 == 1 {
                upper
            } else {
                let lower = column[..mid].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                0.5 * (lower + upper)
            };
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_short_movies_and_spread_over_long_ones() {
        assert_eq!(sample_chunks(25, 300), vec![(0, 10), (10, 10), (20, 5)]);
        let c = sample_chunks(10_000, 300);
        assert_eq!(c.len(), 30);
        assert_eq!(c[0].0, 0);
        assert_eq!(c[29].0, 10_000 - CHUNK);
    }

    #[test]
    fn median_ignores_an_outlier_chunk() {
        let frames: Vec<Vec<f32>> = (0..30).map(|i| vec![if i >= 20 { 100.0 } else { 1.0 }; 4]).collect();
        let t = median_of_chunk_means(&frames, &[(0, 10), (10, 10), (20, 10)], 4);
        assert_eq!(t, vec![1.0; 4]);
    }
}
