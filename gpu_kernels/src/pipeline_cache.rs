//! Compute pipelines built once per device and kernel id, then shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::runtime::GpuContext;

/// A compute pipeline with the bind group layout it was built against ("the kernel's signature").
#[derive(Debug)]
pub struct Kernel {
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Its bind group 0 layout.
    pub layout: wgpu::BindGroupLayout,
}

/// Get-or-create pool of kernels keyed by an id such as `"projection.accumulate"` (ids of kernels built for a size
/// carry it, e.g. `"summary.psd_noise.1000"`).
#[derive(Debug, Default, Clone)]
pub struct PipelineCache(Arc<Mutex<HashMap<String, Arc<Kernel>>>>);

impl PipelineCache {
    /// The kernel `id`, built with `build` the first time it is asked for.
    pub fn get_or_create(&self, id: &str, build: impl FnOnce() -> Kernel) -> Arc<Kernel> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = map.get(id) {
            return k.clone();
        }
        let k = Arc::new(build());
        map.insert(id.to_owned(), k.clone());
        k
    }

    /// How many kernels are cached (for tests).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when nothing was built yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Build a compute kernel from WGSL whose bind group 0 is described by `entries`.
pub fn build_kernel(
    device: &wgpu::Device,
    label: &str,
    wgsl: &str,
    entry_point: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> Kernel {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(wgsl.into()),
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries });
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[&layout],
        push_constant_ranges: &[],
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(&pl),
        module: &module,
        entry_point: Some(entry_point),
        compilation_options: Default::default(),
        cache: None,
    });
    Kernel { pipeline, layout }
}

/// Layout entry for a compute-stage buffer binding.
pub fn buffer_entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
        count: None,
    }
}

/// A uniform buffer binding.
pub const UNIFORM: wgpu::BufferBindingType = wgpu::BufferBindingType::Uniform;
/// A read-only storage buffer binding.
pub const RO: wgpu::BufferBindingType = wgpu::BufferBindingType::Storage { read_only: true };
/// A read-write storage buffer binding.
pub const RW: wgpu::BufferBindingType = wgpu::BufferBindingType::Storage { read_only: false };

/// Kernel `entry` of `wgsl` with buffer `bindings` `(binding, type)`, built once per device under `id`.
pub fn cached_kernel(ctx: &GpuContext, id: &str, wgsl: &str, entry: &str, bindings: &[(u32, wgpu::BufferBindingType)]) -> Arc<Kernel> {
    ctx.pipelines().get_or_create(id, || {
        let entries: Vec<_> = bindings.iter().map(|&(b, ty)| buffer_entry(b, ty)).collect();
        build_kernel(&ctx.device, id, wgsl, entry, &entries)
    })
}
