//! The batched pipeline (used by the GPU registrar) streams frames through any `BatchRegistrar` in batches,
//! overlapping reading and writing with registration; with a CPU registrar behind it, its output must equal
//! `correct_movie`'s exactly, whatever the batch size.

use std::sync::Arc;

use mesmerize_core::progress::NoProgress;
use mesmerize_core::registration::{
    correct_movie, correct_movie_batched, shift_rigid, BatchRegistrar, Fft2, MotionParams, OutputDepth, RegScratch, Registrar, SearchWindow, Shift,
};
use mesmerize_core::simulate::{MotionKind, SimConfig, SimKind, Simulator};
use mesmerize_core::{ImgData, Metadata, OpenOptions};

/// CPU registration behind the batch interface, with a small batch so the pipeline runs many rounds.
struct CpuBatches {
    reg: Registrar,
    h: usize,
    w: usize,
    max: (usize, usize),
    params: MotionParams,
}

impl BatchRegistrar for CpuBatches {
    fn batch_frames(&self) -> usize {
        3
    }
    fn register_batch(&self, frames: &[f32], out: &mut [f32]) -> Result<Vec<Shift>, String> {
        let n = self.h * self.w;
        let mut s = RegScratch::default();
        let mut tmp = Vec::new();
        Ok(frames
            .chunks(n)
            .zip(out.chunks_mut(n))
            .map(|(f, o)| {
                let sh = self.reg.estimate(f, SearchWindow { center: (0.0, 0.0), radius: (self.max.0 as f64, self.max.1 as f64) }, &mut s);
                shift_rigid(f, self.h, self.w, sh.dy, sh.dx, self.params.border, &mut tmp, o);
                sh
            })
            .collect())
    }
    fn describe(&self) -> String {
        "CPU, batches of 3".into()
    }
}

#[test]
fn batched_pipeline_equals_the_direct_one() {
    let mut cfg = SimConfig::new(SimKind::TwoP);
    cfg.width = 64;
    cfg.height = 48;
    cfg.frames = 17;
    cfg.motion = MotionKind::Rigid;
    cfg.seed = 9;
    let sim = Simulator::new(cfg).expect("sim");
    let shape = sim.shape();
    let mut data = vec![0.0f32; shape.len()];
    for (t, f) in data.chunks_mut(shape.frame_len()).enumerate() {
        sim.render_frame(t, f);
    }
    let img = ImgData::from_f32(data, shape, Metadata::unknown()).expect("img");
    let params = MotionParams { max_shifts: (9, 9), ..Default::default() };
    let dir = tempfile::tempdir().expect("tmp");
    let direct = correct_movie(&img, &params, &dir.path().join("a.tif"), OutputDepth::Float32, &NoProgress).expect("direct");
    let make = |template: &[f32]| -> Result<Box<dyn BatchRegistrar>, String> {
        let fft = Arc::new(Fft2::new(shape.y, shape.x));
        Ok(Box::new(CpuBatches { reg: Registrar::new(fft, template, params.upsample_factor), h: shape.y, w: shape.x, max: params.max_shifts, params: params.clone() }))
    };
    let batched = correct_movie_batched(&img, &params, &dir.path().join("b.tif"), OutputDepth::Float32, &NoProgress, &make).expect("batched");
    assert_eq!(direct.rigid, batched.rigid);
    let a = ImgData::open(dir.path().join("a.tif"), &OpenOptions::default()).expect("a");
    let b = ImgData::open(dir.path().join("b.tif"), &OpenOptions::default()).expect("b");
    let np = mesmerize_core::progress::NoProgress;
    let (va, vb) = (a.to_vec(&np).expect("a"), b.to_vec(&np).expect("b"));
    assert_eq!(va.len(), vb.len());
    assert!(va.iter().zip(&vb).all(|(x, y)| x == y || (x.is_nan() && y.is_nan())), "outputs differ");
}
