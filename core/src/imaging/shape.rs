//! Stack geometry: the (t, [z,] y, x) shape every algorithm sees, and the element types files hold.

use serde::{Deserialize, Serialize};

/// Sample type as stored on disk; computation always happens in f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 8-bit unsigned.
    #[serde(rename = "uint8")]
    U8,
    /// 16-bit unsigned, the usual camera format.
    #[serde(rename = "uint16")]
    U16,
    /// 16-bit signed (some scanners).
    #[serde(rename = "int16")]
    I16,
    /// 32-bit float (processed movies).
    #[serde(rename = "float32")]
    F32,
}

impl Dtype {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::F32 => 4,
        }
    }
    /// numpy's name, as `mesmerize info` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::U8 => "uint8",
            Self::U16 => "uint16",
            Self::I16 => "int16",
            Self::F32 => "float32",
        }
    }
    /// Parse numpy's name (`uint16`) or the short form (`u16`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "uint8" | "u8" => Some(Self::U8),
            "uint16" | "u16" => Some(Self::U16),
            "int16" | "i16" => Some(Self::I16),
            "float32" | "f32" => Some(Self::F32),
            _ => None,
        }
    }
}

/// Shape of an image stack in our canonical order (t, z, y, x); `z == 1` and `volumetric == false` for 2D movies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackShape {
    /// Time points (frames, or volumes for 3D).
    pub t: usize,
    /// Planes per volume (1 for 2D movies).
    pub z: usize,
    /// Rows.
    pub y: usize,
    /// Columns.
    pub x: usize,
    /// True for (t, z, y, x) data, even when it has a single plane.
    pub volumetric: bool,
}

impl StackShape {
    /// A 2D movie (t, y, x).
    pub fn movie(t: usize, y: usize, x: usize) -> Self {
        Self { t, z: 1, y, x, volumetric: false }
    }
    /// A volume series (t, z, y, x).
    pub fn volume(t: usize, z: usize, y: usize, x: usize) -> Self {
        Self { t, z, y, x, volumetric: true }
    }
    /// Pixels in one plane.
    pub fn plane_len(&self) -> usize {
        self.y * self.x
    }
    /// Samples in one time point (a frame or a whole volume).
    pub fn frame_len(&self) -> usize {
        self.z * self.y * self.x
    }
    /// Planes in the whole stack.
    pub fn n_planes(&self) -> usize {
        self.t * self.z
    }
    /// Samples in the whole stack.
    pub fn len(&self) -> usize {
        self.t * self.frame_len()
    }
    /// True when the stack holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `"tyx"` or `"tzyx"`, as `mesmerize info` reports.
    pub fn axes(&self) -> &'static str {
        if self.volumetric { "tzyx" } else { "tyx" }
    }
    /// `[t, y, x]` or `[t, z, y, x]`.
    pub fn dims(&self) -> Vec<usize> {
        if self.volumetric { vec![self.t, self.z, self.y, self.x] } else { vec![self.t, self.y, self.x] }
    }
}
