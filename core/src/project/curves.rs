//! A sample's curves: one HDF5 file per sample (`curves/<SampleID>-_-<ImgUUID>.h5`) holding every ROI's trace as
//! one (n_rois, T) array, so thousands of ROIs are written and read in one go (the original wrote one file per
//! curve). Layout: `uuid_curve` (n strings), `curves` (n, T) float32, optional `spikes` and `dfof` (n, T, NaN rows
//! where an ROI has none); root attribute `mesmerize_format` = "sample-curves-v1".

use std::path::Path;

use hdf5_metno as hdf5;
use hdf5::types::VarLenUnicode;
use ndarray::Array2;

use super::ProjectError;

/// Format tag written into every curves file.
pub const FORMAT: &str = "sample-curves-v1";

/// Every curve of one sample, row `i` belonging to ROI `uuids[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleCurves {
    /// `uuid_curve` of each row.
    pub uuids: Vec<String>,
    /// Traces, (n, T).
    pub curves: Array2<f32>,
    /// Deconvolved activity, (n, T), when any ROI has it.
    pub spikes: Option<Array2<f32>>,
    /// dF/F, (n, T), when any ROI has it.
    pub dfof: Option<Array2<f32>>,
}

impl SampleCurves {
    /// Write atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), ProjectError> {
        let h5 = |e: hdf5::Error| std::io::Error::other(e.to_string());
        crate::io::atomic::replace_via_temp(path, |tmp| -> Result<(), std::io::Error> {
            let f = hdf5::File::create(tmp).map_err(h5)?;
            let fmt: VarLenUnicode = FORMAT.parse().map_err(|_| std::io::Error::other("format tag"))?;
            f.new_attr::<VarLenUnicode>().create("mesmerize_format").and_then(|a| a.write_scalar(&fmt)).map_err(h5)?;
            let ids: Result<Vec<VarLenUnicode>, _> = self.uuids.iter().map(|u| u.parse::<VarLenUnicode>()).collect();
            let ids = ids.map_err(|_| std::io::Error::other("uuid text"))?;
            f.new_dataset_builder().with_data(&ids[..]).create("uuid_curve").map_err(h5)?;
            f.new_dataset_builder().with_data(&self.curves).create("curves").map_err(h5)?;
            for (name, m) in [("spikes", &self.spikes), ("dfof", &self.dfof)] {
                if let Some(m) = m {
                    f.new_dataset_builder().with_data(m).create(name).map_err(h5)?;
                }
            }
            f.close().map_err(h5)
        }, std::convert::identity)
        .map_err(|e| ProjectError::io(path, e))
    }

    /// Read a curves file; a missing, truncated or foreign file is an error naming it.
    pub fn read(path: &Path) -> Result<Self, ProjectError> {
        if !path.exists() {
            return Err(ProjectError::corrupt(path, "curves file is missing"));
        }
        let bad = |e: hdf5::Error| ProjectError::corrupt(path, format!("not a readable curves file: {e}"));
        let f = hdf5::File::open(path).map_err(bad)?;
        let uuids: Vec<String> = f
            .dataset("uuid_curve")
            .and_then(|d| d.read_raw::<VarLenUnicode>())
            .map_err(bad)?
            .into_iter()
            .map(|s| s.as_str().to_string())
            .collect();
        let curves: Array2<f32> = f.dataset("curves").and_then(|d| d.read_2d()).map_err(bad)?;
        let opt = |name: &str| -> Result<Option<Array2<f32>>, ProjectError> {
            match f.dataset(name) {
                Ok(d) => d.read_2d().map(Some).map_err(bad),
                Err(_) => Ok(None),
            }
        };
        let (spikes, dfof) = (opt("spikes")?, opt("dfof")?);
        if curves.nrows() != uuids.len() {
            return Err(ProjectError::corrupt(path, format!("{} curves for {} uuids", curves.nrows(), uuids.len())));
        }
        for m in [&spikes, &dfof].into_iter().flatten() {
            if m.dim() != curves.dim() {
                return Err(ProjectError::corrupt(path, "spikes/dfof shape differs from curves"));
            }
        }
        Ok(Self { uuids, curves, spikes, dfof })
    }

    /// Row of `uuid`, if present.
    pub fn row_of(&self, uuid: &str) -> Option<usize> {
        self.uuids.iter().position(|u| u == uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.h5");
        let c = SampleCurves {
            uuids: vec!["a".into(), "b".into()],
            curves: Array2::from_shape_fn((2, 5), |(i, t)| (i * 10 + t) as f32),
            spikes: Some(Array2::zeros((2, 5))),
            dfof: None,
        };
        c.write(&p).expect("write");
        assert_eq!(SampleCurves::read(&p).expect("read"), c);
        std::fs::write(&p, b"not hdf5").expect("clobber");
        let e = SampleCurves::read(&p).expect_err("corrupt");
        assert!(e.to_string().contains("c.h5"), "{e}");
    }
}
