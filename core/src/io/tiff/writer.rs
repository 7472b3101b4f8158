//! Streaming TIFF/BigTIFF writer: planes are written as they are produced (uncompressed, one strip per page), into
//! a temporary file renamed into place by [`TiffWriter::finish`]. Page 0 carries tifffile's JSON shape
//! description (`{"shape": [...], "axes": "TYX"}`), so Python's tifffile and our reader get the axes back.

use std::io::Write;
use std::path::{Path, PathBuf};

use atomic_write_file::AtomicWriteFile;

use crate::imaging::{Dtype, ImagingError, StackShape};
use crate::io::meta::{sidecar_path, Metadata};

/// Classic TIFF is used up to this size; larger files are BigTIFF.
const CLASSIC_LIMIT: u64 = (1 << 32) - (64 << 20);

/// What a finished write did; `clipped` counts samples outside the dtype's range (and NaNs), which were clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteReport {
    /// Planes written.
    pub planes: usize,
    /// Samples clamped to the output type's range (NaN counted too, written as 0).
    pub clipped: u64,
    /// Bytes in the file.
    pub bytes: u64,
    /// Whether BigTIFF was used.
    pub big_tiff: bool,
}

/// Writes a stack plane by plane in canonical (t, z) order.
pub struct TiffWriter {
    out: std::io::BufWriter<AtomicWriteFile>,
    path: PathBuf,
    shape: StackShape,
    dtype: Dtype,
    big: bool,
    written: usize,
    pos: u64,
    clipped: u64,
    description: String,
    scratch: Vec<u8>,
}

fn pad8(n: u64) -> u64 {
    n.div_ceil(8) * 8
}

impl TiffWriter {
    /// Start writing `shape` as `dtype`; BigTIFF is chosen automatically past ~4 GB (or forced with `big_tiff`).
    pub fn create(path: &Path, shape: StackShape, dtype: Dtype, big_tiff: Option<bool>) -> Result<Self, ImagingError> {
        if shape.is_empty() {
            return Err(ImagingError::ShapeMismatch { len: 0, dims: shape.dims() });
        }
        let plane_bytes = (shape.plane_len() * dtype.size()) as u64;
        let estimate = (pad8(plane_bytes) + 512) * shape.n_planes() as u64;
        let big = big_tiff.unwrap_or(estimate > CLASSIC_LIMIT);
        if !big && estimate > CLASSIC_LIMIT {
            return Err(ImagingError::OutOfRange { what: format!("{estimate} bytes do not fit a classic TIFF; use BigTIFF") });
        }
        let file = AtomicWriteFile::options().open(path).map_err(|e| ImagingError::io(path, e))?;
        let axes = if shape.volumetric { "TZYX" } else { "TYX" };
        let description = serde_json::json!({"shape": shape.dims(), "axes": axes}).to_string();
        let mut w = Self {
            out: std::io::BufWriter::with_capacity(4 << 20, file),
            path: path.to_path_buf(),
            shape,
            dtype,
            big,
            written: 0,
            pos: 0,
            clipped: 0,
            description,
            scratch: Vec::new(),
        };
        let header_len = if big { 16 } else { 8 };
        let first_ifd = header_len + pad8(plane_bytes);
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(b"II");
        if big {
            h.extend_from_slice(&43u16.to_le_bytes());
            h.extend_from_slice(&8u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&first_ifd.to_le_bytes());
        } else {
            h.extend_from_slice(&42u16.to_le_bytes());
            h.extend_from_slice(&(first_ifd as u32).to_le_bytes());
        }
        w.put(&h)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ImagingError> {
        self.out.write_all(bytes).map_err(|e| ImagingError::io(&self.path, e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn pad_to_8(&mut self) -> Result<(), ImagingError> {
        let pad = (pad8(self.pos) - self.pos) as usize;
        self.put(&[0u8; 8][..pad])
    }

    /// Append the next plane (y*x samples, f32), converted to the output dtype with rounding and clamping.
    pub fn write_plane(&mut self, plane: &[f32]) -> Result<(), ImagingError> {
        if plane.len() != self.shape.plane_len() {
            return Err(ImagingError::ShapeMismatch { len: plane.len(), dims: vec![self.shape.y, self.shape.x] });
        }
        if self.written >= self.shape.n_planes() {
            return Err(ImagingError::OutOfRange { what: format!("plane {} of a stack of {}", self.written, self.shape.n_planes()) });
        }
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        self.clipped += encode(plane, self.dtype, &mut bytes);
        let data_at = self.pos;
        self.put(&bytes)?;
        self.scratch = bytes;
        self.pad_to_8()?;
        let ifd = self.ifd(data_at);
        self.put(&ifd)?;
        self.pad_to_8()?;
        self.written += 1;
        Ok(())
    }

    /// The IFD (and its out-of-line values) of the plane just written at `data_at`.
    fn ifd(&self, data_at: u64) -> Vec<u8> {
        let first = self.written == 0;
        let last = self.written + 1 == self.shape.n_planes();
        let big = self.big;
        let (w, h) = (self.shape.x as u64, self.shape.y as u64);
        let plane_bytes = w * h * self.dtype.size() as u64;
        let (bits, format) = match self.dtype {
            Dtype::U8 => (8, 1),
            Dtype::U16 => (16, 1),
            Dtype::I16 => (16, 2),
            Dtype::F32 => (32, 3),
        };
        const SHORT: u16 = 3;
        const LONG: u16 = 4;
        const ASCII: u16 = 2;
        const LONG8: u16 = 16;
        let off_type = if big { LONG8 } else { LONG };
        let software = b"mesmerize-rs\0".to_vec();
        let mut desc = self.description.as_bytes().to_vec();
        desc.push(0);
        // (tag, type, count, inline value or out-of-line bytes)
        enum V {
            Num(u64),
            Bytes(Vec<u8>),
        }
        let mut entries: Vec<(u16, u16, u64, V)> = vec![
            (254, LONG, 1, V::Num(0)),
            (256, LONG, 1, V::Num(w)),
            (257, LONG, 1, V::Num(h)),
            (258, SHORT, 1, V::Num(bits)),
            (259, SHORT, 1, V::Num(1)),
            (262, SHORT, 1, V::Num(1)),
        ];
        if first {
            entries.push((270, ASCII, desc.len() as u64, V::Bytes(desc)));
        }
        entries.extend([
            (273, off_type, 1, V::Num(data_at)),
            (277, SHORT, 1, V::Num(1)),
            (278, LONG, 1, V::Num(h)),
            (279, off_type, 1, V::Num(plane_bytes)),
        ]);
        if first {
            entries.push((305, ASCII, software.len() as u64, V::Bytes(software)));
        }
        entries.push((339, SHORT, 1, V::Num(format)));

        let (count_len, entry_len, next_len, inline) = if big { (8u64, 20u64, 8u64, 8usize) } else { (2, 12, 4, 4) };
        let ifd_at = self.pos;
        let table_len = count_len + entry_len * entries.len() as u64 + next_len;
        let mut extra_at = ifd_at + table_len;
        let mut table = Vec::with_capacity(table_len as usize);
        let mut extra = Vec::new();
        if big {
            table.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        } else {
            table.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        }
        for (tag, typ, count, v) in &entries {
            table.extend_from_slice(&tag.to_le_bytes());
            table.extend_from_slice(&typ.to_le_bytes());
            if big {
                table.extend_from_slice(&count.to_le_bytes());
            } else {
                table.extend_from_slice(&(*count as u32).to_le_bytes());
            }
            let mut field = vec![0u8; inline];
            match v {
                V::Num(n) => {
                    let b = match *typ {
                        SHORT => (*n as u16).to_le_bytes().to_vec(),
                        LONG => (*n as u32).to_le_bytes().to_vec(),
                        _ => n.to_le_bytes().to_vec(),
                    };
                    field[..b.len()].copy_from_slice(&b);
                }
                V::Bytes(b) if b.len() <= inline => field[..b.len()].copy_from_slice(b),
                V::Bytes(b) => {
                    let at = if big { extra_at.to_le_bytes().to_vec() } else { (extra_at as u32).to_le_bytes().to_vec() };
                    field[..at.len()].copy_from_slice(&at);
                    extra.extend_from_slice(b);
                    if extra.len() % 2 == 1 {
                        extra.push(0);
                    }
                    extra_at = ifd_at + table_len + extra.len() as u64;
                }
            }
            table.extend_from_slice(&field);
        }
        let block_end = pad8(ifd_at + table_len + extra.len() as u64);
        let next = if last { 0 } else { block_end + pad8(plane_bytes) };
        if big {
            table.extend_from_slice(&next.to_le_bytes());
        } else {
            table.extend_from_slice(&(next as u32).to_le_bytes());
        }
        table.extend_from_slice(&extra);
        table
    }

    /// Planes written so far.
    pub fn planes_written(&self) -> usize {
        self.written
    }

    /// Check every plane was written, flush, fsync and rename the file into place.
    pub fn finish(mut self) -> Result<WriteReport, ImagingError> {
        let expected = self.shape.n_planes();
        if self.written != expected {
            return Err(ImagingError::OutOfRange { what: format!("{} of {expected} planes written to {}", self.written, self.path.display()) });
        }
        self.out.flush().map_err(|e| ImagingError::io(&self.path, e))?;
        let path = self.path.clone();
        let file = self.out.into_inner().map_err(|e| ImagingError::io(&path, e.into_error()))?;
        file.commit().map_err(|e| ImagingError::io(&path, e))?;
        Ok(WriteReport { planes: self.written, clipped: self.clipped, bytes: self.pos, big_tiff: self.big })
    }
}

/// f32 -> little-endian samples of `dtype`; returns how many were clamped (NaN included).
fn encode(plane: &[f32], dtype: Dtype, out: &mut Vec<u8>) -> u64 {
    out.clear();
    out.resize(plane.len() * dtype.size(), 0);
    // Branch-free clamping (so the loops vectorise); clipped samples are counted in a separate pass.
    let (lo, hi) = match dtype {
        Dtype::U8 => (0.0f32, 255.0f32),
        Dtype::U16 => (0.0, 65535.0),
        Dtype::I16 => (-32768.0, 32767.0),
        Dtype::F32 => (f32::NEG_INFINITY, f32::INFINITY),
    };
    let clipped = if dtype == Dtype::F32 {
        0
    } else {
        plane.iter().filter(|v| v.is_nan() || **v < lo - 0.5 || **v >= hi + 0.5).count() as u64
    };
    let conv = |v: f32| if v.is_nan() { 0.0 } else { v.round().clamp(lo, hi) };
    match dtype {
        Dtype::U8 => out.iter_mut().zip(plane).for_each(|(o, &v)| *o = conv(v) as u8),
        Dtype::U16 => out.chunks_exact_mut(2).zip(plane).for_each(|(o, &v)| o.copy_from_slice(&(conv(v) as u16).to_le_bytes())),
        Dtype::I16 => out.chunks_exact_mut(2).zip(plane).for_each(|(o, &v)| o.copy_from_slice(&(conv(v) as i16).to_le_bytes())),
        Dtype::F32 => out.chunks_exact_mut(4).zip(plane).for_each(|(o, &v)| o.copy_from_slice(&v.to_le_bytes())),
    }
    clipped
}

/// Write `meta` as the movie's `json_minimal` sidecar (`movie.tiff` -> `movie.json`), atomically.
pub fn write_sidecar(movie: &Path, meta: &Metadata) -> Result<PathBuf, ImagingError> {
    let path = sidecar_path(movie);
    let text = serde_json::to_string_pretty(meta).map_err(|e| ImagingError::Metadata { path: path.clone(), reason: e.to_string() })?;
    crate::io::atomic::write_atomic(&path, text.as_bytes()).map_err(|e| ImagingError::io(&path, e))?;
    Ok(path)
}
