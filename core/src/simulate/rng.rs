//! Deterministic random streams: every random quantity is drawn from a ChaCha8 stream keyed by
//! (seed, purpose, index), so streams are stable across versions of unrelated code and independent of each other.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purpose tags separating the random streams (never renumber: that would change every simulated movie).
pub(crate) mod purpose {
    /// Neuron centre placement.
    pub const PLACEMENT: u64 = 1;
    /// Neuron footprint shapes (sizes, elongation, angle); index = neuron.
    pub const SHAPE: u64 = 2;
    /// Per-neuron firing rate, kinetics and brightness; index = neuron.
    pub const NEURON_PARAMS: u64 = 3;
    /// Spike trains; index = neuron.
    pub const SPIKES: u64 = 4;
    /// Smooth background blobs.
    pub const BACKGROUND: u64 = 5;
    /// Background temporal modulation; index = component.
    pub const BACKGROUND_TIME: u64 = 6;
    /// Blood-vessel paths; index = vessel.
    pub const VESSELS: u64 = 7;
    /// Rigid motion trajectory.
    pub const RIGID: u64 = 8;
    /// Non-rigid control-grid trajectories; index = node component.
    pub const FIELD: u64 = 9;
    /// Per-frame noise; index = (t * planes + z) * height + row.
    pub const NOISE: u64 = 10;
}

/// A ChaCha8 stream keyed by (seed, purpose, index): the 256-bit key is their little-endian bytes plus a tag.
pub(crate) fn stream(seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&purpose.to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    key[24..].copy_from_slice(b"mesmsim1");
    ChaCha8Rng::from_seed(key)
}

/// Uniform sample in [lo, hi) (returns lo when the range is empty), without the panics of `random_range`.
pub(crate) fn uniform<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random();
    if hi > lo { lo + (hi - lo) * u } else { lo }
}

/// Standard normal sample.
pub(crate) fn normal<R: Rng>(rng: &mut R) -> f64 {
    rng.sample::<f64, _>(rand_distr::StandardNormal)
}
