//! Simulation configuration: what kind of movie, its size, and every tunable of the generative model, with
//! per-kind defaults (documented with equations in docs/simulator.md).

use std::fmt;
use std::str::FromStr;

use super::SimError;

/// Imaging modality to simulate; decides the defaults and the background model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimKind {
    /// Two-photon: sparse, small, well separated somata over a weak background (CNMF's use case).
    TwoP,
    /// One-photon micro-endoscope: larger overlapping neurons under a strong, slowly varying background (CNMF-E).
    OneP,
    /// Volumetric two-photon: 3D somata in (z, y, x) volumes over time.
    ThreeD,
}

impl SimKind {
    /// Short name used on the command line and in truth files ("2p", "1p", "3d").
    pub fn name(self) -> &'static str {
        match self {
            Self::TwoP => "2p",
            Self::OneP => "1p",
            Self::ThreeD => "3d",
        }
    }
}

impl fmt::Display for SimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SimKind {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "2p" => Ok(Self::TwoP),
            "1p" => Ok(Self::OneP),
            "3d" => Ok(Self::ThreeD),
            _ => Err(SimError::Parse { what: "simulation kind", value: s.to_string(), expected: "2p, 1p, 3d" }),
        }
    }
}

/// Kind of brain motion applied to the movie (the truth records it exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MotionKind {
    /// No motion: every frame is aligned with the template.
    None,
    /// Rigid translation per frame: a sub-pixel random walk with occasional jumps.
    Rigid,
    /// Rigid translation plus a smooth non-rigid field defined on a coarse control grid (cubic B-spline).
    Piecewise,
}

impl MotionKind {
    /// Short name used on the command line and in truth files ("none", "rigid", "piecewise").
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Rigid => "rigid",
            Self::Piecewise => "piecewise",
        }
    }
}

impl fmt::Display for MotionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MotionKind {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "rigid" => Ok(Self::Rigid),
            "piecewise" | "pw" | "nonrigid" => Ok(Self::Piecewise),
            _ => Err(SimError::Parse { what: "motion kind", value: s.to_string(), expected: "none, rigid, piecewise" }),
        }
    }
}

/// Everything that defines a simulated movie; together with `seed` it determines the movie bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Modality (decides defaults and the background model).
    pub kind: SimKind,
    /// Columns (x) of each plane.
    pub width: usize,
    /// Rows (y) of each plane.
    pub height: usize,
    /// Planes per volume (1 for 2p/1p).
    pub planes: usize,
    /// Time points (frames, or volumes for 3d).
    pub frames: usize,
    /// Motion model.
    pub motion: MotionKind,
    /// Seed of every random stream.
    pub seed: u64,
    /// Frame (volume) rate in Hz, used for kinetics and firing rates.
    pub fps: f64,
    /// Number of neurons; `None` derives it from `area_per_neuron`.
    pub n_neurons: Option<usize>,
    /// Field-of-view area per neuron in px² (3d: px² per plane, times the number of planes) when `n_neurons` is None.
    pub area_per_neuron: f64,
    /// Mean lateral footprint Gaussian sigma (CaImAn's gSig), px.
    pub gsig: f64,
    /// Relative standard deviation of the per-neuron size around `gsig`.
    pub gsig_jitter: f64,
    /// Mean axial footprint sigma in planes (3d only).
    pub gsig_z: f64,
    /// Largest ratio between the major and minor sigma (1 = round somata).
    pub elongation: f64,
    /// Minimum distance between neuron centres, px (3d: z scaled by gsig / gsig_z).
    pub min_distance: f64,
    /// Lowest per-neuron mean firing rate, Hz.
    pub rate_min: f64,
    /// Highest per-neuron mean firing rate, Hz.
    pub rate_max: f64,
    /// Mean calcium rise time constant, s.
    pub tau_rise: f64,
    /// Mean calcium decay time constant, s.
    pub tau_decay: f64,
    /// Relative standard deviation of the per-neuron time constants.
    pub tau_jitter: f64,
    /// Mean peak fluorescence increase of one spike at the soma centre, camera counts.
    pub spike_amplitude: f64,
    /// Log-normal sigma of individual spike amplitudes around the neuron's mean.
    pub amplitude_cv: f64,
    /// Resting fluorescence F0 of a soma, in units of its mean single-spike amplitude (GCaMP somata are visible
    /// at rest: one spike is a ΔF/F of roughly 1 / baseline_ratio). Drawn per neuron within ±50 %.
    pub baseline_ratio: f64,
    /// Camera offset (dark level) added to every pixel, counts.
    pub offset: f64,
    /// Camera gain, counts per photon.
    pub gain: f64,
    /// Gaussian read-noise standard deviation, counts.
    pub read_noise: f64,
    /// Flat background level above the offset, counts.
    pub background_level: f64,
    /// Number of large smooth background Gaussians (neuropil / out-of-focus light), each fluctuating in time.
    pub background_blobs: usize,
    /// Peak amplitude of each smooth background Gaussian, counts.
    pub background_amplitude: f64,
    /// Sigma of the smooth background Gaussians as a fraction of the field-of-view size.
    pub background_sigma: f64,
    /// Relative amplitude of the slow temporal modulation of each smooth background component (0..1).
    pub background_fluctuation: f64,
    /// Peak of a static central vignetting Gaussian (sigma half the field of view), counts; 0 disables it.
    pub vignetting: f64,
    /// Number of blood-vessel-like dark tubes (1p).
    pub vessels: usize,
    /// Depth of the vessel shadows, counts (subtracted from the background).
    pub vessel_amplitude: f64,
    /// Gaussian sigma of the vessel cross-section, px.
    pub vessel_width: f64,
    /// Largest rigid displacement along each axis, px.
    pub max_shift: f64,
    /// Standard deviation of the per-frame random-walk step, px.
    pub shift_step: f64,
    /// Probability per frame of a sudden jump (up to max_shift / 2 per axis).
    pub jump_probability: f64,
    /// Standard scale of the non-rigid control-grid displacements, px (piecewise only).
    pub nonrigid_amplitude: f64,
    /// Spacing of the non-rigid control grid, px.
    pub grid_spacing: f64,
    /// Add shot and read noise (false gives the exact expected movie, for tests).
    pub noise: bool,
}

impl SimConfig {
    /// Defaults for a modality: 2p 256x256, 1000 frames, 30 Hz; 1p 256x256, 1000 frames, 20 Hz;
    /// 3d 128x128x10 planes, 200 volumes, 5 Hz. No motion, seed 0.
    pub fn new(kind: SimKind) -> Self {
        let base = Self {
            kind,
            width: 256,
            height: 256,
            planes: 1,
            frames: 1000,
            motion: MotionKind::None,
            seed: 0,
            fps: 30.0,
            n_neurons: None,
            area_per_neuron: 900.0,
            gsig: 3.5,
            gsig_jitter: 0.1,
            gsig_z: 1.0,
            elongation: 1.4,
            min_distance: 8.0,
            rate_min: 0.5,
            rate_max: 2.0,
            tau_rise: 0.07,
            tau_decay: 0.5,
            tau_jitter: 0.15,
            spike_amplitude: 60.0,
            amplitude_cv: 0.3,
            baseline_ratio: 3.0,
            offset: 100.0,
            gain: 2.0,
            read_noise: 2.0,
            background_level: 30.0,
            background_blobs: 3,
            background_amplitude: 10.0,
            background_sigma: 0.25,
            background_fluctuation: 0.2,
            vignetting: 0.0,
            vessels: 0,
            vessel_amplitude: 0.0,
            vessel_width: 2.5,
            max_shift: 6.0,
            shift_step: 0.3,
            jump_probability: 0.01,
            nonrigid_amplitude: 1.5,
            grid_spacing: 128.0,
            noise: true,
        };
        match kind {
            SimKind::TwoP => base,
            SimKind::OneP => Self {
                fps: 20.0,
                area_per_neuron: 625.0,
                gsig: 5.0,
                min_distance: 6.0,
                tau_rise: 0.1,
                tau_decay: 0.6,
                spike_amplitude: 100.0,
                baseline_ratio: 1.5,
                gain: 1.0,
                background_level: 600.0,
                background_blobs: 5,
                background_amplitude: 600.0,
                background_sigma: 0.3,
                background_fluctuation: 0.1,
                vignetting: 1000.0,
                vessels: 3,
                vessel_amplitude: 80.0,
                ..base
            },
            SimKind::ThreeD => Self {
                width: 128,
                height: 128,
                planes: 10,
                frames: 200,
                fps: 5.0,
                area_per_neuron: 2700.0,
                gsig: 3.0,
                gsig_z: 1.0,
                min_distance: 7.0,
                ..base
            },
        }
    }

    /// Number of neurons this configuration asks for (explicit, or from the density).
    pub fn target_neurons(&self) -> usize {
        self.n_neurons.unwrap_or_else(|| {
            let area = (self.width * self.height * self.planes.max(1)) as f64;
            (area / self.area_per_neuron).round().max(0.0) as usize
        })
    }

    /// Check every field, so that the generator never meets an impossible value.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidConfig(m));
        if self.width < 8 || self.height < 8 {
            return bad(format!("frame size {}x{} is below the 8x8 minimum", self.width, self.height));
        }
        if self.planes == 0 || self.frames == 0 {
            return bad("planes and frames must be at least 1".into());
        }
        if self.kind != SimKind::ThreeD && self.planes != 1 {
            return bad(format!("{} movies have one plane, not {}", self.kind, self.planes));
        }
        if self.width.checked_mul(self.height).and_then(|n| n.checked_mul(self.planes)).is_none_or(|n| n > 1 << 32) {
            return bad("frame too large".into());
        }
        let finite = [
            ("fps", self.fps),
            ("area_per_neuron", self.area_per_neuron),
            ("gsig", self.gsig),
            ("gsig_jitter", self.gsig_jitter),
            ("gsig_z", self.gsig_z),
            ("elongation", self.elongation),
            ("min_distance", self.min_distance),
            ("rate_min", self.rate_min),
            ("rate_max", self.rate_max),
            ("tau_rise", self.tau_rise),
            ("tau_decay", self.tau_decay),
            ("tau_jitter", self.tau_jitter),
            ("spike_amplitude", self.spike_amplitude),
            ("amplitude_cv", self.amplitude_cv),
            ("baseline_ratio", self.baseline_ratio),
            ("offset", self.offset),
            ("gain", self.gain),
            ("read_noise", self.read_noise),
            ("background_level", self.background_level),
            ("background_amplitude", self.background_amplitude),
            ("background_sigma", self.background_sigma),
            ("background_fluctuation", self.background_fluctuation),
            ("vignetting", self.vignetting),
            ("vessel_amplitude", self.vessel_amplitude),
            ("vessel_width", self.vessel_width),
            ("max_shift", self.max_shift),
            ("shift_step", self.shift_step),
            ("jump_probability", self.jump_probability),
            ("nonrigid_amplitude", self.nonrigid_amplitude),
            ("grid_spacing", self.grid_spacing),
        ];
        for (name, v) in finite {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{name} must be a finite, non-negative number (got {v})"));
            }
        }
        let positive = [
            ("fps", self.fps),
            ("area_per_neuron", self.area_per_neuron),
            ("gsig", self.gsig),
            ("gsig_z", self.gsig_z),
            ("tau_rise", self.tau_rise),
            ("tau_decay", self.tau_decay),
            ("gain", self.gain),
            ("background_sigma", self.background_sigma),
            ("vessel_width", self.vessel_width),
            ("grid_spacing", self.grid_spacing),
        ];
        for (name, v) in positive {
            if v <= 0.0 {
                return bad(format!("{name} must be positive (got {v})"));
            }
        }
        if self.elongation < 1.0 {
            return bad(format!("elongation must be >= 1 (got {})", self.elongation));
        }
        if self.rate_min > self.rate_max {
            return bad(format!("rate_min {} exceeds rate_max {}", self.rate_min, self.rate_max));
        }
        if self.tau_rise >= self.tau_decay {
            return bad(format!("tau_rise {} must be shorter than tau_decay {}", self.tau_rise, self.tau_decay));
        }
        if self.gsig_jitter >= 0.5 || self.tau_jitter >= 0.5 {
            return bad("gsig_jitter and tau_jitter must be below 0.5".into());
        }
        if self.background_fluctuation > 1.0 || self.jump_probability > 1.0 {
            return bad("background_fluctuation and jump_probability must be at most 1".into());
        }
        if self.vessel_amplitude > self.background_level + self.vignetting {
            return bad("vessel_amplitude exceeds the background it darkens (the movie would go negative)".into());
        }
        // The fixed-point inversion of the non-rigid map needs a contraction: |grad d| well below 1.
        if self.motion == MotionKind::Piecewise && 6.0 * self.nonrigid_amplitude > self.grid_spacing {
            return bad(format!(
                "grid_spacing {} must be at least 6 x nonrigid_amplitude {} so the warp stays invertible",
                self.grid_spacing, self.nonrigid_amplitude
            ));
        }
        Ok(())
    }
}
