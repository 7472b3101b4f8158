//! Upload and readback helpers: storage buffers from slices, and a staging copy + `map_async` to read them back.

use wgpu::util::DeviceExt;

use crate::error::GpuError;

/// A storage buffer initialised from `data`, usable as copy source and destination.
pub fn storage_from<T: bytemuck::Pod>(device: &wgpu::Device, label: &str, data: &[T]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(data),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
    })
}

/// Bind group entry for a whole buffer.
pub fn binding(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }
}

/// An uninitialised storage buffer of `len` f32s.
pub fn storage_f32(device: &wgpu::Device, label: &str, len: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (len * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// A uniform buffer holding `value`.
pub fn uniform_from<T: bytemuck::Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::bytes_of(value),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// Copy whole buffers back to the host in one submission and wait for them.
pub fn read_back_f32(device: &wgpu::Device, queue: &wgpu::Queue, sources: &[&wgpu::Buffer]) -> Result<Vec<Vec<f32>>, GpuError> {
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback.encoder") });
    let staging: Vec<wgpu::Buffer> = sources
        .iter()
        .map(|src| {
            let dst = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback.staging"),
                size: src.size(),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            encoder.copy_buffer_to_buffer(src, 0, &dst, 0, src.size());
            dst
        })
        .collect();
    queue.submit(Some(encoder.finish()));
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, buf) in staging.iter().enumerate() {
        let tx = tx.clone();
        buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send((i, r));
        });
    }
    drop(tx);
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| GpuError::Readback(e.to_string()))?;
    for (i, r) in rx.iter() {
        r.map_err(|e| GpuError::Readback(format!("buffer {i}: {e}")))?;
    }
    Ok(staging
        .iter()
        .map(|buf| {
            let view = buf.slice(..).get_mapped_range();
            let out = bytemuck::cast_slice::<u8, f32>(&view).to_vec();
            drop(view);
            buf.unmap();
            out
        })
        .collect())
}

/// A buffer the host can map to read `len` f32s copied into it (reused across read-backs by the caller).
pub fn staging_f32(device: &wgpu::Device, label: &str, len: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (len.max(1) * 4) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Finish `enc` with a copy of the first `len` f32s of `src` into `staging`, submit, wait, and hand the mapped
/// values to `read` (no intermediate copy; `staging` is unmapped again afterwards).
pub fn read_through<R>(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    mut enc: wgpu::CommandEncoder,
    src: &wgpu::Buffer,
    staging: &wgpu::Buffer,
    len: usize,
    read: impl FnOnce(&[f32]) -> R,
) -> Result<R, GpuError> {
    let bytes = (len as u64 * 4).max(4);
    enc.copy_buffer_to_buffer(src, 0, staging, 0, bytes);
    queue.submit(Some(enc.finish()));
    let (tx, rx) = std::sync::mpsc::channel();
    let slice = staging.slice(0..bytes);
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback(e.to_string()))?;
    rx.recv().map_err(|e| GpuError::Readback(e.to_string()))?.map_err(|e| GpuError::Readback(e.to_string()))?;
    let view = slice.get_mapped_range();
    let out = read(&bytemuck::cast_slice::<u8, f32>(&view)[..len]);
    drop(view);
    staging.unmap();
    Ok(out)
}
