//! Proportions plot data: for each value of one categorical column, the share (percent) or count of each value of
//! another, as the original's `get_proportions` (pandas groupby + unstack).

/// A proportions table: rows are the x categories, columns the y categories (both sorted as pandas sorts groups).
#[derive(Debug, Clone, PartialEq)]
pub struct Proportions {
    /// Row labels (x categories).
    pub xs: Vec<String>,
    /// Column labels (y categories).
    pub ys: Vec<String>,
    /// `values[i][j]`: share (percent) or count of ys[j] among rows with xs[i]; NaN where pandas' unstack leaves a
    /// hole (a y never seen with that x).
    pub values: Vec<Vec<f64>>,
}

/// Proportions of `ys` within each `xs` category (`percentages`: per-x shares summing to 100; else counts); `swap`
/// exchanges the two. Lengths must match.
pub fn proportions(xs: &[String], ys: &[String], swap: bool, percentages: bool) -> Result<Proportions, String> {
    if xs.len() != ys.len() {
        return Err(format!("xs ({}) and ys ({}) must have the same length", xs.len(), ys.len()));
    }
    let (xs, ys) = if swap { (ys, xs) } else { (xs, ys) };
    let mut xcat: Vec<String> = xs.to_vec();
    xcat.sort();
    xcat.dedup();
    let mut ycat: Vec<String> = ys.to_vec();
    ycat.sort();
    ycat.dedup();
    let mut counts = vec![vec![0.0f64; ycat.len()]; xcat.len()];
    for (x, y) in xs.iter().zip(ys) {
        let (Ok(i), Ok(j)) = (xcat.binary_search(x), ycat.binary_search(y)) else { continue };
        counts[i][j] += 1.0;
    }
    let values = counts
        .into_iter()
        .map(|row| {
            let total: f64 = row.iter().sum();
            row.iter().map(|&c| if c == 0.0 { f64::NAN } else if percentages { c / total * 100.0 } else { c }).collect()
        })
        .collect();
    Ok(Proportions { xs: xcat, ys: ycat, values })
}
