//! One TIFF page (image): its geometry, sample type, compression and data chunks, and decoding it to f32.

use std::io::Read;
use std::path::Path;

use super::ifd::{tag, Cursor, Ifd};
use crate::imaging::{Dtype, ImagingError};

/// Compression schemes we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Lzw,
    Deflate,
    PackBits,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Self::None => "uncompressed",
            Self::Lzw => "LZW",
            Self::Deflate => "deflate",
            Self::PackBits => "PackBits",
        }
    }
}

/// How a page's data is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Strips { rows_per_strip: usize },
    Tiles { width: usize, height: usize },
}

/// Everything needed to decode one page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub width: usize,
    pub height: usize,
    pub dtype: Dtype,
    pub compression: Compression,
    pub predictor: u16,
    pub layout: Layout,
    /// (offset, byte count) of each strip or tile.
    pub chunks: Vec<(u64, u64)>,
}

impl Page {
    /// Bytes of one decoded plane.
    pub fn plane_bytes(&self) -> u64 {
        (self.width * self.height * self.dtype.size()) as u64
    }

    /// The byte range of the whole plane when it is stored uncompressed in one contiguous run.
    pub fn contiguous_range(&self) -> Option<(u64, u64)> {
        if self.compression != Compression::None || !matches!(self.layout, Layout::Strips { .. }) {
            return None;
        }
        let start = self.chunks.first()?.0;
        let mut end = start;
        for &(off, n) in &self.chunks {
            if off != end {
                return None;
            }
            end = off + n;
        }
        (end - start >= self.plane_bytes()).then_some((start, self.plane_bytes()))
    }

    /// "uncompressed", "deflate", ... for `info`.
    pub fn compression_name(&self) -> &'static str {
        self.compression.name()
    }

    /// Same geometry and sample type (pages of one series must match).
    pub fn same_kind(&self, other: &Page) -> bool {
        self.width == other.width && self.height == other.height && self.dtype == other.dtype
    }

    /// Read a page's description from its IFD.
    pub fn parse(c: &Cursor<'_>, ifd: &Ifd, index: usize) -> Result<Self, ImagingError> {
        let path = c.path;
        let unsupported = |reason: String| ImagingError::Unsupported { path: path.to_path_buf(), reason };
        let corrupt = |reason: String| ImagingError::Corrupt { path: path.to_path_buf(), reason };
        let get = |t: u16| ifd.entries.get(&t);
        let req = |t: u16, name: &str| -> Result<u64, ImagingError> {
            let e = get(t).ok_or_else(|| corrupt(format!("page {index} has no {name} tag")))?;
            c.uint(e)
        };
        let width = req(tag::IMAGE_WIDTH, "ImageWidth")? as usize;
        let height = req(tag::IMAGE_LENGTH, "ImageLength")? as usize;
        if width == 0 || height == 0 || width > 1 << 20 || height > 1 << 20 {
            return Err(corrupt(format!("page {index} has an implausible size {width}x{height}")));
        }
        let spp = get(tag::SAMPLES_PER_PIXEL).map(|e| c.uint(e)).transpose()?.unwrap_or(1);
        if spp != 1 {
            return Err(unsupported(format!(
                "page {index} has {spp} samples per pixel (RGB or multi-sample images); only single-channel grey pages are read"
            )));
        }
        let bits = get(tag::BITS_PER_SAMPLE).map(|e| c.uint(e)).transpose()?.unwrap_or(1);
        let format = get(tag::SAMPLE_FORMAT).map(|e| c.uint(e)).transpose()?.unwrap_or(1);
        let dtype = match (bits, format) {
            (8, 1) => Dtype::U8,
            (16, 1) => Dtype::U16,
            (16, 2) => Dtype::I16,
            (32, 3) => Dtype::F32,
            _ => {
                let kind = match format {
                    1 => "unsigned integer",
                    2 => "signed integer",
                    3 => "float",
                    _ => "unknown-format",
                };
                return Err(unsupported(format!(
                    "page {index} holds {bits}-bit {kind} samples; supported: uint8, uint16, int16, float32"
                )));
            }
        };
        let compression = match get(tag::COMPRESSION).map(|e| c.uint(e)).transpose()?.unwrap_or(1) {
            1 => Compression::None,
            5 => Compression::Lzw,
            8 | 32946 => Compression::Deflate,
            32773 => Compression::PackBits,
            7 | 6 => return Err(unsupported(format!("page {index} is JPEG-compressed (lossy), which is not read"))),
            other => return Err(unsupported(format!("page {index} uses TIFF compression {other}, which is not read"))),
        };
        let predictor = get(tag::PREDICTOR).map(|e| c.uint(e)).transpose()?.unwrap_or(1) as u16;
        if !matches!(predictor, 1..=3) {
            return Err(unsupported(format!("page {index} uses predictor {predictor}")));
        }
        let (layout, offsets, counts) = if let Some(off) = get(tag::TILE_OFFSETS) {
            let tw = req(tag::TILE_WIDTH, "TileWidth")? as usize;
            let th = req(tag::TILE_LENGTH, "TileLength")? as usize;
            let counts = get(tag::TILE_BYTE_COUNTS).ok_or_else(|| corrupt(format!("page {index} has no TileByteCounts")))?;
            if tw == 0 || th == 0 {
                return Err(corrupt(format!("page {index} has zero-sized tiles")));
            }
            (Layout::Tiles { width: tw, height: th }, c.uints(off)?, c.uints(counts)?)
        } else {
            let off = get(tag::STRIP_OFFSETS).ok_or_else(|| corrupt(format!("page {index} has no StripOffsets")))?;
            let rps = get(tag::ROWS_PER_STRIP).map(|e| c.uint(e)).transpose()?.unwrap_or(height as u64);
            let rps = (rps as usize).clamp(1, height);
            let counts = match get(tag::STRIP_BYTE_COUNTS) {
                Some(e) => c.uints(e)?,
                // Some writers omit the counts of uncompressed single-strip pages.
                None if compression == Compression::None => vec![(width * height * dtype.size()) as u64],
                None => return Err(corrupt(format!("page {index} has no StripByteCounts"))),
            };
            (Layout::Strips { rows_per_strip: rps }, c.uints(off)?, counts)
        };
        let expected = match layout {
            Layout::Strips { rows_per_strip } => height.div_ceil(rows_per_strip),
            Layout::Tiles { width: tw, height: th } => width.div_ceil(tw) * height.div_ceil(th),
        };
        if offsets.len() < expected || counts.len() < offsets.len().min(expected) {
            return Err(corrupt(format!(
                "page {index} lists {} data chunks ({} byte counts) but needs {expected}",
                offsets.len(),
                counts.len()
            )));
        }
        let chunks: Vec<(u64, u64)> = offsets.into_iter().zip(counts).take(expected).collect();
        let len = c.data.len() as u64;
        for (i, &(off, n)) in chunks.iter().enumerate() {
            if off.checked_add(n).is_none_or(|end| end > len) {
                return Err(ImagingError::Truncated {
                    path: path.to_path_buf(),
                    reason: format!("page {index}, chunk {i} needs bytes {off}..{} but the file has {len}", off.saturating_add(n)),
                });
            }
        }
        Ok(Self { width, height, dtype, compression, predictor, layout, chunks })
    }

    /// Decode the page into `out` (width*height samples, row-major) as f32.
    pub fn decode(&self, data: &[u8], little: bool, path: &Path, out: &mut [f32]) -> Result<(), ImagingError> {
        let bps = self.dtype.size();
        if let Some((start, n)) = self.contiguous_range() {
            convert(&data[start as usize..(start + n) as usize], self.dtype, little, out);
            return Ok(());
        }
        let mut buf = Vec::new();
        match self.layout {
            Layout::Strips { rows_per_strip } => {
                for (i, &(off, n)) in self.chunks.iter().enumerate() {
                    let row0 = i * rows_per_strip;
                    let rows = rows_per_strip.min(self.height - row0);
                    let want = rows * self.width * bps;
                    self.inflate(&data[off as usize..(off + n) as usize], want, &mut buf, path, i)?;
                    self.unpredict(&mut buf, self.width, rows, little);
                    let dst = &mut out[row0 * self.width..(row0 + rows) * self.width];
                    convert(&buf[..want], self.dtype, little, dst);
                }
            }
            Layout::Tiles { width: tw, height: th } => {
                let across = self.width.div_ceil(tw);
                let mut tile = vec![0.0f32; tw * th];
                for (i, &(off, n)) in self.chunks.iter().enumerate() {
                    self.inflate(&data[off as usize..(off + n) as usize], tw * th * bps, &mut buf, path, i)?;
                    self.unpredict(&mut buf, tw, th, little);
                    convert(&buf[..tw * th * bps], self.dtype, little, &mut tile);
                    let (ty, tx) = (i / across * th, i % across * tw);
                    for r in 0..th.min(self.height.saturating_sub(ty)) {
                        let w = tw.min(self.width - tx);
                        let dst = (ty + r) * self.width + tx;
                        out[dst..dst + w].copy_from_slice(&tile[r * tw..r * tw + w]);
                    }
                }
            }
        }
        Ok(())
    }

    fn inflate(&self, src: &[u8], want: usize, buf: &mut Vec<u8>, path: &Path, chunk: usize) -> Result<(), ImagingError> {
        let fail = |what: String| ImagingError::Corrupt { path: path.to_path_buf(), reason: format!("chunk {chunk}: {what}") };
        buf.clear();
        match self.compression {
            Compression::None => buf.extend_from_slice(src),
            Compression::Deflate => {
                flate2::read::ZlibDecoder::new(src)
                    .take(want as u64)
                    .read_to_end(buf)
                    .map_err(|e| fail(format!("deflate data is corrupt: {e}")))?;
            }
            Compression::Lzw => {
                let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
                let r = dec.into_vec(buf).decode(src);
                if let Err(e) = r.status {
                    return Err(fail(format!("LZW data is corrupt: {e}")));
                }
            }
            Compression::PackBits => unpack_bits(src, want, buf),
        }
        if buf.len() < want {
            return Err(fail(format!("decodes to {} bytes, expected {want}", buf.len())));
        }
        Ok(())
    }

    /// Undo TIFF predictors in place: 2 = horizontal differencing, 3 = floating-point (byte-shuffled) differencing.
    fn unpredict(&self, buf: &mut [u8], width: usize, rows: usize, little: bool) {
        let bps = self.dtype.size();
        let row_bytes = width * bps;
        match self.predictor {
            2 => {
                for row in buf.chunks_mut(row_bytes).take(rows) {
                    match bps {
                        1 => (1..row.len()).for_each(|i| row[i] = row[i].wrapping_add(row[i - 1])),
                        2 => {
                            let rd = |b: &[u8]| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) };
                            for i in 1..width {
                                let v = rd(&row[2 * i..]).wrapping_add(rd(&row[2 * i - 2..]));
                                let b = if little { v.to_le_bytes() } else { v.to_be_bytes() };
                                row[2 * i..2 * i + 2].copy_from_slice(&b);
                            }
                        }
                        _ => {
                            let rd = |b: &[u8]| {
                                let a = [b[0], b[1], b[2], b[3]];
                                if little { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
                            };
                            for i in 1..width {
                                let v = rd(&row[4 * i..]).wrapping_add(rd(&row[4 * i - 4..]));
                                let b = if little { v.to_le_bytes() } else { v.to_be_bytes() };
                                row[4 * i..4 * i + 4].copy_from_slice(&b);
                            }
                        }
                    }
                }
            }
            3 => {
                let mut tmp = vec![0u8; row_bytes];
                for row in buf.chunks_mut(row_bytes).take(rows) {
                    for i in 1..row.len() {
                        row[i] = row[i].wrapping_add(row[i - 1]);
                    }
                    // Bytes are stored most significant first, plane by plane; rebuild native-order samples.
                    for i in 0..width {
                        for b in 0..bps {
                            let src = row[b * width + i];
                            let dst = if little { bps - 1 - b } else { b };
                            tmp[i * bps + dst] = src;
                        }
                    }
                    row.copy_from_slice(&tmp);
                }
            }
            _ => {}
        }
    }
}

fn unpack_bits(src: &[u8], want: usize, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < src.len() && out.len() < want {
        let n = src[i] as i8;
        i += 1;
        if n >= 0 {
            let len = (n as usize + 1).min(src.len() - i);
            out.extend_from_slice(&src[i..i + len]);
            i += len;
        } else if n != -128 && i < src.len() {
            out.extend(std::iter::repeat_n(src[i], (1 - n as isize) as usize));
            i += 1;
        }
    }
}

/// Raw samples -> f32.
pub(crate) fn convert(src: &[u8], dtype: Dtype, little: bool, out: &mut [f32]) {
    match (dtype, little) {
        (Dtype::U8, _) => out.iter_mut().zip(src).for_each(|(o, &v)| *o = f32::from(v)),
        (Dtype::U16, true) => out.iter_mut().zip(src.chunks_exact(2)).for_each(|(o, c)| *o = f32::from(u16::from_le_bytes([c[0], c[1]]))),
        (Dtype::U16, false) => out.iter_mut().zip(src.chunks_exact(2)).for_each(|(o, c)| *o = f32::from(u16::from_be_bytes([c[0], c[1]]))),
        (Dtype::I16, true) => out.iter_mut().zip(src.chunks_exact(2)).for_each(|(o, c)| *o = f32::from(i16::from_le_bytes([c[0], c[1]]))),
        (Dtype::I16, false) => out.iter_mut().zip(src.chunks_exact(2)).for_each(|(o, c)| *o = f32::from(i16::from_be_bytes([c[0], c[1]]))),
        (Dtype::F32, true) => out.iter_mut().zip(src.chunks_exact(4)).for_each(|(o, c)| *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        (Dtype::F32, false) => out.iter_mut().zip(src.chunks_exact(4)).for_each(|(o, c)| *o = f32::from_be_bytes([c[0], c[1], c[2], c[3]])),
    }
}
