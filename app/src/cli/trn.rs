//! `mesmerize trn ...`: Transmission files (.trn) from and to NumPy arrays, and a summary of one.
//!
//! The `.npy` reading and writing is ours (the format is a magic string, a Python-dict header and raw data):
//! little-endian float64/float32/int64/int32/int16/uint16 (and uint8/int8/uint32/uint64), 1-D or 2-D, C order.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use mesmerize_core::analysis::ndarray::ArrayView2;
use mesmerize_core::analysis::{RAW_CURVE, Transmission, dtype_name};

/// Transmission subcommands.
#[derive(Debug, Subcommand)]
pub enum TrnCommand {
    /// An n x t array of curves (.npy) -> a Transmission with one curve per row.
    ImportNpy {
        /// The curves: a 2-D array (n curves x t points) or 1-D (one curve), C order, little-endian numbers.
        curves: PathBuf,
        /// The .trn file to write.
        #[arg(long)]
        out: PathBuf,
        /// Frame rate of the curves (Hz), kept in the `meta` column and the history.
        #[arg(long)]
        fps: Option<f64>,
        /// Name of the curve column (numerical data columns start with `_`).
        #[arg(long, default_value = RAW_CURVE)]
        column: String,
    },
    /// One column of a Transmission -> .npy (curves of equal length: 2-D float64; a numeric column: 1-D float64).
    Export {
        /// The .trn file.
        input: PathBuf,
        /// The column to export.
        #[arg(long)]
        column: String,
        /// The .npy file to write.
        #[arg(long)]
        npy: PathBuf,
    },
    /// Columns with dtypes, rows, data blocks and each block's operations.
    Show {
        /// The .trn file.
        input: PathBuf,
        /// Print one JSON document on stdout instead.
        #[arg(long)]
        json: bool,
    },
}

/// Run a `trn` subcommand; errors are one-line reasons.
pub fn run(cmd: TrnCommand) -> anyhow::Result<()> {
    match cmd {
        TrnCommand::ImportNpy { curves, out, fps, column } => import_npy(&curves, &out, fps, &column),
        TrnCommand::Export { input, column, npy } => export(&input, &column, &npy),
        TrnCommand::Show { input, json } => show(&input, json),
    }
}

/// `trn import-npy`: read the array, build the Transmission (one data block, operation `import_npy`), write it.
pub fn import_npy(curves: &Path, out: &Path, fps: Option<f64>, column: &str) -> anyhow::Result<()> {
    let arr = read_npy(curves)?;
    let (n, t) = match arr.shape.as_slice() {
        [t] => (1, *t),
        [n, t] => (*n, *t),
        s => bail!("{}: shape {s:?} is not 1-D or 2-D (n curves x t points)", curves.display()),
    };
    let view = ArrayView2::from_shape((n, t), &arr.data).with_context(|| format!("{}: data size", curves.display()))?;
    let source = curves.file_name().map_or_else(|| curves.display().to_string(), |s| s.to_string_lossy().into_owned());
    let tr = Transmission::from_curves(view, column, fps, &source)?;
    tr.to_hdf5(out)?;
    let plural = if n == 1 { "" } else { "s" };
    eprintln!("{}: {n} curve{plural} of {t} points in column {column}", out.display());
    Ok(())
}

/// `trn export`: a list column of equal-length curves -> 2-D float64, a numeric scalar column -> 1-D float64.
pub fn export(input: &Path, column: &str, npy: &Path) -> anyhow::Result<()> {
    let tr = Transmission::from_hdf5(input)?;
    let dtype = tr.df.column(column).map(|c| c.dtype().clone()).map_err(|_| {
        let names: Vec<String> = tr.df.columns().iter().map(|c| c.name().to_string()).collect();
        anyhow::anyhow!("{}: no column '{column}' (columns: {})", input.display(), names.join(", "))
    })?;
    let (rows, equal) = tr.column_as_matrix(column).with_context(|| input.display().to_string())?;
    let is_list = dtype_name(&dtype).starts_with("List(");
    let (shape, data): (Vec<usize>, Vec<f64>) = if is_list {
        if !equal {
            let (lo, hi) = rows.iter().fold((usize::MAX, 0), |(lo, hi), r| (lo.min(r.len()), hi.max(r.len())));
            bail!(
                "column '{column}' holds curves of different lengths ({lo} to {hi} points); a .npy array needs equal \
                 lengths (object arrays would need pickle, which is not written): splice or resample the curves \
                 to one length first"
            );
        }
        let t = rows.first().map_or(0, Vec::len);
        (vec![rows.len(), t], rows.into_iter().flatten().collect())
    } else {
        (vec![rows.len()], rows.into_iter().flatten().collect())
    };
    write_npy_f64(npy, &shape, &data)?;
    eprintln!("{}: {} {shape:?} float64", npy.display(), if is_list { "curves" } else { "values" });
    Ok(())
}

/// `trn show`: a human summary, or with `--json` [`Transmission::summary`] as one document on stdout.
pub fn show(input: &Path, json: bool) -> anyhow::Result<()> {
    let tr = Transmission::from_hdf5(input)?;
    if json {
        out!("{}", serde_json::to_string_pretty(&tr.summary())?)?;
        return Ok(());
    }
    out!("file         {}", input.display())?;
    out!("rows         {}", tr.df.height())?;
    out!("last output  {}", tr.last_output.as_deref().unwrap_or("none"))?;
    out!("last unit    {}", tr.last_unit.as_deref().unwrap_or("none"))?;
    out!("project      {}", tr.proj_path.as_ref().map_or("none".into(), |p| p.display().to_string()))?;
    out!("columns      {}", tr.df.width())?;
    let width = tr.df.columns().iter().map(|c| c.name().chars().count()).max().unwrap_or(0);
    for c in tr.df.columns() {
        out!("  {:width$}  {}", c.name().as_str(), dtype_name(c.dtype()))?;
    }
    out!("data blocks  {}", tr.history.data_blocks().len())?;
    for b in tr.history.data_blocks() {
        let ops = tr.history.get_operations_list(b)?;
        out!("  {b}: {}", if ops.is_empty() { "(no operations)".to_string() } else { ops.join(", ") })?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------------
// .npy

/// An array read from a .npy file, converted to float64 (C order).
#[derive(Debug, Clone, PartialEq)]
pub struct Npy {
    /// The array's shape (1-D or 2-D).
    pub shape: Vec<usize>,
    /// The values, C order.
    pub data: Vec<f64>,
}

/// Read a little-endian numeric .npy file (versions 1-3), 1-D or 2-D, C order; anything else is refused with the
/// reason.
pub fn read_npy(path: &Path) -> anyhow::Result<Npy> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_npy(&bytes).with_context(|| format!("{}: not a supported .npy file", path.display()))
}

/// Parse the bytes of a .npy file (see [`read_npy`]).
pub fn parse_npy(bytes: &[u8]) -> anyhow::Result<Npy> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("no NumPy magic string");
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            let b = bytes.get(8..12).context("truncated header")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => bail!("format version {v} is not supported"),
    };
    let header = bytes.get(start..start + header_len).context("truncated header")?;
    let header = std::str::from_utf8(header).context("header is not text")?;
    let (descr, fortran, shape) = parse_header(header)?;
    if fortran {
        bail!("Fortran-order array; save it in C order (np.save(path, np.ascontiguousarray(a)))");
    }
    if shape.len() > 2 || shape.is_empty() {
        bail!("shape {shape:?}: only 1-D and 2-D arrays are read");
    }
    let n: usize = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).context("shape too large")?;
    let raw = &bytes[start + header_len..];
    macro_rules! decode {
        ($t:ty) => {{
            const W: usize = std::mem::size_of::<$t>();
            let need = n.checked_mul(W).context("shape too large")?;
            if raw.len() < need {
                bail!("truncated data: {} bytes for {n} values of {W} bytes", raw.len());
            }
            raw[..need]
                .chunks_exact(W)
                .map(|c| {
                    let mut b = [0u8; W];
                    b.copy_from_slice(c);
                    <$t>::from_le_bytes(b) as f64
                })
                .collect::<Vec<f64>>()
        }};
    }
    let data = match descr.as_str() {
        "<f8" => decode!(f64),
        "<f4" => decode!(f32),
        "<i8" => decode!(i64),
        "<i4" => decode!(i32),
        "<i2" => decode!(i16),
        "<u2" => decode!(u16),
        "<u4" => decode!(u32),
        "<u8" => decode!(u64),
        "|u1" => decode!(u8),
        "|i1" => decode!(i8),
        d if d.starts_with('>') => bail!("big-endian dtype '{d}'; convert it first (a.astype('<f8'))"),
        d => bail!("dtype '{d}' is not supported (little-endian float64/32, int64/32/16/8, uint64/32/16/8)"),
    };
    Ok(Npy { shape, data })
}

/// The three keys of a .npy header dict: `descr`, `fortran_order`, `shape`.
fn parse_header(h: &str) -> anyhow::Result<(String, bool, Vec<usize>)> {
    let value_after = |key: &str| -> anyhow::Result<&str> {
        let i = h.find(&format!("'{key}'")).or_else(|| h.find(&format!("\"{key}\""))).with_context(|| format!("header has no '{key}'"))?;
        let rest = &h[i + key.len() + 2..];
        let colon = rest.find(':').with_context(|| format!("header: no ':' after '{key}'"))?;
        Ok(rest[colon + 1..].trim_start())
    };
    let d = value_after("descr")?;
    let quote = d.chars().next().filter(|c| *c == '\'' || *c == '"').context("header: descr is not a string")?;
    let end = d[1..].find(quote).context("header: unterminated descr")?;
    let descr = d[1..1 + end].to_string();
    let f = value_after("fortran_order")?;
    let fortran = if f.starts_with("True") {
        true
    } else if f.starts_with("False") {
        false
    } else {
        bail!("header: fortran_order is not True/False");
    };
    let s = value_after("shape")?;
    let close = s.find(')').filter(|_| s.starts_with('(')).context("header: shape is not a tuple")?;
    let shape = s[1..close]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_end_matches('L').parse::<usize>().with_context(|| format!("header: bad shape entry '{p}'")))
        .collect::<anyhow::Result<Vec<usize>>>()?;
    Ok((descr, fortran, shape))
}

/// The bytes of a float64 .npy file (version 1.0, header padded to 64 bytes as NumPy does).
pub fn npy_f64_bytes(shape: &[usize], data: &[f64]) -> anyhow::Result<Vec<u8>> {
    if shape.iter().product::<usize>() != data.len() {
        bail!("{} values do not fill shape {shape:?}", data.len());
    }
    let dims = match shape {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let len = u16::try_from(header.len()).context("header too long")?;
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Write a float64 .npy file atomically (a failed write leaves any previous file).
pub fn write_npy_f64(path: &Path, shape: &[usize], data: &[f64]) -> anyhow::Result<()> {
    let bytes = npy_f64_bytes(shape, data)?;
    mesmerize_core::io::atomic::write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, fortran: bool, data: &[u8], major: u8) -> Vec<u8> {
        let f = if fortran { "True" } else { "False" };
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
        h.push('\n');
        let mut out = b"\x93NUMPY".to_vec();
        out.push(major);
        out.push(0);
        if major == 1 {
            out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(h.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn npy_round_trip_and_dtypes() {
        let data: Vec<f64> = (0..6).map(|v| v as f64 * 0.5).collect();
        let bytes = npy_f64_bytes(&[2, 3], &data).expect("bytes");
        assert_eq!((bytes.len() - 6 * 8) % 64, 0, "header padded to 64");
        assert_eq!(parse_npy(&bytes).expect("parse"), Npy { shape: vec![2, 3], data: data.clone() });
        let one = npy_f64_bytes(&[6], &data).expect("1-D");
        assert_eq!(parse_npy(&one).expect("parse").shape, vec![6]);
        let i2: Vec<u8> = [-1i16, 2, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<i2", "(3,)", false, &i2, 1)).expect("i2").data, vec![-1.0, 2.0, 300.0]);
        let u2: Vec<u8> = [65535u16, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<u2", "(1, 2)", false, &u2, 2)).expect("u2 v2").data, vec![65535.0, 1.0]);
        let f4: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<f4", "(2, 1)", false, &f4, 1)).expect("f4").data, vec![1.5, -2.0]);
        let i8s: Vec<u8> = [-5i64].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<i8", "(1,)", false, &i8s, 3)).expect("i8 v3").data, vec![-5.0]);
        let i4: Vec<u8> = [7i32, 8].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<i4", "(2,)", false, &i4, 1)).expect("i4").data, vec![7.0, 8.0]);
        assert_eq!(parse_npy(&npy("<f8", "(0, 5)", false, &[], 1)).expect("empty").shape, vec![0, 5]);
    }

    #[test]
    fn npy_refusals_say_why() {
        let err = |b: Vec<u8>| format!("{:#}", parse_npy(&b).expect_err("refused"));
        let f8: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(err(npy("<f8", "(2,)", true, &f8, 1)).contains("Fortran"));
        assert!(err(npy(">f8", "(2,)", false, &f8, 1)).contains("big-endian"));
        assert!(err(npy("|O", "(2,)", false, &f8, 1)).contains("not supported"));
        assert!(err(npy("<c16", "(1,)", false, &f8, 1)).contains("not supported"));
        assert!(err(npy("<f8", "(1, 1, 2)", false, &f8, 1)).contains("1-D and 2-D"));
        assert!(err(npy("<f8", "(3,)", false, &f8, 1)).contains("truncated"));
        assert!(err(b"not numpy".to_vec()).contains("magic"));
        assert!(err(npy("<f8", "()", false, &f8, 1)).contains("1-D and 2-D"));
    }
}
