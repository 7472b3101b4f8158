//! `optimal_leaf_ordering` (Bar-Joseph et al. 2001) and `leaves_list`, ports of scipy's
//! `_optimal_leaf_ordering.pyx` and `_hierarchy.prelist`.
//!
//! scipy keeps the dynamic-programming table `M` in **float32** and mixes float and double the way C does
//! (`M[u,m] + M[w,k]` in float, `+ D[m,k]` in double, stored back as float; the pruning bound entirely in
//! float), and sorts candidate rows with scikit-learn's quicksort. All of that is reproduced exactly, so the chosen
//! rotations (and so the returned Z, whose rows only get their two child columns swapped) are scipy's.

use ndarray::{Array2, ArrayView2};

use super::distance::{check_condensed, condensed_index};
use super::error::{HierarchyError, Result};
use super::linkage::validate_linkage;

/// `scipy.cluster.hierarchy.leaves_list(Z)`: leaf ids in the left-to-right order of the dendrogram.
pub fn leaves_list(z: ArrayView2<f64>) -> Result<Vec<usize>> {
    let n = validate_linkage(z)?;
    Ok(prelist(z, n))
}

/// scipy `prelist`: pre-order traversal collecting the leaves. `z` must be valid.
pub(crate) fn prelist(z: ArrayView2<f64>, n: usize) -> Vec<usize> {
    let mut members = Vec::with_capacity(n);
    let mut visited = vec![false; 2 * n - 1];
    let mut curr = vec![0usize; n];
    let mut k: isize = 0;
    curr[0] = 2 * n - 2;
    while k >= 0 {
        let root = curr[k as usize] - n;
        let lc = z[[root, 0]] as usize;
        if !visited[lc] {
            visited[lc] = true;
            if lc >= n {
                k += 1;
                curr[k as usize] = lc;
                continue;
            }
            members.push(lc);
        }
        let rc = z[[root, 1]] as usize;
        if !visited[rc] {
            visited[rc] = true;
            if rc >= n {
                k += 1;
                curr[k as usize] = rc;
                continue;
            }
            members.push(rc);
        }
        k -= 1;
    }
    members
}

/// `scipy.cluster.hierarchy.optimal_leaf_ordering(Z, y)`: the same tree with children swapped so that the sum of
/// distances between adjacent leaves is minimal. `y` is the condensed distance matrix Z was built from.
pub fn optimal_leaf_ordering(z: ArrayView2<f64>, y: &[f64]) -> Result<Array2<f64>> {
    let n = validate_linkage(z)?;
    let ny = check_condensed(y)?;
    if ny != n {
        return Err(HierarchyError::CondensedSizeMismatch { expected: n, got: ny });
    }
    let leaves = prelist(z, n);
    let mut to_sorted = vec![0usize; n];
    for (s, &o) in leaves.iter().enumerate() {
        to_sorted[o] = s;
    }
    let sorted_z: Vec<(usize, usize)> = z
        .rows()
        .into_iter()
        .map(|r| {
            let (mut l, mut rr) = (r[0] as usize, r[1] as usize);
            if l < n {
                l = to_sorted[l];
            }
            if rr < n {
                rr = to_sorted[rr];
            }
            (l, rr)
        })
        .collect();
    let mut sorted_d = vec![0.0f64; n * n];
    for a in 0..n {
        for b in 0..n {
            if a != b {
                sorted_d[a * n + b] = y[condensed_index(n, leaves[a], leaves[b])];
            }
        }
    }
    let mut ranges = vec![(0usize, 0usize); 2 * n - 1];
    for (i, r) in ranges.iter_mut().enumerate().take(n) {
        *r = (i, i + 1);
    }
    for (i, &(l, r)) in sorted_z.iter().enumerate() {
        ranges[i + n] = (ranges[l].0, ranges[r].1);
    }
    let must_swap = identify_swaps(&sorted_z, &sorted_d, &ranges, n);

    // A node is rotated once per rotated ancestor (itself included): parity from the root down.
    let mut parent = vec![usize::MAX; n - 1];
    for (i, &(l, r)) in sorted_z.iter().enumerate() {
        if l >= n {
            parent[l - n] = i;
        }
        if r >= n {
            parent[r - n] = i;
        }
    }
    let mut final_swap = vec![false; n - 1];
    for i in (0..n - 1).rev() {
        let up = if parent[i] == usize::MAX { false } else { final_swap[parent[i]] };
        final_swap[i] = must_swap[i] ^ up;
    }
    let mut out = z.to_owned();
    for (i, mut row) in out.rows_mut().into_iter().enumerate() {
        if final_swap[i] {
            let t = row[0];
            row[0] = row[1];
            row[1] = t;
        }
    }
    Ok(out)
}

/// scikit-learn's `_simultaneous_sort` (a quicksort with median-of-three), as scipy vendors it.
fn simultaneous_sort(dist: &mut [f32], idx: &mut [usize]) {
    let size = dist.len();
    let swap = |dist: &mut [f32], idx: &mut [usize], a: usize, b: usize| {
        dist.swap(a, b);
        idx.swap(a, b);
    };
    if size <= 1 {
    } else if size == 2 {
        if dist[0] > dist[1] {
            swap(dist, idx, 0, 1);
        }
    } else if size == 3 {
        if dist[0] > dist[1] {
            swap(dist, idx, 0, 1);
        }
        if dist[1] > dist[2] {
            swap(dist, idx, 1, 2);
            if dist[0] > dist[1] {
                swap(dist, idx, 0, 1);
            }
        }
    } else {
        let pivot_idx = size / 2;
        if dist[0] > dist[size - 1] {
            swap(dist, idx, 0, size - 1);
        }
        if dist[size - 1] > dist[pivot_idx] {
            swap(dist, idx, size - 1, pivot_idx);
            if dist[0] > dist[size - 1] {
                swap(dist, idx, 0, size - 1);
            }
        }
        let pivot_val = dist[size - 1];
        let mut store = 0;
        for i in 0..size - 1 {
            if dist[i] < pivot_val {
                swap(dist, idx, i, store);
                store += 1;
            }
        }
        swap(dist, idx, store, size - 1);
        let pivot_idx = store;
        if pivot_idx > 1 {
            simultaneous_sort(&mut dist[..pivot_idx], &mut idx[..pivot_idx]);
        }
        if pivot_idx + 2 < size {
            simultaneous_sort(&mut dist[pivot_idx + 1..], &mut idx[pivot_idx + 1..]);
        }
    }
}

/// scipy `identify_swaps`. `m` is the float32 DP table (n x n), `sd` the leaf-ordered square distances.
fn identify_swaps(sorted_z: &[(usize, usize)], sd: &[f64], ranges: &[(usize, usize)], n: usize) -> Vec<bool> {
    const BIG: f32 = 1_073_741_824.0; // 2^30, scipy's "infinity"
    let mut m = vec![0.0f32; n * n];
    // swap_status[u, w] = (swap_L, swap_R)
    let mut swap_status = vec![(false, false); n * n];
    let mut must_swap = vec![false; sorted_z.len()];
    let (mut best_u, mut best_w) = (0usize, 0usize);
    let mut m_vals: Vec<f32> = Vec::with_capacity(n);
    let mut m_idx: Vec<usize> = Vec::with_capacity(n);
    let mut k_vals: Vec<f32> = Vec::with_capacity(n);
    let mut k_idx: Vec<usize> = Vec::with_capacity(n);

    // vals/idx <- M[lo..hi, col] sorted (scipy's _sort_M_slice)
    let sort_slice = |m: &[f32], vals: &mut Vec<f32>, idx: &mut Vec<usize>, lo: usize, hi: usize, col: usize| {
        vals.clear();
        idx.clear();
        for r in lo..hi {
            vals.push(m[r * n + col]);
            idx.push(r);
        }
        simultaneous_sort(vals, idx);
    };

    for &(v_l, v_r) in sorted_z {
        let (v_l_min, v_l_max) = ranges[v_l];
        let (v_r_min, v_r_max) = ranges[v_r];
        let (u_clusters, m_clusters, total_u) = if v_l < n {
            ([v_l, v_l], [v_l, v_l], 1)
        } else {
            let (a, b) = sorted_z[v_l - n];
            ([a, b], [b, a], 2)
        };
        let (w_clusters, k_clusters, total_w) = if v_r < n {
            ([v_r, v_r], [v_r, v_r], 1)
        } else {
            let (a, b) = sorted_z[v_r - n];
            ([b, a], [a, b], 2)
        };
        for swap_l in 0..total_u {
            for swap_r in 0..total_w {
                let (u_min, u_max) = ranges[u_clusters[swap_l]];
                let (m_min, m_max) = ranges[m_clusters[swap_l]];
                let (w_min, w_max) = ranges[w_clusters[swap_r]];
                let (k_min, k_max) = ranges[k_clusters[swap_r]];

                let mut min_km: f32 = BIG;
                for mm in m_min..m_max {
                    for kk in k_min..k_max {
                        let dv = sd[mm * n + kk];
                        if dv < min_km as f64 {
                            min_km = dv as f32;
                        }
                    }
                }
                for u in u_min..u_max {
                    sort_slice(&m, &mut m_vals, &mut m_idx, m_min, m_max, u);
                    for w in w_min..w_max {
                        sort_slice(&m, &mut k_vals, &mut k_idx, k_min, k_max, w);
                        let mut cur: f32 = BIG;
                        let m_wk0 = m[w * n + k_idx[0]];
                        for &mm in &m_idx {
                            let m_um = m[u * n + mm];
                            if m_um + m_wk0 + min_km >= cur {
                                break;
                            }
                            for &kk in &k_idx {
                                let m_wk = m[w * n + kk];
                                if m_um + m_wk + min_km >= cur {
                                    break;
                                }
                                let current = ((m_um + m_wk) as f64 + sd[mm * n + kk]) as f32;
                                if current < cur {
                                    cur = current;
                                }
                            }
                        }
                        m[u * n + w] = cur;
                        m[w * n + u] = cur;
                        let st = (swap_l == 1, swap_r == 1);
                        swap_status[u * n + w] = st;
                        swap_status[w * n + u] = st;
                    }
                }
            }
        }
        let mut cur: f32 = BIG;
        for u in v_l_min..v_l_max {
            for w in v_r_min..v_r_max {
                if m[u * n + w] < cur {
                    cur = m[u * n + w];
                    best_u = u;
                    best_w = w;
                }
            }
        }
        let st = swap_status[best_u * n + best_w];
        if v_l >= n {
            must_swap[v_l - n] = st.0;
        }
        if v_r >= n {
            must_swap[v_r - n] = st.1;
        }
    }
    must_swap
}
