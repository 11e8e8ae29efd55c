//! Frames that never leave the GPU. An RGBA8 texture (in a browser, a video frame the
//! browser copied there) becomes the network's planar input tensor, and the output tensor
//! is drawn into a texture (a canvas's), by two small shaders on burn's own wgpu device
//! and queue. No pixel is read back to the CPU: on a real GPU that readback, not the
//! network, is what caps dense video SR, since it stalls the queue every frame.
//! How these shaders share burn's queue: see [`crate::gpu`].

use burn::backend::Wgpu;
use burn::backend::wgpu::{CubeTensor, WgpuSetup, wgpu};
use burn::tensor::{Device, Tensor};

use crate::backend::Backend;
use crate::error::{Error, Result};

/// LR frame texture to the network's input planes.
const UNPACK: &str = include_str!("unpack.wgsl");

/// The network's output planes to the canvas.
const DRAW: &str = include_str!("draw.wgsl");

/// The two shaders, on burn's device.
pub struct GpuFrames {
    setup: WgpuSetup,
    device: Device,
    unpack: wgpu::ComputePipeline,
    draw_layout: wgpu::BindGroupLayout,
    draw_module: wgpu::ShaderModule,
    /// The draw pipeline for the target format in use.
    draw: Option<(wgpu::TextureFormat, wgpu::RenderPipeline)>,
}

impl GpuFrames {
    /// Fails on a CPU backend: there is no GPU to keep frames on.
    pub fn new(backend: &Backend) -> Result<Self> {
        let setup = backend.wgpu.clone().ok_or_else(|| Error::Backend("frames stay on the GPU only with a GPU backend".into()))?;
        let d = &setup.device;
        let unpack_module = d.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("ticketsr unpack"), source: wgpu::ShaderSource::Wgsl(UNPACK.into()) });
        let unpack = d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("ticketsr unpack"),
            layout: None,
            module: &unpack_module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let draw_module = d.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("ticketsr draw"), source: wgpu::ShaderSource::Wgsl(DRAW.into()) });
        let entry = |binding, ty| wgpu::BindGroupLayoutEntry { binding, visibility: wgpu::ShaderStages::FRAGMENT, ty, count: None };
        let draw_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("ticketsr draw"),
            entries: &[
                entry(0, wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only: true }, has_dynamic_offset: false, min_binding_size: None }),
                entry(1, wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: false, min_binding_size: None }),
            ],
        });
        Ok(Self { setup, device: backend.device.clone(), unpack, draw_layout, draw_module, draw: None })
    }

    /// The wgpu handles burn runs on: a canvas surface for [`GpuFrames::draw`] is made
    /// from this instance and adapter.
    pub fn setup(&self) -> &WgpuSetup {
        &self.setup
    }

    /// Lends `work` the tensor's buffer as a shader binds it and how many elements into
    /// that range the tensor starts, after flushing burn's pending work; the buffer's
    /// memory is held until `work` has submitted what reads or writes it.
    fn bound<R>(&self, tensor: Tensor<4>, work: impl FnOnce(&CubeTensor, wgpu::BufferBinding<'_>, u32) -> R) -> Result<(CubeTensor, R)> {
        let tensor = crate::gpu::primitive(tensor)?;
        crate::gpu::flush(&tensor)?;
        let b = crate::gpu::bind(&tensor, self.setup.device.limits().min_storage_buffer_offset_alignment as u64)?;
        let binding = wgpu::BufferBinding { buffer: &b.buffer, offset: b.offset, size: wgpu::BufferSize::new(b.size) };
        let out = work(&tensor, binding, b.first);
        Ok((tensor, out))
    }

    /// An RGBA8 texture of this device: frames come in and go out as these.
    pub fn texture(&self, width: u32, height: u32, usage: wgpu::TextureUsages) -> wgpu::Texture {
        self.setup.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("ticketsr frame"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage,
            view_formats: &[],
        })
    }

    fn uniform(&self, words: [u32; 4]) -> wgpu::Buffer {
        let buffer = self.setup.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ticketsr params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.setup.queue.write_buffer(&buffer, 0, &bytes);
        buffer
    }

    /// The network's input for an RGBA8 texture (`TEXTURE_BINDING`): `[1, 3, h, w]` in 0..1.
    pub fn tensor_of(&self, texture: &wgpu::Texture) -> Result<Tensor<4>> {
        let (w, h) = (texture.width(), texture.height());
        let view = texture.create_view(&Default::default());
        let d = &self.setup.device;
        let (tensor, ()) = self.bound(Tensor::zeros([1, 3, h as usize, w as usize], &self.device), |_, planes, first| {
            let params = self.uniform([w, h, first, 0]);
            let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("ticketsr unpack"),
                layout: &self.unpack.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&view) },
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Buffer(planes) },
                    wgpu::BindGroupEntry { binding: 2, resource: params.as_entire_binding() },
                ],
            });
            let mut encoder = d.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.unpack);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(w.div_ceil(8), h.div_ceil(8), 1);
            }
            self.setup.queue.submit([encoder.finish()]);
        })?;
        Ok(Tensor::from_primitive::<Wgpu>(tensor))
    }

    /// Draws a `[1, 3, h, w]` tensor (0..1) into `target`, a view of an `h x w` texture
    /// of `format` with `RENDER_ATTACHMENT` (a canvas's current texture, say).
    pub fn draw(&mut self, image: Tensor<4>, target: &wgpu::TextureView, format: wgpu::TextureFormat) -> Result<()> {
        let [n, c, _, _] = image.dims();
        if (n, c) != (1, 3) {
            return Err(Error::InvalidArgument(format!("a drawn frame is [1, 3, h, w], not [{n}, {c}, ..]")));
        }
        if format.is_srgb() {
            return Err(Error::InvalidArgument(format!("draw into a linear format, not {format:?}: the values are already sRGB")));
        }
        let device = self.setup.device.clone();
        let d = &device;
        if self.draw.as_ref().is_none_or(|(f, _)| *f != format) {
            let layout = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("ticketsr draw"),
                bind_group_layouts: &[Some(&self.draw_layout)],
                immediate_size: 0,
            });
            let pipeline = d.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("ticketsr draw"),
                layout: Some(&layout),
                vertex: wgpu::VertexState { module: &self.draw_module, entry_point: Some("vs"), compilation_options: Default::default(), buffers: &[] },
                fragment: Some(wgpu::FragmentState {
                    module: &self.draw_module,
                    entry_point: Some("fs"),
                    compilation_options: Default::default(),
                    targets: &[Some(format.into())],
                }),
                primitive: Default::default(),
                depth_stencil: None,
                multisample: Default::default(),
                multiview_mask: None,
                cache: None,
            });
            self.draw = Some((format, pipeline));
        }
        let Some((_, pipeline)) = &self.draw else { unreachable!("set above") };
        self.bound(image, |tensor, planes, first| {
            let strides = tensor.meta.strides();
            let params = self.uniform([first, strides[1] as u32, strides[2] as u32, strides[3] as u32]);
            let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("ticketsr draw"),
                layout: &self.draw_layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::Buffer(planes) },
                    wgpu::BindGroupEntry { binding: 1, resource: params.as_entire_binding() },
                ],
            });
            let mut encoder = d.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("ticketsr draw"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: target,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color::BLACK), store: wgpu::StoreOp::Store },
                    })],
                    ..Default::default()
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.draw(0..3, 0..1);
            }
            self.setup.queue.submit([encoder.finish()]);
        })?;
        Ok(())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::upscale::Upscaler;
    use crate::imaging::RgbaImage;
    use crate::model::espcn;
    use crate::{BackendChoice, Silent};

    fn textured(w: usize, h: usize) -> RgbaImage {
        crate::imaging::test_pattern(w, h, 0)
    }

    /// Reads an RGBA8 texture back (tests only: the point of the module is never to).
    fn read(setup: &WgpuSetup, t: &wgpu::Texture) -> RgbaImage {
        let (w, h) = (t.width(), t.height());
        let row = (w * 4).div_ceil(256) * 256;
        let buffer = setup.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: (row * h) as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder = setup.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            t.as_image_copy(),
            wgpu::TexelCopyBufferInfo { buffer: &buffer, layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(row), rows_per_image: None } },
            t.size(),
        );
        setup.queue.submit([encoder.finish()]);
        buffer.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
        setup.device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
        let data = buffer.slice(..).get_mapped_range().unwrap().chunks(row as usize).flat_map(|r| r[..(w * 4) as usize].to_vec()).collect();
        RgbaImage::new(w as usize, h as usize, data).unwrap()
    }

    /// On Vulkan (lavapipe here): a frame uploaded as a texture becomes exactly the planes
    /// the CPU path feeds the network, and SR drawn from the output tensor equals the
    /// ordinary path's output, whole and tiled.
    #[test]
    fn frames_go_texture_to_tensor_to_texture_as_the_cpu_path_does() {
        let Ok(backend) = pollster::block_on(Backend::acquire(BackendChoice::Gpu)) else {
            panic!("no Vulkan adapter: scripts/setup.sh installs lavapipe");
        };
        let mut frames = GpuFrames::new(&backend).unwrap();
        let setup = frames.setup().clone();
        let img = textured(40, 24);
        let input = frames.texture(40, 24, wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST);
        setup.queue.write_texture(
            input.as_image_copy(),
            &img.data,
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(40 * 4), rows_per_image: None },
            input.size(),
        );
        let x = frames.tensor_of(&input).unwrap();
        let planes = pollster::block_on(x.clone().into_data_async()).unwrap().try_to_vec::<f32>().unwrap();
        let want = img.planes(img.full());
        assert_eq!(planes.len(), want.len());
        let off = planes.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(off < 1e-6, "the unpacked planes differ from the CPU's by {off}");

        let model = espcn::build(2, 7).unwrap();
        for tile in [64, 16] {
            let up = Upscaler::new(&model, backend.clone()).unwrap().with_tile_size(tile).unwrap();
            let want = pollster::block_on(up.upscale(&img, &mut Silent)).unwrap();
            let y = up.upscale_tensor(x.clone()).unwrap();
            let out = frames.texture(80, 48, wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC);
            frames.draw(y, &out.create_view(&Default::default()), wgpu::TextureFormat::Rgba8Unorm).unwrap();
            let got = read(&setup, &out);
            let worst = got.data.iter().zip(&want.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
            assert!(worst <= 1, "tile {tile}: drawn SR differs from the ordinary path by {worst}");
        }
        assert!(frames.draw(x.clone().slice([0..1, 0..2, 0..24, 0..40]), &input.create_view(&Default::default()), wgpu::TextureFormat::Rgba8Unorm).is_err());
        assert!(GpuFrames::new(&Backend::cpu()).is_err());
    }
}
