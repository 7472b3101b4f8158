//! `linkage`: agglomerative clustering, the (n-1) x 4 matrix Z exactly as `scipy.cluster.hierarchy.linkage`
//! returns it (scipy 1.17).
//!
//! The algorithms are line-by-line ports of scipy's Cython (`_hierarchy.pyx`):
//! * `single`: minimum spanning tree (`mst_single_linkage`), rows stably sorted by height, then relabelled;
//! * `complete`, `average`, `weighted`, `ward`: nearest-neighbour chain (`nn_chain`), rows stably sorted by
//!   height, then relabelled with scipy's union-find (`label`);
//! * `centroid`, `median`: the generic algorithm with a binary heap (`fast_linkage`), rows in merge order (not
//!   sorted, heights can decrease: inversions are kept as scipy keeps them).
//!
//! Each Z row is `[id_a, id_b, height, count]` with `id_a < id_b` (before optimal ordering, which may swap them),
//! cluster `n + k` being the one formed by row k. The Lance-Williams updates use scipy's exact expressions (same
//! operation order), so with the same condensed distances the heights are bit-identical and ties are broken the
//! way scipy breaks them (lowest index first in each scan). centroid/median/ward are, as in scipy, applied to
//! the *Euclidean distances* (not squared) of the observations; from observations any other metric is refused for
//! them (scipy's ValueError), while a condensed matrix is taken as it is (scipy does the same).
//!
//! kodama 0.3 (a port of fastcluster) is not used: for ward/centroid/median it runs the Lance-Williams updates on
//! *squared* distances and takes square roots at the end (fastcluster's formulation) where scipy updates the
//! distances themselves with a square root at every step, so its heights differ from scipy's in the last bits and
//! near-ties can resolve differently; a direct port of scipy's loops was small and is exact.

use ndarray::{Array2, ArrayView2};

use super::distance::{Metric, check_condensed, condensed_index, mesmerize_wasserstein_shift, pdist};
use super::error::{HierarchyError, Result};
use super::optimal_ordering::optimal_leaf_ordering;

/// A linkage method (how the distance between merged clusters is updated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Nearest point (minimum spanning tree).
    Single,
    /// Farthest point.
    Complete,
    /// UPGMA: mean over all pairs.
    Average,
    /// WPGMA: mean of the two merged clusters' distances.
    Weighted,
    /// UPGMC: distance between centroids (Euclidean input expected).
    Centroid,
    /// WPGMC (Euclidean input expected).
    Median,
    /// Ward's minimum variance (Euclidean input expected).
    Ward,
}

/// All method names, in scipy's order.
pub const METHOD_NAMES: [&str; 7] = ["single", "complete", "average", "weighted", "centroid", "median", "ward"];

/// The methods the original Mesmerize Linkage node lists, in its order.
pub const NODE_METHODS: [&str; 3] = ["complete", "average", "single"];

impl Method {
    /// All methods, in scipy's order.
    pub const ALL: [Method; 7] = [
        Method::Single,
        Method::Complete,
        Method::Average,
        Method::Weighted,
        Method::Centroid,
        Method::Median,
        Method::Ward,
    ];

    /// Parse a method name (case-insensitive).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        Method::ALL.into_iter().find(|m| m.name() == lower).ok_or_else(|| HierarchyError::UnknownMethod {
            name: name.to_string(),
            valid: METHOD_NAMES.join(", "),
        })
    }

    /// scipy's name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Single => "single",
            Method::Complete => "complete",
            Method::Average => "average",
            Method::Weighted => "weighted",
            Method::Centroid => "centroid",
            Method::Median => "median",
            Method::Ward => "ward",
        }
    }

    /// centroid, median and ward: defined on Euclidean distances only.
    pub fn requires_euclidean(&self) -> bool {
        matches!(self, Method::Centroid | Method::Median | Method::Ward)
    }
}

impl std::str::FromStr for Method {
    type Err = HierarchyError;
    fn from_str(s: &str) -> Result<Self> {
        Method::from_name(s)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What `linkage` clusters: an n x d observation matrix (distances computed with the metric) or a condensed
/// distance matrix (the metric is then ignored, as in scipy).
#[derive(Debug, Clone, Copy)]
pub enum LinkageInput<'a> {
    /// n observations (rows) x d features.
    Observations(ArrayView2<'a, f64>),
    /// Condensed distance matrix of length n(n-1)/2.
    Condensed(&'a [f64]),
}

/// `scipy.cluster.hierarchy.linkage(y, method, metric, optimal_ordering)`.
pub fn linkage(input: LinkageInput<'_>, method: Method, metric: Metric, optimal_ordering: bool) -> Result<Array2<f64>> {
    match input {
        LinkageInput::Condensed(y) => linkage_condensed(y, method, optimal_ordering),
        LinkageInput::Observations(x) => {
            if method.requires_euclidean() && metric != Metric::Euclidean {
                return Err(HierarchyError::NonEuclideanMetric { method: method.name(), metric: metric.to_string() });
            }
            if x.nrows() < 2 {
                return Err(HierarchyError::TooFewObservations(x.nrows()));
            }
            let y = pdist(x, metric)?;
            if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(HierarchyError::NonFinite { what: "computed distance matrix", index, value });
            }
            linkage_condensed(&y, method, optimal_ordering)
        }
    }
}

/// `linkage` of a condensed distance matrix.
pub fn linkage_condensed(y: &[f64], method: Method, optimal_ordering: bool) -> Result<Array2<f64>> {
    let n = check_condensed(y)?;
    let rows = match method {
        Method::Single => mst_single_linkage(y, n),
        Method::Complete | Method::Average | Method::Weighted | Method::Ward => nn_chain(y, n, method),
        Method::Centroid | Method::Median => fast_linkage(y, n, method)?,
    };
    let z = rows_to_array(&rows);
    if optimal_ordering { optimal_leaf_ordering(z.view(), y) } else { Ok(z) }
}

/// What Mesmerize's Linkage node does with its data matrix (one curve per row):
/// `wasserstein` shifts the data by `abs(min)` ([`mesmerize_wasserstein_shift`]), computes the condensed
/// Wasserstein matrix and links that; any other metric is `linkage(data, method, metric, optimal_ordering)`.
pub fn linkage_node(data: ArrayView2<f64>, method: Method, metric: Metric, optimal_ordering: bool) -> Result<Array2<f64>> {
    if metric == Metric::Wasserstein {
        if data.nrows() < 2 {
            return Err(HierarchyError::TooFewObservations(data.nrows()));
        }
        let shifted = mesmerize_wasserstein_shift(data);
        let y = pdist(shifted.view(), Metric::Wasserstein)?;
        linkage_condensed(&y, method, optimal_ordering)
    } else {
        linkage(LinkageInput::Observations(data), method, metric, optimal_ordering)
    }
}

fn rows_to_array(rows: &[[f64; 4]]) -> Array2<f64> {
    let mut z = Array2::<f64>::zeros((rows.len(), 4));
    for (mut r, src) in z.rows_mut().into_iter().zip(rows) {
        for c in 0..4 {
            r[c] = src[c];
        }
    }
    z
}

/// scipy's `_hierarchy_distance_update.pxi`, same operation order (sizes are C ints there: their sums and products
/// are exact integers converted to double where C converts them).
#[inline]
fn new_dist(method: Method, d_xi: f64, d_yi: f64, d_xy: f64, size_x: usize, size_y: usize, size_i: usize) -> f64 {
    let (sx, sy, si) = (size_x as f64, size_y as f64, size_i as f64);
    match method {
        Method::Single => d_xi.min(d_yi),
        Method::Complete => d_xi.max(d_yi),
        Method::Average => (sx * d_xi + sy * d_yi) / ((size_x + size_y) as f64),
        Method::Centroid => ((((sx * d_xi * d_xi) + (sy * d_yi * d_yi)) - ((size_x * size_y) as f64 * d_xy * d_xy) / ((size_x + size_y) as f64))
            / ((size_x + size_y) as f64))
            .sqrt(),
        Method::Median => (0.5 * (d_xi * d_xi + d_yi * d_yi) - 0.25 * d_xy * d_xy).sqrt(),
        Method::Ward => {
            let t = 1.0 / ((size_x + size_y + size_i) as f64);
            (((size_i + size_x) as f64) * t * d_xi * d_xi + ((size_i + size_y) as f64) * t * d_yi * d_yi - si * t * d_xy * d_xy).sqrt()
        }
        Method::Weighted => 0.5 * (d_xi + d_yi),
    }
}

/// scipy `mst_single_linkage`.
fn mst_single_linkage(dists: &[f64], n: usize) -> Vec<[f64; 4]> {
    let mut z = vec![[0.0f64; 4]; n - 1];
    let mut merged = vec![false; n];
    let mut d = vec![f64::INFINITY; n];
    let mut x = 0usize;
    let mut y = 0usize;
    for row in z.iter_mut() {
        let mut current_min = f64::INFINITY;
        merged[x] = true;
        for i in 0..n {
            if merged[i] {
                continue;
            }
            let dist = dists[condensed_index(n, x, i)];
            if d[i] > dist {
                d[i] = dist;
            }
            if d[i] < current_min {
                y = i;
                current_min = d[i];
            }
        }
        *row = [x as f64, y as f64, current_min, 0.0];
        x = y;
    }
    sort_and_label(&mut z, n);
    z
}

/// Stable sort by height (numpy's mergesort) followed by scipy's `label`.
fn sort_and_label(z: &mut [[f64; 4]], n: usize) {
    z.sort_by(|a, b| a[2].partial_cmp(&b[2]).unwrap_or(std::cmp::Ordering::Equal));
    label(z, n);
}

/// scipy `LinkageUnionFind` + `label`: cluster ids from an unsorted dendrogram.
fn label(z: &mut [[f64; 4]], n: usize) {
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    let mut size = vec![1usize; 2 * n - 1];
    let mut next_label = n;
    let find = |parent: &mut Vec<usize>, mut x: usize| -> usize {
        let mut p = x;
        while parent[x] != x {
            x = parent[x];
        }
        while parent[p] != x {
            let next = parent[p];
            parent[p] = x;
            p = next;
        }
        x
    };
    for row in z.iter_mut() {
        let (x, y) = (row[0] as usize, row[1] as usize);
        let (x_root, y_root) = (find(&mut parent, x), find(&mut parent, y));
        if x_root < y_root {
            row[0] = x_root as f64;
            row[1] = y_root as f64;
        } else {
            row[0] = y_root as f64;
            row[1] = x_root as f64;
        }
        parent[x_root] = next_label;
        parent[y_root] = next_label;
        let s = size[x_root] + size[y_root];
        size[next_label] = s;
        next_label += 1;
        row[3] = s as f64;
    }
}

/// scipy `nn_chain` (complete, average, weighted, ward).
#[allow(clippy::needless_range_loop)] // index loops kept as in scipy's Cython, for line-by-line comparison
fn nn_chain(dists: &[f64], n: usize, method: Method) -> Vec<[f64; 4]> {
    let mut z = vec![[0.0f64; 4]; n - 1];
    let mut d = dists.to_vec();
    let mut size = vec![1usize; n];
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut y = 0usize;
    for row in z.iter_mut() {
        if chain.is_empty()
            && let Some(i) = (0..n).find(|&i| size[i] > 0)
        {
            chain.push(i);
        }
        let mut x;
        let mut current_min;
        loop {
            x = chain[chain.len() - 1];
            if chain.len() > 1 {
                y = chain[chain.len() - 2];
                current_min = d[condensed_index(n, x, y)];
            } else {
                current_min = f64::INFINITY;
            }
            for i in 0..n {
                if size[i] == 0 || x == i {
                    continue;
                }
                let dist = d[condensed_index(n, x, i)];
                if dist < current_min {
                    current_min = dist;
                    y = i;
                }
            }
            if chain.len() > 1 && y == chain[chain.len() - 2] {
                break;
            }
            chain.push(y);
        }
        chain.truncate(chain.len() - 2);
        if x > y {
            std::mem::swap(&mut x, &mut y);
        }
        let (nx, ny) = (size[x], size[y]);
        *row = [x as f64, y as f64, current_min, (nx + ny) as f64];
        size[x] = 0;
        size[y] = nx + ny;
        for i in 0..n {
            let ni = size[i];
            if ni == 0 || i == y {
                continue;
            }
            let (ix, iy) = (condensed_index(n, i, x), condensed_index(n, i, y));
            d[iy] = new_dist(method, d[ix], d[iy], current_min, nx, ny, ni);
        }
    }
    sort_and_label(&mut z, n);
    z
}

/// scipy's binary heap of `fast_linkage` (keys 0..len, values mutable).
struct Heap {
    index_by_key: Vec<usize>,
    key_by_index: Vec<usize>,
    values: Vec<f64>,
    size: usize,
}

impl Heap {
    fn new(values: &[f64]) -> Self {
        let size = values.len();
        let mut h =
            Heap { index_by_key: (0..size).collect(), key_by_index: (0..size).collect(), values: values.to_vec(), size };
        for i in (0..size / 2).rev() {
            h.sift_down(i);
        }
        h
    }
    fn get_min(&self) -> (usize, f64) {
        (self.key_by_index[0], self.values[0])
    }
    fn remove_min(&mut self) {
        self.swap(0, self.size - 1);
        self.size -= 1;
        self.sift_down(0);
    }
    fn change_value(&mut self, key: usize, value: f64) {
        let index = self.index_by_key[key];
        let old = self.values[index];
        self.values[index] = value;
        if value < old {
            self.sift_up(index);
        } else {
            self.sift_down(index);
        }
    }
    fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) >> 1;
            if self.values[parent] > self.values[index] {
                self.swap(index, parent);
                index = parent;
            } else {
                break;
            }
        }
    }
    fn sift_down(&mut self, mut index: usize) {
        let mut child = (index << 1) + 1;
        while child < self.size {
            if child + 1 < self.size && self.values[child + 1] < self.values[child] {
                child += 1;
            }
            if self.values[index] > self.values[child] {
                self.swap(index, child);
                index = child;
                child = (index << 1) + 1;
            } else {
                break;
            }
        }
    }
    fn swap(&mut self, i: usize, j: usize) {
        self.values.swap(i, j);
        let (ki, kj) = (self.key_by_index[i], self.key_by_index[j]);
        self.key_by_index[i] = kj;
        self.key_by_index[j] = ki;
        self.index_by_key[ki] = j;
        self.index_by_key[kj] = i;
    }
}

/// scipy `find_min_dist`: nearest active cluster with a higher index.
fn find_min_dist(n: usize, d: &[f64], size: &[usize], x: usize) -> Result<(usize, f64)> {
    let mut current_min = f64::INFINITY;
    let mut y = None;
    for i in x + 1..n {
        if size[i] == 0 {
            continue;
        }
        let dist = d[condensed_index(n, x, i)];
        if dist < current_min {
            current_min = dist;
            y = Some(i);
        }
    }
    match y {
        Some(y) => Ok((y, current_min)),
        None => Err(HierarchyError::NonFinite {
            what: "updated cluster distances (no neighbour closer than inf)",
            index: x,
            value: current_min,
        }),
    }
}

/// scipy `fast_linkage` (generic algorithm, Müllner 2011): centroid and median.
#[allow(clippy::needless_range_loop)] // index loops kept as in scipy's Cython, for line-by-line comparison
fn fast_linkage(dists: &[f64], n: usize, method: Method) -> Result<Vec<[f64; 4]>> {
    let mut z = vec![[0.0f64; 4]; n - 1];
    let mut d = dists.to_vec();
    let mut size = vec![1usize; n];
    let mut cluster_id: Vec<usize> = (0..n).collect();
    let mut neighbor = vec![0usize; n - 1];
    let mut min_dist = vec![0.0f64; n - 1];
    for x in 0..n - 1 {
        let (y, dist) = find_min_dist(n, &d, &size, x)?;
        neighbor[x] = y;
        min_dist[x] = dist;
    }
    let mut heap = Heap::new(&min_dist);
    for k in 0..n - 1 {
        let (mut x, mut y, mut dist) = (0usize, 0usize, 0.0f64);
        for _ in 0..n - k {
            let (kx, kd) = heap.get_min();
            x = kx;
            dist = kd;
            y = neighbor[x];
            if dist == d[condensed_index(n, x, y)] {
                break;
            }
            let (ny, nd) = find_min_dist(n, &d, &size, x)?;
            y = ny;
            dist = nd;
            neighbor[x] = y;
            min_dist[x] = dist;
            heap.change_value(x, dist);
        }
        heap.remove_min();

        let (mut id_x, mut id_y) = (cluster_id[x], cluster_id[y]);
        let (nx, ny) = (size[x], size[y]);
        if id_x > id_y {
            std::mem::swap(&mut id_x, &mut id_y);
        }
        z[k] = [id_x as f64, id_y as f64, dist, (nx + ny) as f64];
        size[x] = 0;
        size[y] = nx + ny;
        cluster_id[y] = n + k;

        for zz in 0..n {
            let nz = size[zz];
            if nz == 0 || zz == y {
                continue;
            }
            let (ix, iy) = (condensed_index(n, zz, x), condensed_index(n, zz, y));
            d[iy] = new_dist(method, d[ix], d[iy], dist, nx, ny, nz);
        }
        for zz in 0..x {
            if size[zz] > 0 && neighbor[zz] == x {
                neighbor[zz] = y;
            }
        }
        for zz in 0..y {
            if size[zz] == 0 {
                continue;
            }
            let dz = d[condensed_index(n, zz, y)];
            if dz < min_dist[zz] {
                neighbor[zz] = y;
                min_dist[zz] = dz;
                heap.change_value(zz, dz);
            }
        }
        if y < n - 1 {
            let (zn, dn) = find_min_dist(n, &d, &size, y)?;
            neighbor[y] = zn;
            min_dist[y] = dn;
            heap.change_value(y, dn);
        }
    }
    Ok(z)
}

/// scipy's `is_valid_linkage(Z, throw=True)`, plus what scipy leaves to chance: every value finite and the
/// cluster ids integral (scipy truncates them in C). Returns the number of observations n = rows + 1.
pub fn validate_linkage(z: ArrayView2<f64>) -> Result<usize> {
    let (rows, cols) = z.dim();
    if cols != 4 {
        return Err(HierarchyError::InvalidLinkage(format!("must have 4 columns, got {cols}")));
    }
    if rows == 0 {
        return Err(HierarchyError::InvalidLinkage("linkage must be computed on at least two observations".into()));
    }
    let n = rows + 1;
    for (i, r) in z.rows().into_iter().enumerate() {
        for c in 0..4 {
            if !r[c].is_finite() {
                return Err(HierarchyError::NonFinite { what: "linkage matrix Z", index: i * 4 + c, value: r[c] });
            }
        }
        if r[0] < 0.0 || r[1] < 0.0 {
            return Err(HierarchyError::InvalidLinkage(format!("row {i} contains negative indices")));
        }
        if r[0].fract() != 0.0 || r[1].fract() != 0.0 {
            return Err(HierarchyError::InvalidLinkage(format!("row {i} contains non-integer cluster ids")));
        }
        if r[2] < 0.0 {
            return Err(HierarchyError::InvalidLinkage(format!("row {i} contains a negative distance")));
        }
        if r[3] < 0.0 {
            return Err(HierarchyError::InvalidLinkage(format!("row {i} contains a negative count")));
        }
        if r[3] > n as f64 {
            return Err(HierarchyError::InvalidLinkage(format!("row {i}: excessive observations in a cluster")));
        }
        if r[0].max(r[1]) >= (n + i) as f64 {
            return Err(HierarchyError::InvalidLinkage(format!(
                "row {i} uses non-singleton cluster before it is formed"
            )));
        }
    }
    let mut seen = vec![false; 2 * n - 1];
    for r in z.rows() {
        for c in 0..2 {
            let id = r[c] as usize;
            if seen[id] {
                return Err(HierarchyError::InvalidLinkage(format!("uses the same cluster ({id}) more than once")));
            }
            seen[id] = true;
        }
    }
    Ok(n)
}

/// [`validate_linkage`] plus consistent counts: `Z[i, 3]` equals the sum of its children's sizes (needed where the
/// counts are used, e.g. `cophenet`; scipy reads out of bounds otherwise, gh-22183).
pub fn validate_linkage_counts(z: ArrayView2<f64>) -> Result<usize> {
    let n = validate_linkage(z)?;
    let count = |id: usize| if id < n { 1.0 } else { z[[id - n, 3]] };
    for (i, r) in z.rows().into_iter().enumerate() {
        let want = count(r[0] as usize) + count(r[1] as usize);
        if r[3] != want {
            return Err(HierarchyError::InvalidLinkage(format!("row {i}: count {} but its children hold {want}", r[3])));
        }
    }
    Ok(n)
}
