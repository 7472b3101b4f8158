//! ROIs: manual polygons and ellipses, CNMF(E) and 3D CNMF components, scatter ROIs; their pixel masks, curves
//! and serialisable states.
//!
//! The model follows the original Mesmerize's ROI manager: a sample holds either manual ROIs or CNMF ROIs (never
//! both), each ROI has a curve (trace), optional spikes and dF/F, and one tag per ROI-type column of the project.
//! Coordinates: x is the column, y the row; pixel (row y, column x) has its centre at (x, y).

mod cnmf;
pub mod contour;
mod curves;
mod error;
mod mask;
pub mod state;

use std::collections::BTreeMap;
use std::str::FromStr;

pub use cnmf::rois_from_cnmf;
pub use curves::extract_curves;
pub use error::RoiError;
pub use mask::PixelMask;

/// Tag of an ROI in a column it has not been tagged in, as the original shows it.
pub const UNTAGGED: &str = "untagged";

/// Sparse spatial footprint of a CNMF component: C-order pixel indices over the result's dims (`[H, W]` or
/// `[Z, H, W]`) and their weights, so curves can be re-extracted as weighted means.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Footprint {
    /// Pixel indices, C order over the dims.
    pub indices: Vec<u32>,
    /// Weight of each pixel.
    pub weights: Vec<f32>,
}

/// Where an ROI is: the shape the user drew, or the component CNMF found.
#[derive(Debug, Clone, PartialEq)]
pub enum RoiGeometry {
    /// Manual polygon (pyqtgraph's PolyLineROI); vertices, closed implicitly.
    Polygon {
        /// Vertex x (column) coordinates.
        xs: Vec<f64>,
        /// Vertex y (row) coordinates.
        ys: Vec<f64>,
    },
    /// Manual ellipse (pyqtgraph's EllipseROI), rotated by `angle_deg` about its centre.
    Ellipse {
        /// Centre x.
        cx: f64,
        /// Centre y.
        cy: f64,
        /// Semi-axis along the (rotated) x direction.
        rx: f64,
        /// Semi-axis along the (rotated) y direction.
        ry: f64,
        /// Rotation in degrees.
        angle_deg: f64,
    },
    /// A 2D CNMF / CNMF-E component.
    Cnmf {
        /// Column of the component in the result's `A`.
        cnmf_idx: usize,
        /// Outline as `[x, y]` points (CaImAn's `get_contours`).
        contour: Vec<[f64; 2]>,
        /// The footprint the curve is averaged over.
        footprint: Footprint,
    },
    /// A 3D CNMF component.
    VolCnmf {
        /// Column of the component in the result's `A`.
        cnmf_idx: usize,
        /// `(z, outline)` for each plane the component shows in.
        contours: Vec<(usize, Vec<[f64; 2]>)>,
        /// The footprint, C order over `[Z, H, W]`.
        footprint: Footprint,
    },
    /// An explicit list of pixels (the original's ScatterROI).
    Scatter {
        /// Pixel x coordinates.
        xs: Vec<f64>,
        /// Pixel y coordinates.
        ys: Vec<f64>,
    },
}

/// One ROI: its geometry, its traces and its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// Where it is.
    pub geometry: RoiGeometry,
    /// Its curve (mean fluorescence, or CNMF's `C`), one value per frame.
    pub curve: Option<Vec<f32>>,
    /// Deconvolved activity (CNMF's `S`).
    pub spikes: Option<Vec<f32>>,
    /// dF/F (CNMF's `F_dff`).
    pub dfof: Option<Vec<f32>>,
    /// Tag per ROI-type column of the project; missing columns read as [`UNTAGGED`].
    pub tags: BTreeMap<String, String>,
}

/// Which kind of ROIs a sample holds; a set holds one kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoiMode {
    /// Drawn polygons and ellipses.
    Manual,
    /// 2D CNMF / CNMF-E components.
    Cnmf,
    /// 3D CNMF components.
    VolCnmf,
    /// Explicit pixel lists.
    Scatter,
}

impl RoiMode {
    /// Stable lowercase name (`manual`, `cnmf`, `vol_cnmf`, `scatter`) for files and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Cnmf => "cnmf",
            Self::VolCnmf => "vol_cnmf",
            Self::Scatter => "scatter",
        }
    }
}

impl std::fmt::Display for RoiMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RoiMode {
    type Err = RoiError;
    fn from_str(s: &str) -> Result<Self, RoiError> {
        match s {
            "manual" => Ok(Self::Manual),
            "cnmf" => Ok(Self::Cnmf),
            "vol_cnmf" => Ok(Self::VolCnmf),
            "scatter" => Ok(Self::Scatter),
            other => Err(RoiError::UnknownMode(other.to_string())),
        }
    }
}

impl Roi {
    /// An untagged ROI without curves.
    pub fn new(geometry: RoiGeometry) -> Self {
        Self { geometry, curve: None, spikes: None, dfof: None, tags: BTreeMap::new() }
    }

    /// The kind of set this ROI belongs in.
    pub fn mode(&self) -> RoiMode {
        match self.geometry {
            RoiGeometry::Polygon { .. } | RoiGeometry::Ellipse { .. } => RoiMode::Manual,
            RoiGeometry::Cnmf { .. } => RoiMode::Cnmf,
            RoiGeometry::VolCnmf { .. } => RoiMode::VolCnmf,
            RoiGeometry::Scatter { .. } => RoiMode::Scatter,
        }
    }

    /// The original's class name, written as `roi_type` in states.
    pub fn roi_type(&self) -> &'static str {
        match self.mode() {
            RoiMode::Manual => "ManualROI",
            RoiMode::Cnmf => "CNMFROI",
            RoiMode::VolCnmf => "VolCNMF",
            RoiMode::Scatter => "ScatterROI",
        }
    }

    /// Tag in `column`, or `"untagged"`.
    pub fn tag(&self, column: &str) -> &str {
        self.tags.get(column).map_or(UNTAGGED, String::as_str)
    }

    /// Short description for error messages.
    fn describe(&self) -> String {
        match &self.geometry {
            RoiGeometry::Polygon { xs, ys } => {
                let n = xs.len().max(1) as f64;
                format!("polygon of {} vertices around ({:.1}, {:.1})", xs.len(), xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n)
            }
            RoiGeometry::Ellipse { cx, cy, rx, ry, .. } => format!("ellipse at ({cx:.1}, {cy:.1}) with radii {rx}, {ry}"),
            RoiGeometry::Cnmf { cnmf_idx, .. } => format!("CNMF component {cnmf_idx}"),
            RoiGeometry::VolCnmf { cnmf_idx, .. } => format!("3D CNMF component {cnmf_idx}"),
            RoiGeometry::Scatter { xs, .. } => format!("scatter ROI of {} points", xs.len()),
        }
    }

    /// Pixels (and weights for footprints) this ROI averages over in an image of spatial `dims` (`[H, W]`, or
    /// `[Z, H, W]` for 3D CNMF): manual and scatter ROIs need 2D dims. An ROI with no pixel inside the image is an
    /// error rather than a NaN curve.
    pub fn mask(&self, dims: &[usize]) -> Result<PixelMask, RoiError> {
        let need = |n: usize| -> Result<(), RoiError> {
            if dims.len() == n {
                Ok(())
            } else {
                Err(RoiError::Dims(format!("{} needs {n}D image dims, found {dims:?}", self.describe())))
            }
        };
        let mask = match &self.geometry {
            RoiGeometry::Polygon { xs, ys } => {
                need(2)?;
                PixelMask { indices: mask::polygon(xs, ys, dims[0], dims[1])?, weights: None }
            }
            RoiGeometry::Ellipse { cx, cy, rx, ry, angle_deg } => {
                need(2)?;
                PixelMask { indices: mask::ellipse(*cx, *cy, *rx, *ry, *angle_deg, dims[0], dims[1])?, weights: None }
            }
            RoiGeometry::Scatter { xs, ys } => {
                need(2)?;
                PixelMask { indices: mask::scatter(xs, ys, dims[0], dims[1])?, weights: None }
            }
            RoiGeometry::Cnmf { footprint, .. } => {
                need(2)?;
                self.footprint_mask(footprint, dims)?
            }
            RoiGeometry::VolCnmf { footprint, .. } => {
                need(3)?;
                self.footprint_mask(footprint, dims)?
            }
        };
        if mask.is_empty() {
            return Err(RoiError::Empty(format!("{} in a {dims:?} image", self.describe())));
        }
        Ok(mask)
    }

    /// A footprint as a weighted mask, checked against `dims`.
    fn footprint_mask(&self, f: &Footprint, dims: &[usize]) -> Result<PixelMask, RoiError> {
        if f.indices.len() != f.weights.len() {
            return Err(RoiError::BadGeometry(format!(
                "{} has {} footprint pixels but {} weights",
                self.describe(),
                f.indices.len(),
                f.weights.len()
            )));
        }
        let d: usize = dims.iter().product();
        if let Some(&bad) = f.indices.iter().find(|&&i| i as usize >= d) {
            return Err(RoiError::OutOfBounds(format!("{} has pixel {bad} outside a {dims:?} image", self.describe())));
        }
        let sum: f64 = f.weights.iter().map(|&w| f64::from(w)).sum();
        if !(sum.is_finite() && sum != 0.0) {
            return Err(RoiError::Empty(format!("{}: its footprint weights sum to {sum}", self.describe())));
        }
        Ok(PixelMask { indices: f.indices.clone(), weights: Some(f.weights.clone()) })
    }

    /// The ROI as a JSON object with the original's keys (`roi_type`, `roi_xs`/`roi_ys` or `contour`, `tags`, ...);
    /// `include_curves` adds `curve_data` (`[[0..T], values]`), `spike_data` and `dfof_data` where present.
    pub fn to_state(&self, include_curves: bool) -> serde_json::Value {
        state::to_state(self, include_curves)
    }

    /// Parse what [`Roi::to_state`] writes; malformed states (missing key, wrong type, unequal `roi_xs`/`roi_ys`,
    /// unknown `roi_type`) are refused with a message naming the fault.
    pub fn from_state(v: &serde_json::Value) -> Result<Roi, RoiError> {
        state::from_state(v)
    }
}

/// The ROIs of one sample, all of one kind (manual and CNMF ROIs do not mix, as in the original).
#[derive(Debug, Clone, PartialEq)]
pub struct RoiSet {
    mode: RoiMode,
    rois: Vec<Roi>,
}

impl RoiSet {
    /// An empty set for ROIs of `mode`.
    pub fn new(mode: RoiMode) -> Self {
        Self { mode, rois: Vec::new() }
    }

    /// A set built from ROIs known to be of `mode`.
    pub(crate) fn from_parts(mode: RoiMode, rois: Vec<Roi>) -> Self {
        Self { mode, rois }
    }

    /// The kind of ROIs this set holds.
    pub fn mode(&self) -> RoiMode {
        self.mode
    }
    /// The ROIs, in order.
    pub fn rois(&self) -> &[Roi] {
        &self.rois
    }
    /// The ROIs, to edit curves, tags or geometry in place (keep each ROI's kind: [`RoiSet::push`] is the gate).
    pub fn rois_mut(&mut self) -> &mut [Roi] {
        &mut self.rois
    }
    /// Number of ROIs.
    pub fn len(&self) -> usize {
        self.rois.len()
    }
    /// True when the set holds no ROI.
    pub fn is_empty(&self) -> bool {
        self.rois.is_empty()
    }

    /// Add an ROI; one of another kind than the set's is refused.
    pub fn push(&mut self, roi: Roi) -> Result<(), RoiError> {
        if roi.mode() != self.mode {
            return Err(RoiError::Mixed { set: self.mode.name(), roi: roi.mode().name() });
        }
        self.rois.push(roi);
        Ok(())
    }

    /// Tag ROI `i` with `value` in `column`.
    pub fn set_tag(&mut self, i: usize, column: &str, value: &str) -> Result<(), RoiError> {
        let n = self.rois.len();
        let roi = self.rois.get_mut(i).ok_or_else(|| RoiError::OutOfBounds(format!("ROI {i} of a set of {n}")))?;
        roi.tags.insert(column.to_string(), value.to_string());
        Ok(())
    }

    /// Masks of every ROI in an image of spatial `dims`, in order, ready for [`extract_curves`].
    pub fn masks(&self, dims: &[usize]) -> Result<Vec<PixelMask>, RoiError> {
        self.rois.iter().map(|r| r.mask(dims)).collect()
    }

    /// Store row `i` of `curves` (`n_rois x T`, as [`extract_curves`] returns) as the curve of ROI `i`.
    pub fn set_curves(&mut self, curves: &ndarray::Array2<f32>) -> Result<(), RoiError> {
        if curves.nrows() != self.rois.len() {
            return Err(RoiError::OutOfBounds(format!("{} curves for {} ROIs", curves.nrows(), self.rois.len())));
        }
        for (roi, row) in self.rois.iter_mut().zip(curves.rows()) {
            roi.curve = Some(row.to_vec());
        }
        Ok(())
    }

    /// The ROIs, giving up the set.
    pub fn into_rois(self) -> Vec<Roi> {
        self.rois
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square() -> Roi {
        Roi::new(RoiGeometry::Polygon { xs: vec![1.0, 4.0, 4.0, 1.0], ys: vec![1.0, 1.0, 3.0, 3.0] })
    }

    fn cnmf_roi() -> Roi {
        Roi::new(RoiGeometry::Cnmf {
            cnmf_idx: 3,
            contour: vec![[1.0, 1.5], [2.5, 1.0], [1.0, 0.5], [1.0, 1.5]],
            footprint: Footprint { indices: vec![5, 6, 11], weights: vec![0.5, 1.25, 0.1] },
        })
    }

    #[test]
    fn modes_parse_and_print() {
        for m in [RoiMode::Manual, RoiMode::Cnmf, RoiMode::VolCnmf, RoiMode::Scatter] {
            assert_eq!(m.name().parse::<RoiMode>().expect("parse"), m);
        }
        assert!(matches!("cnmfe".parse::<RoiMode>(), Err(RoiError::UnknownMode(_))));
    }

    #[test]
    fn mixing_manual_and_cnmf_is_refused() {
        let mut set = RoiSet::new(RoiMode::Manual);
        set.push(square()).expect("manual joins manual");
        let err = set.push(cnmf_roi()).expect_err("cnmf into manual");
        assert!(err.to_string().contains("manual and CNMF ROIs do not mix in one sample"), "{err}");
        let mut set = RoiSet::new(RoiMode::Cnmf);
        set.push(cnmf_roi()).expect("cnmf joins cnmf");
        assert!(matches!(set.push(square()), Err(RoiError::Mixed { set: "cnmf", roi: "manual" })));
        let ellipse = Roi::new(RoiGeometry::Ellipse { cx: 1.0, cy: 1.0, rx: 1.0, ry: 1.0, angle_deg: 0.0 });
        assert!(matches!(set.push(ellipse), Err(RoiError::Mixed { .. })));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn tags_default_to_untagged() {
        let mut set = RoiSet::new(RoiMode::Manual);
        set.push(square()).expect("push");
        assert_eq!(set.rois()[0].tag("cell_type"), "untagged");
        set.set_tag(0, "cell_type", "pyramidal").expect("tag");
        assert_eq!(set.rois()[0].tag("cell_type"), "pyramidal");
        assert!(matches!(set.set_tag(1, "cell_type", "x"), Err(RoiError::OutOfBounds(_))));
    }

    #[test]
    fn manual_roi_on_a_volume_is_an_error_and_empty_rois_are_named() {
        assert!(matches!(square().mask(&[2, 10, 10]), Err(RoiError::Dims(_))));
        let far = Roi::new(RoiGeometry::Polygon { xs: vec![50.0, 60.0, 55.0], ys: vec![50.0, 50.0, 60.0] });
        let err = far.mask(&[10, 10]).expect_err("outside");
        assert!(matches!(err, RoiError::Empty(_)) && err.to_string().contains("polygon of 3 vertices"), "{err}");
        assert_eq!(square().mask(&[10, 10]).expect("mask").len(), 12);
        let m = cnmf_roi().mask(&[4, 5]).expect("footprint");
        assert_eq!(m.weights.as_deref(), Some(&[0.5f32, 1.25, 0.1][..]));
        assert!(matches!(cnmf_roi().mask(&[2, 5]), Err(RoiError::OutOfBounds(_))));
        assert!(matches!(cnmf_roi().mask(&[1, 4, 5]), Err(RoiError::Dims(_))));
    }

    #[test]
    fn states_round_trip_exactly() {
        let mut rois = vec![
            square(),
            Roi::new(RoiGeometry::Ellipse { cx: 10.25, cy: 7.5, rx: 4.1, ry: 2.3, angle_deg: 33.3 }),
            Roi::new(RoiGeometry::Scatter { xs: vec![1.0, 2.0], ys: vec![3.0, 4.0] }),
            cnmf_roi(),
            Roi::new(RoiGeometry::VolCnmf {
                cnmf_idx: 0,
                contours: vec![(1, vec![[0.5, 0.5], [1.5, 0.5], [1.0, 1.5], [0.5, 0.5]]), (2, vec![])],
                footprint: Footprint { indices: vec![30, 31], weights: vec![0.3, 0.7] },
            }),
        ];
        rois[0].curve = Some(vec![1.1, 2.2, f32::NAN, 1e-30, 3.4028235e38]);
        rois[0].tags.insert("cell_type".into(), "interneuron".into());
        rois[3].curve = Some(vec![0.1, 0.2]);
        rois[3].spikes = Some(vec![0.0, 0.7]);
        rois[3].dfof = Some(vec![-0.3, 0.33333334]);
        for roi in rois {
            let text = serde_json::to_string(&roi.to_state(true)).expect("json");
            let back = Roi::from_state(&serde_json::from_str(&text).expect("parse")).expect("from_state");
            assert_eq!(back.geometry, roi.geometry);
            assert_eq!(back.tags, roi.tags);
            let bits = |v: &Option<Vec<f32>>| v.as_ref().map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            assert_eq!(bits(&back.curve), bits(&roi.curve));
            assert_eq!(bits(&back.spikes), bits(&roi.spikes));
            assert_eq!(bits(&back.dfof), bits(&roi.dfof));
            let bare = Roi::from_state(&roi.to_state(false)).expect("without curves");
            assert_eq!((bare.curve, bare.spikes, bare.dfof), (None, None, None));
        }
    }

    #[test]
    fn state_keys_follow_the_original() {
        let mut roi = square();
        roi.curve = Some(vec![5.0, 6.0, 7.0]);
        let s = roi.to_state(true);
        assert_eq!(s["roi_type"], "ManualROI");
        assert_eq!(s["shape"], "PolyLineROI");
        assert_eq!(s["curve_data"], json!([[0, 1, 2], [5.0, 6.0, 7.0]]));
        assert_eq!(s["tags"], json!({}));
        let e = Roi::new(RoiGeometry::Ellipse { cx: 5.0, cy: 6.0, rx: 2.0, ry: 1.0, angle_deg: 90.0 }).to_state(false);
        assert_eq!((e["pos"].clone(), e["size"].clone(), e["angle"].clone()), (json!([5.0, 6.0]), json!([4.0, 2.0]), json!(90.0)));
        assert_eq!(e["roi_xs"].as_array().map(Vec::len), Some(state::ELLIPSE_OUTLINE_POINTS));
        let c = cnmf_roi().to_state(false);
        assert_eq!(c["roi_type"], "CNMFROI");
        assert_eq!(c["cnmf_idx"], 3);
        assert_eq!(c["contour"]["coordinates"][1], json!([2.5, 1.0]));
        assert_eq!(c["footprint"]["indices"], json!([5, 6, 11]));
    }

    #[test]
    fn malformed_states_are_refused_with_a_message() {
        let cases = [
            (json!([1, 2]), "JSON object"),
            (json!({"roi_xs": [1], "roi_ys": [1], "tags": {}}), "'roi_type'"),
            (json!({"roi_type": "FancyROI", "tags": {}}), "unknown roi_type 'FancyROI'"),
            (json!({"roi_type": "ManualROI", "roi_xs": [1, 2, 3], "roi_ys": [1, 2], "tags": {}}), "3 roi_xs but 2 roi_ys"),
            (json!({"roi_type": "ManualROI", "roi_xs": [1, "a", 3], "roi_ys": [1, 2, 3], "tags": {}}), "must be a number"),
            (json!({"roi_type": "ManualROI", "roi_ys": [1, 2, 3], "tags": {}}), "no 'roi_xs'"),
            (json!({"roi_type": "ManualROI", "roi_xs": [1, 2, 3], "roi_ys": [1, 2, 3]}), "no 'tags'"),
            (json!({"roi_type": "ManualROI", "shape": "EllipseROI", "pos": [1, 2], "angle": 0, "tags": {}}), "no 'size'"),
            (json!({"roi_type": "ManualROI", "shape": "RectROI", "tags": {}}), "unknown ManualROI shape"),
            (json!({"roi_type": "ScatterROI", "roi_xs": [1], "roi_ys": [1], "tags": {"a": 1}}), "tag of column 'a'"),
            (json!({"roi_type": "CNMFROI", "cnmf_idx": -1, "contour": {"coordinates": []},
                "footprint": {"indices": [], "weights": []}, "tags": {}}), "non-negative integer"),
            (json!({"roi_type": "CNMFROI", "cnmf_idx": 0, "contour": {"coordinates": [[1, 2, 3]]},
                "footprint": {"indices": [], "weights": []}, "tags": {}}), "2 numbers"),
            (json!({"roi_type": "CNMFROI", "cnmf_idx": 0, "contour": {"coordinates": []},
                "footprint": {"indices": [1, 2], "weights": [0.5]}, "tags": {}}), "2 indices but 1 weights"),
            (json!({"roi_type": "CNMFROI", "cnmf_idx": 0, "contour": {"coordinates": []}, "tags": {}}), "no 'footprint'"),
            (json!({"roi_type": "VolCNMF", "cnmf_idx": 0, "contour": {"coordinates": []},
                "footprint": {"indices": [], "weights": []}, "tags": {}}), "no 'planes'"),
            (json!({"roi_type": "ManualROI", "roi_xs": [1, 2, 3], "roi_ys": [1, 2, 3], "tags": {},
                "curve_data": [[0, 1], [1.0]]}), "2 x but 1 y"),
        ];
        for (state, needle) in cases {
            match Roi::from_state(&state) {
                Err(RoiError::BadState(msg)) => assert!(msg.contains(needle), "{state}: '{msg}' lacks '{needle}'"),
                other => panic!("{state}: expected BadState, got {other:?}"),
            }
        }
    }
}
