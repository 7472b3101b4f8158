//! `inconsistent`, `maxinconsts`, `maxRstat` and `cophenet` (ports of scipy 1.17 `_hierarchy.pyx`, same
//! traversal and summation order, so the values are bit-identical for the same Z).

use ndarray::{Array2, ArrayView2};

use super::distance::{check_condensed, condensed_index};
use super::error::{HierarchyError, Result};
use super::linkage::{validate_linkage, validate_linkage_counts};

/// `scipy.cluster.hierarchy.inconsistent(Z, d)`: the (n-1) x 4 matrix R; row i covers the links at most `d` levels
/// below link i (i included): `[mean height, std (ddof 1), number of links, (Z[i,2] - mean) / std]`; std and the
/// coefficient are 0 where std is 0. `d = 0` counts as 1, as in scipy.
pub fn inconsistent(z: ArrayView2<f64>, d: usize) -> Result<Array2<f64>> {
    let n = validate_linkage(z)?;
    let d = d as isize;
    let mut r = Array2::<f64>::zeros((n - 1, 4));
    let mut curr = vec![0usize; n];
    let mut visited = vec![false; 2 * n - 1];
    for i in 0..n - 1 {
        let mut k: isize = 0;
        let mut level_count: i64 = 0;
        let mut level_sum = 0.0f64;
        let mut level_std_sum = 0.0f64;
        visited.iter_mut().for_each(|v| *v = false);
        curr[0] = i;
        while k >= 0 {
            let root = curr[k as usize];
            if k < d - 1 {
                let lc = z[[root, 0]] as usize;
                if lc >= n && !visited[lc] {
                    visited[lc] = true;
                    k += 1;
                    curr[k as usize] = lc - n;
                    continue;
                }
                let rc = z[[root, 1]] as usize;
                if rc >= n && !visited[rc] {
                    visited[rc] = true;
                    k += 1;
                    curr[k as usize] = rc - n;
                    continue;
                }
            }
            let dist = z[[root, 2]];
            level_count += 1;
            level_sum += dist;
            level_std_sum += dist * dist;
            k -= 1;
        }
        let cnt = level_count as f64;
        r[[i, 0]] = level_sum / cnt;
        r[[i, 2]] = cnt;
        let mut level_std = if level_count < 2 {
            (level_std_sum - (level_sum * level_sum)) / cnt
        } else {
            (level_std_sum - ((level_sum * level_sum) / cnt)) / ((level_count - 1) as f64)
        };
        if level_std > 0.0 {
            level_std = level_std.sqrt();
            r[[i, 1]] = level_std;
            r[[i, 3]] = (z[[i, 2]] - r[[i, 0]]) / level_std;
        } else {
            r[[i, 1]] = 0.0;
        }
    }
    Ok(r)
}

/// scipy's `is_valid_im` plus the row count of Z: R must be (rows x 4), finite, with non-negative means,
/// deviations and counts.
pub(crate) fn check_r(r: ArrayView2<f64>, rows: usize) -> Result<()> {
    let (rr, rc) = r.dim();
    if rc != 4 || rr != rows || rr == 0 {
        return Err(HierarchyError::BadRShape { expected_rows: rows, rows: rr, cols: rc });
    }
    for (i, row) in r.rows().into_iter().enumerate() {
        if row.iter().any(|v| v.is_nan()) {
            return Err(HierarchyError::InvalidR(format!("row {i} contains NaN")));
        }
        if row[0] < 0.0 {
            return Err(HierarchyError::InvalidR(format!("row {i} contains a negative link height mean")));
        }
        if row[1] < 0.0 {
            return Err(HierarchyError::InvalidR(format!("row {i} contains a negative link height standard deviation")));
        }
        if row[2] < 0.0 {
            return Err(HierarchyError::InvalidR(format!("row {i} contains a negative link count")));
        }
    }
    Ok(())
}

/// The maximum of `value(link)` over each link and its descendant links (scipy's `get_max_dist_for_each_cluster`
/// and `get_max_Rfield_for_each_cluster`). Children come before their parent in a valid Z, so one forward pass
/// replaces scipy's explicit-stack traversal.
pub(crate) fn subtree_max(z: ArrayView2<f64>, n: usize, value: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut out = vec![0.0f64; n - 1];
    for i in 0..n - 1 {
        let mut m = value(i);
        for child in [z[[i, 0]] as usize, z[[i, 1]] as usize] {
            if child >= n && out[child - n] > m {
                m = out[child - n];
            }
        }
        out[i] = m;
    }
    out
}

/// `scipy.cluster.hierarchy.maxinconsts(Z, R)`: the maximum inconsistency coefficient (R column 3) of each link and
/// its descendants.
pub fn maxinconsts(z: ArrayView2<f64>, r: ArrayView2<f64>) -> Result<Vec<f64>> {
    max_r_stat(z, r, 3)
}

/// `scipy.cluster.hierarchy.maxRstat(Z, R, i)`: the maximum of R column `i` (0 mean, 1 std, 2 count,
/// 3 coefficient) over each link and its descendants.
pub fn max_r_stat(z: ArrayView2<f64>, r: ArrayView2<f64>, i: usize) -> Result<Vec<f64>> {
    let n = validate_linkage(z)?;
    check_r(r, n - 1)?;
    if i > 3 {
        return Err(HierarchyError::BadRColumn(i));
    }
    Ok(subtree_max(z, n, |link| r[[link, i]]))
}

/// The cophenetic distances of Z (condensed, scipy `cophenetic_distances`): the height of the link at which two
/// observations first join.
pub fn cophenetic_distances(z: ArrayView2<f64>) -> Result<Vec<f64>> {
    let n = validate_linkage_counts(z)?;
    let mut d = vec![0.0f64; n * (n - 1) / 2];
    let mut curr = vec![0usize; n];
    let mut members = vec![0usize; n];
    let mut left_start = vec![0usize; n];
    let mut visited = vec![false; 2 * n - 1];
    let mut k: isize = 0;
    curr[0] = 2 * n - 2;
    left_start[0] = 0;
    while k >= 0 {
        let ku = k as usize;
        let root = curr[ku] - n;
        let lc = z[[root, 0]] as usize;
        let rc = z[[root, 1]] as usize;
        let n_lc;
        if lc >= n {
            n_lc = z[[lc - n, 3]] as usize;
            if !visited[lc] {
                visited[lc] = true;
                k += 1;
                curr[ku + 1] = lc;
                left_start[ku + 1] = left_start[ku];
                continue;
            }
        } else {
            n_lc = 1;
            members[left_start[ku]] = lc;
        }
        let n_rc;
        if rc >= n {
            n_rc = z[[rc - n, 3]] as usize;
            if !visited[rc] {
                visited[rc] = true;
                k += 1;
                curr[ku + 1] = rc;
                left_start[ku + 1] = left_start[ku] + n_lc;
                continue;
            }
        } else {
            n_rc = 1;
            members[left_start[ku] + n_lc] = rc;
        }
        let dist = z[[root, 2]];
        let right_start = left_start[ku] + n_lc;
        for a in left_start[ku]..right_start {
            for b in right_start..right_start + n_rc {
                d[condensed_index(n, members[a], members[b])] = dist;
            }
        }
        k -= 1;
    }
    Ok(d)
}

/// `scipy.cluster.hierarchy.cophenet(Z, Y)`: the cophenetic correlation coefficient between the cophenetic
/// distances of Z and the original condensed distances `y`, and the cophenetic distances.
pub fn cophenet(z: ArrayView2<f64>, y: &[f64]) -> Result<(f64, Vec<f64>)> {
    let zz = cophenetic_distances(z)?;
    let ny = check_condensed(y)?;
    let n = z.nrows() + 1;
    if ny != n {
        return Err(HierarchyError::CondensedSizeMismatch { expected: n, got: ny });
    }
    let m = zz.len() as f64;
    let zmean = zz.iter().sum::<f64>() / m;
    let ymean = y.iter().sum::<f64>() / m;
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for (&a, &b) in y.iter().zip(&zz) {
        let (yy, zc) = (a - ymean, b - zmean);
        num += yy * zc;
        da += yy * yy;
        db += zc * zc;
    }
    Ok((num / (da * db).sqrt(), zz))
}
