//! Parameter JSON for CNMF / CNMF-E / 3D CNMF under CaImAn's names, so users can bring their CaImAn settings.
//!
//! Three input forms are accepted, and may be mixed the way CaImAn's `change_params` mixes them:
//! - a flat object of CaImAn names (`{"gSig": [4, 4], "K": 20, "merge_thresh": 0.8}`);
//! - CaImAn's grouped `CNMFParams` form (`{"data": {...}, "init": {...}, "patch": {...}, ...}`), e.g. the output of
//!   `CNMFParams.to_json()`;
//! - Mesmerize's batch form (`{"cnmf_kwargs": {...}, "eval_kwargs": {...}, "corr_pnr_kwargs": {...}, "refit": true,
//!   "item_name": "...", "border_pix": 4, "use_patches": true, "Ain": null}`).
//!
//! Axis order of list-valued parameters (`gSig`, `gSiz`, `rf`, `stride`): CaImAn's, i.e. the order of its `dims`.
//! 2D: `[y, x]` (rows, columns). 3D: `[y, x, z]` with the plane axis last, as in CaImAn's 3D demo
//! (`gSig = [4, 4, 2]`, movie `(T, d1, d2, d3)` with `d3` the planes) and `get_contours`' docs (dims `(y, x, z)`).
//! [`CnmfParams`] stores C order (`[y, x]`, `[z, y, x]`), so 3D lists are rotated on the way in and out.
//! A single number applies to every axis.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::ExtractionError;
use super::params::{CnmfParams, Mode};

/// CaImAn's parameter groups, in the order `CNMFParams.to_dict` lists them.
const GROUPS: [&str; 11] =
    ["data", "init", "merging", "motion", "online", "patch", "preprocess", "ring_CNN", "quality", "spatial", "temporal"];

/// Keys that describe the data set rather than the algorithm; we take these from the movie, so they are silent.
const DESCRIPTIVE: [&str; 7] = ["fnames", "dims", "dxy", "var_name_hdf5", "caiman_version", "last_commit", "item_name"];

/// (group, key) pairs that drive our engine; the key is also its canonical name.
const USED: [(&str, &str); 43] = [
    ("data", "fr"),
    ("data", "decay_time"),
    ("patch", "rf"),
    ("patch", "stride"),
    ("patch", "border_pix"),
    ("patch", "nb_patch"),
    ("patch", "low_rank_background"),
    ("patch", "del_duplicates"),
    ("preprocess", "p"),
    ("preprocess", "noise_range"),
    ("preprocess", "noise_method"),
    ("preprocess", "lags"),
    ("init", "K"),
    ("init", "gSig"),
    ("init", "gSiz"),
    ("init", "method_init"),
    ("init", "min_corr"),
    ("init", "min_pnr"),
    ("init", "min_pixel"),
    ("init", "nb"),
    ("init", "ring_size_factor"),
    ("init", "ssub"),
    ("init", "tsub"),
    ("init", "ssub_B"),
    ("init", "center_psf"),
    ("init", "init_iter"),
    ("spatial", "dist"),
    ("temporal", "ITER"),
    ("temporal", "method_deconvolution"),
    ("temporal", "s_min"),
    ("temporal", "bas_nonneg"),
    ("temporal", "optimize_g"),
    ("temporal", "fudge_factor"),
    ("temporal", "p"),
    ("temporal", "lags"),
    ("temporal", "noise_method"),
    ("temporal", "noise_range"),
    ("merging", "do_merge"),
    ("merging", "merge_thr"),
    ("quality", "min_SNR"),
    ("quality", "SNR_lowest"),
    ("quality", "rval_thr"),
    ("quality", "rval_lowest"),
];

/// Mesmerize batch keys that sit beside the kwargs objects.
const MESMERIZE_KEYS: [&str; 3] = ["refit", "Ain", "use_patches"];

/// The canonical name of a flat key, resolving CaImAn's constructor aliases.
fn canonical(key: &str) -> Option<&'static str> {
    let alias = match key {
        "k" => Some("K"),
        "merge_thresh" => Some("merge_thr"),
        "gnb" => Some("nb"),
        _ => None,
    };
    alias
        .or_else(|| USED.iter().find(|(_, k)| *k == key).map(|(_, k)| *k))
        .or_else(|| MESMERIZE_KEYS.iter().find(|k| **k == key).copied())
}

/// CaImAn's `CNMFParams()` defaults, group by group (values that JSON cannot hold, such as `np.inf`, slices and the
/// CNN model path, are left out: CaImAn keeps its own default for a missing key when loading).
fn caiman_defaults() -> Value {
    let groups = [
        ("data", json!({
                "fnames": null, "dims": null, "fr": 30, "decay_time": 0.4, "dxy": [1, 1], "var_name_hdf5": "mov",
                "last_commit": null
            })),
        ("patch", json!({
                "border_pix": 0, "del_duplicates": false, "in_memory": true, "low_rank_background": true, "memory_fact": 1,
                "n_processes": 1, "nb_patch": 1, "only_init": true, "p_patch": 0, "remove_very_bad_comps": false,
                "rf": null, "skip_refinement": false, "p_ssub": 2, "stride": null, "p_tsub": 2
            })),
        ("preprocess", json!({
                "check_nan": true, "compute_g": false, "include_noise": false, "lags": 5, "max_num_samples_fft": 3072,
                "n_pixels_per_process": null, "noise_method": "mean", "noise_range": [0.25, 0.5], "p": 2, "pixels": null,
                "sn": null
            })),
        ("init", json!({
                "K": 30, "SC_kernel": "heat", "SC_sigma": 1, "SC_thr": 0, "SC_normalize": true, "SC_use_NN": false,
                "SC_nnn": 20, "alpha_snmf": 0.5, "center_psf": false, "gSig": [5, 5], "gSiz": [11, 11],
                "greedyroi_nmf_init_method": "nndsvdar", "greedyroi_nmf_max_iter": 200, "init_iter": 2, "kernel": null,
                "lambda_gnmf": 1, "snmf_l1_ratio": 0.0, "maxIter": 5, "max_iter_snmf": 500, "method_init": "greedy_roi",
                "min_corr": 0.85, "min_pnr": 20, "nIter": 5, "nb": 1, "normalize_init": true, "options_local_NMF": null,
                "perc_baseline_snmf": 20, "ring_size_factor": 1.5, "rolling_length": 100, "rolling_sum": true,
                "seed_method": "auto", "sigma_smooth_snmf": [0.5, 0.5, 0.5], "ssub": 2, "ssub_B": 2, "tsub": 2
            })),
        ("spatial", json!({
                "dist": 3,
                "expandCore": [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]],
                "extract_cc": true, "maxthr": 0.1, "medw": null, "method_exp": "dilate", "method_ls": "lasso_lars",
                "n_pixels_per_process": null, "nb": 1, "normalize_yyt_one": true, "nrgthr": 0.9999,
                "num_blocks_per_run_spat": 20, "se": null, "ss": null, "thr_method": "nrg",
                "update_background_components": true
            })),
        ("temporal", json!({
                "ITER": 2, "bas_nonneg": false, "block_size_temp": 5000, "fudge_factor": 0.96, "lags": 5,
                "optimize_g": false, "method_deconvolution": "oasis", "nb": 1, "noise_method": "mean",
                "noise_range": [0.25, 0.5], "num_blocks_per_run_temp": 20, "p": 2, "s_min": null,
                "solvers": ["ECOS", "SCS"], "verbosity": false
            })),
        ("merging", json!({"do_merge": true, "merge_thr": 0.8, "merge_parallel": false, "max_merge_area": null})),
        ("quality", json!({
                "SNR_lowest": 0.5, "cnn_lowest": 0.1, "gSig_range": null, "min_SNR": 2.5, "min_cnn_thr": 0.9,
                "rval_lowest": -1, "rval_thr": 0.8, "use_cnn": true, "use_ecc": false, "max_ecc": 3
            })),
        ("online", json!({
                "N_samples_exceptionality": null, "batch_update_suff_stat": false, "dist_shape_update": false,
                "ds_factor": 1, "epochs": 1, "expected_comps": 500, "full_XXt": false, "init_batch": 200,
                "init_method": "bare", "iters_shape": 5, "max_num_added": 5, "max_shifts_online": 10, "min_SNR": 2.5,
                "min_num_trial": 5, "minibatch_shape": 100, "minibatch_suff_stat": 5, "motion_correct": true,
                "movie_name_online": "online_movie.mp4", "normalize": false, "n_refit": 0, "opencv_codec": "H264",
                "ring_CNN": false, "rval_thr": 0.8, "save_online_movie": false, "show_movie": false,
                "simultaneously": false, "sniper_mode": false, "stop_detection": false, "test_both": false,
                "thresh_CNN_noisy": 0.5, "thresh_fitness_delta": -50, "thresh_fitness_raw": null,
                "thresh_overlap": 0.5, "update_freq": 200, "update_num_comps": true, "use_corr_img": false,
                "use_dense": true, "use_peak_max": true, "W_update_factor": 1
            })),
        ("motion", json!({
                "border_nan": "copy", "gSig_filt": null, "is3D": false, "max_deviation_rigid": 3, "max_shifts": [6, 6],
                "min_mov": null, "niter_rig": 1, "nonneg_movie": true, "num_frames_split": 80,
                "num_splits_to_process_els": null, "num_splits_to_process_rig": null, "overlaps": [32, 32],
                "pw_rigid": false, "shifts_interpolate": false, "shifts_opencv": true, "splits_els": 14,
                "splits_rig": 14, "strides": [96, 96], "upsample_factor_grid": 4, "use_cuda": false
            })),
        ("ring_CNN", json!({
                "n_channels": 2, "use_bias": false, "use_add": false, "pct": 0.01, "patience": 3, "max_epochs": 100,
                "width": 5, "loss_fn": "pct", "lr": 0.001, "lr_scheduler": null, "path_to_model": null,
                "remove_activity": false, "reuse_model": false
            })),
    ];
    Value::Object(groups.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// CaImAn keys that exist but are not in the defaults table (values JSON cannot express); still "known".
const KNOWN_EXTRA: [(&str, &str); 5] = [
    ("online", "max_comp_update_shape"),
    ("online", "num_times_comp_updated"),
    ("online", "path_to_model"),
    ("motion", "indices"),
    ("data", "caiman_version"),
];

/// CaImAn settings we write ourselves (see [`CnmfParams::to_caiman_json`]) because they describe what we do.
const IMPLIED: [(&str, &str); 4] = [
    ("quality", "use_cnn"),
    ("init", "normalize_init"),
    ("spatial", "update_background_components"),
    ("motion", "is3D"),
];

/// Where a value came from, for messages: `init/gSig`, `cnmf_kwargs/gSig`, or `gSig`.
struct Given {
    name: String,
    value: Value,
}

/// Collects the values found in the input, in the order they are applied, plus warnings.
struct Collector {
    defaults: Value,
    values: BTreeMap<&'static str, Given>,
    warnings: Vec<String>,
}

impl Collector {
    fn known_group_of(&self, key: &str) -> Option<String> {
        GROUPS.iter().find_map(|g| {
            let in_table = self.defaults.get(*g).and_then(|m| m.get(key)).is_some();
            let extra = KNOWN_EXTRA.iter().any(|(eg, ek)| eg == g && *ek == key);
            (in_table || extra).then(|| (*g).to_string())
        })
    }

    fn put(&mut self, canon: &'static str, name: String, value: Value) {
        if let Some(prev) = self.values.get(canon)
            && prev.value != value
        {
            self.warnings.push(format!("'{}' = {} and '{}' = {} both given; using {}", prev.name, prev.value, name, value, value));
        }
        self.values.insert(canon, Given { name, value });
    }

    /// A key of a flat object (or of Mesmerize's kwargs objects); `prefix` only names it in messages.
    fn flat(&mut self, prefix: &str, key: &str, value: &Value) {
        let name = if prefix.is_empty() { key.to_string() } else { format!("{prefix}/{key}") };
        if let Some(c) = canonical(key) {
            self.put(c, name, value.clone());
        } else if DESCRIPTIVE.contains(&key) {
        } else if let Some(g) = self.known_group_of(key) {
            self.warnings.push(format!("not used: '{name}' (CaImAn {g} setting that Mesmerize-RS does not implement)"));
        } else {
            self.warnings.push(format!("unknown parameter '{name}' ignored"));
        }
    }

    /// A key of one of CaImAn's groups: only (group, key) pairs we implement are used; CaImAn's other settings
    /// are reported when they differ from CaImAn's default (a dump of `CNMFParams` holds all of them).
    fn grouped(&mut self, group: &str, key: &str, value: &Value) {
        let name = format!("{group}/{key}");
        if let Some((_, k)) = USED.iter().find(|(g, k)| *g == group && *k == key) {
            self.put(k, name, value.clone());
            return;
        }
        if group == "init" && key == "gnb" {
            self.put("nb", name, value.clone());
            return;
        }
        if DESCRIPTIVE.contains(&key)
            || ((group == "spatial" || group == "temporal") && key == "nb")
            || (group == "data" && key == "dxy")
            || IMPLIED.contains(&(group, key))
        {
            // CaImAn copies init/nb into spatial and temporal.
            return;
        }
        let default = self.defaults.get(group).and_then(|m| m.get(key));
        let known = default.is_some() || KNOWN_EXTRA.iter().any(|(g, k)| *g == group && *k == key);
        if !known {
            self.warnings.push(format!("unknown parameter '{name}' ignored"));
        } else if !value.is_null() && default.is_some_and(|d| !json_eq(d, value)) {
            self.warnings.push(format!("not used: '{name}' (CaImAn {group} setting that Mesmerize-RS does not implement)"));
        }
    }

    fn object(&mut self, obj: &Map<String, Value>) -> Result<(), ExtractionError> {
        for (key, value) in obj {
            match (key.as_str(), value) {
                (g, Value::Object(m)) if GROUPS.contains(&g) => {
                    for (k, v) in m {
                        self.grouped(g, k, v);
                    }
                }
                ("cnmf_kwargs" | "eval_kwargs", Value::Object(m)) => {
                    for (k, v) in m {
                        self.flat(key, k, v);
                    }
                }
                ("cnmf_kwargs" | "eval_kwargs" | "corr_pnr_kwargs", Value::Null) => {}
                ("corr_pnr_kwargs", Value::Object(m)) => {
                    for (k, v) in m {
                        match k.as_str() {
                            // The correlation / PNR images use the same gSig as the fit; cnmf_kwargs wins if both.
                            "gSig" => {
                                if obj.get("cnmf_kwargs").and_then(|c| c.get("gSig")).is_none() {
                                    self.put("gSig", format!("corr_pnr_kwargs/{k}"), v.clone());
                                }
                            }
                            "swap_dim" => {}
                            _ => self.warnings.push(format!("unknown parameter 'corr_pnr_kwargs/{k}' ignored")),
                        }
                    }
                }
                ("cnmf_kwargs" | "eval_kwargs" | "corr_pnr_kwargs", other) => {
                    return Err(bad(key, &format!("must be an object, found {other}")));
                }
                _ => self.flat("", key, value),
            }
        }
        Ok(())
    }
}

/// Compare JSON numbers by value (CaImAn writes `30` where we may write `30.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        _ => a == b,
    }
}

fn bad(key: &str, what: &str) -> ExtractionError {
    ExtractionError::BadParameter(format!("'{key}' {what}"))
}

fn num(g: &Given) -> Result<f64, ExtractionError> {
    g.value.as_f64().filter(|v| v.is_finite()).ok_or_else(|| bad(&g.name, &format!("must be a number, found {}", g.value)))
}

fn uint(g: &Given) -> Result<usize, ExtractionError> {
    match g.value.as_f64() {
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v < 1e15 => Ok(v as usize),
        _ => Err(bad(&g.name, &format!("must be a whole number >= 0, found {}", g.value))),
    }
}

fn int(g: &Given) -> Result<i64, ExtractionError> {
    match g.value.as_f64() {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => Ok(v as i64),
        _ => Err(bad(&g.name, &format!("must be a whole number, found {}", g.value))),
    }
}

fn boolean(g: &Given) -> Result<bool, ExtractionError> {
    g.value.as_bool().ok_or_else(|| bad(&g.name, &format!("must be true or false, found {}", g.value)))
}

fn string(g: &Given) -> Result<String, ExtractionError> {
    g.value.as_str().map(str::to_string).ok_or_else(|| bad(&g.name, &format!("must be a string, found {}", g.value)))
}

fn positive(g: &Given) -> Result<f64, ExtractionError> {
    let v = num(g)?;
    if v > 0.0 { Ok(v) } else { Err(bad(&g.name, &format!("must be > 0, found {v}"))) }
}

fn at_least_one(g: &Given) -> Result<usize, ExtractionError> {
    let v = uint(g)?;
    if v >= 1 { Ok(v) } else { Err(bad(&g.name, "must be >= 1, found 0")) }
}

/// Per-axis numbers in CaImAn order (`[y, x]`, `[y, x, z]`) or one number for all axes -> C order.
fn axes(g: &Given, ndim: usize) -> Result<Vec<f64>, ExtractionError> {
    let order = if ndim == 3 { "[y, x, z]" } else { "[y, x]" };
    let caiman: Vec<f64> = match &g.value {
        Value::Number(_) => vec![num(g)?; ndim],
        Value::Array(a) => {
            let v = a
                .iter()
                .map(|x| x.as_f64().filter(|f| f.is_finite()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| bad(&g.name, &format!("must hold numbers, found {}", g.value)))?;
            if v.len() != ndim {
                return Err(bad(
                    &g.name,
                    &format!("has {} values; {}D data needs one number or {ndim} in CaImAn's order {order}", v.len(), ndim),
                ));
            }
            v
        }
        other => return Err(bad(&g.name, &format!("must be a number or a list {order}, found {other}"))),
    };
    Ok(from_caiman_order(caiman))
}

/// CaImAn's `[y, x, z]` -> our `[z, y, x]` (2D lists are the same in both).
fn from_caiman_order<T: Copy>(v: Vec<T>) -> Vec<T> {
    if v.len() == 3 { vec![v[2], v[0], v[1]] } else { v }
}

/// Our `[z, y, x]` -> CaImAn's `[y, x, z]`.
fn to_caiman_order<T: Copy>(v: &[T]) -> Vec<T> {
    if v.len() == 3 { vec![v[1], v[2], v[0]] } else { v.to_vec() }
}

fn whole_axes(g: &Given, ndim: usize, min: usize) -> Result<Vec<usize>, ExtractionError> {
    axes(g, ndim)?
        .into_iter()
        .map(|v| {
            if v.fract() == 0.0 && v >= min as f64 && v < 1e9 {
                Ok(v as usize)
            } else {
                Err(bad(&g.name, &format!("must hold whole numbers >= {min}, found {}", g.value)))
            }
        })
        .collect()
}

/// A JSON number that prints as an integer when it is one (so HDF5 stores it as int64, like CaImAn).
fn jnum(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 { json!(v as i64) } else { json!(v) }
}

/// One value for all axes when they agree (CaImAn's usual `rf = 25`), else the CaImAn-ordered list.
fn compact(v: &[usize]) -> Value {
    match v.first() {
        Some(&first) if v.iter().all(|&x| x == first) => json!(first),
        _ => json!(to_caiman_order(v)),
    }
}

impl CnmfParams {
    /// Parse user parameters (flat CaImAn names, CaImAn's grouped form, or Mesmerize's batch form) on top of the
    /// defaults for `mode`; returns the parameters and warnings (unknown keys, CaImAn settings with no effect here).
    pub fn from_json(mode: Mode, v: &Value) -> Result<(CnmfParams, Vec<String>), ExtractionError> {
        let obj = v.as_object().ok_or_else(|| ExtractionError::BadParameter(format!("parameters must be a JSON object, found {v}")))?;
        let mut c = Collector { defaults: caiman_defaults(), values: BTreeMap::new(), warnings: Vec::new() };
        c.object(obj)?;
        let Collector { values, mut warnings, .. } = c;
        let mut p = CnmfParams::defaults(mode);
        let ndim = if mode == Mode::Cnmf3d { 3 } else { 2 };
        for (&key, g) in &values {
            match key {
                "fr" => p.fr = positive(g)?,
                "decay_time" => p.decay_time = positive(g)?,
                "rf" | "stride" | "gSig" | "gSiz" | "use_patches" => {} // below, they depend on each other
                "border_pix" => p.border_pix = uint(g)?,
                "nb_patch" => {
                    let v = int(g)?;
                    p.nb_patch = usize::try_from(v).unwrap_or(0);
                    if v < -1 {
                        return Err(bad(&g.name, &format!("must be >= -1, found {v}")));
                    }
                }
                "low_rank_background" => p.low_rank_background = g.value.is_null() || boolean(g)?,
                "del_duplicates" => p.del_duplicates = boolean(g)?,
                "p" => {
                    p.p = uint(g)?;
                    if p.p > 2 {
                        return Err(bad(&g.name, &format!("(AR order) must be 0, 1 or 2, found {}", p.p)));
                    }
                }
                "noise_range" => {
                    let r = g.value.as_array().and_then(|a| {
                        let v: Option<Vec<f64>> = a.iter().map(Value::as_f64).collect();
                        v.filter(|v| v.len() == 2)
                    });
                    match r {
                        Some(r) if 0.0 <= r[0] && r[0] < r[1] && r[1] <= 0.5 => p.noise_range = [r[0], r[1]],
                        _ => return Err(bad(&g.name, &format!("must be [low, high] with 0 <= low < high <= 0.5, found {}", g.value))),
                    }
                }
                "noise_method" => {
                    let s = string(g)?;
                    if !["mean", "median", "logmexp"].contains(&s.as_str()) {
                        return Err(bad(&g.name, &format!("must be 'mean', 'median' or 'logmexp', found '{s}'")));
                    }
                    p.noise_method = s;
                }
                "lags" => p.lags = at_least_one(g)?,
                "K" => p.k = uint(g)?,
                "method_init" => {
                    let s = string(g)?;
                    if s != "greedy_roi" && s != "corr_pnr" {
                        return Err(bad(&g.name, &format!("must be 'greedy_roi' or 'corr_pnr' (others are not implemented), found '{s}'")));
                    }
                    p.method_init = s;
                }
                "min_corr" => {
                    p.min_corr = num(g)?;
                    if !(-1.0..=1.0).contains(&p.min_corr) {
                        return Err(bad(&g.name, &format!("must be within [-1, 1], found {}", p.min_corr)));
                    }
                }
                "min_pnr" => {
                    p.min_pnr = num(g)?;
                    if p.min_pnr < 0.0 {
                        return Err(bad(&g.name, &format!("must be >= 0, found {}", p.min_pnr)));
                    }
                }
                "min_pixel" => p.min_pixel = at_least_one(g)?,
                "nb" => {
                    p.nb = int(g)?;
                    if p.nb < -1 {
                        return Err(bad(&g.name, &format!("must be >= -1, found {}", p.nb)));
                    }
                }
                "ring_size_factor" => p.ring_size_factor = positive(g)?,
                "ssub" => p.ssub = at_least_one(g)?,
                "tsub" => p.tsub = at_least_one(g)?,
                "ssub_B" => p.ssub_b = at_least_one(g)?,
                "center_psf" => p.center_psf = boolean(g)?,
                "init_iter" => p.init_iter = at_least_one(g)?,
                "dist" => p.dist = positive(g)?,
                "ITER" => p.iter = at_least_one(g)?,
                "method_deconvolution" => {
                    let s = string(g)?;
                    if s != "oasis" {
                        return Err(bad(&g.name, &format!("must be 'oasis' (others are not implemented), found '{s}'")));
                    }
                    p.method_deconvolution = s;
                }
                "s_min" => p.s_min = if g.value.is_null() { None } else { Some(num(g)?) },
                "bas_nonneg" => p.bas_nonneg = boolean(g)?,
                "optimize_g" => {
                    p.optimize_g = match &g.value {
                        Value::Bool(b) => usize::from(*b),
                        _ => uint(g)?,
                    }
                }
                "fudge_factor" => {
                    p.fudge_factor = num(g)?;
                    if !(p.fudge_factor > 0.0 && p.fudge_factor <= 1.0) {
                        return Err(bad(&g.name, &format!("must be within (0, 1], found {}", p.fudge_factor)));
                    }
                }
                "do_merge" => p.do_merge = boolean(g)?,
                "merge_thr" => {
                    p.merge_thr = num(g)?;
                    if !(p.merge_thr > 0.0 && p.merge_thr <= 1.0) {
                        return Err(bad(&g.name, &format!("must be within (0, 1], found {}", p.merge_thr)));
                    }
                }
                "min_SNR" => p.min_snr = num(g)?,
                "SNR_lowest" => p.snr_lowest = num(g)?,
                "rval_thr" | "rval_lowest" => {
                    let r = num(g)?;
                    if !(-1.0..=1.0).contains(&r) {
                        return Err(bad(&g.name, &format!("must be within [-1, 1], found {r}")));
                    }
                    if key == "rval_thr" { p.rval_thr = r } else { p.rval_lowest = r }
                }
                "refit" => p.refit = boolean(g)?,
                "Ain" => {
                    p.ain = match &g.value {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => {
                            return Err(bad(&g.name, &format!("must be the path of a CaImAn-layout HDF5 result or null, found {other}")));
                        }
                    }
                }
                other => warnings.push(format!("unknown parameter '{other}' ignored")),
            }
        }

        // gSig / gSiz: gSiz follows gSig (2 gSig + 1) unless given; CaImAn makes every gSiz odd.
        if let Some(g) = values.get("gSig") {
            let gs = axes(g, ndim)?;
            if let Some(bad_v) = gs.iter().find(|v| **v <= 0.0) {
                return Err(bad(&g.name, &format!("must be > 0 on every axis, found {bad_v}")));
            }
            p.gsiz = gs.iter().map(|s| (2.0 * s + 1.0).round() as usize).collect();
            p.gsig = gs;
        }
        if let Some(g) = values.get("gSiz") {
            p.gsiz = whole_axes(g, ndim, 1)?;
        } else if p.gsig.len() != p.gsiz.len() {
            p.gsiz = p.gsig.iter().map(|s| (2.0 * s + 1.0).round() as usize).collect();
        }
        if p.gsiz.iter().any(|s| s % 2 == 0) {
            let odd: Vec<usize> = p.gsiz.iter().map(|s| s + 1 - s % 2).collect();
            warnings.push(format!("gSiz {:?} made odd: {:?} (as CaImAn does)", to_caiman_order(&p.gsiz), to_caiman_order(&odd)));
            p.gsiz = odd;
        }

        // Patches: rf (null = whole field), stride, and Mesmerize's use_patches switch.
        if let Some(g) = values.get("rf") {
            p.rf = if g.value.is_null() { None } else { Some(whole_axes(g, ndim, 1)?) };
        }
        if let Some(g) = values.get("stride") {
            p.stride = if g.value.is_null() { None } else { Some(whole_axes(g, ndim, 0)?) };
        }
        if let Some(g) = values.get("use_patches") {
            if !boolean(g)? {
                p.rf = None;
                p.stride = None;
            } else if p.rf.is_none() {
                return Err(bad(&g.name, "is true but 'rf' (patch half-size) is not given"));
            }
        }
        if let Some(rf) = &p.rf {
            let name = values.get("rf").map_or("rf", |g| g.name.as_str());
            for (axis, (&r, &s)) in rf.iter().zip(&p.gsig).enumerate() {
                if (r as f64) < s {
                    return Err(bad(name, &format!("({r} on axis {}) is smaller than gSig ({s}): a neuron would not fit a patch", axis_name(ndim, axis))));
                }
            }
            if rf.iter().zip(&p.gsiz).any(|(&r, &s)| r <= s) {
                warnings.push(format!("rf {} is not larger than gSiz {:?}; patches may cut neurons", compact(rf), to_caiman_order(&p.gsiz)));
            }
            match &p.stride {
                Some(st) => {
                    let sname = values.get("stride").map_or("stride", |g| g.name.as_str());
                    for (axis, (&s, &r)) in st.iter().zip(rf).enumerate() {
                        if s >= 2 * r {
                            return Err(bad(sname, &format!("({s} on axis {}) must be smaller than the patch size 2*rf = {}", axis_name(ndim, axis), 2 * r)));
                        }
                    }
                }
                // CaImAn's fit sets the overlap to 10% of the patch size 2*rf when rf is set without stride.
                None => p.stride = Some(rf.iter().map(|r| (2 * r / 10).min(2 * r - 1)).collect()),
            }
        } else if values.get("stride").is_some_and(|g| !g.value.is_null()) {
            warnings.push("stride is ignored without rf (no patches)".into());
            p.stride = None;
        }
        if p.k == 0 && mode != Mode::Cnmfe && p.ain.is_none() {
            let name = values.get("K").map_or("K", |g| g.name.as_str());
            return Err(bad(name, "must be >= 1 for CNMF (0 means 'as many as found' only for CNMF-E)"));
        }
        Ok((p, warnings))
    }

    /// Check the parameters against the field of view (`dims` in C order, `[H, W]` or `[Z, H, W]`).
    pub fn validate_for(&self, dims: &[usize]) -> Result<(), ExtractionError> {
        let n = dims.len();
        let bad = |m: String| Err(ExtractionError::BadParameter(m));
        if n != 2 && n != 3 {
            return bad(format!("the field of view must be 2D or 3D, found dims {dims:?}"));
        }
        if (n == 3) != (self.mode == Mode::Cnmf3d) {
            return bad(format!("mode {:?} does not fit {n}D data {dims:?}", self.mode));
        }
        let order = if n == 3 { "[y, x, z]" } else { "[y, x]" };
        for (key, len) in [("gSig", self.gsig.len()), ("gSiz", self.gsiz.len())]
            .into_iter()
            .chain(self.rf.as_ref().map(|r| ("rf", r.len())))
            .chain(self.stride.as_ref().map(|s| ("stride", s.len())))
        {
            if len != n {
                return bad(format!("'{key}' has {len} values but the data is {n}D (give {n} values in CaImAn's order {order})"));
            }
        }
        for (axis, (&s, &d)) in self.gsig.iter().zip(dims).enumerate() {
            if s > d as f64 {
                return bad(format!(
                    "'gSig' ({s} px on axis {}) is larger than the field of view ({d} px): neurons cannot be that large",
                    axis_name(n, axis)
                ));
            }
        }
        let (h, w) = (dims[n - 2], dims[n - 1]);
        if 2 * self.border_pix >= h.min(w) {
            return bad(format!("'border_pix' ({}) leaves nothing of a {h}x{w} frame", self.border_pix));
        }
        Ok(())
    }

    /// CaImAn's grouped `CNMFParams` form with CaImAn's names and list orders (`[y, x]`, `[y, x, z]`), CaImAn's
    /// defaults for what we do not implement, and `init/min_pixel` for our CNMF-E seed size.
    pub fn to_caiman_json(&self) -> Value {
        let mut v = caiman_defaults();
        let three = self.mode == Mode::Cnmf3d;
        let mut set = |group: &str, key: &str, val: Value| {
            if let Some(m) = v.get_mut(group).and_then(Value::as_object_mut) {
                m.insert(key.to_string(), val);
            }
        };
        set("data", "fr", jnum(self.fr));
        set("data", "decay_time", jnum(self.decay_time));
        if three {
            set("data", "dxy", json!([1, 1, 1]));
        }
        set("patch", "rf", self.rf.as_deref().map_or(Value::Null, compact));
        set("patch", "stride", self.stride.as_deref().map_or(Value::Null, compact));
        set("patch", "border_pix", json!(self.border_pix));
        set("patch", "nb_patch", json!(self.nb_patch));
        set("patch", "low_rank_background", json!(self.low_rank_background));
        set("patch", "del_duplicates", json!(self.del_duplicates));
        for g in ["preprocess", "temporal"] {
            set(g, "p", json!(self.p));
            set(g, "lags", json!(self.lags));
            set(g, "noise_method", json!(self.noise_method));
            set(g, "noise_range", json!([jnum(self.noise_range[0]), jnum(self.noise_range[1])]));
        }
        set("init", "K", json!(self.k));
        set("init", "gSig", Value::Array(to_caiman_order(&self.gsig).into_iter().map(jnum).collect()));
        set("init", "gSiz", json!(to_caiman_order(&self.gsiz)));
        set("init", "method_init", json!(self.method_init));
        set("init", "min_corr", jnum(self.min_corr));
        set("init", "min_pnr", jnum(self.min_pnr));
        set("init", "min_pixel", json!(self.min_pixel));
        for g in ["init", "spatial", "temporal"] {
            set(g, "nb", json!(self.nb));
        }
        set("init", "ring_size_factor", jnum(self.ring_size_factor));
        set("init", "ssub", json!(self.ssub));
        set("init", "tsub", json!(self.tsub));
        set("init", "ssub_B", json!(self.ssub_b));
        set("init", "center_psf", json!(self.center_psf));
        set("init", "init_iter", json!(self.init_iter));
        if self.method_init == "corr_pnr" {
            set("init", "normalize_init", json!(false));
        }
        set("spatial", "dist", jnum(self.dist));
        if self.nb == -1 {
            set("spatial", "update_background_components", json!(false));
        }
        set("temporal", "ITER", json!(self.iter));
        set("temporal", "method_deconvolution", json!(self.method_deconvolution));
        set("temporal", "s_min", self.s_min.map_or(Value::Null, jnum));
        set("temporal", "bas_nonneg", json!(self.bas_nonneg));
        set("temporal", "optimize_g", if self.optimize_g == 0 { json!(false) } else { json!(self.optimize_g) });
        set("temporal", "fudge_factor", jnum(self.fudge_factor));
        set("merging", "do_merge", json!(self.do_merge));
        set("merging", "merge_thr", jnum(self.merge_thr));
        set("quality", "min_SNR", jnum(self.min_snr));
        set("quality", "SNR_lowest", jnum(self.snr_lowest));
        set("quality", "rval_thr", jnum(self.rval_thr));
        set("quality", "rval_lowest", jnum(self.rval_lowest));
        set("quality", "use_cnn", json!(false));
        if three {
            set("motion", "is3D", json!(true));
        }
        v
    }
}

fn axis_name(ndim: usize, axis: usize) -> &'static str {
    match (ndim, axis) {
        (3, 0) => "z",
        (3, 1) | (2, 0) => "y",
        _ => "x",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(mode: Mode, v: Value) -> (CnmfParams, Vec<String>) {
        CnmfParams::from_json(mode, &v).expect("parse")
    }

    fn err(mode: Mode, v: Value) -> String {
        CnmfParams::from_json(mode, &v).expect_err("should fail").to_string()
    }

    #[test]
    fn flat_grouped_and_batch_forms_agree() {
        let flat = json!({"K": 12, "gSig": [3, 4], "merge_thr": 0.7, "p": 1, "rf": 20, "stride": 8, "min_SNR": 3.0,
                          "rval_thr": 0.85, "fr": 15, "decay_time": 0.8, "nb": 2});
        let grouped = json!({"data": {"fr": 15, "decay_time": 0.8}, "init": {"K": 12, "gSig": [3, 4], "nb": 2},
                             "merging": {"merge_thr": 0.7}, "preprocess": {"p": 1}, "temporal": {"p": 1},
                             "patch": {"rf": 20, "stride": 8}, "quality": {"min_SNR": 3.0, "rval_thr": 0.85}});
        let batch = json!({"cnmf_kwargs": {"k": 12, "gSig": [3, 4], "merge_thresh": 0.7, "p": 1, "rf": 20,
                                           "stride": 8, "fr": 15, "gnb": 2},
                           "eval_kwargs": {"min_SNR": 3.0, "rval_thr": 0.85, "decay_time": 0.8, "fr": 15},
                           "refit": false, "item_name": "a", "use_patches": true});
        let (a, wa) = parse(Mode::Cnmf, flat);
        let (b, wb) = parse(Mode::Cnmf, grouped);
        let (c, wc) = parse(Mode::Cnmf, batch);
        assert!(wa.is_empty() && wb.is_empty() && wc.is_empty(), "{wa:?} {wb:?} {wc:?}");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.k, 12);
        assert_eq!(a.gsig, vec![3.0, 4.0]);
        assert_eq!(a.gsiz, vec![7, 9]);
        assert_eq!(a.rf, Some(vec![20, 20]));
        assert_eq!(a.stride, Some(vec![8, 8]));
        assert_eq!(a.nb, 2);
        assert_eq!((a.merge_thr, a.p, a.min_snr, a.fr), (0.7, 1, 3.0, 15.0));
    }

    #[test]
    fn aliases_and_single_numbers() {
        let (p, w) = parse(Mode::Cnmf, json!({"k": 7, "merge_thresh": 0.9, "gnb": 0, "ITER": 3, "SNR_lowest": 1.0,
                                              "ssub_B": 3, "gSig": 6}));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!((p.k, p.merge_thr, p.nb, p.iter, p.snr_lowest, p.ssub_b), (7, 0.9, 0, 3, 1.0, 3));
        assert_eq!(p.gsig, vec![6.0, 6.0]);
        assert_eq!(p.gsiz, vec![13, 13]);
        let (p, w) = parse(Mode::Cnmf, json!({"gSig": [2, 2], "gSiz": [8, 9]}));
        assert_eq!(p.gsiz, vec![9, 9]);
        assert!(w.iter().any(|m| m.contains("made odd")), "{w:?}");
    }

    #[test]
    fn three_d_lists_are_caiman_order_y_x_z() {
        let (p, _) = parse(Mode::Cnmf3d, json!({"gSig": [4, 5, 2], "rf": [15, 16, 6], "stride": [10, 10, 3], "K": 5}));
        assert_eq!(p.gsig, vec![2.0, 4.0, 5.0]);
        assert_eq!(p.gsiz, vec![5, 9, 11]);
        assert_eq!(p.rf, Some(vec![6, 15, 16]));
        assert_eq!(p.stride, Some(vec![3, 10, 10]));
        let back = p.to_caiman_json();
        assert_eq!(back["init"]["gSig"], json!([4, 5, 2]));
        assert_eq!(back["init"]["gSiz"], json!([9, 11, 5]));
        assert_eq!(back["patch"]["rf"], json!([15, 16, 6]));
        let (q, w) = parse(Mode::Cnmf3d, back);
        assert_eq!(p, q, "{w:?}");
        let (s, _) = parse(Mode::Cnmf3d, json!({"gSig": 3}));
        assert_eq!(s.gsig, vec![3.0; 3]);
        assert!(err(Mode::Cnmf3d, json!({"gSig": [4, 4]})).contains("'gSig' has 2 values"));
    }

    #[test]
    fn warnings_name_unknown_and_unused_keys() {
        let (_, w) = parse(Mode::Cnmf, json!({"foo": 1, "use_cnn": false, "min_cnn_thr": 0.9, "n_processes": 4,
                                              "fnames": ["a.tif"], "init": {"bar": 2, "SC_kernel": "heat"}}));
        assert!(w.contains(&"unknown parameter 'foo' ignored".to_string()), "{w:?}");
        assert!(w.contains(&"unknown parameter 'init/bar' ignored".to_string()), "{w:?}");
        for key in ["use_cnn", "min_cnn_thr", "n_processes"] {
            assert!(w.iter().any(|m| m.starts_with("not used: ") && m.contains(&format!("'{key}'"))), "{key}: {w:?}");
        }
        // A grouped dump that keeps CaImAn's defaults for what we do not implement is quiet.
        assert!(!w.iter().any(|m| m.contains("SC_kernel") || m.contains("fnames")), "{w:?}");
        let (_, w) = parse(Mode::Cnmf, json!({"quality": {"use_cnn": true, "min_cnn_thr": 0.5}}));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("quality/min_cnn_thr"));
        let (_, w) = parse(Mode::Cnmf, json!({"k": 5, "K": 6}));
        assert!(w.iter().any(|m| m.contains("both given")), "{w:?}");
    }

    #[test]
    fn caiman_dump_round_trips() {
        for mode in [Mode::Cnmf, Mode::Cnmfe, Mode::Cnmf3d] {
            let mut p = CnmfParams::defaults(mode);
            p.rf = Some(vec![25; p.gsig.len()]);
            p.stride = Some(vec![10; p.gsig.len()]);
            p.s_min = Some(0.5);
            p.min_pixel = 5;
            let dump = p.to_caiman_json();
            let (q, w) = parse(mode, dump.clone());
            assert_eq!(p, q, "{mode:?}");
            assert!(w.is_empty(), "{mode:?}: {w:?}");
            for g in GROUPS {
                assert!(dump.get(g).is_some_and(Value::is_object), "{g}");
            }
        }
    }

    #[test]
    fn errors_name_the_key() {
        for (v, key, what) in [
            (json!({"gSig": [0, 3]}), "gSig", "> 0"),
            (json!({"gSig": "big"}), "gSig", "number or a list"),
            (json!({"p": 3}), "p", "0, 1 or 2"),
            (json!({"merge_thr": 1.5}), "merge_thr", "(0, 1]"),
            (json!({"merge_thresh": 0}), "merge_thresh", "(0, 1]"),
            (json!({"rf": 3, "gSig": [5, 5]}), "rf", "smaller than gSig"),
            (json!({"rf": 20, "stride": 40}), "stride", "smaller than the patch size"),
            (json!({"K": -1}), "K", "whole number"),
            (json!({"K": 0}), "K", ">= 1"),
            (json!({"cnmf_kwargs": {"p": "two"}}), "cnmf_kwargs/p", "whole number"),
            (json!({"init": {"method_init": "sparse_nmf"}}), "init/method_init", "not implemented"),
            (json!({"do_merge": 1}), "do_merge", "true or false"),
            (json!({"use_patches": true}), "use_patches", "'rf'"),
            (json!({"decay_time": 0}), "decay_time", "> 0"),
            (json!({"cnmf_kwargs": [1]}), "cnmf_kwargs", "object"),
        ] {
            let e = err(Mode::Cnmf, v.clone());
            assert!(e.contains(&format!("'{key}'")) && e.contains(what), "{v}: {e}");
        }
        assert!(CnmfParams::from_json(Mode::Cnmf, &json!([1])).is_err());
        // CNMF-E accepts K = 0 (as many as the seeds give).
        assert_eq!(parse(Mode::Cnmfe, json!({"K": 0})).0.k, 0);
    }

    #[test]
    fn use_patches_false_drops_rf_and_corr_pnr_gsig_is_used() {
        let (p, _) = parse(Mode::Cnmfe, json!({"cnmf_kwargs": {"rf": 30, "stride": 10}, "use_patches": false,
                                                "corr_pnr_kwargs": {"gSig": 3, "swap_dim": false}}));
        assert_eq!(p.rf, None);
        assert_eq!(p.stride, None);
        assert_eq!(p.gsig, vec![3.0, 3.0]);
        let (p, _) = parse(Mode::Cnmfe, json!({"cnmf_kwargs": {"gSig": [4, 4]}, "corr_pnr_kwargs": {"gSig": 3}}));
        assert_eq!(p.gsig, vec![4.0, 4.0]);
    }

    #[test]
    fn validate_for_checks_dims() {
        let p = CnmfParams::defaults(Mode::Cnmf);
        assert!(p.validate_for(&[64, 64]).is_ok());
        assert!(p.validate_for(&[4, 64]).expect_err("invalid").to_string().contains("larger than the field of view"));
        assert!(p.validate_for(&[3, 64, 64]).is_err());
        let p3 = CnmfParams::defaults(Mode::Cnmf3d);
        assert!(p3.validate_for(&[5, 40, 40]).is_ok());
        let mut q = p.clone();
        q.border_pix = 32;
        assert!(q.validate_for(&[64, 64]).expect_err("invalid").to_string().contains("border_pix"));
        let mut q = p.clone();
        q.mode = Mode::Cnmf3d;
        q.gsig = vec![2.0, 2.0];
        assert!(q.validate_for(&[5, 40, 40]).expect_err("invalid").to_string().contains("'gSig' has 2 values"));
    }
}
