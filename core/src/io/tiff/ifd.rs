//! Low-level TIFF/BigTIFF structure: the header, IFD entries and their values, read with bounds checks from the
//! memory-mapped file so that a corrupt or truncated file gives an error, never a panic.

use std::collections::HashMap;
use std::path::Path;

use crate::imaging::ImagingError;

/// Tags we read.
pub(crate) mod tag {
    pub const IMAGE_WIDTH: u16 = 256;
    pub const IMAGE_LENGTH: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const IMAGE_DESCRIPTION: u16 = 270;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const ROWS_PER_STRIP: u16 = 278;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const PREDICTOR: u16 = 317;
    pub const TILE_WIDTH: u16 = 322;
    pub const TILE_LENGTH: u16 = 323;
    pub const TILE_OFFSETS: u16 = 324;
    pub const TILE_BYTE_COUNTS: u16 = 325;
    pub const SAMPLE_FORMAT: u16 = 339;
}

/// Byte order and flavour of a file, plus bounds-checked access to its bytes.
pub(crate) struct Cursor<'a> {
    pub data: &'a [u8],
    pub little: bool,
    pub big_tiff: bool,
    pub path: &'a Path,
}

/// One IFD entry: tag, field type, count and where its value lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    typ: u16,
    count: u64,
    /// File offset of the value bytes (inline values point into the entry itself).
    value_at: u64,
}

/// One parsed IFD.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ifd {
    pub entries: HashMap<u16, Entry>,
    pub next: u64,
}

fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

impl<'a> Cursor<'a> {
    /// Check the header; returns the cursor and the first IFD offset.
    pub fn new(data: &'a [u8], path: &'a Path) -> Result<(Self, u64), ImagingError> {
        let corrupt = |reason: String| ImagingError::Corrupt { path: path.to_path_buf(), reason };
        if data.len() < 8 {
            return Err(corrupt(format!("the file is {} bytes long, too short for a TIFF header", data.len())));
        }
        let little = match &data[..2] {
            b"II" => true,
            b"MM" => false,
            _ => return Err(corrupt("no TIFF byte-order mark (II or MM) at the start".into())),
        };
        let mut c = Self { data, little, big_tiff: false, path };
        let first = match c.u16(2)? {
            42 => u64::from(c.u32(4)?),
            43 => {
                c.big_tiff = true;
                if c.u16(4)? != 8 {
                    return Err(corrupt("BigTIFF header with an offset size other than 8".into()));
                }
                c.u64(8)?
            }
            v => return Err(corrupt(format!("TIFF version {v} (expected 42, or 43 for BigTIFF)"))),
        };
        Ok((c, first))
    }

    fn bytes(&self, at: u64, len: u64) -> Result<&'a [u8], ImagingError> {
        let end = at.checked_add(len).filter(|&e| e <= self.data.len() as u64);
        match end {
            Some(end) => Ok(&self.data[at as usize..end as usize]),
            None => Err(ImagingError::Truncated {
                path: self.path.to_path_buf(),
                reason: format!("needs bytes {at}..{} but the file has {}", at.saturating_add(len), self.data.len()),
            }),
        }
    }

    pub fn u16(&self, at: u64) -> Result<u16, ImagingError> {
        let b = self.bytes(at, 2)?;
        Ok(if self.little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    }
    pub fn u32(&self, at: u64) -> Result<u32, ImagingError> {
        let b: [u8; 4] = self.bytes(at, 4)?.try_into().unwrap_or_default();
        Ok(if self.little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }
    pub fn u64(&self, at: u64) -> Result<u64, ImagingError> {
        let b: [u8; 8] = self.bytes(at, 8)?.try_into().unwrap_or_default();
        Ok(if self.little { u64::from_le_bytes(b) } else { u64::from_be_bytes(b) })
    }

    /// Parse the IFD at `at`.
    pub fn ifd(&self, at: u64) -> Result<Ifd, ImagingError> {
        let (count, entry_size, head) = if self.big_tiff { (self.u64(at)?, 20u64, 8u64) } else { (u64::from(self.u16(at)?), 12, 2) };
        if count == 0 || count > 4096 {
            return Err(ImagingError::Corrupt {
                path: self.path.to_path_buf(),
                reason: format!("IFD at byte {at} claims {count} entries"),
            });
        }
        let inline = if self.big_tiff { 8 } else { 4 };
        let mut entries = HashMap::with_capacity(count as usize);
        for i in 0..count {
            let e = at + head + i * entry_size;
            let tag = self.u16(e)?;
            let typ = self.u16(e + 2)?;
            let (n, value_field) =
                if self.big_tiff { (self.u64(e + 4)?, e + 12) } else { (u64::from(self.u32(e + 4)?), e + 8) };
            let Some(size) = type_size(typ) else { continue };
            let total = size.saturating_mul(n);
            let value_at = if total <= inline {
                value_field
            } else if self.big_tiff {
                self.u64(value_field)?
            } else {
                u64::from(self.u32(value_field)?)
            };
            entries.insert(tag, Entry { typ, count: n, value_at });
        }
        let next_at = at + head + count * entry_size;
        let next = if self.big_tiff { self.u64(next_at)? } else { u64::from(self.u32(next_at)?) };
        Ok(Ifd { entries, next })
    }

    /// All values of an integer-typed entry.
    pub fn uints(&self, e: &Entry) -> Result<Vec<u64>, ImagingError> {
        let size = type_size(e.typ).unwrap_or(1);
        self.bytes(e.value_at, size.saturating_mul(e.count))?;
        (0..e.count)
            .map(|i| {
                let at = e.value_at + i * size;
                Ok(match e.typ {
                    1 | 6 | 7 => u64::from(self.data[at as usize]),
                    3 | 8 => u64::from(self.u16(at)?),
                    4 | 9 | 13 => u64::from(self.u32(at)?),
                    16 | 17 | 18 => self.u64(at)?,
                    _ => {
                        return Err(ImagingError::Corrupt {
                            path: self.path.to_path_buf(),
                            reason: format!("expected an integer field, found TIFF type {}", e.typ),
                        });
                    }
                })
            })
            .collect()
    }

    /// First value of an integer entry.
    pub fn uint(&self, e: &Entry) -> Result<u64, ImagingError> {
        self.uints(e)?.first().copied().ok_or_else(|| ImagingError::Corrupt {
            path: self.path.to_path_buf(),
            reason: "an integer field has no values".into(),
        })
    }

    /// An ASCII entry as a string (trailing NULs removed; invalid UTF-8 replaced).
    pub fn ascii(&self, e: &Entry) -> Result<String, ImagingError> {
        let b = self.bytes(e.value_at, e.count)?;
        let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
        Ok(String::from_utf8_lossy(&b[..end]).into_owned())
    }
}
