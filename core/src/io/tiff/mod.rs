//! TIFF / BigTIFF stacks: the page index is read once at open, planes are decoded on demand (straight from the
//! memory map when uncompressed and contiguous). Classic and BigTIFF, strips and tiles, uncompressed / LZW /
//! deflate / PackBits, ImageJ hyperstacks (including >4 GB files with a single IFD), tifffile's JSON-shaped
//! series and single-file OME-TIFF.

mod ifd;
mod mapping;
mod page;
mod series;
mod writer;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

pub use writer::{write_sidecar, TiffWriter, WriteReport};

use self::ifd::{tag, Cursor};
use self::mapping::Mapping;
use self::page::Page;
use self::series::{Series, SeriesKind};
use crate::imaging::{Axes, Dtype, ImagingError, OpenOptions, PlaneSource, StackShape};
use crate::io::meta::EmbeddedMeta;

/// Pages of the series: listed one by one, or computed for ImageJ's contiguous layout.
enum PageTable {
    Listed(Vec<Page>),
    /// ImageJ-style: `count` planes laid end to end after the first page's data.
    Contiguous { first: Page, start: u64, count: usize },
    /// Pages written at a fixed stride (IFD and data alike), as tifffile and our writer do: page k >= 1 has its
    /// IFD at `ifd1 + (k - 1) * stride` (page 0 differs: it carries the description). Only a few pages are
    /// parsed at open, so a 20 GB file opens at once; each page's IFD is parsed (and checked) when it is read.
    Strided { first: Page, second: Page, ifd1: u64, stride: u64, count: usize },
}

impl PageTable {
    fn len(&self) -> usize {
        match self {
            Self::Listed(p) => p.len(),
            Self::Contiguous { count, .. } | Self::Strided { count, .. } => *count,
        }
    }

    fn first(&self) -> &Page {
        match self {
            Self::Listed(p) => &p[0],
            Self::Contiguous { first, .. } | Self::Strided { first, .. } => first,
        }
    }
}

/// Whether `p` is page `k` of a layout whose page 0 is `p0` and whose pages repeat every `stride` bytes.
fn fits_stride(p0: &Page, p: &Page, k: u64, stride: u64) -> bool {
    p.same_kind(p0)
        && p.chunks.len() == p0.chunks.len()
        && p.chunks.iter().zip(&p0.chunks).all(|(a, b)| a.1 == b.1 && a.0 == b.0 + k * stride)
}

/// An opened TIFF stack.
pub struct TiffStack {
    path: PathBuf,
    map: memmap2::Mmap,
    little: bool,
    big_tiff: bool,
    pages: PageTable,
    mapping: Mapping,
    dtype: Dtype,
    kind: SeriesKind,
    embedded: EmbeddedMeta,
    /// Every page, walked from the IFD chain, if a strided table turned out not to hold.
    walked: std::sync::OnceLock<Result<Vec<Page>, String>>,
}

#[allow(unsafe_code)]
fn map_file(path: &Path) -> Result<memmap2::Mmap, ImagingError> {
    let file = File::open(path).map_err(|e| ImagingError::io(path, e))?;
    let len = file.metadata().map_err(|e| ImagingError::io(path, e))?.len();
    if len < 8 {
        return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: format!("the file is {len} bytes long, too short for a TIFF") });
    }
    // SAFETY: the map is read-only and private to this process. If another program truncates the file while it
    // is open the OS may signal on access; that is the documented risk of reading memory-mapped files, accepted
    // here for reading speed (we never write through the map).
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| ImagingError::io(path, e))
}

/// Drop a range of the read-only map from this process's resident set.
#[cfg(unix)]
#[allow(unsafe_code)]
fn release_pages(map: &memmap2::Mmap, offset: usize, len: usize) {
    // SAFETY: the map is a private, read-only mapping of a file we never write through; MADV_DONTNEED on such a
    // mapping only drops our page-table entries, and the next access faults the same bytes back in from the file,
    // so any slice still pointing into the range keeps seeing identical contents.
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
}

#[cfg(not(unix))]
fn release_pages(_map: &memmap2::Mmap, _offset: usize, _len: usize) {}

impl TiffStack {
    /// Open lazily: reads the header, the IFD chain and page 0's description, never the pixel data.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, ImagingError> {
        let map = map_file(path)?;
        let (cursor, first) = Cursor::new(&map, path)?;
        let first_ifd = cursor.ifd(first)?;
        let page0 = Page::parse(&cursor, &first_ifd, 0)?;
        let description = first_ifd.entries.get(&tag::IMAGE_DESCRIPTION).map(|e| cursor.ascii(e)).transpose()?;
        let mut series = series::interpret(path, description.as_deref())?;
        let pages = Self::index_pages(&cursor, first, first_ifd.next, page0, &series)?;
        if series.kind == SeriesKind::Plain {
            series.leading = if pages.len() > 1 { vec![pages.len()] } else { Vec::new() };
        }
        let needed = series.pages();
        if pages.len() < needed {
            return Err(ImagingError::Truncated {
                path: path.to_path_buf(),
                reason: format!("the {} description promises {needed} pages but the file has {}", series.kind.name(), pages.len()),
            });
        }
        let (dims, axes) = Self::resolve_axes(path, &series, &pages, opts)?;
        let mapping = Mapping::new(path, dims, &axes, opts.channel)?;
        let dtype = pages.first().dtype;
        let embedded = EmbeddedMeta { ome_xml: series.ome_xml.clone(), imagej_fps: series.fps };
        Ok(Self {
            path: path.to_path_buf(),
            little: cursor.little,
            big_tiff: cursor.big_tiff,
            map,
            pages,
            mapping,
            dtype,
            kind: series.kind,
            embedded,
            walked: std::sync::OnceLock::new(),
        })
    }

    fn index_pages(c: &Cursor<'_>, first: u64, mut next: u64, page0: Page, series: &Series) -> Result<PageTable, ImagingError> {
        let path = c.path;
        // ImageJ writes planes end to end; files over 4 GB have a single IFD. Use that layout when the second
        // page (if any) sits right after the first.
        if series.kind == SeriesKind::ImageJ && series.pages() > 1 {
            if let Some((start, bytes)) = page0.contiguous_range() {
                let follows = if next == 0 {
                    true
                } else {
                    let p1 = Page::parse(c, &c.ifd(next)?, 1)?;
                    p1.contiguous_range().is_some_and(|(s, _)| s == start + bytes) && p1.same_kind(&page0)
                };
                if follows {
                    let count = series.pages();
                    let end = start + bytes * count as u64;
                    if end > c.data.len() as u64 {
                        return Err(ImagingError::Truncated {
                            path: path.to_path_buf(),
                            reason: format!(
                                "the ImageJ description promises {count} planes ({end} bytes) but the file has {} bytes",
                                c.data.len()
                            ),
                        });
                    }
                    return Ok(PageTable::Contiguous { first: page0, start, count });
                }
            }
        }
        if matches!(series.kind, SeriesKind::Tifffile | SeriesKind::Ome) && series.pages() >= 4 && next != 0 {
            if let Some(table) = Self::strided(c, next, &page0, series.pages())? {
                return Ok(table);
            }
        }
        // Plain multi-page files (most acquisition software) say nothing about their length: if pages follow a fixed
        // stride, the last one the file can hold must end the IFD chain, which gives the count without a walk.
        if series.kind == SeriesKind::Plain && next != 0 {
            if let Some(count) = Self::plain_count(c, next) {
                if count >= 4 {
                    if let Some(table) = Self::strided(c, next, &page0, count)? {
                        return Ok(table);
                    }
                }
            }
        }
        let limit = match series.kind {
            SeriesKind::Plain => usize::MAX,
            _ => series.pages().max(1),
        };
        let mut pages = vec![page0];
        let mut seen = HashSet::from([first]);
        while next != 0 && pages.len() < limit {
            if !seen.insert(next) {
                return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: format!("the IFD chain loops back to byte {next}") });
            }
            let ifd = c.ifd(next)?;
            let page = Page::parse(c, &ifd, pages.len())?;
            if !page.same_kind(&pages[0]) {
                if series.kind == SeriesKind::Plain {
                    // A thumbnail or a second series: the movie is the run of pages like the first.
                    break;
                }
                return Err(ImagingError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!(
                        "page {} is {}x{} {} but page 0 is {}x{} {}",
                        pages.len(),
                        page.width,
                        page.height,
                        page.dtype.name(),
                        pages[0].width,
                        pages[0].height,
                        pages[0].dtype.name()
                    ),
                });
            }
            pages.push(page);
            next = ifd.next;
        }
        Ok(PageTable::Listed(pages))
    }

    /// A strided table when pages 1, 2 and the last one sit where a fixed stride puts them.
    fn strided(c: &Cursor<'_>, ifd1: u64, page0: &Page, count: usize) -> Result<Option<PageTable>, ImagingError> {
        let Ok(ifd) = c.ifd(ifd1) else { return Ok(None) };
        let Ok(second) = Page::parse(c, &ifd, 1) else { return Ok(None) };
        let Some(stride) = ifd.next.checked_sub(ifd1).filter(|&s| s > 0) else { return Ok(None) };
        if !second.same_kind(page0) {
            return Ok(None);
        }
        // Check page 2 and the last page where the stride puts them.
        for k in [2, count as u64 - 1] {
            let Some(at) = (k - 1).checked_mul(stride).and_then(|o| o.checked_add(ifd1)) else { return Ok(None) };
            if at >= c.data.len() as u64 {
                // The last page is missing: let the chain walk report exactly what is there.
                return Ok(None);
            }
            let Ok(ifd) = c.ifd(at) else { return Ok(None) };
            let Ok(p) = Page::parse(c, &ifd, k as usize) else { return Ok(None) };
            if !fits_stride(&second, &p, k - 1, stride) {
                return Ok(None);
            }
        }
        Ok(Some(PageTable::Strided { first: page0.clone(), second, ifd1, stride, count }))
    }

    /// Page count of a plain file laid out at a fixed stride: the last IFD that fits in the file must end the chain.
    fn plain_count(c: &Cursor<'_>, ifd1: u64) -> Option<usize> {
        let stride = c.ifd(ifd1).ok()?.next.checked_sub(ifd1).filter(|&s| s > 0)?;
        let len = c.data.len() as u64;
        let last = (len.checked_sub(ifd1)?.saturating_sub(1)) / stride; // pages after page 1
        let at = ifd1 + last * stride;
        let ifd = c.ifd(at).ok()?;
        (ifd.next == 0).then_some(last as usize + 2)
    }

    /// The logical array's dims and axes: the file's own, or the user's axes option (which must fit the data).
    fn resolve_axes(path: &Path, series: &Series, pages: &PageTable, opts: &OpenOptions) -> Result<(Vec<usize>, Axes), ImagingError> {
        let p0 = pages.first();
        let mut dims = series.leading.clone();
        dims.extend([p0.height, p0.width]);
        let axes_err = |reason: String| ImagingError::Axes { path: path.to_path_buf(), reason };
        let Some(user) = &opts.axes else {
            let axes = match &series.axes {
                Some(a) => a.clone(),
                None => {
                    let guess = match dims.len() {
                        2 => "yx",
                        3 => "tyx",
                        4 => "tzyx",
                        5 => "tzcyx",
                        n => return Err(axes_err(format!("{n}-dimensional data {dims:?} with no axes metadata; give the axes order"))),
                    };
                    guess.parse().map_err(axes_err)?
                }
            };
            return Ok((dims, axes));
        };
        if user.len() == dims.len() {
            return Ok((dims, user.clone()));
        }
        // A flat run of pages can be reshaped into the axes asked for, given the plane count for volumes.
        if series.leading.len() == 1 && user.len() == 4 && user.has_z() {
            let n = series.leading[0];
            let planes = opts.planes.ok_or_else(|| {
                axes_err(format!("axes '{user}' need the number of z planes for a flat stack of {n} pages (give --planes)"))
            })?;
            if planes == 0 || n % planes != 0 {
                return Err(axes_err(format!("{n} pages do not divide into volumes of {planes} planes")));
            }
            let (zi, ti) = (user.position(crate::imaging::Axis::Z), user.position(crate::imaging::Axis::T));
            let mut d = vec![n / planes, planes];
            if zi < ti {
                d.swap(0, 1);
            }
            d.extend([p0.height, p0.width]);
            return Ok((d, user.clone()));
        }
        Err(axes_err(format!(
            "axes '{user}' have {} letters but the file's array has {} dimensions {:?}",
            user.len(),
            dims.len(),
            dims
        )))
    }

    /// Canonical shape.
    pub fn shape(&self) -> StackShape {
        self.mapping.shape()
    }
    /// On-disk dtype.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// Metadata found inside the file.
    pub fn embedded(&self) -> &EmbeddedMeta {
        &self.embedded
    }

    fn page(&self, i: usize) -> Result<std::borrow::Cow<'_, Page>, ImagingError> {
        if let Some(walked) = self.walked.get() {
            let pages = walked.as_ref().map_err(|reason| ImagingError::Corrupt { path: self.path.clone(), reason: reason.clone() })?;
            return pages
                .get(i)
                .map(std::borrow::Cow::Borrowed)
                .ok_or_else(|| ImagingError::Corrupt { path: self.path.clone(), reason: format!("page {i} is missing from the IFD chain") });
        }
        match &self.pages {
            PageTable::Strided { first, .. } if i == 0 => return Ok(std::borrow::Cow::Borrowed(first)),
            PageTable::Strided { second, ifd1, stride, count, .. } if i < *count => {
                let c = Cursor { data: &self.map, little: self.little, big_tiff: self.big_tiff, path: &self.path };
                let k = i as u64 - 1;
                let at = ifd1 + k * stride;
                let page = c.ifd(at).and_then(|ifd| Page::parse(&c, &ifd, i)).ok().filter(|p| fits_stride(second, p, k, *stride));
                return match page {
                    Some(p) => Ok(std::borrow::Cow::Owned(p)),
                    None => {
                        tracing::debug!("{}: page {i} breaks the regular layout; walking the IFD chain", self.path.display());
                        let _ = self.walked.set(self.walk_all(*count));
                        self.page(i)
                    }
                };
            }
            PageTable::Listed(p) => p.get(i).map(std::borrow::Cow::Borrowed),
            PageTable::Strided { .. } => None,
            PageTable::Contiguous { first, start, count } => (i < *count).then(|| {
                let mut p = first.clone();
                p.chunks = vec![(start + i as u64 * first.plane_bytes(), first.plane_bytes())];
                std::borrow::Cow::Owned(p)
            }),
        }
        .ok_or_else(|| ImagingError::OutOfRange { what: format!("page {i} of {}", self.path.display()) })
    }

    /// Walk the whole IFD chain (fallback when a strided layout does not hold).
    fn walk_all(&self, count: usize) -> Result<Vec<Page>, String> {
        let (c, mut next) = Cursor::new(&self.map, &self.path).map_err(|e| e.to_string())?;
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        while next != 0 && pages.len() < count {
            if !seen.insert(next) {
                return Err(format!("the IFD chain loops back to byte {next}"));
            }
            let ifd = c.ifd(next).map_err(|e| e.to_string())?;
            pages.push(Page::parse(&c, &ifd, pages.len()).map_err(|e| e.to_string())?);
            next = ifd.next;
        }
        Ok(pages)
    }

    fn decode_page(&self, i: usize, out: &mut [f32]) -> Result<(), ImagingError> {
        self.page(i)?.decode(&self.map, self.little, &self.path, out)
    }
}

impl PlaneSource for TiffStack {
    fn read_plane(&self, t: usize, z: usize, out: &mut [f32]) -> Result<(), ImagingError> {
        let m = &self.mapping;
        match m.direct_page(t, z) {
            Some((page, false)) => self.decode_page(page, out),
            Some((page, true)) => {
                let mut tmp = vec![0.0f32; out.len()];
                self.decode_page(page, &mut tmp)?;
                m.transpose_into(&tmp, out);
                Ok(())
            }
            None => {
                let mut cache: HashMap<usize, Vec<f32>> = HashMap::new();
                let page_len = m.page_len();
                for (k, (page, offset)) in m.gather(t, z).enumerate() {
                    if !cache.contains_key(&page) {
                        let mut buf = vec![0.0f32; page_len];
                        self.decode_page(page, &mut buf)?;
                        cache.insert(page, buf);
                    }
                    out[k] = cache[&page][offset];
                }
                Ok(())
            }
        }
    }

    fn release(&self, t: usize, z: usize) {
        let Some((page, _)) = self.mapping.direct_page(t, z) else { return };
        let Ok(p) = self.page(page) else { return };
        let Some((start, len)) = p.contiguous_range() else { return };
        const PAGE: u64 = 4096;
        let begin = start / PAGE * PAGE;
        let end = (start + len).div_ceil(PAGE).saturating_mul(PAGE).min(self.map.len() as u64);
        if end > begin {
            release_pages(&self.map, begin as usize, (end - begin) as usize);
        }
    }

    fn access(&self) -> String {
        let p0 = self.page(0).ok();
        let how = match p0.as_deref() {
            Some(p) if p.contiguous_range().is_some() => "memory-mapped".to_string(),
            Some(p) => format!("streamed ({})", p.compression_name()),
            None => "empty".into(),
        };
        format!("{how}, {} series, {} pages", self.kind.name(), self.pages.len())
    }
}
