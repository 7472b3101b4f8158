//! Stimulus maps: named periods per stimulus type, in frames, with CSV import and export.
//!
//! A project declares stimulus types (its "stimulus type columns", e.g. `ori`, `sf`); a sample maps each type to a
//! list of periods `name, start, end, color`. Times are stored in the map's unit (frames, as the original supports
//! properly; seconds are accepted and converted with the recording's fps).

mod csv;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use csv::{export_csv, import_csv, parse_csv, split_csv_line};

/// Failures reading, writing or converting stimulus maps; each names the file or map concerned.
#[derive(Debug, thiserror::Error)]
pub enum StimulusError {
    /// The CSV could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The CSV is malformed (missing column, bad number, bad colour).
    #[error("{path}: {msg}")]
    BadCsv {
        /// File concerned.
        path: String,
        /// What is wrong, with the line number.
        msg: String,
    },
    /// A period or map is inconsistent (end before start, NaN, seconds without fps).
    #[error("stimulus map '{stim_type}': {msg}")]
    BadMap {
        /// Stimulus type of the map.
        stim_type: String,
        /// What is wrong.
        msg: String,
    },
}

/// Unit of a map's `start`/`end`; analysis works in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Frame indices (volumes for 3D data).
    #[default]
    Frames,
    /// Seconds from the first frame.
    Seconds,
}

/// One stimulus or behavioural period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimPeriod {
    /// Stimulus name (always text, as the original requires).
    pub name: String,
    /// Start, in the map's unit.
    pub start: f64,
    /// End, in the map's unit.
    pub end: f64,
    /// RGBA colour (0-255) for drawing the period on the timeline.
    pub color: [u8; 4],
}

/// All periods of one stimulus type in one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimulusMap {
    /// Unit of the periods' times.
    #[serde(default)]
    pub units: TimeUnit,
    /// Periods, sorted by start.
    pub periods: Vec<StimPeriod>,
}

impl StimulusMap {
    /// A map in frames from periods, sorted by start, after checking them.
    pub fn new(stim_type: &str, units: TimeUnit, mut periods: Vec<StimPeriod>) -> Result<Self, StimulusError> {
        for p in &periods {
            if !p.start.is_finite() || !p.end.is_finite() {
                return Err(bad(stim_type, format!("period '{}' has a non-finite start or end", p.name)));
            }
            if p.end < p.start {
                return Err(bad(stim_type, format!("period '{}' ends ({}) before it starts ({})", p.name, p.end, p.start)));
            }
        }
        periods.sort_by(|a, b| a.start.total_cmp(&b.start));
        Ok(Self { units, periods })
    }

    /// The same map in frames (seconds are multiplied by `fps`); analysis nodes work on this.
    pub fn in_frames(&self, stim_type: &str, fps: Option<f64>) -> Result<StimulusMap, StimulusError> {
        match self.units {
            TimeUnit::Frames => Ok(self.clone()),
            TimeUnit::Seconds => {
                let fps = fps
                    .filter(|f| f.is_finite() && *f > 0.0)
                    .ok_or_else(|| bad(stim_type, "times are in seconds but the recording has no frame rate (fps)".into()))?;
                let periods = self
                    .periods
                    .iter()
                    .map(|p| StimPeriod { start: p.start * fps, end: p.end * fps, ..p.clone() })
                    .collect();
                Ok(StimulusMap { units: TimeUnit::Frames, periods })
            }
        }
    }

    /// Sorted unique stimulus names: what the project DataFrame lists in this type's column.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.periods.iter().map(|p| p.name.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Stimulus maps of a sample, keyed by stimulus type.
pub type StimulusMaps = BTreeMap<String, StimulusMap>;

/// Read a map from a CSV file for `stim_type` (see [`import_csv`]) and check it.
pub fn load_map(path: &Path, stim_type: &str, units: TimeUnit) -> Result<StimulusMap, StimulusError> {
    let periods = import_csv(path, stim_type)?;
    StimulusMap::new(stim_type, units, periods)
}

fn bad(stim_type: &str, msg: String) -> StimulusError {
    StimulusError::BadMap { stim_type: stim_type.to_string(), msg }
}

/// Matplotlib's `tab10` with alpha 0.6, the original's default colours for stimulus names (sorted order).
pub fn tab10_color(i: usize) -> [u8; 4] {
    const TAB10: [[u8; 3]; 10] = [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ];
    let [r, g, b] = TAB10[i % 10];
    [r, g, b, 153]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, start: f64, end: f64) -> StimPeriod {
        StimPeriod { name: name.into(), start, end, color: [0, 0, 0, 255] }
    }

    #[test]
    fn periods_are_sorted_and_checked() {
        let m = StimulusMap::new("ori", TimeUnit::Frames, vec![p("b", 10.0, 20.0), p("a", 0.0, 5.0)]).expect("map");
        assert_eq!(m.periods[0].name, "a");
        assert_eq!(m.names(), vec!["a".to_string(), "b".to_string()]);
        let e = StimulusMap::new("ori", TimeUnit::Frames, vec![p("x", 5.0, 1.0)]).expect_err("end before start");
        assert!(e.to_string().contains("ori") && e.to_string().contains("'x'"), "{e}");
        assert!(StimulusMap::new("ori", TimeUnit::Frames, vec![p("x", f64::NAN, 1.0)]).is_err());
    }

    #[test]
    fn seconds_convert_with_fps() {
        let m = StimulusMap::new("s", TimeUnit::Seconds, vec![p("a", 1.5, 2.0)]).expect("map");
        let f = m.in_frames("s", Some(10.0)).expect("frames");
        assert_eq!((f.periods[0].start, f.periods[0].end, f.units), (15.0, 20.0, TimeUnit::Frames));
        assert!(m.in_frames("s", None).expect_err("no fps").to_string().contains("fps"));
    }
}
