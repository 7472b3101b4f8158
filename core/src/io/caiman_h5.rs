//! CNMF-family results in CaImAn's HDF5 layout (what `CNMF.save(filename)` writes), so that CaImAn's `load_CNMF`,
//! mesmerize-core and plain h5py read our results, and so that results saved by CaImAn can be imported.
//!
//! Layout (see docs/formats.md, "CNMF results (CaImAn layout)"):
//! - `estimates/A`: group `data`, `indices`, `indptr`, `shape` = scipy CSC of shape (d, K);
//! - `estimates/{C,S,YrA,F_dff}` (K, T); `estimates/b` (d, nb); `estimates/f` (nb, T); `estimates/sn` (d,);
//!   `estimates/{g,bl,c1,neurons_sn,lam,SNR_comp,r_values}` per component; `estimates/idx_components(_bad)`;
//!   `estimates/W` (sparse group, ring model) and `estimates/b0` (d,); `estimates/dims` and root `dims`;
//! - `params`: CaImAn's grouped parameters saved the way CaImAn's `recursively_save_dict_contents_to_group` saves a
//!   dict (strings as attributes of their group, `None` as the string dataset `NoneType`, numbers and bools as scalar
//!   datasets, lists as arrays, dicts as groups);
//! - root attributes `mesmerize_provenance`, `mesmerize_params` (JSON of our canonical parameters),
//!   `mesmerize_timings` (JSON `[[phase, seconds], ...]`) and `mesmerize_layout`.
//!
//! Pixel order: CaImAn flattens pixels in Fortran order over its `dims`. 2D: `dims = (H, W)`, pixel (y, x) has index
//! `y + x*H`. 3D: CaImAn puts the plane axis last (`dims = (H, W, Z)`, i.e. (y, x, z), as its 3D demo and
//! `get_contours` assume), so voxel (z, y, x) has index `y + x*H + z*H*W`; a footprint reshaped with
//! `order='F'` to `dims` is `vol[y, x, z]`, and `.transpose(2, 0, 1)` gives the (z, y, x) volume as tifffile reads
//! our movies. Inside Mesmerize-RS pixels are C order over `[H, W]` / `[Z, H, W]`; this module converts both ways.

use std::path::Path;

use hdf5_metno as hdf5;
use hdf5::types::{TypeDescriptor, VarLenUnicode};
use ndarray::{Array2, ArrayView1, ArrayView2, arr0};
use serde_json::{Map, Value};

use crate::extraction::params::Mode;
use crate::extraction::result::RingBackground;
use crate::extraction::{CnmfParams, CnmfResult, ExtractionError, SparseColumns};

/// Names the layout in the `mesmerize_layout` attribute, so a later change can be detected.
pub const LAYOUT: &str = "caiman-cnmf-v1: pixels Fortran order over dims (y, x) or (y, x, z)";

/// CaImAn's `dims` (Fortran-order pixel axes) for our C-order dims: `[H, W]` stays, `[Z, H, W]` -> `[H, W, Z]`.
pub fn caiman_dims(dims: &[usize]) -> Vec<usize> {
    match dims {
        [z, h, w] => vec![*h, *w, *z],
        other => other.to_vec(),
    }
}

/// Our C-order dims for CaImAn's `dims`: `(d1, d2)` stays, `(d1, d2, d3)` (y, x, z) -> `[d3, d1, d2]`.
pub fn dims_from_caiman(dims: &[usize]) -> Vec<usize> {
    match dims {
        [h, w, z] => vec![*z, *h, *w],
        other => other.to_vec(),
    }
}

/// CaImAn's Fortran-order index of each of our C-order pixel indices over `dims` (C order, 2D or 3D).
pub fn caiman_index_table(dims: &[usize]) -> Vec<usize> {
    let (z, h, w) = match dims {
        [z, h, w] => (*z, *h, *w),
        [h, w] => (1, *h, *w),
        [n] => (1, *n, 1),
        _ => (1, dims.iter().product(), 1),
    };
    let mut out = vec![0; z * h * w];
    for zz in 0..z {
        for y in 0..h {
            for x in 0..w {
                out[(zz * h + y) * w + x] = y + x * h + zz * h * w;
            }
        }
    }
    out
}

fn inverse(table: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; table.len()];
    for (c, &f) in table.iter().enumerate() {
        inv[f] = c;
    }
    inv
}

/// Errors of this module name the file.
fn file_err(path: &Path, message: impl Into<String>) -> ExtractionError {
    ExtractionError::File { path: path.to_path_buf(), message: message.into() }
}

/// Wraps an HDF5 failure with what was being done.
fn h5(path: &Path, what: &str) -> impl Fn(hdf5::Error) -> ExtractionError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| ExtractionError::File { path: path.clone(), message: format!("{what}: {e}") }
}

// ------------------------------------------------------------------------------------------------------------------
// Writing

/// Write `r` to `path` in CaImAn's layout, atomically (a temporary file in the same directory renamed into place).
pub fn write_result(path: &Path, r: &CnmfResult, provenance: &Value) -> Result<(), ExtractionError> {
    check_consistent(r)?;
    if path.file_name().is_none() {
        return Err(file_err(path, "not a file name"));
    }
    crate::io::atomic::replace_via_temp(
        path,
        |tmp| write_file(tmp, r, provenance),
        |e| file_err(path, format!("finishing the write: {e}")),
    )
}

fn check_consistent(r: &CnmfResult) -> Result<(), ExtractionError> {
    let bad = |m: String| Err(ExtractionError::BadInput(format!("result to write is inconsistent: {m}")));
    let (d, k) = (r.d(), r.k());
    if r.dims.len() != 2 && r.dims.len() != 3 {
        return bad(format!("dims {:?} are not 2D or 3D", r.dims));
    }
    if r.a.n_rows != d {
        return bad(format!("A has {} rows, dims {:?} give {d} pixels", r.a.n_rows, r.dims));
    }
    if r.a.indices.iter().any(|&i| i as usize >= d) || r.a.indptr.last() != Some(&r.a.indices.len()) {
        return bad("A has pixel indices out of range or a bad indptr".into());
    }
    for (name, m) in [("C", &r.c), ("S", &r.s), ("YrA", &r.yra)] {
        if m.nrows() != k && !m.is_empty() {
            return bad(format!("{name} has {} rows for {k} components", m.nrows()));
        }
    }
    if r.b.nrows() != d && !r.b.is_empty() {
        return bad(format!("b has {} rows for {d} pixels", r.b.nrows()));
    }
    if !r.sn.is_empty() && r.sn.len() != d {
        return bad(format!("sn has {} values for {d} pixels", r.sn.len()));
    }
    if let Some(ring) = &r.ring
        && (ring.b0.len() != d || ring.w.n_rows != ring.dims_ds.iter().product::<usize>())
    {
        return bad("ring background sizes do not match dims / dims_ds".into());
    }
    Ok(())
}

fn write_file(path: &Path, r: &CnmfResult, provenance: &Value) -> Result<(), ExtractionError> {
    let file = hdf5::File::create(path).map_err(h5(path, "cannot create HDF5 file"))?;
    write_into(&file, r, provenance).map_err(h5(path, "writing CaImAn layout"))?;
    file.close().map_err(h5(path, "closing"))
}

fn write_into(f: &hdf5::File, r: &CnmfResult, provenance: &Value) -> hdf5::Result<()> {
    let table = caiman_index_table(&r.dims);
    let fdims: Vec<i64> = caiman_dims(&r.dims).iter().map(|&v| v as i64).collect();
    let d = r.d();
    write_1d(f, "dims", &fdims)?;
    write_scalar(f, "skip_refinement", false)?;
    write_scalar(f, "remove_very_bad_comps", false)?;

    let e = f.create_group("estimates")?;
    // A: columns with pixel indices moved to CaImAn's order.
    let mut triplets: Vec<(usize, usize, f32)> = Vec::with_capacity(r.a.data.len());
    for k in 0..r.a.n_cols() {
        let (idx, val) = r.a.col(k);
        triplets.extend(idx.iter().zip(val).map(|(&i, &v)| (table[i as usize], k, v)));
    }
    write_csc(&e, "A", d, r.a.n_cols(), triplets)?;
    write_2d(&e, "C", &r.c)?;
    write_2d(&e, "S", &r.s)?;
    write_2d(&e, "YrA", &r.yra)?;
    let mut b = Array2::<f32>::zeros(r.b.dim());
    if r.b.nrows() == d {
        for (c, row) in r.b.rows().into_iter().enumerate() {
            b.row_mut(table[c]).assign(&row);
        }
    }
    write_2d(&e, "b", &b)?;
    write_2d(&e, "f", &r.f)?;
    write_1d(&e, "sn", &permute(&r.sn, &table))?;
    let p = r.g.iter().map(Vec::len).max().unwrap_or(0);
    let mut g = Array2::<f64>::zeros((r.g.len(), p));
    for (k, gk) in r.g.iter().enumerate() {
        for (j, &v) in gk.iter().enumerate() {
            g[[k, j]] = f64::from(v);
        }
    }
    write_2d(&e, "g", &g)?;
    write_1d(&e, "bl", &r.bl)?;
    write_1d(&e, "c1", &r.c1)?;
    write_1d(&e, "neurons_sn", &r.neurons_sn)?;
    write_1d(&e, "lam", &r.lam)?;
    let ints = |v: &[usize]| v.iter().map(|&i| i as i64).collect::<Vec<i64>>();
    write_1d(&e, "idx_components", &ints(&r.idx_components))?;
    write_1d(&e, "idx_components_bad", &ints(&r.idx_components_bad))?;
    write_1d(&e, "SNR_comp", &r.snr_comp)?;
    write_1d(&e, "r_values", &r.r_values)?;
    match &r.f_dff {
        Some(m) => write_2d(&e, "F_dff", m)?,
        None => write_none(&e, "F_dff")?,
    }
    match &r.ring {
        Some(ring) => {
            // Ours: column j lists the weights predicting pixel j, i.e. row j of CaImAn's W (B = W (Y - AC - b0)).
            let ds_table = caiman_index_table(&ring.dims_ds);
            let n = ring.w.n_rows;
            let mut t = Vec::with_capacity(ring.w.data.len());
            for j in 0..ring.w.n_cols() {
                let (idx, val) = ring.w.col(j);
                t.extend(idx.iter().zip(val).map(|(&i, &v)| (ds_table[j], ds_table[i as usize], v)));
            }
            let wg = write_csc(&e, "W", n, ring.w.n_cols(), t)?;
            wg.new_attr::<u64>().create("ssub_B")?.write_scalar(&(ring.ssub_b as u64))?;
            let dd: Vec<u64> = caiman_dims(&ring.dims_ds).iter().map(|&v| v as u64).collect();
            wg.new_attr_builder().with_data(&dd[..]).create("dims_ds")?;
            write_1d(&e, "b0", &permute(&ring.b0, &table))?;
        }
        None => {
            write_none(&e, "W")?;
            write_none(&e, "b0")?;
        }
    }
    write_1d(&e, "dims", &fdims)?;
    for none in ["R", "cnn_preds", "ecc", "discarded_components"] {
        write_none(&e, none)?;
    }

    let pg = f.create_group("params")?;
    if let Value::Object(groups) = r.params.to_caiman_json() {
        let mut p = groups;
        if let Some(Value::Object(data)) = p.get_mut("data") {
            data.insert("dims".into(), Value::Array(fdims.iter().map(|&v| Value::from(v)).collect()));
        }
        write_dict(&pg, &p)?;
    }
    let text = |v: &str| -> hdf5::Result<VarLenUnicode> { v.parse().map_err(|e| hdf5::Error::from(format!("{e}").as_str())) };
    let attr = |name: &str, v: &str| -> hdf5::Result<()> { f.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&text(v)?) };
    attr("mesmerize_provenance", &provenance.to_string())?;
    attr("mesmerize_params", &serde_json::to_string(&r.params).map_err(|e| hdf5::Error::from(format!("{e}").as_str()))?)?;
    let timings: Vec<Value> = r.timings.iter().map(|(k, v)| serde_json::json!([k, v])).collect();
    attr("mesmerize_timings", &Value::Array(timings).to_string())?;
    attr("mesmerize_layout", LAYOUT)?;
    Ok(())
}

fn permute(v: &[f32], table: &[usize]) -> Vec<f32> {
    if v.len() != table.len() {
        return v.to_vec();
    }
    let mut out = vec![0.0; v.len()];
    for (c, &x) in v.iter().enumerate() {
        out[table[c]] = x;
    }
    out
}

/// Write a scipy-CSC group from (row, col, value) triplets; indices/indptr are int32 like scipy's unless too large.
fn write_csc(g: &hdf5::Group, name: &str, n_rows: usize, n_cols: usize, mut t: Vec<(usize, usize, f32)>) -> hdf5::Result<hdf5::Group> {
    t.sort_unstable_by_key(|&(r, c, _)| (c, r));
    let mut indptr = vec![0usize; n_cols + 1];
    for &(_, c, _) in &t {
        indptr[c + 1] += 1;
    }
    for c in 0..n_cols {
        indptr[c + 1] += indptr[c];
    }
    let sg = g.create_group(name)?;
    let data: Vec<f32> = t.iter().map(|e| e.2).collect();
    write_1d(&sg, "data", &data)?;
    if n_rows.max(t.len()) < i32::MAX as usize {
        write_1d(&sg, "indices", &t.iter().map(|e| e.0 as i32).collect::<Vec<_>>())?;
        write_1d(&sg, "indptr", &indptr.iter().map(|&v| v as i32).collect::<Vec<_>>())?;
    } else {
        write_1d(&sg, "indices", &t.iter().map(|e| e.0 as i64).collect::<Vec<_>>())?;
        write_1d(&sg, "indptr", &indptr.iter().map(|&v| v as i64).collect::<Vec<_>>())?;
    }
    write_1d(&sg, "shape", &[n_rows as i64, n_cols as i64])?;
    Ok(sg)
}

fn write_1d<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, v: &[T]) -> hdf5::Result<()> {
    g.new_dataset_builder().with_data(ArrayView1::from(v)).create(name)?;
    Ok(())
}

fn write_2d<T: hdf5::H5Type + Clone>(g: &hdf5::Group, name: &str, m: &Array2<T>) -> hdf5::Result<()> {
    let m = m.as_standard_layout();
    let view: ArrayView2<T> = m.view();
    g.new_dataset_builder().with_data(view).create(name)?;
    Ok(())
}

fn write_scalar<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, v: T) -> hdf5::Result<()> {
    g.new_dataset_builder().with_data(&arr0(v)).create(name)?;
    Ok(())
}

/// CaImAn saves `None` as a string dataset `NoneType`, which its loader turns back into `None`.
fn write_none(g: &hdf5::Group, name: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = "NoneType".parse().map_err(|e| hdf5::Error::from(format!("{e}").as_str()))?;
    write_scalar(g, name, v)
}

/// Save a JSON object the way CaImAn's `recursively_save_dict_contents_to_group` saves a dict.
fn write_dict(g: &hdf5::Group, m: &Map<String, Value>) -> hdf5::Result<()> {
    for (key, v) in m {
        match v {
            Value::Null => write_none(g, key)?,
            Value::Bool(b) => write_scalar(g, key, *b)?,
            Value::Number(n) => match n.as_i64() {
                Some(i) => write_scalar(g, key, i)?,
                None => write_scalar(g, key, n.as_f64().unwrap_or(f64::NAN))?,
            },
            Value::String(s) => {
                let v: VarLenUnicode = s.parse().map_err(|e| hdf5::Error::from(format!("{e}").as_str()))?;
                g.new_attr::<VarLenUnicode>().create(key.as_str())?.write_scalar(&v)?;
            }
            Value::Object(sub) => write_dict(&g.create_group(key)?, sub)?,
            Value::Array(items) => write_list(g, key, items)?,
        }
    }
    Ok(())
}

/// Lists become arrays (`np.array(list)`): ints -> int64, otherwise float64; a list of lists -> 2D; strings -> a
/// string array; an empty list -> an empty float64 array.
fn write_list(g: &hdf5::Group, key: &str, items: &[Value]) -> hdf5::Result<()> {
    if !items.is_empty() && items.iter().all(Value::is_string) {
        let v: Vec<VarLenUnicode> = items.iter().filter_map(|s| s.as_str()?.parse().ok()).collect();
        return write_1d(g, key, &v);
    }
    let rows: Vec<&[Value]> = items.iter().filter_map(|v| v.as_array().map(Vec::as_slice)).collect();
    let (shape, flat): (Vec<usize>, Vec<&Value>) = if !items.is_empty() && rows.len() == items.len() {
        let n = rows[0].len();
        if rows.iter().any(|r| r.len() != n) {
            return Ok(()); // ragged: CaImAn cannot save these either
        }
        (vec![rows.len(), n], rows.iter().flat_map(|r| r.iter()).collect())
    } else {
        (vec![items.len()], items.iter().collect())
    };
    if flat.iter().all(|v| v.is_i64()) && !flat.is_empty() {
        let v: Vec<i64> = flat.iter().filter_map(|v| v.as_i64()).collect();
        g.new_dataset_builder().with_data(ndarray::ArrayView::from_shape(shape, &v).map_err(shape_err)?).create(key)?;
    } else if flat.iter().all(|v| v.is_number()) {
        let v: Vec<f64> = flat.iter().filter_map(|v| v.as_f64()).collect();
        g.new_dataset_builder().with_data(ndarray::ArrayView::from_shape(shape, &v).map_err(shape_err)?).create(key)?;
    } else if flat.iter().all(|v| v.is_boolean()) {
        let v: Vec<bool> = flat.iter().filter_map(|v| v.as_bool()).collect();
        g.new_dataset_builder().with_data(ndarray::ArrayView::from_shape(shape, &v).map_err(shape_err)?).create(key)?;
    }
    Ok(())
}

fn shape_err(e: ndarray::ShapeError) -> hdf5::Error {
    hdf5::Error::from(format!("array shape: {e}").as_str())
}

// ------------------------------------------------------------------------------------------------------------------
// Reading

/// Read a result written by [`write_result`] or by CaImAn's `CNMF.save`; fields missing from the file are empty.
pub fn read_result(path: &Path) -> Result<CnmfResult, ExtractionError> {
    let f = hdf5::File::open(path).map_err(|e| {
        file_err(path, format!("cannot open as HDF5 (missing, truncated or not an HDF5 file): {e}"))
    })?;
    let e = f.group("estimates").map_err(|_| file_err(path, "no 'estimates' group: not a CaImAn CNMF result"))?;
    let r = Reader { path };

    let fdims: Vec<usize> = match r.ints_opt(&f, "dims")?.or(r.ints_opt(&e, "dims")?) {
        Some(v) => v,
        None => return Err(file_err(path, "no 'dims' (root or estimates/dims): cannot place pixels")),
    };
    if fdims.len() != 2 && fdims.len() != 3 || fdims.contains(&0) {
        return Err(file_err(path, format!("dims {fdims:?} are not 2D or 3D")));
    }
    let dims = dims_from_caiman(&fdims);
    let d: usize = dims.iter().product();
    let inv = inverse(&caiman_index_table(&dims));

    if !e.link_exists("A") {
        return Err(file_err(path, "missing estimates/A (spatial footprints)"));
    }
    let a_f = r.sparse(&e, "A")?;
    if a_f.n_rows != d {
        return Err(file_err(path, format!("estimates/A has {} rows but dims {fdims:?} give {d} pixels", a_f.n_rows)));
    }
    let k = a_f.n_cols();
    let mut a = SparseColumns::new(d);
    for c in 0..k {
        let (idx, val) = a_f.col(c);
        a.push_col(idx.iter().zip(val).map(|(&i, &v)| (inv[i as usize] as u32, v)).collect());
    }

    let c = r.matrix(&e, "C", Some(k), None)?;
    let t = c.ncols();
    let t_of = if c.is_empty() && c.nrows() == 0 { None } else { Some(t) };
    let s = r.matrix(&e, "S", Some(k), t_of)?;
    let yra = r.matrix(&e, "YrA", Some(k), t_of)?;
    let f_dff = if r.present(&e, "F_dff") { Some(r.matrix(&e, "F_dff", Some(k), t_of)?) } else { None };
    let b_f = match r.floats_nd(&e, "b")? {
        None => Array2::zeros((0, 0)),
        Some((shape, v)) if shape.len() == 1 && shape[0] == d => Array2::from_shape_vec((d, 1), v).map_err(|x| r.shape(x))?,
        Some((shape, v)) if shape.len() == 2 && shape[0] == d => {
            Array2::from_shape_vec((shape[0], shape[1]), v).map_err(|x| r.shape(x))?
        }
        Some((shape, _)) if shape.iter().product::<usize>() == 0 => Array2::zeros((0, 0)),
        Some((shape, _)) => return Err(file_err(path, format!("estimates/b has shape {shape:?}, expected ({d}, nb)"))),
    };
    let mut b = Array2::<f32>::zeros(b_f.dim());
    for (fi, row) in b_f.rows().into_iter().enumerate() {
        b.row_mut(inv[fi]).assign(&row);
    }
    let nb = b.ncols();
    let f_bg = match r.floats_nd(&e, "f")? {
        None => Array2::zeros((0, 0)),
        Some((shape, v)) if shape.len() == 1 => Array2::from_shape_vec((1, shape[0]), v).map_err(|x| r.shape(x))?,
        Some((shape, v)) if shape.len() == 2 => Array2::from_shape_vec((shape[0], shape[1]), v).map_err(|x| r.shape(x))?,
        Some((shape, _)) => return Err(file_err(path, format!("estimates/f has shape {shape:?}, expected (nb, T)"))),
    };
    if nb > 0 && !f_bg.is_empty() && f_bg.nrows() != nb {
        return Err(file_err(path, format!("estimates/f has {} rows but b has {nb} columns", f_bg.nrows())));
    }
    let unpermute = |v: Vec<f32>, name: &str| -> Result<Vec<f32>, ExtractionError> {
        if v.is_empty() {
            return Ok(v);
        }
        if v.len() != d {
            return Err(file_err(path, format!("estimates/{name} has {} values for {d} pixels", v.len())));
        }
        let mut out = vec![0.0; d];
        for (fi, x) in v.into_iter().enumerate() {
            out[inv[fi]] = x;
        }
        Ok(out)
    };
    let sn = unpermute(r.vector(&e, "sn", None)?, "sn")?;
    let per_comp = |name: &str| r.vector(&e, name, Some(k));
    let g = match r.floats_nd(&e, "g")? {
        // CaImAn saves a missing g (None) as the scalar 0.
        None => Vec::new(),
        Some((shape, _)) if shape.is_empty() => Vec::new(),
        Some((shape, v)) if shape.len() == 2 => v.chunks(shape[1].max(1)).take(shape[0]).map(<[f32]>::to_vec).collect(),
        Some((shape, v)) if shape.len() == 1 && shape[0] == k => v.into_iter().map(|x| vec![x]).collect(),
        Some((shape, v)) if shape.len() == 1 && k == 1 => vec![v],
        Some((shape, _)) if shape.iter().product::<usize>() == 0 => Vec::new(),
        Some((shape, _)) => return Err(file_err(path, format!("estimates/g has shape {shape:?} for {k} components"))),
    };

    let ring = if r.present(&e, "W") {
        let w_f = r.sparse(&e, "W")?;
        let b0 = unpermute(r.vector(&e, "b0", None)?, "b0")?;
        let wg = e.group("W").map_err(h5(path, "estimates/W"))?;
        let ssub_attr = wg.attr("ssub_B").and_then(|a| a.read_scalar::<u64>()).ok().map(|v| v as usize);
        let params_ssub = f.group("params").and_then(|p| p.group("init")).and_then(|g| g.dataset("ssub_B")).and_then(|d| d.read_scalar::<i64>()).ok();
        let candidates = ssub_attr.into_iter().chain(params_ssub.map(|v| v.max(1) as usize)).chain(1..=16);
        let ds = |s: usize| -> Vec<usize> { fdims.iter().map(|&n| (n - 1) / s + 1).collect() };
        let ssub_b = candidates
            .into_iter()
            .find(|&s| ds(s).iter().product::<usize>() == w_f.n_rows)
            .ok_or_else(|| file_err(path, format!("estimates/W has {} rows; no downsampling of dims {fdims:?} gives that", w_f.n_rows)))?;
        let dims_ds = dims_from_caiman(&ds(ssub_b));
        let inv_ds = inverse(&caiman_index_table(&dims_ds));
        // CaImAn's CSC of W: column i, row j holds W[j, i]; ours: column j lists (i, W[j, i]).
        let mut cols: Vec<Vec<(u32, f32)>> = vec![Vec::new(); w_f.n_rows];
        for ci in 0..w_f.n_cols() {
            let (rows, vals) = w_f.col(ci);
            for (&rj, &v) in rows.iter().zip(vals) {
                cols[inv_ds[rj as usize]].push((inv_ds[ci] as u32, v));
            }
        }
        let mut w = SparseColumns::new(w_f.n_rows);
        for col in cols {
            w.push_col(col);
        }
        Some(RingBackground { w, b0, ssub_b, dims_ds })
    } else {
        None
    };

    let params = read_params(&f, path, &dims)?;
    let timings = f
        .attr("mesmerize_timings")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .ok()
        .and_then(|s| serde_json::from_str::<Vec<(String, f64)>>(s.as_str()).ok())
        .unwrap_or_default();

    Ok(CnmfResult {
        dims,
        a,
        c,
        s,
        yra,
        b,
        f: f_bg,
        ring,
        sn,
        g,
        bl: per_comp("bl")?,
        c1: per_comp("c1")?,
        neurons_sn: per_comp("neurons_sn")?,
        lam: per_comp("lam")?,
        f_dff,
        idx_components: r.indices(&e, "idx_components", k)?,
        idx_components_bad: r.indices(&e, "idx_components_bad", k)?,
        snr_comp: per_comp("SNR_comp")?,
        r_values: per_comp("r_values")?,
        params,
        timings,
    })
}

/// Our canonical parameters if we wrote the file, else CaImAn's `params` group parsed as a user's JSON would be.
fn read_params(f: &hdf5::File, path: &Path, dims: &[usize]) -> Result<CnmfParams, ExtractionError> {
    if let Ok(s) = f.attr("mesmerize_params").and_then(|a| a.read_scalar::<VarLenUnicode>()) {
        return serde_json::from_str(s.as_str()).map_err(|e| file_err(path, format!("attribute mesmerize_params: {e}")));
    }
    let Ok(pg) = f.group("params") else {
        let mode = if dims.len() == 3 { Mode::Cnmf3d } else { Mode::Cnmf };
        return Ok(CnmfParams::defaults(mode));
    };
    let v = read_dict(&pg).map_err(h5(path, "reading the params group"))?;
    let corr_pnr = v.get("init").and_then(|i| i.get("method_init")).and_then(Value::as_str) == Some("corr_pnr");
    let mode = match (dims.len(), corr_pnr) {
        (3, _) => Mode::Cnmf3d,
        (_, true) => Mode::Cnmfe,
        _ => Mode::Cnmf,
    };
    match CnmfParams::from_json(mode, &v) {
        Ok((p, warnings)) => {
            for w in warnings {
                tracing::debug!("{}: params: {w}", path.display());
            }
            Ok(p)
        }
        Err(e) => {
            tracing::warn!("{}: the saved CaImAn parameters are not usable here ({e}); using defaults", path.display());
            Ok(CnmfParams::defaults(mode))
        }
    }
}

/// CaImAn's `recursively_load_dict_contents_from_group`, into JSON.
fn read_dict(g: &hdf5::Group) -> hdf5::Result<Value> {
    let mut m = Map::new();
    for name in g.attr_names()? {
        if let Ok(s) = g.attr(&name).and_then(|a| read_string(&a)) {
            m.insert(name, Value::String(s));
        }
    }
    for name in g.member_names()? {
        if let Ok(sub) = g.group(&name) {
            m.insert(name, read_dict(&sub)?);
            continue;
        }
        let ds = g.dataset(&name)?;
        if let Some(v) = dataset_json(&ds)? {
            m.insert(name, v);
        }
    }
    Ok(Value::Object(m))
}

fn read_string(c: &hdf5::Container) -> hdf5::Result<String> {
    match c.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenUnicode => Ok(c.read_scalar::<VarLenUnicode>()?.to_string()),
        TypeDescriptor::VarLenAscii => Ok(c.read_scalar::<hdf5::types::VarLenAscii>()?.to_string()),
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => {
            let bytes = c.as_byte_reader()?;
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut { bytes }, &mut buf).map_err(|e| hdf5::Error::from(e.to_string().as_str()))?;
            Ok(String::from_utf8_lossy(&buf).trim_end_matches('\0').to_string())
        }
        other => Err(hdf5::Error::from(format!("not a string: {other}").as_str())),
    }
}

fn dataset_json(ds: &hdf5::Dataset) -> hdf5::Result<Option<Value>> {
    let shape = ds.shape();
    let nest = |flat: Vec<Value>| -> Value {
        match shape.as_slice() {
            [] => flat.into_iter().next().unwrap_or(Value::Null),
            [_] => Value::Array(flat),
            [_, n, ..] => Value::Array(flat.chunks((*n).max(1)).map(|c| Value::Array(c.to_vec())).collect()),
        }
    };
    Ok(match ds.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii | TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_)
            if shape.is_empty() =>
        {
            let s = read_string(ds)?;
            Some(if s == "NoneType" { Value::Null } else { Value::String(s) })
        }
        TypeDescriptor::VarLenUnicode => {
            Some(nest(ds.read_raw::<VarLenUnicode>()?.into_iter().map(|s| Value::String(s.to_string())).collect()))
        }
        TypeDescriptor::Boolean => Some(nest(ds.read_raw::<bool>()?.into_iter().map(Value::Bool).collect())),
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
            Some(nest(ds.read_raw::<i64>()?.into_iter().map(Value::from).collect()))
        }
        TypeDescriptor::Float(_) => Some(nest(
            ds.read_raw::<f64>()?.into_iter().map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)).collect(),
        )),
        _ => None,
    })
}

/// A dataset's shape and its values, row-major.
type Shaped = (Vec<usize>, Vec<f32>);

/// Dataset helpers that name the file and the dataset in their errors.
struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn err(&self, m: String) -> ExtractionError {
        file_err(self.path, m)
    }

    fn shape(&self, e: ndarray::ShapeError) -> ExtractionError {
        self.err(format!("array shape: {e}"))
    }

    /// True when `name` exists and is not CaImAn's `NoneType` marker.
    fn present(&self, g: &hdf5::Group, name: &str) -> bool {
        if !g.link_exists(name) {
            return false;
        }
        match g.dataset(name) {
            Ok(ds) => !is_none_marker(&ds),
            Err(_) => g.group(name).is_ok(),
        }
    }

    fn dataset(&self, g: &hdf5::Group, name: &str) -> Result<Option<hdf5::Dataset>, ExtractionError> {
        if !self.present(g, name) {
            return Ok(None);
        }
        g.dataset(name).map(Some).map_err(|e| self.err(format!("{}/{name}: {e}", g.name())))
    }

    fn floats_nd(&self, g: &hdf5::Group, name: &str) -> Result<Option<Shaped>, ExtractionError> {
        let Some(ds) = self.dataset(g, name)? else { return Ok(None) };
        let v = match ds.read_raw::<f32>() {
            Ok(v) => v,
            // CaImAn's refit saves some per-component lists (bl, c1, neurons_sn, lam) as byte strings of numbers.
            Err(e) => numeric_strings(&ds).ok_or_else(|| self.err(format!("{}/{name}: {e}", g.name())))?,
        };
        Ok(Some((ds.shape(), v)))
    }

    fn matrix(&self, g: &hdf5::Group, name: &str, rows: Option<usize>, cols: Option<usize>) -> Result<Array2<f32>, ExtractionError> {
        let Some((shape, v)) = self.floats_nd(g, name)? else { return Ok(Array2::zeros((0, 0))) };
        let (r, c) = match shape.as_slice() {
            [r, c] => (*r, *c),
            // A single component may have been squeezed to (T,).
            [t] if rows == Some(1) => (1, *t),
            [n] if *n == 0 => (0, 0),
            _ => return Err(self.err(format!("{}/{name} has shape {shape:?}, expected (K, T)", g.name()))),
        };
        if r * c == 0 && rows.is_some_and(|k| k > 0) {
            return Ok(Array2::zeros((0, 0)));
        }
        if rows.is_some_and(|k| k != r) || cols.is_some_and(|t| t != c) {
            return Err(self.err(format!(
                "{}/{name} has shape {shape:?}, expected ({}, {}) (components from estimates/A, frames from estimates/C)",
                g.name(),
                rows.map_or("K".into(), |k| k.to_string()),
                cols.map_or("T".into(), |t| t.to_string())
            )));
        }
        Array2::from_shape_vec((r, c), v).map_err(|e| self.shape(e))
    }

    fn vector(&self, g: &hdf5::Group, name: &str, len: Option<usize>) -> Result<Vec<f32>, ExtractionError> {
        let Some((shape, v)) = self.floats_nd(g, name)? else { return Ok(Vec::new()) };
        if v.is_empty() {
            return Ok(v);
        }
        if let Some(n) = len
            && v.len() != n
        {
            return Err(self.err(format!("{}/{name} has shape {shape:?}, expected ({n},)", g.name())));
        }
        Ok(v)
    }

    fn ints_opt(&self, g: &hdf5::Group, name: &str) -> Result<Option<Vec<usize>>, ExtractionError> {
        let Some(ds) = self.dataset(g, name)? else { return Ok(None) };
        let v = ds.read_raw::<i64>().map_err(|e| self.err(format!("{}/{name}: {e}", g.name())))?;
        v.into_iter()
            .map(|x| usize::try_from(x).map_err(|_| self.err(format!("{}/{name} holds a negative value {x}", g.name()))))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn indices(&self, g: &hdf5::Group, name: &str, k: usize) -> Result<Vec<usize>, ExtractionError> {
        let v = self.ints_opt(g, name)?.unwrap_or_default();
        if let Some(bad) = v.iter().find(|&&i| i >= k) {
            return Err(self.err(format!("{}/{name} names component {bad}, but estimates/A has {k}", g.name())));
        }
        Ok(v)
    }

    /// A scipy sparse group (`data`, `indices`, `indptr`, `shape`, CSC), or a dense 2D dataset; checked.
    fn sparse(&self, g: &hdf5::Group, name: &str) -> Result<SparseColumns, ExtractionError> {
        let full = format!("{}/{name}", g.name().trim_start_matches('/'));
        if let Ok(ds) = g.dataset(name) {
            let shape = ds.shape();
            let [rows, cols] = shape[..] else {
                return Err(self.err(format!("{full} is a dataset of shape {shape:?}, expected a sparse group or (d, K)")));
            };
            let v = ds.read_raw::<f32>().map_err(|e| self.err(format!("{full}: {e}")))?;
            let mut out = SparseColumns::new(rows);
            for c in 0..cols {
                out.push_col((0..rows).map(|r| (r as u32, v[r * cols + c])).collect());
            }
            return Ok(out);
        }
        let sg = g.group(name).map_err(|e| self.err(format!("{full}: {e}")))?;
        let part = |p: &str| -> Result<hdf5::Dataset, ExtractionError> {
            sg.dataset(p).map_err(|_| self.err(format!("{full} lacks '{p}' (expected data, indices, indptr, shape)")))
        };
        let read_i = |p: &str| -> Result<Vec<i64>, ExtractionError> {
            part(p)?.read_raw::<i64>().map_err(|e| self.err(format!("{full}/{p}: {e}")))
        };
        let data = part("data")?.read_raw::<f32>().map_err(|e| self.err(format!("{full}/data: {e}")))?;
        let indices = read_i("indices")?;
        let indptr = read_i("indptr")?;
        let shape = read_i("shape")?;
        let [rows, cols] = shape[..] else {
            return Err(self.err(format!("{full}/shape is {shape:?}, expected (rows, columns)")));
        };
        let (rows, cols) = (usize::try_from(rows).unwrap_or(usize::MAX), usize::try_from(cols).unwrap_or(usize::MAX));
        let nnz = data.len();
        let ok_ptr = indptr.len() == cols.saturating_add(1)
            && indptr.first() == Some(&0)
            && indptr.last().is_some_and(|&l| l as usize == nnz)
            && indptr.windows(2).all(|w| w[0] <= w[1]);
        if !ok_ptr || indices.len() != nnz {
            return Err(self.err(format!(
                "{full} is not a valid CSC matrix of shape ({rows}, {cols}): indptr {} entries, indices {}, data {nnz}",
                indptr.len(),
                indices.len()
            )));
        }
        if let Some(bad) = indices.iter().find(|&&i| i < 0 || i as usize >= rows) {
            return Err(self.err(format!("{full} has row index {bad} outside 0..{rows}")));
        }
        let mut out = SparseColumns::new(rows);
        for c in 0..cols {
            let (a, b) = (indptr[c] as usize, indptr[c + 1] as usize);
            out.push_col((a..b).map(|i| (indices[i] as u32, data[i])).collect());
        }
        Ok(out)
    }
}

fn is_none_marker(ds: &hdf5::Dataset) -> bool {
    ds.is_scalar() && read_string(ds).is_ok_and(|s| s == "NoneType")
}

/// A dataset of numbers written as strings (fixed or variable length), parsed; `None`/`nan` become NaN.
fn numeric_strings(ds: &hdf5::Dataset) -> Option<Vec<f32>> {
    let texts: Vec<String> = match ds.read_raw::<hdf5::types::FixedAscii<64>>() {
        Ok(v) => v.iter().map(|s| s.as_str().to_string()).collect(),
        Err(_) => ds.read_raw::<VarLenUnicode>().ok()?.iter().map(|s| s.as_str().to_string()).collect(),
    };
    texts
        .iter()
        .map(|t| match t.trim() {
            "None" | "NoneType" | "nan" | "NaN" => Some(f32::NAN),
            x => x.parse::<f32>().ok(),
        })
        .collect()
}
