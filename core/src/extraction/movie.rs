//! The movie held in memory as a dense `(T, d)` f32 matrix, checked for what would make extraction meaningless.

use crate::imaging::ImgData;
use crate::progress::Progress;

use super::ExtractionError;

/// A movie in memory: `data[t * d + p]`, pixels in C order over `dims` (`[H, W]` or `[Z, H, W]`).
#[derive(Debug, Clone)]
pub struct Movie {
    /// Spatial dimensions, C order: `[H, W]` or `[Z, H, W]`.
    pub dims: Vec<usize>,
    /// Number of time points.
    pub t: usize,
    /// Frames, one after the other.
    pub data: Vec<f32>,
}

impl Movie {
    /// Wrap frames already in memory; checks the length and the content (see [`Movie::validate`]).
    pub fn new(dims: Vec<usize>, t: usize, data: Vec<f32>) -> Result<Self, ExtractionError> {
        let d: usize = dims.iter().product();
        if data.len() != d * t {
            return Err(ExtractionError::BadInput(format!(
                "movie data has {} values, expected {t} frames of {dims:?} = {}",
                data.len(),
                d * t
            )));
        }
        let m = Self { dims, t, data };
        m.validate()?;
        Ok(m)
    }

    /// Read a whole movie from disk (2D or 3D by its axes).
    pub fn load(img: &ImgData, progress: &dyn Progress) -> Result<Self, ExtractionError> {
        let s = img.shape();
        let dims = if s.volumetric { vec![s.z, s.y, s.x] } else { vec![s.y, s.x] };
        let data = img.to_vec(progress)?;
        let name = img.path().map(|p| p.display().to_string()).unwrap_or_else(|| "movie".into());
        Self::new(dims, s.t, data).map_err(|e| match e {
            ExtractionError::BadInput(m) => ExtractionError::BadInput(format!("{name}: {m}")),
            other => other,
        })
    }

    /// Pixels per frame.
    pub fn d(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the movie is a volume `(T, Z, H, W)`.
    pub fn is_3d(&self) -> bool {
        self.dims.len() == 3
    }

    /// Frame `t` as a slice.
    pub fn frame(&self, t: usize) -> &[f32] {
        let d = self.d();
        &self.data[t * d..(t + 1) * d]
    }

    /// Refuse movies that cannot be analysed: too few frames, tiny frames, NaN or infinite values, constant data.
    pub fn validate(&self) -> Result<(), ExtractionError> {
        if !(2..=3).contains(&self.dims.len()) {
            return Err(ExtractionError::BadInput(format!("expected (t, y, x) or (t, z, y, x), got spatial dims {:?}", self.dims)));
        }
        if self.dims.iter().rev().take(2).any(|&n| n < 8) {
            return Err(ExtractionError::BadInput(format!("frames of {:?} are too small (at least 8 x 8 pixels)", self.dims)));
        }
        if self.t < 10 {
            return Err(ExtractionError::BadInput(format!("{} time points are too few (at least 10)", self.t)));
        }
        let d = self.d();
        if let Some(pos) = self.data.iter().position(|v| !v.is_finite()) {
            return Err(ExtractionError::BadInput(format!(
                "frame {} has NaN or infinite values (first at pixel {}); crop or fill them first (motion-corrected borders: use border_pix)",
                pos / d,
                pos % d
            )));
        }
        let first = self.data[0];
        if self.data.iter().all(|&v| v == first) {
            return Err(ExtractionError::BadInput(format!("the movie is constant ({first} everywhere): nothing to extract")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<Movie, ExtractionError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn bad_movies_are_refused_with_a_reason() {
        let good: Vec<f32> = (0..20 * 16 * 16).map(|i| (i % 7) as f32).collect();
        assert!(Movie::new(vec![16, 16], 20, good.clone()).is_ok());
        let mut nan = good.clone();
        nan[5 * 256 + 3] = f32::NAN;
        assert!(msg(Movie::new(vec![16, 16], 20, nan)).contains("frame 5 has NaN"));
        assert!(msg(Movie::new(vec![16, 16], 20, vec![3.0; 20 * 256])).contains("constant"));
        assert!(msg(Movie::new(vec![16, 16], 19, good.clone())).contains("expected 19 frames"));
        assert!(msg(Movie::new(vec![4, 64], 20, good.clone())).contains("too small"));
        assert!(msg(Movie::new(vec![16, 16], 2, good[..512].to_vec())).contains("too few"));
        assert!(msg(Movie::new(vec![2, 2, 2, 32], 20, good)).contains("spatial dims"));
    }
}
