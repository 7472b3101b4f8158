//! Source extraction: summary images, CNMF / CNMF-E / 3D CNMF, deconvolution and component evaluation.
//!
//! Data conventions inside this module: a movie is a dense `(T, d)` matrix of f32 with pixels flattened in C order
//! over `dims` (`y * W + x`, or `(z * H + y) * W + x`); footprints are sparse columns over the same pixel index.
//! CaImAn's Fortran-order pixel index is produced only when results are written (`io::caiman_h5`).

pub mod background;
pub mod blur;
pub mod cnmf;
pub mod cnmfe;
pub mod cnmfe_fit;
pub mod deconv;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod footprint;
pub mod greedy;
pub mod grid;
pub mod hals;
pub mod linalg;
pub mod merge;
pub mod mixtures;
pub mod model;
pub mod movie;
pub mod params;
pub mod params_json;
pub mod patches;
pub mod pixels;
pub mod products;
pub mod result;
pub mod score;
pub mod sparse;
pub mod stats;
pub mod summary;
pub mod sweeps;

pub use error::ExtractionError;
pub use movie::Movie;
pub use params::CnmfParams;
pub use result::CnmfResult;
pub use sparse::SparseColumns;
