//! The plain local correlation image (CaImAn's `local_correlations`, eight neighbours in 2D; 26 in 3D as its
//! `local_correlations_fft` does): the mean correlation coefficient of each pixel's trace with its neighbours'.

use rayon::prelude::*;

use super::neighbours::{Standardise, neighbour_correlation, zhw};
use crate::extraction::Movie;
use crate::progress::NoProgress;

/// Mean and std per pixel (shifted by the first frame for accuracy), giving each pixel's z-scoring.
fn standardisation(movie: &Movie) -> Vec<Standardise> {
    let d = movie.d();
    let t = movie.t;
    let (_, _, w) = zhw(&movie.dims);
    let first = movie.frame(0);
    let mut z = vec![Standardise::ZERO; d];
    z.par_chunks_mut(w.max(1)).enumerate().for_each(|(line, zl)| {
        let p0 = line * w;
        let n = zl.len();
        let (mut s1, mut s2) = (vec![0.0f64; n], vec![0.0f64; n]);
        for f in 0..t {
            let src = &movie.data[f * d + p0..f * d + p0 + n];
            for (((a, b), &x), &x0) in s1.iter_mut().zip(s2.iter_mut()).zip(src).zip(&first[p0..p0 + n]) {
                let v = (x - x0) as f64;
                *a += v;
                *b += v * v;
            }
        }
        for (j, s) in zl.iter_mut().enumerate() {
            let m = s1[j] / t as f64;
            let var = s2[j] / t as f64 - m * m;
            if var > 0.0 {
                *s = Standardise {
                    mean: (m + first[p0 + j] as f64) as f32,
                    thr: f32::NEG_INFINITY,
                    scale: (1.0 / var.sqrt()) as f32,
                    offset: 0.0,
                };
            }
        }
    });
    z
}

/// Local correlation image of a movie (C order over its dims), the CNMF GUI's summary image.
pub fn local_correlation(movie: &Movie) -> Vec<f32> {
    let z = standardisation(movie);
    // Only cancellation can fail, and NoProgress never cancels.
    neighbour_correlation(&movie.data, &movie.dims, movie.t, &z, &NoProgress).unwrap_or_else(|_| vec![0.0; movie.d()])
}
