//! ROIs from a CNMF / CNMF-E / 3D CNMF result: one per component, with its footprint, outline and traces.

use rayon::prelude::*;

use super::contour::{CONTOUR_THR, footprint_contour, footprint_contours_3d};
use super::{Footprint, Roi, RoiGeometry, RoiMode, RoiSet};
use crate::extraction::CnmfResult;

/// Row `k` of a `K x T` matrix, if it has one.
fn row(m: &ndarray::Array2<f32>, k: usize) -> Option<Vec<f32>> {
    (k < m.nrows()).then(|| m.row(k).to_vec())
}

/// One ROI per component (all of them, or only the accepted `idx_components`): `cnmf_idx` is the component's index,
/// the footprint its column of `A`, the curve its row of `C`, spikes its row of `S`, dF/F its row of `F_dff` when
/// present, and the outline CaImAn's `get_contours` (per z-plane for 3D results). The set is in `Cnmf` mode for
/// `[H, W]` dims and `VolCnmf` mode for `[Z, H, W]` dims.
pub fn rois_from_cnmf(result: &CnmfResult, accepted_only: bool) -> RoiSet {
    let dims = &result.dims;
    let volumetric = dims.len() == 3;
    let mode = if volumetric { RoiMode::VolCnmf } else { RoiMode::Cnmf };
    let k_all = result.k();
    let ks: Vec<usize> =
        if accepted_only { result.idx_components.iter().copied().filter(|&k| k < k_all).collect() } else { (0..k_all).collect() };
    let (h, w) = match dims.as_slice() {
        [.., h, w] => (*h, *w),
        [w] => (1, *w),
        [] => (0, 0),
    };
    let rois: Vec<Roi> = ks
        .par_iter()
        .map(|&k| {
            let (idx, val) = result.a.col(k);
            let footprint = Footprint { indices: idx.to_vec(), weights: val.to_vec() };
            let geometry = if volumetric {
                let contours = footprint_contours_3d(idx, val, [dims[0], h, w], CONTOUR_THR);
                RoiGeometry::VolCnmf { cnmf_idx: k, contours, footprint }
            } else {
                let contour = footprint_contour(idx, val, h, w, CONTOUR_THR);
                RoiGeometry::Cnmf { cnmf_idx: k, contour, footprint }
            };
            let mut roi = Roi::new(geometry);
            roi.curve = row(&result.c, k);
            roi.spikes = row(&result.s, k).filter(|s| !s.is_empty());
            roi.dfof = result.f_dff.as_ref().and_then(|f| row(f, k));
            roi
        })
        .collect();
    RoiSet::from_parts(mode, rois)
}
