//! The upscaler a user holds: a model on a backend, run tile by tile over 8-bit images.
//! Shared by the CLI and the browser; only the way progress is reported differs.

use burn::tensor::{Tensor, TensorData};
use serde::Serialize;

use crate::backend::{Backend, BackendInfo};
use crate::error::{Error, Result};
use crate::cpu::conv::CpuConvs;
use crate::gpu::conv::FusedConvs;
use crate::graph::{ConvKernels, Network, Sides};
use crate::imaging::{MAX_OUTPUT_PIXELS, Region, RgbaImage, bicubic};
use crate::model::{ModelFile, ModelInfo};
use crate::progress::Progress;
use crate::tile::{self, Tile};

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct UpscalerInfo {
    pub model: ModelInfo,
    pub backend: BackendInfo,
    pub parameters: usize,
    pub macs_per_input_pixel: u64,
    /// Core tile side in input pixels, and the halo each tile reads around it.
    pub tile: usize,
    pub halo: usize,
}

pub struct Upscaler {
    model: ModelInfo,
    network: Network,
    backend: Backend,
    tile: usize,
    /// The network's convolutions for our own kernel on this backend; `None` runs burn's.
    fused: Option<Kernels>,
}

/// The fused convolutions of one backend.
enum Kernels {
    Gpu(FusedConvs),
    Cpu(CpuConvs),
}

impl Upscaler {
    pub fn new(model: &ModelFile, backend: Backend) -> Result<Self> {
        model.validate()?;
        // Every parameter is one buffer on the device: one over its binding limit would
        // reach the GPU as a validation error, which cubecl turns into a panic.
        let max = backend.info.max_tensor_bytes;
        if let Some(p) = model.graph.params.iter().find(|p| p.len() as u64 * 4 > max) {
            return Err(Error::model(format!("parameter `{}` {:?} needs more than the {max} bytes this device holds in one buffer", p.name, p.shape)));
        }
        let network = model.network(&backend.device)?;
        let tile = tile::tile_size(network.analysis(), backend.info.max_tensor_bytes)?;
        let fused = match &backend.wgpu {
            Some(setup) => Some(Kernels::Gpu(FusedConvs::new(setup, &model.graph, &model.values)?)),
            // In wasm, where burn's CPU convolution has one thread and 128-bit vectors too,
            // ours is faster; natively burn's GEMM uses every core and AVX2/FMA and is
            // (docs/performance.md, "The CPU fallback").
            None if cfg!(target_arch = "wasm32") => Some(Kernels::Cpu(CpuConvs::new(&model.graph, &model.values))),
            None => None,
        };
        Ok(Self { model: model.info.clone(), network, backend, tile, fused })
    }

    /// Runs the convolutions with burn's own kernels instead of ticketsr's (`gpu::conv`,
    /// `cpu::conv`): the plain path those are tested and benchmarked against.
    pub fn without_fused_kernels(mut self) -> Self {
        self.fused = None;
        self
    }

    /// Overrides the tile side (tests use small tiles to exercise seams); refused unless
    /// its tensors fit the device.
    pub fn with_tile_size(mut self, tile: usize) -> Result<Self> {
        self.tile = tile::check_tile(self.network.analysis(), tile, self.backend.info.max_tensor_bytes)?;
        Ok(self)
    }

    pub fn scale(&self) -> usize {
        self.network.scale()
    }

    pub(crate) fn network(&self) -> &Network {
        &self.network
    }

    /// Pixels of context the network reads around each output pixel, in input pixels.
    pub fn halo(&self) -> usize {
        self.network.analysis().receptive_radius
    }

    /// Core tile side in input pixels.
    pub fn tile_size(&self) -> usize {
        self.tile
    }

    pub(crate) fn max_tensor_bytes(&self) -> u64 {
        self.backend.info.max_tensor_bytes
    }

    pub fn device(&self) -> &burn::tensor::Device {
        &self.backend.device
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn info(&self) -> UpscalerInfo {
        let a = self.network.analysis();
        UpscalerInfo {
            model: self.model.clone(),
            backend: self.backend.info.clone(),
            parameters: self.network.graph().parameter_count(),
            macs_per_input_pixel: a.macs_per_input_pixel,
            tile: self.tile,
            halo: self.halo(),
        }
    }

    /// Output size for an input, or a clear error if it would be too large to hold.
    pub fn output_size(&self, width: usize, height: usize) -> Result<(usize, usize)> {
        crate::imaging::check_dimensions(width, height)?;
        let s = self.scale();
        let (w, h) = (width.saturating_mul(s), height.saturating_mul(s));
        if w.saturating_mul(h) > MAX_OUTPUT_PIXELS {
            return Err(Error::image(format!(
                "{width}x{height} upscaled x{s} is {w}x{h}, more than the {} megapixels ticketsr produces",
                MAX_OUTPUT_PIXELS >> 20
            )));
        }
        Ok((w, h))
    }

    pub fn tiles(&self, width: usize, height: usize) -> Vec<Tile> {
        tile::plan(width, height, self.tile, self.network.analysis().receptive_radius)
    }

    /// Upscales an image. Alpha, which networks do not see, is upscaled bicubically.
    pub async fn upscale(&self, img: &RgbaImage, progress: &mut impl Progress) -> Result<RgbaImage> {
        self.upscale_region(img, img.full(), progress).await
    }

    /// The pixels of `region` of the upscaled image (`region` scaled), computed from the
    /// region and the image around it: the same pixels as [`Upscaler::upscale`]'s, at the
    /// cost of the region. Threads split an image this way ([`tile::bands`]).
    pub async fn upscale_region(&self, img: &RgbaImage, region: Region, progress: &mut impl Progress) -> Result<RgbaImage> {
        self.output_size(img.width, img.height)?;
        let inside = |start: usize, len: usize, side: usize| len > 0 && start.checked_add(len).is_some_and(|end| end <= side);
        if !inside(region.x, region.width, img.width) || !inside(region.y, region.height, img.height) {
            return Err(Error::InvalidArgument(format!(
                "region {}x{} at ({}, {}) is not a non-empty part of the {}x{} image",
                region.width, region.height, region.x, region.y, img.width, img.height
            )));
        }
        let s = self.scale();
        let (w, h) = (region.width * s, region.height * s);
        let mut out = RgbaImage::filled(w, h, [0, 0, 0, 255])?;
        let tiles = tile::plan_within(region, img.width, img.height, self.tile, self.halo());
        for (i, t) in tiles.iter().enumerate() {
            // The network computes only the core; the halo shrinks layer by layer.
            let drop = margins(t.padded, t.core);
            let core = self.run_batch(img.planes(t.padded), 1, t.padded.height, t.padded.width, drop).await?;
            let (cw, ch) = (t.core.width * s, t.core.height * s);
            out.put_planes(&core, 3, Region { x: (t.core.x - region.x) * s, y: (t.core.y - region.y) * s, width: cw, height: ch });
            progress.tile_done(i + 1, tiles.len()).await?;
        }
        if img.has_alpha() {
            // Bicubic reads 2 pixels around each output pixel: from the region's surroundings.
            let around = region.expanded(2, &img.full());
            let alpha = bicubic::resize_plane(&img.channel(3, around), around.width, around.height, around.width * s, around.height * s);
            let (dx, dy) = ((region.x - around.x) * s, (region.y - around.y) * s);
            for (i, px) in out.data.chunks_exact_mut(4).enumerate() {
                px[3] = crate::imaging::quantize(alpha[(dy + i / w) * around.width * s + dx + i % w]);
            }
        }
        Ok(out)
    }

    /// Dense SR of a `[1, 3, h, w]` tensor already on this upscaler's device, tile by tile
    /// as [`Upscaler::upscale`] does, without leaving the device.
    pub fn upscale_tensor(&self, x: Tensor<4>) -> Result<Tensor<4>> {
        let [_, _, h, w] = x.dims();
        let (ow, oh) = self.output_size(w, h)?;
        let s = self.scale();
        let tiles = self.tiles(w, h);
        let run = |t: &Tile| {
            let p = t.padded;
            let input = x.clone().slice([0..1, 0..3, p.y..p.y + p.height, p.x..p.x + p.width]);
            self.forward_cropped(input, margins(t.padded, t.core))
        };
        if let [one] = tiles.as_slice() {
            return run(one);
        }
        let mut out = Tensor::<4>::zeros([1, 3, oh, ow], self.device());
        for t in &tiles {
            let c = t.core;
            out = out.slice_assign([0..1, 0..3, c.y * s..(c.y + c.height) * s, c.x * s..(c.x + c.width) * s], run(t)?);
        }
        Ok(out)
    }

    /// The network on a window of the input (see [`Network::forward_cropped`]), with our
    /// own convolution kernels unless they were turned off.
    pub(crate) fn forward_cropped(&self, x: Tensor<4>, drop: Sides) -> Result<Tensor<4>> {
        let kernels: &dyn ConvKernels = match &self.fused {
            Some(Kernels::Gpu(f)) => f,
            Some(Kernels::Cpu(c)) => c,
            None => return self.network.forward_cropped(x, drop),
        };
        self.network.forward_cropped_fused(x, drop, kernels)
    }

    /// Runs the network on `n` planar RGB inputs of `h x w` and reads back the outputs
    /// inside `drop` input pixels from each side (see [`Network::forward_cropped`]).
    pub(crate) async fn run_batch(&self, planes: Vec<f32>, n: usize, h: usize, w: usize, drop: Sides) -> Result<Vec<f32>> {
        let x = Tensor::<4>::from_data(TensorData::new(planes, [n, 3, h, w]), &self.backend.device);
        let y = self.forward_cropped(x, drop)?;
        let data = y.into_data_async().await.map_err(|e| Error::Backend(format!("reading the result failed: {e:?}")))?;
        data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))
    }
}

/// How far `inner` lies inside `outer` on each side (left, top, right, bottom).
pub(crate) fn margins(outer: Region, inner: Region) -> Sides {
    [
        inner.x - outer.x,
        inner.y - outer.y,
        outer.x + outer.width - (inner.x + inner.width),
        outer.y + outer.height - (inner.y + inner.height),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;

    #[test]
    fn a_parameter_over_the_device_buffer_limit_is_refused() {
        let mut backend = Backend::cpu();
        // ESPCN's first weight is 64 x 3 x 5 x 5 floats: 19,200 bytes.
        backend.info.max_tensor_bytes = 16 << 10;
        let err = Upscaler::new(&espcn::build(2, 1).unwrap(), backend).err().unwrap().to_string();
        assert!(err.contains("needs more than the 16384 bytes"), "{err}");
    }

    #[test]
    fn bands_upscaled_apart_stack_to_the_whole_image() {
        // Small tiles, so a band is itself several tiles; alpha varies, so it is resized too.
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap().with_tile_size(8).unwrap();
        let (w, h) = (21, 13);
        let img = RgbaImage::new(w, h, (0..w * h * 4).map(|i| (i * 37 % 251) as u8).collect()).unwrap();
        let whole = pollster::block_on(up.upscale(&img, &mut crate::Silent)).unwrap();
        let mut stacked = Vec::new();
        for band in tile::bands(w, h, 3, up.halo()).unwrap() {
            // Each band alone, as a thread gets it: its padded rows, the core within them.
            let p = band.padded;
            let rows = img.crop_at(0, p.y, w, p.height).unwrap();
            let core = Region { y: band.core.y - p.y, ..band.core };
            stacked.extend(pollster::block_on(up.upscale_region(&rows, core, &mut crate::Silent)).unwrap().data);
        }
        assert!(stacked == whole.data, "the stacked bands differ from the whole image");
        for outside in [Region { x: 0, y: 10, width: w, height: 4 }, Region { x: usize::MAX, y: 0, width: 2, height: 1 }, Region { width: 0, ..img.full() }] {
            assert!(pollster::block_on(up.upscale_region(&img, outside, &mut crate::Silent)).is_err(), "{outside:?}");
        }
    }
}
