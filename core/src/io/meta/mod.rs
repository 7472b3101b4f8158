//! Recording metadata and the organizers that build it from what microscopes write (`json_minimal`,
//! `AwesomeImager`, `ome_tiff`), as the original Mesmerize's `organize_meta` module defines them.

mod organizers;
mod xml_dict;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use organizers::{awesome_imager, json_minimal, ome_tiff, OmeTiming};

use crate::imaging::{ImagingError, OpenOptions};

/// Metadata of a recording: `origin`, `fps` and `date` ("YYYYMMDD_HHMMSS") are the keys every analysis relies
/// on; everything else the source provided is kept (`orig_meta` holds the untouched original).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Software or microscope the recording comes from.
    pub origin: String,
    /// Sampling rate in Hz (volumes per second for 3D); `None` when no source gave one.
    pub fps: Option<f64>,
    /// Acquisition date and time as "YYYYMMDD_HHMMSS", when known.
    pub date: Option<String>,
    /// All other keys (`orig_meta`, `fps_std`, `vmin`, ...), kept in order.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Metadata {
    /// Metadata of a known recording.
    pub fn new(origin: impl Into<String>, fps: f64, date: impl Into<String>) -> Self {
        Self { origin: origin.into(), fps: Some(fps), date: Some(date.into()), extra: Map::new() }
    }
    /// Metadata for a file that carries none: every later step that needs the frame rate will say so.
    pub fn unknown() -> Self {
        Self { origin: "unknown".into(), fps: None, date: None, extra: Map::new() }
    }
    /// As a JSON object (the shape `mesmerize info --json` prints under `meta`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The metadata organizers Mesmerize users know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaFormat {
    /// `.json` with at least `origin`, `fps`, `date`.
    JsonMinimal,
    /// `.json` from the Chatzigeorgiou lab's AwesomeImager (`framerate`, `level_min`, ...).
    AwesomeImager,
    /// OME-XML inside the TIFF.
    OmeTiff,
}

impl FromStr for MetaFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json_minimal" => Ok(Self::JsonMinimal),
            "AwesomeImager" | "awesome_imager" => Ok(Self::AwesomeImager),
            "ome_tiff" | "ome_tif" => Ok(Self::OmeTiff),
            other => Err(format!("unknown metadata format '{other}': expected json_minimal, AwesomeImager or ome_tiff")),
        }
    }
}

impl fmt::Display for MetaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::JsonMinimal => "json_minimal",
            Self::AwesomeImager => "AwesomeImager",
            Self::OmeTiff => "ome_tiff",
        })
    }
}

/// Metadata found inside the image file itself.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedMeta {
    /// OME-XML from the first page's ImageDescription.
    pub ome_xml: Option<String>,
    /// Frame rate from an ImageJ description (`finterval` or `fps`).
    pub imagej_fps: Option<f64>,
}

/// The sidecar a movie's metadata is looked for in: same name, `.json` extension.
pub fn sidecar_path(movie: &Path) -> PathBuf {
    movie.with_extension("json")
}

/// Metadata for a movie: the explicit file if given, else the sidecar, else OME-XML, else ImageJ's frame rate,
/// else [`Metadata::unknown`]. A sidecar or OME block that exists but is malformed is an error, not skipped.
pub fn load_for_movie(movie: &Path, embedded: &EmbeddedMeta, opts: &OpenOptions) -> Result<Metadata, ImagingError> {
    if opts.meta_format == Some(MetaFormat::OmeTiff) {
        let xml = embedded.ome_xml.as_deref().ok_or_else(|| ImagingError::Metadata {
            path: movie.to_path_buf(),
            reason: "ome_tiff metadata asked for, but the file has no OME-XML".into(),
        })?;
        return ome_tiff(movie, xml);
    }
    let explicit = opts.meta_path.clone();
    let sidecar = sidecar_path(movie);
    let json_path = explicit.or_else(|| sidecar.is_file().then_some(sidecar));
    if let Some(p) = json_path {
        return load_json(&p, opts.meta_format);
    }
    if let Some(xml) = &embedded.ome_xml {
        return ome_tiff(movie, xml);
    }
    if let Some(fps) = embedded.imagej_fps {
        let mut m = Metadata::unknown();
        m.origin = "ImageJ".into();
        m.fps = Some(fps);
        return Ok(m);
    }
    Ok(Metadata::unknown())
}

/// Read a JSON metadata file with the given organizer, or guess it: AwesomeImager files have `framerate` and
/// `level_min`, anything else must satisfy `json_minimal`.
pub fn load_json(path: &Path, format: Option<MetaFormat>) -> Result<Metadata, ImagingError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImagingError::io(path, e))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| ImagingError::Metadata { path: path.to_path_buf(), reason: format!("not valid JSON: {e}") })?;
    let format = format.unwrap_or_else(|| {
        if value.get("framerate").is_some() && value.get("level_min").is_some() {
            MetaFormat::AwesomeImager
        } else {
            MetaFormat::JsonMinimal
        }
    });
    match format {
        MetaFormat::JsonMinimal => json_minimal(path, &value),
        MetaFormat::AwesomeImager => awesome_imager(path, &value),
        MetaFormat::OmeTiff => Err(ImagingError::Metadata {
            path: path.to_path_buf(),
            reason: "ome_tiff metadata lives inside the TIFF, not in a JSON file".into(),
        }),
    }
}
