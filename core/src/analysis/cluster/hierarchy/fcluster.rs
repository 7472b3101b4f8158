//! `fcluster`: flat clusters from a linkage matrix, all five scipy criteria, with scipy's label numbering
//! (1-based, numbered in the order scipy's depth-first traversal from the root meets the clusters).
//! Ports of `cluster_dist`, `cluster_in`, `cluster_maxclust_dist`, `cluster_monocrit`,
//! `cluster_maxclust_monocrit` and `get_max_dist_for_each_cluster` (scipy 1.17 `_hierarchy.pyx`).

use ndarray::ArrayView2;

use super::error::{HierarchyError, Result};
use super::inconsistent::{check_r, inconsistent, subtree_max};
use super::linkage::validate_linkage;

/// How flat clusters are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Criterion {
    /// Cluster nodes whose inconsistency coefficient (and all their descendants') is <= t
    /// (R from `inconsistent(Z, depth)` unless given).
    Inconsistent,
    /// Cophenetic distance <= t (t is a height).
    Distance,
    /// At most t clusters (the smallest distance threshold that gives at most t).
    Maxclust,
    /// Nodes whose monocrit value is <= t (monocrit must be monotonic for a meaningful result).
    Monocrit,
    /// At most t clusters by the smallest monocrit threshold.
    MaxclustMonocrit,
}

/// scipy's criterion names.
pub const CRITERION_NAMES: [&str; 5] = ["inconsistent", "distance", "maxclust", "monocrit", "maxclust_monocrit"];

impl Criterion {
    /// Parse scipy's name (case-insensitive).
    pub fn from_name(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "inconsistent" => Ok(Criterion::Inconsistent),
            "distance" => Ok(Criterion::Distance),
            "maxclust" => Ok(Criterion::Maxclust),
            "monocrit" => Ok(Criterion::Monocrit),
            "maxclust_monocrit" => Ok(Criterion::MaxclustMonocrit),
            _ => Err(HierarchyError::UnknownCriterion { name: name.to_string(), valid: CRITERION_NAMES.join(", ") }),
        }
    }

    /// scipy's name.
    pub fn name(&self) -> &'static str {
        match self {
            Criterion::Inconsistent => "inconsistent",
            Criterion::Distance => "distance",
            Criterion::Maxclust => "maxclust",
            Criterion::Monocrit => "monocrit",
            Criterion::MaxclustMonocrit => "maxclust_monocrit",
        }
    }
}

impl std::str::FromStr for Criterion {
    type Err = HierarchyError;
    fn from_str(s: &str) -> Result<Self> {
        Criterion::from_name(s)
    }
}

/// `scipy.cluster.hierarchy.fcluster(Z, t, criterion, depth, R, monocrit)`.
///
/// * `t`: the threshold; for `Maxclust`/`MaxclustMonocrit` the maximum number of clusters, truncated toward zero
///   as scipy's `int(t)` (an error below 1, where scipy reads out of bounds).
/// * `depth`: only used by `Inconsistent` when `r` is `None` (scipy's default is 2).
/// * `r`: inconsistency matrix for `Inconsistent` ((n-1) x 4); computed with `depth` when `None`.
/// * `monocrit`: one value per Z row, required by `Monocrit` and `MaxclustMonocrit`, ignored otherwise.
///
/// Returns one 1-based label per observation.
pub fn fcluster(
    z: ArrayView2<f64>,
    t: f64,
    criterion: Criterion,
    depth: usize,
    r: Option<ArrayView2<f64>>,
    monocrit: Option<&[f64]>,
) -> Result<Vec<i32>> {
    let n = validate_linkage(z)?;
    if t.is_nan() {
        return Err(HierarchyError::NanThreshold);
    }
    let mut labels = vec![0i32; n];
    match criterion {
        Criterion::Inconsistent => {
            let owned;
            let rv = match r {
                Some(r) => {
                    check_r(r, n - 1)?;
                    r
                }
                None => {
                    owned = inconsistent(z, depth)?;
                    owned.view()
                }
            };
            let max_inconsists = subtree_max(z, n, |link| rv[[link, 3]]);
            cluster_monocrit(z, &max_inconsists, &mut labels, t, n);
        }
        Criterion::Distance => {
            let md = max_dists(z, n);
            cluster_monocrit(z, &md, &mut labels, t, n);
        }
        Criterion::Maxclust => {
            let mc = maxclust_count(t, "maxclust")?;
            let md = max_dists(z, n);
            cluster_maxclust_monocrit(z, &md, &mut labels, n, mc);
        }
        Criterion::Monocrit => {
            let mc = check_monocrit(monocrit, n, "monocrit")?;
            cluster_monocrit(z, mc, &mut labels, t, n);
        }
        Criterion::MaxclustMonocrit => {
            let mc = check_monocrit(monocrit, n, "maxclust_monocrit")?;
            let k = maxclust_count(t, "maxclust_monocrit")?;
            cluster_maxclust_monocrit(z, mc, &mut labels, n, k);
        }
    }
    Ok(labels)
}

/// `scipy.cluster.hierarchy.maxdists(Z)`: for each non-singleton cluster, the largest merge height in its subtree.
pub fn maxdists(z: ArrayView2<f64>) -> Result<Vec<f64>> {
    let n = validate_linkage(z)?;
    Ok(max_dists(z, n))
}

fn maxclust_count(t: f64, criterion: &'static str) -> Result<usize> {
    let k = t.trunc();
    if k < 1.0 {
        return Err(HierarchyError::MaxclustTooSmall { criterion, t });
    }
    // anything >= n means "every observation its own cluster"; clamp to keep the cast meaningful
    Ok(if k > 1e15 { usize::MAX / 4 } else { k as usize })
}

fn check_monocrit<'a>(monocrit: Option<&'a [f64]>, n: usize, criterion: &'static str) -> Result<&'a [f64]> {
    let mc = monocrit.ok_or(HierarchyError::MissingMonocrit(criterion))?;
    if mc.len() != n - 1 {
        return Err(HierarchyError::BadMonocrit { expected: n - 1, got: mc.len(), extra: String::new() });
    }
    if let Some(i) = mc.iter().position(|v| v.is_nan()) {
        return Err(HierarchyError::BadMonocrit { expected: n - 1, got: mc.len(), extra: format!(" (NaN at {i})") });
    }
    Ok(mc)
}

/// scipy `get_max_dist_for_each_cluster`: the largest merge height in each link's subtree.
pub(crate) fn max_dists(z: ArrayView2<f64>, n: usize) -> Vec<f64> {
    subtree_max(z, n, |link| z[[link, 2]])
}

/// scipy `cluster_monocrit`: label the observations, a cluster per highest node with `mc <= cutoff`.
pub(crate) fn cluster_monocrit(z: ArrayView2<f64>, mc: &[f64], t: &mut [i32], cutoff: f64, n: usize) {
    let mut visited = vec![false; 2 * n - 1];
    let mut curr = vec![0usize; n];
    let mut k: isize = 0;
    let mut n_cluster: i32 = 0;
    let mut leader: Option<usize> = None;
    curr[0] = 2 * n - 2;
    while k >= 0 {
        let root = curr[k as usize] - n;
        let lc = z[[root, 0]] as usize;
        let rc = z[[root, 1]] as usize;
        if leader.is_none() && mc[root] <= cutoff {
            leader = Some(root);
            n_cluster += 1;
        }
        if lc >= n && !visited[lc] {
            visited[lc] = true;
            k += 1;
            curr[k as usize] = lc;
            continue;
        }
        if rc >= n && !visited[rc] {
            visited[rc] = true;
            k += 1;
            curr[k as usize] = rc;
            continue;
        }
        if lc < n {
            if leader.is_none() {
                n_cluster += 1;
            }
            t[lc] = n_cluster;
        }
        if rc < n {
            if leader.is_none() {
                n_cluster += 1;
            }
            t[rc] = n_cluster;
        }
        if leader == Some(root) {
            leader = None;
        }
        k -= 1;
    }
}

/// scipy `cluster_maxclust_monocrit`: bisection (over node indices, as scipy) for the smallest `mc` threshold
/// giving at most `max_nc` clusters, then `cluster_monocrit` with it. `max_nc >= 1`.
pub(crate) fn cluster_maxclust_monocrit(z: ArrayView2<f64>, mc: &[f64], t: &mut [i32], n: usize, max_nc: usize) {
    if max_nc >= n {
        for (i, v) in t.iter_mut().enumerate() {
            *v = i as i32 + 1;
        }
        return;
    }
    let mut curr = vec![0usize; n];
    let mut visited = vec![false; 2 * n - 1];
    let mut lower_idx: isize = -1;
    let mut upper_idx: isize = n as isize - 1;
    while upper_idx - lower_idx > 1 {
        let i = ((lower_idx + upper_idx) >> 1) as usize;
        let thresh = mc[i];
        visited.iter_mut().for_each(|v| *v = false);
        let mut nc = 0usize;
        let mut k: isize = 0;
        curr[0] = 2 * n - 2;
        while k >= 0 {
            let root = curr[k as usize] - n;
            let lc = z[[root, 0]] as usize;
            let rc = z[[root, 1]] as usize;
            if mc[root] <= thresh {
                nc += 1;
                if nc > max_nc {
                    break;
                }
                k -= 1;
                visited[lc] = true;
                visited[rc] = true;
                continue;
            }
            if !visited[lc] {
                visited[lc] = true;
                if lc >= n {
                    k += 1;
                    curr[k as usize] = lc;
                    continue;
                }
                nc += 1;
                if nc > max_nc {
                    break;
                }
            }
            if !visited[rc] {
                visited[rc] = true;
                if rc >= n {
                    k += 1;
                    curr[k as usize] = rc;
                    continue;
                }
                nc += 1;
                if nc > max_nc {
                    break;
                }
            }
            k -= 1;
        }
        if nc > max_nc {
            lower_idx = i as isize;
        } else {
            upper_idx = i as isize;
        }
    }
    // upper_idx < n - 1 whenever max_nc >= 1: the root alone always satisfies "mc[root] <= mc[root]".
    let cutoff = mc[(upper_idx as usize).min(n - 2)];
    cluster_monocrit(z, mc, t, cutoff, n);
}
