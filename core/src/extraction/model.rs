//! The factorisation being fitted, `Y ≈ A C + b f`, in the form the updates work on.

use ndarray::Array2;
use rayon::prelude::*;

use super::footprint::Footprint;
use super::grid::Grid;
use super::sparse::SparseColumns;

/// Footprints with traces plus a dense low-rank background, on one grid (a patch or the whole field).
#[derive(Debug, Clone)]
pub struct Model {
    /// Grid the footprints and background live on.
    pub grid: Grid,
    /// Spatial footprints.
    pub comps: Vec<Footprint>,
    /// Traces, one per footprint.
    pub c: Vec<Vec<f32>>,
    /// Spatial background components, dense over the grid.
    pub b: Vec<Vec<f32>>,
    /// Temporal background components.
    pub f: Vec<Vec<f32>>,
}

impl Model {
    /// Number of neuron components.
    pub fn k(&self) -> usize {
        self.comps.len()
    }
    /// Number of background components.
    pub fn nb(&self) -> usize {
        self.b.len()
    }
    /// Footprints and background as one sparse matrix over the support masks (explicit zeros kept, so the
    /// pattern is the support), columns `0..K` neurons then `K..K+nb` background.
    pub fn pattern(&self) -> SparseColumns {
        let mut a = SparseColumns::new(self.grid.len());
        for f in &self.comps {
            for i in 0..f.vals.len() {
                if f.mask[i] {
                    let p = f.region.absolute(i);
                    a.indices.push(self.grid.index(p[0], p[1], p[2]) as u32);
                    a.data.push(f.vals[i]);
                }
            }
            a.indptr.push(a.indices.len());
        }
        for b in &self.b {
            a.indices.extend(0..b.len() as u32);
            a.data.extend_from_slice(b);
            a.indptr.push(a.indices.len());
        }
        a
    }
    /// `[C; f]` as a matrix.
    pub fn traces(&self) -> Array2<f32> {
        let t = self.c.first().or(self.f.first()).map_or(0, Vec::len);
        let mut out = Array2::<f32>::zeros((self.k() + self.nb(), t));
        for (i, row) in self.c.iter().chain(&self.f).enumerate() {
            out.row_mut(i).iter_mut().zip(row).for_each(|(o, v)| *o = *v);
        }
        out
    }
    /// Pairs of neuron components whose boxes overlap, as neighbour lists (self excluded).
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let k = self.k();
        (0..k)
            .into_par_iter()
            .map(|i| (0..k).filter(|&j| j != i && self.comps[i].region.overlaps(&self.comps[j].region)).collect())
            .collect()
    }
    /// Footprints as a sparse matrix (non-zeros only) over this grid's C-order pixels.
    pub fn a_sparse(&self) -> SparseColumns {
        let mut a = SparseColumns::new(self.grid.len());
        for f in &self.comps {
            f.push_into(&self.grid, &mut a);
        }
        a
    }
    /// Drop components whose footprint or trace vanished.
    pub fn prune_empty(&mut self) {
        let keep: Vec<bool> =
            self.comps.iter().zip(&self.c).map(|(f, c)| f.max() > 0.0 && c.iter().any(|&v| v > 0.0)).collect();
        self.retain(&keep);
    }
    /// Keep the components whose entry in `keep` is true (footprints and traces together).
    pub fn retain(&mut self, keep: &[bool]) {
        let mut it = keep.iter();
        self.comps.retain(|_| *it.next().unwrap_or(&false));
        let mut it = keep.iter();
        self.c.retain(|_| *it.next().unwrap_or(&false));
    }
}
