//! Axes order of a file's array (`txy`, `tzyx`, `xyt`, ...) and its mapping onto our canonical (t, z, y, x).

use std::fmt;
use std::str::FromStr;

/// The order of the axes of a file's array as numpy/tifffile would return it, slowest-varying first.
///
/// Letters: `t` time, `z` depth, `c` channel, `y` rows, `x` columns (case-insensitive; tifffile's `Q`/`I`
/// "unknown" axes are read as `t`). `y` and `x` are required; each letter appears at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axes(Vec<Axis>);

/// One named axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Time (frames or volumes).
    T,
    /// Depth (planes of a volume).
    Z,
    /// Channel.
    C,
    /// Image rows.
    Y,
    /// Image columns.
    X,
}

impl Axis {
    fn letter(self) -> char {
        match self {
            Self::T => 't',
            Self::Z => 'z',
            Self::C => 'c',
            Self::Y => 'y',
            Self::X => 'x',
        }
    }
}

impl Axes {
    /// The axes in order.
    pub fn axes(&self) -> &[Axis] {
        &self.0
    }
    /// Number of axes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True for an empty axes list (never produced by parsing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Position of an axis, if present.
    pub fn position(&self, a: Axis) -> Option<usize> {
        self.0.iter().position(|&b| b == a)
    }
    /// Whether the axes describe volumes.
    pub fn has_z(&self) -> bool {
        self.position(Axis::Z).is_some()
    }

    /// Parse tifffile's / OME's axes string, mapping letters we do not model: `Q`, `I` (unknown, sequence) become
    /// `t` if there is no `T` yet; `S` (samples) of size 1 is dropped by the caller.
    pub fn from_file_axes(s: &str) -> Result<Self, String> {
        let has_t = s.chars().any(|c| c.eq_ignore_ascii_case(&'t'));
        let mapped: String = s
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                'q' | 'i' if !has_t => 't',
                other => other,
            })
            .collect();
        mapped.parse()
    }
}

impl FromStr for Axes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::new();
        for ch in s.trim().chars() {
            let a = match ch.to_ascii_lowercase() {
                't' => Axis::T,
                'z' => Axis::Z,
                'c' => Axis::C,
                'y' => Axis::Y,
                'x' => Axis::X,
                other => {
                    return Err(format!(
                        "axes '{s}': unknown axis letter '{other}' (use t, z, c, y and x, e.g. 'txy', 'tzyx', 'xyt')"
                    ));
                }
            };
            if out.contains(&a) {
                return Err(format!("axes '{s}': axis '{}' appears twice", a.letter()));
            }
            out.push(a);
        }
        if !out.contains(&Axis::Y) || !out.contains(&Axis::X) {
            return Err(format!("axes '{s}': both 'y' and 'x' are required"));
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Axes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.0 {
            write!(f, "{}", a.letter())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_orders() {
        for s in ["txy", "xyt", "tzyx", "tzxy", "TZCYX", "yx"] {
            let a: Axes = s.parse().expect(s);
            assert_eq!(a.to_string(), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn rejects_bad_orders() {
        assert!("tqx".parse::<Axes>().unwrap_err().contains("unknown axis letter 'q'"));
        assert!("ttyx".parse::<Axes>().unwrap_err().contains("appears twice"));
        assert!("tz".parse::<Axes>().unwrap_err().contains("required"));
    }

    #[test]
    fn tifffile_unknown_axes_become_time() {
        assert_eq!(Axes::from_file_axes("QYX").expect("qyx").to_string(), "tyx");
    }
}
