//! Shared by the library's end-to-end tests: a small simulated 2-photon movie held in memory, with its truth.
#![allow(dead_code)]

use mesmerize_core::simulate::{SimConfig, SimKind, Simulator, Truth};
use mesmerize_core::{ImgData, Metadata, StackShape};

/// A `size` x `size` x `frames` 2p movie from the simulator (seeded), as an in-memory ImgData with its fps.
pub fn movie(seed: u64, size: usize, frames: usize) -> (ImgData, Truth) {
    let mut cfg = SimConfig::new(SimKind::TwoP);
    cfg.width = size;
    cfg.height = size;
    cfg.frames = frames;
    cfg.seed = seed;
    let sim = Simulator::new(cfg).expect("simulator");
    let d = sim.shape().frame_len();
    let mut data = vec![0f32; d * frames];
    for (t, f) in data.chunks_mut(d).enumerate() {
        sim.render_frame(t, f);
    }
    let truth = sim.truth().clone();
    let meta = Metadata::new("simulator", truth.fps, "20261126_101500");
    (ImgData::from_f32(data, StackShape::movie(frames, size, size), meta).expect("img"), truth)
}
