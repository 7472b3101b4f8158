//! Adapter selection for `--device auto|cpu|gpu` and the context kernels run in.

use mesmerize_core::device::DeviceChoice;

use crate::error::GpuError;
use crate::pipeline_cache::PipelineCache;

/// A device, its queue and cached pipelines; cheap to clone (wgpu handles are shared).
#[derive(Clone, Debug)]
pub struct GpuContext {
    /// The wgpu device kernels record into.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Which adapter it is, for logs and benchmarks.
    pub info: wgpu::AdapterInfo,
    pipelines: PipelineCache,
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 1,
        wgpu::DeviceType::Cpu => 0,
    }
}

impl GpuContext {
    /// Open a device for `choice`: `Cpu` gives `None`; `Auto` gives a hardware GPU or `None` (software adapters
    /// such as lavapipe are slower than our CPU code, so they count as no GPU); `Gpu` gives any adapter or an error.
    /// The choice made is logged.
    pub fn request(choice: DeviceChoice) -> Result<Option<Self>, GpuError> {
        if choice == DeviceChoice::Cpu {
            tracing::info!("device: CPU (as asked)");
            return Ok(None);
        }
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
            backends: wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY),
            ..Default::default()
        });
        let mut adapters = instance.enumerate_adapters(wgpu::Backends::all());
        adapters.sort_by_key(|a| std::cmp::Reverse(rank(a.get_info().device_type)));
        let seen = if adapters.is_empty() {
            "none".to_string()
        } else {
            adapters.iter().map(|a| describe(&a.get_info())).collect::<Vec<_>>().join(", ")
        };
        let pick = match choice {
            DeviceChoice::Auto => adapters.into_iter().find(|a| a.get_info().device_type != wgpu::DeviceType::Cpu),
            _ => adapters.into_iter().next(),
        };
        let Some(adapter) = pick else {
            if choice == DeviceChoice::Auto {
                tracing::info!("device: CPU (no hardware GPU; wgpu saw: {seen})");
                return Ok(None);
            }
            return Err(GpuError::NoAdapter { seen });
        };
        let ctx = Self::from_adapter(&adapter)?;
        tracing::info!("device: GPU {}", describe(&ctx.info));
        Ok(Some(ctx))
    }

    fn from_adapter(adapter: &wgpu::Adapter) -> Result<Self, GpuError> {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("mesmerize.compute.device"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits {
                max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                max_buffer_size: limits.max_buffer_size,
                max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
                max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
                ..wgpu::Limits::downlevel_defaults()
            },
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| GpuError::RequestDevice { adapter: info.name.clone(), reason: e.to_string() })?;
        Ok(Self::from_device(device, queue, info))
    }

    /// Wrap a device opened elsewhere (the GUI lends iced's), so kernels share it.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        Self { device, queue, info, pipelines: PipelineCache::default() }
    }

    /// Adapter name and type, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)".
    pub fn describe(&self) -> String {
        describe(&self.info)
    }

    /// Largest byte size one storage binding may hold on this device (binding and buffer limits together).
    pub fn max_binding(&self) -> u64 {
        let l = self.device.limits();
        u64::from(l.max_storage_buffer_binding_size).min(l.max_buffer_size)
    }

    /// The pipelines built so far on this device.
    pub fn pipelines(&self) -> &PipelineCache {
        &self.pipelines
    }
}
