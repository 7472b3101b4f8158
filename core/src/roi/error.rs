//! Errors of ROI geometry, masks, curves and states; each names the ROI or the key at fault.

/// Everything that can go wrong building, rasterising, extracting or (de)serialising ROIs.
#[derive(Debug, thiserror::Error)]
pub enum RoiError {
    /// A serialised ROI state is malformed (missing key, wrong type, unequal lengths, unknown `roi_type`).
    #[error("bad ROI state: {0}")]
    BadState(String),
    /// An ROI of one kind was added to a set of another kind.
    #[error("a {roi} ROI cannot join a {set} ROI set: manual and CNMF ROIs do not mix in one sample")]
    Mixed {
        /// Mode of the set (`"manual"`, `"cnmf"`, ...).
        set: &'static str,
        /// Mode of the ROI that was refused.
        roi: &'static str,
    },
    /// Geometry that cannot describe a region (too few vertices, non-finite coordinates, zero radius, ...).
    #[error("bad ROI geometry: {0}")]
    BadGeometry(String),
    /// The ROI does not fit the image's dimensionality (a manual ROI on a volume, a 2D footprint on 3D dims, ...).
    #[error("ROI does not fit the image: {0}")]
    Dims(String),
    /// A pixel index, ROI index or plane lies outside what it refers to.
    #[error("out of bounds: {0}")]
    OutOfBounds(String),
    /// The ROI covers no pixel of the image (or its weights sum to zero), so its curve would be NaN.
    #[error("ROI has no pixels inside the image: {0}")]
    Empty(String),
    /// A mode name that is not `manual`, `cnmf`, `vol_cnmf` or `scatter`.
    #[error("unknown ROI mode '{0}' (expected manual, cnmf, vol_cnmf or scatter)")]
    UnknownMode(String),
    /// Reading the movie failed.
    #[error(transparent)]
    Imaging(#[from] crate::imaging::ImagingError),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}
