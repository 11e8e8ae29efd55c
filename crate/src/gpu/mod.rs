//! Our own shaders on burn's wgpu device and queue, beside burn's kernels: the fused
//! convolution of the inference hot path ([`conv`]) and the video frames that never leave
//! the GPU (`crate::video::gpu`).
//!
//! Burn shares its wgpu handles but not its ordering: pending burn work is flushed before a
//! shader here touches a tensor's buffer, and tensors are kept alive until the work reading
//! them is submitted (later reuse of their memory is ordered after it on the queue).

pub mod conv;

use burn::backend::Wgpu;
use burn::backend::wgpu::{CubeTensor, wgpu};
use burn::tensor::Tensor;
use burn_cubecl::cubecl::wgpu::{AutoCompiler, WgpuServer};

use crate::error::{Error, Result};

/// Where a tensor's elements lie for a shader: the buffer range to bind (storage bindings
/// start at an aligned offset) and how many elements into it the tensor's first one is.
pub struct Bound {
    pub buffer: wgpu::Buffer,
    pub offset: u64,
    pub size: u64,
    pub first: u32,
}

impl Bound {
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer: &self.buffer, offset: self.offset, size: wgpu::BufferSize::new(self.size) })
    }
}

/// The tensor as burn's wgpu primitive, for binding; fails for a tensor on the CPU.
pub fn primitive(tensor: Tensor<4>) -> Result<CubeTensor> {
    let tensor = tensor.try_into_primitive::<Wgpu>().map_err(|e| Error::Backend(format!("the tensor is not on the GPU: {e:?}")))?;
    if tensor.meta.is_tiled() {
        return Err(Error::Backend("a tiled tensor layout cannot be bound".into()));
    }
    Ok(tensor)
}

/// Flushes burn's pending work on the tensor's device, so that what a shader here submits
/// next comes after it on the queue.
pub fn flush(tensor: &CubeTensor) -> Result<()> {
    tensor.client.flush().map_err(|e| Error::Backend(format!("GPU flush: {e:?}")))
}

/// The buffer range behind `tensor` (call [`flush`] first).
pub fn bind(tensor: &CubeTensor, align: u64) -> Result<Bound> {
    let resource =
        tensor.client.get_resource::<WgpuServer<AutoCompiler>>(tensor.handle.clone()).map_err(|e| Error::Backend(format!("GPU buffer: {e:?}")))?;
    let r = resource.resource();
    let aligned = r.offset - r.offset % align;
    Ok(Bound { buffer: r.buffer.clone(), offset: aligned, size: r.offset + r.size - aligned, first: ((r.offset - aligned) / 4) as u32 })
}
