//! Motion-correction parameters under CaImAn's names, read from a flat or grouped (`{"motion": {...}}`) JSON object,
//! so a CaImAn user's settings work unchanged. Unknown keys are reported, never silently ignored.

use serde_json::{Map, Value};

use super::RegistrationError;

/// How pixels whose source lies outside the frame are filled (CaImAn's `border_nan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BorderMode {
    /// `true`: NaN (float output) so later steps can ignore them.
    Nan,
    /// `false`: zero.
    Zero,
    /// `"copy"`: the nearest pixel inside the frame (CaImAn's default).
    Copy,
}

/// Parameters of NoRMCorre rigid and piecewise-rigid registration.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionParams {
    /// Largest shift searched, (y, x) px (`max_shifts`).
    pub max_shifts: (usize, usize),
    /// Template refinement passes of the rigid step (`niter_rig`).
    pub niter_rig: usize,
    /// Piecewise-rigid correction after the rigid step (`pw_rigid`).
    pub pw_rigid: bool,
    /// Patch stride (y, x) px (`strides`); patches are `strides + overlaps` wide.
    pub strides: (usize, usize),
    /// Patch overlap (y, x) px (`overlaps`).
    pub overlaps: (usize, usize),
    /// Largest deviation of a patch's shift from the frame's rigid shift, px (`max_deviation_rigid`).
    pub max_deviation_rigid: usize,
    /// Refinement of the patch-shift grid before it is interpolated to pixels (`upsample_factor_grid`).
    pub upsample_factor_grid: usize,
    /// Sub-pixel precision of shift estimates, 1/px (upsampled DFT; CaImAn fixes it at 10).
    pub upsample_factor: usize,
    /// Gaussian sigma of the high-pass filter applied (for estimation only) to 1p data (`gSig_filt`).
    pub gsig_filt: Option<f64>,
    /// Border filling (`border_nan`).
    pub border: BorderMode,
    /// Frames sampled to build the template.
    pub template_frames: usize,
    /// Largest z shift searched for 3D rigid correction of volumes, planes (`max_shifts`' third value).
    pub max_shift_z: usize,
}

impl Default for MotionParams {
    fn default() -> Self {
        Self {
            max_shifts: (6, 6),
            niter_rig: 1,
            pw_rigid: false,
            strides: (96, 96),
            overlaps: (32, 32),
            max_deviation_rigid: 3,
            upsample_factor_grid: 4,
            upsample_factor: 10,
            gsig_filt: None,
            border: BorderMode::Copy,
            template_frames: 300,
            max_shift_z: 1,
        }
    }
}

/// CaImAn motion keys we read but that change nothing here (GPU flags, chunking of its own parallelism, ...).
const ACCEPTED_NO_EFFECT: &[&str] = &[
    "use_cuda",
    "num_frames_split",
    "splits_rig",
    "splits_els",
    "num_splits_to_process_rig",
    "num_splits_to_process_els",
    "shifts_opencv",
    "nonneg_movie",
    "min_mov",
    "is3D",
    "indices",
    "niter_els",
    "shifts_interpolate",
];

fn pair(key: &str, v: &Value) -> Result<(usize, usize), RegistrationError> {
    let bad = || RegistrationError::Param(format!("'{key}' must be a whole number or a pair [y, x] of them, found {v}"));
    match v {
        Value::Number(n) => {
            let n = n.as_u64().ok_or_else(bad)? as usize;
            Ok((n, n))
        }
        Value::Array(a) if a.len() == 2 || a.len() == 3 => {
            // 3-element values (CaImAn's 3D form, (y, x, z)) give (y, x) from their first two entries.
            Ok((a[0].as_u64().ok_or_else(bad)? as usize, a[1].as_u64().ok_or_else(bad)? as usize))
        }
        _ => Err(bad()),
    }
}

fn uint(key: &str, v: &Value) -> Result<usize, RegistrationError> {
    v.as_u64().map(|n| n as usize).ok_or_else(|| RegistrationError::Param(format!("'{key}' must be a whole number, found {v}")))
}

impl MotionParams {
    /// Read parameters from JSON (flat, or CaImAn's grouped form whose `motion` group is used). Returns the
    /// parameters and the keys that were not recognised (for the caller to warn about).
    pub fn from_json(value: &Value) -> Result<(Self, Vec<String>), RegistrationError> {
        let obj = value.as_object().ok_or_else(|| RegistrationError::Param("parameters must be a JSON object".into()))?;
        let grouped = obj.get("motion").and_then(Value::as_object);
        let (map, outer): (&Map<String, Value>, Vec<String>) = match grouped {
            Some(m) => (m, Vec::new()),
            None => (obj, Vec::new()),
        };
        let mut p = Self::default();
        let mut unknown = outer;
        for (k, v) in map {
            match k.as_str() {
                "max_shifts" => {
                    p.max_shifts = pair(k, v)?;
                    // CaImAn's 3D form lists (y, x, z).
                    if let Some(z) = v.as_array().filter(|a| a.len() == 3).and_then(|a| a[2].as_u64()) {
                        p.max_shift_z = z as usize;
                    }
                }
                "max_shift_z" => p.max_shift_z = uint(k, v)?,
                "niter_rig" => p.niter_rig = uint(k, v)?,
                "pw_rigid" => p.pw_rigid = v.as_bool().ok_or_else(|| RegistrationError::Param(format!("'pw_rigid' must be true or false, found {v}")))?,
                "strides" => p.strides = pair(k, v)?,
                "overlaps" => p.overlaps = pair(k, v)?,
                "max_deviation_rigid" => p.max_deviation_rigid = uint(k, v)?,
                "upsample_factor_grid" => p.upsample_factor_grid = uint(k, v)?,
                "upsample_factor" => p.upsample_factor = uint(k, v)?,
                "template_frames" => p.template_frames = uint(k, v)?,
                "gSig_filt" => {
                    p.gsig_filt = match v {
                        Value::Null => None,
                        Value::Array(a) if !a.is_empty() => a[0].as_f64(),
                        other => other.as_f64(),
                    }
                    .map(Some)
                    .unwrap_or(None);
                    if !v.is_null() && p.gsig_filt.is_none() {
                        return Err(RegistrationError::Param(format!("'gSig_filt' must be a number, [n, n] or null, found {v}")));
                    }
                }
                "border_nan" => {
                    p.border = match v {
                        Value::Bool(true) => BorderMode::Nan,
                        Value::Bool(false) => BorderMode::Zero,
                        Value::String(s) if s == "copy" => BorderMode::Copy,
                        other => return Err(RegistrationError::Param(format!("'border_nan' must be true, false or \"copy\", found {other}"))),
                    }
                }
                other if ACCEPTED_NO_EFFECT.contains(&other) => {}
                other => unknown.push(other.to_string()),
            }
        }
        Ok((p, unknown))
    }

    /// Check the parameters against a frame of `height` x `width` and `frames` time points.
    pub fn validate(&self, height: usize, width: usize, frames: usize) -> Result<(), RegistrationError> {
        let bad = |m: String| Err(RegistrationError::Param(m));
        if frames == 0 {
            return bad("the movie has no frames".into());
        }
        let (my, mx) = self.max_shifts;
        if 2 * my >= height || 2 * mx >= width {
            return bad(format!("max_shifts ({my}, {mx}) are too large for a {height}x{width} frame (each must be under half the frame)"));
        }
        if self.upsample_factor == 0 || self.upsample_factor > 100 {
            return bad(format!("upsample_factor must be 1..=100, found {}", self.upsample_factor));
        }
        if self.pw_rigid {
            let (sy, sx) = self.strides;
            let (oy, ox) = self.overlaps;
            if sy == 0 || sx == 0 {
                return bad("strides must be positive".into());
            }
            if sy < oy || sx < ox {
                return bad(format!("strides ({sy}, {sx}) must not be smaller than overlaps ({oy}, {ox})"));
            }
            if sy + oy > height || sx + ox > width {
                return bad(format!(
                    "patches of strides + overlaps = ({}, {}) px do not fit a {height}x{width} frame",
                    sy + oy,
                    sx + ox
                ));
            }
            let dev = self.max_deviation_rigid;
            if 2 * (dev + my.max(mx)) >= (sy + oy).min(sx + ox) {
                return bad(format!("max_shifts + max_deviation_rigid ({}) are too large for patches of ({}, {}) px", dev + my.max(mx), sy + oy, sx + ox));
            }
            if self.upsample_factor_grid == 0 {
                return bad("upsample_factor_grid must be positive".into());
            }
        }
        if let Some(g) = self.gsig_filt {
            if !(g.is_finite() && g > 0.0) {
                return bad(format!("gSig_filt must be positive, found {g}"));
            }
        }
        Ok(())
    }

    /// The history entry the docs show (`caiman_motion_correction` keys), plus CaImAn's own names. `name` stands
    /// for the original's batch item names (`name_rigid`, and `name_elas` when piecewise).
    pub fn history_entry(&self, output_bit_depth: &str, bord_px: usize, name: &str) -> Value {
        serde_json::json!({
            "name_rigid": name,
            "name_elas": if self.pw_rigid { name } else { "" },
            "max_shifts_x": self.max_shifts.1,
            "max_shifts_y": self.max_shifts.0,
            "iters_rigid": self.niter_rig,
            "max_dev": self.max_deviation_rigid,
            "strides": self.strides.0,
            "overlaps": self.overlaps.0,
            "upsample": self.upsample_factor_grid,
            "output_bit_depth": output_bit_depth,
            "bord_px": bord_px,
            "pw_rigid": self.pw_rigid,
            "caiman_params": {
                "max_shifts": [self.max_shifts.0, self.max_shifts.1],
                "niter_rig": self.niter_rig,
                "pw_rigid": self.pw_rigid,
                "strides": [self.strides.0, self.strides.1],
                "overlaps": [self.overlaps.0, self.overlaps.1],
                "max_deviation_rigid": self.max_deviation_rigid,
                "upsample_factor_grid": self.upsample_factor_grid,
                "upsample_factor": self.upsample_factor,
                "gSig_filt": self.gsig_filt,
                "border_nan": match self.border { BorderMode::Nan => Value::Bool(true), BorderMode::Zero => Value::Bool(false), BorderMode::Copy => Value::String("copy".into()) },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_and_grouped_forms_agree_and_unknown_keys_are_reported() {
        let flat = json!({"max_shifts": [8, 10], "pw_rigid": true, "strides": 48, "overlaps": [24, 24], "use_cuda": false, "bogus": 1});
        let grouped = json!({"data": {"fr": 30}, "motion": {"max_shifts": [8, 10], "pw_rigid": true, "strides": 48, "overlaps": [24, 24], "bogus": 1}});
        let (a, ua) = MotionParams::from_json(&flat).expect("flat");
        let (b, ub) = MotionParams::from_json(&grouped).expect("grouped");
        assert_eq!(a, b);
        assert_eq!(a.max_shifts, (8, 10));
        assert_eq!(a.strides, (48, 48));
        assert_eq!(ua, vec!["bogus".to_string()]);
        assert_eq!(ub, vec!["bogus".to_string()]);
    }

    #[test]
    fn bad_parameters_are_clear_errors() {
        let p = MotionParams { max_shifts: (40, 40), ..Default::default() };
        assert!(p.validate(64, 64, 10).unwrap_err().to_string().contains("too large"));
        let p = MotionParams { pw_rigid: true, strides: (16, 16), overlaps: (32, 32), ..Default::default() };
        assert!(p.validate(128, 128, 10).unwrap_err().to_string().contains("must not be smaller than overlaps"));
        assert!(MotionParams::default().validate(64, 64, 0).unwrap_err().to_string().contains("no frames"));
        let e = MotionParams::from_json(&json!({"border_nan": "maybe"})).unwrap_err().to_string();
        assert!(e.contains("border_nan"), "{e}");
        let e = MotionParams::from_json(&json!({"max_shifts": "six"})).unwrap_err().to_string();
        assert!(e.contains("max_shifts"), "{e}");
    }
}
