//! What the pages of a file mean: the logical array (dims and axes) from the first page's description, whether
//! ImageJ's, tifffile's JSON, OME-XML, or none (a plain multi-page file).

use std::path::Path;

use crate::imaging::{Axes, ImagingError};

/// Where the series description came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeriesKind {
    Plain,
    ImageJ,
    Tifffile,
    Ome,
}

impl SeriesKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::ImageJ => "ImageJ",
            Self::Tifffile => "tifffile",
            Self::Ome => "OME-TIFF",
        }
    }
}

/// The logical array of the file's first series.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub kind: SeriesKind,
    /// Leading dims (over pages), not including the page's own rows and columns.
    pub leading: Vec<usize>,
    /// Axes of leading dims + the two page axes; `None` when the file does not say.
    pub axes: Option<Axes>,
    pub fps: Option<f64>,
    pub ome_xml: Option<String>,
}

impl Series {
    /// Pages the series spans.
    pub fn pages(&self) -> usize {
        self.leading.iter().product()
    }
}

fn meta_err(path: &Path, reason: String) -> ImagingError {
    ImagingError::Metadata { path: path.to_path_buf(), reason }
}

/// Interpret page 0's ImageDescription; `n_pages_hint` is used only by plain files (`None` = not yet counted).
pub(crate) fn interpret(path: &Path, description: Option<&str>) -> Result<Series, ImagingError> {
    let d = description.unwrap_or("").trim_start();
    if d.starts_with("ImageJ=") {
        return imagej(path, d);
    }
    if d.starts_with('{') && d.contains("\"shape\"") {
        return tifffile_json(path, d);
    }
    if d.starts_with("<?xml") || d.starts_with("<OME") {
        if d.contains("<OME") {
            return ome(path, d);
        }
    }
    Ok(Series { kind: SeriesKind::Plain, leading: Vec::new(), axes: None, fps: None, ome_xml: None })
}

fn imagej(path: &Path, d: &str) -> Result<Series, ImagingError> {
    let mut get = std::collections::HashMap::new();
    for line in d.lines() {
        if let Some((k, v)) = line.split_once('=') {
            get.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let num = |k: &str| -> Result<usize, ImagingError> {
        match get.get(k) {
            None => Ok(1),
            Some(v) => v.parse::<usize>().map_err(|_| meta_err(path, format!("ImageJ description: {k}={v} is not a whole number"))),
        }
    };
    let images = num("images")?;
    let (c, z, t) = (num("channels")?, num("slices")?, num("frames")?);
    let mut leading = Vec::new();
    let mut axes = String::new();
    if c * z * t == images && images > 1 {
        if t > 1 {
            leading.push(t);
            axes.push('t');
        }
        if z > 1 {
            leading.push(z);
            // A plain ImageJ stack of "slices" with no frames is, for imaging data, a time series.
            axes.push(if t > 1 || c > 1 { 'z' } else { 't' });
        }
        if c > 1 {
            leading.push(c);
            axes.push('c');
        }
    } else if images > 1 {
        leading.push(images);
        axes.push('t');
    }
    axes.push_str("yx");
    let fps = get
        .get("finterval")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .map(|fi| 1.0 / fi)
        .or_else(|| get.get("fps").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0));
    let axes = axes.parse().map_err(|e: String| meta_err(path, e))?;
    Ok(Series { kind: SeriesKind::ImageJ, leading, axes: Some(axes), fps, ome_xml: None })
}

fn tifffile_json(path: &Path, d: &str) -> Result<Series, ImagingError> {
    let v: serde_json::Value =
        serde_json::from_str(d).map_err(|e| meta_err(path, format!("tifffile JSON description does not parse: {e}")))?;
    let shape: Vec<usize> = v
        .get("shape")
        .and_then(|s| s.as_array())
        .ok_or_else(|| meta_err(path, "tifffile JSON description has no \"shape\" list".into()))?
        .iter()
        .map(|x| x.as_u64().map(|n| n as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| meta_err(path, "tifffile \"shape\" must hold whole numbers".into()))?;
    if shape.len() < 2 || shape.contains(&0) {
        return Err(meta_err(path, format!("tifffile \"shape\" {shape:?} is not an image shape")));
    }
    let axes = match v.get("axes").and_then(|a| a.as_str()) {
        Some(a) => {
            if a.len() != shape.len() {
                return Err(meta_err(path, format!("tifffile axes \"{a}\" do not match shape {shape:?}")));
            }
            Some(Axes::from_file_axes(a).map_err(|e| meta_err(path, e))?)
        }
        None => None,
    };
    let leading = shape[..shape.len() - 2].to_vec();
    let fps = v.get("fps").and_then(serde_json::Value::as_f64);
    Ok(Series { kind: SeriesKind::Tifffile, leading, axes, fps, ome_xml: None })
}

fn ome(path: &Path, xml: &str) -> Result<Series, ImagingError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| meta_err(path, format!("OME-XML does not parse: {e}")))?;
    let pixels = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Pixels")
        .ok_or_else(|| meta_err(path, "OME-XML has no Pixels element".into()))?;
    let size = |a: &str| -> Result<usize, ImagingError> {
        pixels
            .attribute(a)
            .unwrap_or("1")
            .parse::<usize>()
            .map_err(|_| meta_err(path, format!("OME Pixels/@{a} is not a whole number")))
    };
    let order = pixels.attribute("DimensionOrder").unwrap_or("XYZCT");
    if order.len() != 5 || !order.starts_with("XY") {
        return Err(meta_err(path, format!("OME DimensionOrder \"{order}\" is not one of XY[ZCT]")));
    }
    // Files referring to other files for their planes (multi-file OME) are not supported yet.
    let file_name = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    for td in pixels.children().filter(|n| n.tag_name().name() == "TiffData") {
        if let Some(uuid) = td.children().find(|n| n.tag_name().name() == "UUID") {
            if let Some(f) = uuid.attribute("FileName") {
                if f != file_name {
                    return Err(ImagingError::Unsupported {
                        path: path.to_path_buf(),
                        reason: format!("multi-file OME-TIFF (planes in {f}); open a single-file OME-TIFF"),
                    });
                }
            }
        }
    }
    let mut leading = Vec::new();
    let mut axes = String::new();
    for ch in order[2..].chars().rev() {
        let n = size(&format!("Size{ch}"))?;
        if n > 1 {
            leading.push(n);
            axes.push(ch.to_ascii_lowercase());
        }
    }
    axes.push_str("yx");
    let axes = axes.parse().map_err(|e: String| meta_err(path, e))?;
    Ok(Series { kind: SeriesKind::Ome, leading, axes: Some(axes), fps: None, ome_xml: Some(xml.to_string()) })
}
