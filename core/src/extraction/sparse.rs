//! Sparse footprint matrix (pixels x components), stored by column like scipy's CSC so it maps 1:1 to CaImAn's `A`.

/// Column-compressed sparse matrix of f32: column `k` holds rows `indices[indptr[k]..indptr[k+1]]` (ascending).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseColumns {
    /// Number of rows (pixels).
    pub n_rows: usize,
    /// Column start offsets, `n_cols + 1` entries.
    pub indptr: Vec<usize>,
    /// Row index of each stored value.
    pub indices: Vec<u32>,
    /// Stored values.
    pub data: Vec<f32>,
}

impl SparseColumns {
    /// Empty matrix with `n_rows` rows and no columns.
    pub fn new(n_rows: usize) -> Self {
        Self { n_rows, indptr: vec![0], indices: Vec::new(), data: Vec::new() }
    }
    /// Number of columns (components).
    pub fn n_cols(&self) -> usize {
        self.indptr.len() - 1
    }
    /// Append a column given as (row, value) pairs; rows are sorted and zeros dropped.
    pub fn push_col(&mut self, mut entries: Vec<(u32, f32)>) {
        entries.sort_unstable_by_key(|e| e.0);
        for (r, v) in entries {
            if v != 0.0 {
                self.indices.push(r);
                self.data.push(v);
            }
        }
        self.indptr.push(self.indices.len());
    }
    /// Append a dense column, keeping the non-zero entries.
    pub fn push_dense(&mut self, col: &[f32]) {
        for (r, &v) in col.iter().enumerate() {
            if v != 0.0 {
                self.indices.push(r as u32);
                self.data.push(v);
            }
        }
        self.indptr.push(self.indices.len());
    }
    /// Rows and values of column `k`.
    pub fn col(&self, k: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[k], self.indptr[k + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }
    /// Column `k` as a dense vector.
    pub fn dense_col(&self, k: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_rows];
        let (idx, val) = self.col(k);
        for (&i, &v) in idx.iter().zip(val) {
            out[i as usize] = v;
        }
        out
    }
    /// Keep only the listed columns, in the given order.
    pub fn select(&self, keep: &[usize]) -> Self {
        let mut out = Self::new(self.n_rows);
        for &k in keep {
            let (idx, val) = self.col(k);
            out.indices.extend_from_slice(idx);
            out.data.extend_from_slice(val);
            out.indptr.push(out.indices.len());
        }
        out
    }
}
