//! `GpuCanvas`: video frames upscaled straight into a canvas on the GPU (see
//! `Upscaler.gpuCanvas`), from the browser's frame to the canvas without the CPU.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::wgpu::wgpu;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::to_js;
use super::upscaler::{Slot, occupant};
use crate::error::{Error, Result};
use crate::video::gpu::GpuFrames;

/// A canvas that video frames are upscaled into on the GPU (see `Upscaler.gpuCanvas`).
#[wasm_bindgen]
pub struct GpuCanvas {
    upscaler: Slot,
    /// Out while a frame is in flight.
    frames: Rc<RefCell<Option<GpuFrames>>>,
    surface: Rc<wgpu::Surface<'static>>,
    format: wgpu::TextureFormat,
    /// The frame texture the browser copies into, and the output size configured.
    input: Rc<RefCell<Option<wgpu::Texture>>>,
    configured: Rc<Cell<(u32, u32)>>,
}

thread_local! {
    /// Resolvers of the promises waiting for GPU work: wgpu's callback must be `Send`, so
    /// it carries an id, and the one wasm thread looks the resolver up.
    static GPU_DONE: RefCell<(u32, std::collections::HashMap<u32, Function>)> = RefCell::default();
}

/// Resolves once the GPU has finished everything submitted so far.
fn gpu_done(queue: &wgpu::Queue) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, _| {
        let id = GPU_DONE.with(|d| {
            let (next, waiting) = &mut *d.borrow_mut();
            *next = next.wrapping_add(1);
            waiting.insert(*next, resolve);
            *next
        });
        queue.on_submitted_work_done(move || {
            if let Some(resolve) = GPU_DONE.with(|d| d.borrow_mut().1.remove(&id)) {
                let _ = resolve.call0(&JsValue::NULL);
            }
        });
    }))
}

/// A frame source the browser can copy to a texture on the GPU.
fn external_image(source: JsValue) -> Result<wgpu::ExternalImageSource> {
    if source.is_instance_of::<web_sys::ImageBitmap>() {
        Ok(wgpu::ExternalImageSource::ImageBitmap(source.unchecked_into()))
    } else if source.is_instance_of::<web_sys::HtmlVideoElement>() {
        Ok(wgpu::ExternalImageSource::HTMLVideoElement(source.unchecked_into()))
    } else if source.is_instance_of::<web_sys::HtmlCanvasElement>() {
        Ok(wgpu::ExternalImageSource::HTMLCanvasElement(source.unchecked_into()))
    } else {
        Err(Error::InvalidArgument("a GPU frame comes from an ImageBitmap, a <video> or a <canvas>".into()))
    }
}

/// Refuses a frame the browser would not copy to a texture, before wgpu is asked to: its web
/// backend unwraps the browser's exception, and the module would abort. Frames (and the
/// upscaled canvas) must fit the device's textures, a video must have a frame decoded, and
/// the pixels must be readable by this page: a cross-origin frame without CORS is not, on
/// the GPU either, which one pixel drawn into a 2D canvas and read back tells.
fn check_copyable(source: &JsValue, (w, h): (u32, u32), (ow, oh): (usize, usize), device: &wgpu::Device) -> Result<()> {
    let max = device.limits().max_texture_dimension_2d;
    if w.max(h) > max || ow.max(oh) > max as usize {
        return Err(Error::InvalidArgument(format!("the frame is {w}x{h} and upscales to {ow}x{oh}; this GPU's textures are at most {max} pixels a side")));
    }
    if source.is_instance_of::<web_sys::HtmlVideoElement>() && Reflect::get(source, &"readyState".into()).ok().and_then(|r| r.as_f64()).is_none_or(|r| r < 2.0) {
        return Err(Error::InvalidArgument("the video has no frame decoded yet (readyState below HAVE_CURRENT_DATA)".into()));
    }
    let call = |target: &JsValue, name: &str, args: &[JsValue]| -> std::result::Result<JsValue, JsValue> {
        let f: Function = Reflect::get(target, &name.into())?.dyn_into()?;
        Reflect::apply(&f, target, &args.iter().collect::<js_sys::Array>())
    };
    let probe = web_sys::OffscreenCanvas::new(1, 1).and_then(|c| c.get_context("2d")).ok().flatten().ok_or_else(|| Error::Backend("no 2D canvas to check the frame with".into()))?;
    let one = |v: f64| JsValue::from_f64(v);
    call(&probe, "drawImage", &[source.clone(), one(0.0), one(0.0), one(1.0), one(1.0), one(0.0), one(0.0), one(1.0), one(1.0)])
        .and_then(|_| call(&probe, "getImageData", &[one(0.0), one(0.0), one(1.0), one(1.0)]))
        .map_err(|e| {
            let name = Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
            if name == "SecurityError" {
                Error::InvalidArgument("the frame comes from another origin without CORS: the browser forbids reading its pixels, on the GPU too (serve it with Access-Control-Allow-Origin and set crossOrigin)".into())
            } else {
                Error::InvalidArgument(format!("the browser cannot read this frame: {e:?}"))
            }
        })?;
    Ok(())
}

impl GpuCanvas {
    pub fn new(upscaler: Slot, canvas: JsValue) -> Result<Self> {
        let up = occupant(&upscaler)?;
        let frames = GpuFrames::new(up.backend())?;
        let target = if canvas.is_instance_of::<web_sys::HtmlCanvasElement>() {
            wgpu::SurfaceTarget::Canvas(canvas.unchecked_into())
        } else if canvas.is_instance_of::<web_sys::OffscreenCanvas>() {
            wgpu::SurfaceTarget::OffscreenCanvas(canvas.unchecked_into())
        } else {
            return Err(Error::InvalidArgument("gpuCanvas needs an HTMLCanvasElement or an OffscreenCanvas".into()));
        };
        let setup = frames.setup();
        let surface = setup.instance.create_surface(target).map_err(|e| Error::Backend(format!("the canvas gives no WebGPU surface: {e}")))?;
        let formats = surface.get_capabilities(&setup.adapter).formats;
        let format = formats
            .iter()
            .copied()
            .find(|f| matches!(f, wgpu::TextureFormat::Rgba8Unorm | wgpu::TextureFormat::Bgra8Unorm))
            .ok_or_else(|| Error::Backend(format!("the canvas offers no 8-bit linear format ({formats:?})")))?;
        Ok(Self {
            upscaler,
            frames: Rc::new(RefCell::new(Some(frames))),
            surface: Rc::new(surface),
            format,
            input: Default::default(),
            configured: Default::default(),
        })
    }
}

#[wasm_bindgen]
impl GpuCanvas {
    /// Upscales a frame (an `ImageBitmap`, a `<video>`'s current frame or a `<canvas>`)
    /// into the canvas, resizing it to the output size. Resolves once the GPU has drawn it.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn draw(&self, #[wasm_bindgen(unchecked_param_type = "ImageBitmap | HTMLVideoElement | HTMLCanvasElement")] source: JsValue) -> Promise {
        let drawn = (|| {
            let up = occupant(&self.upscaler)?;
            let js_source = source.clone();
            let source = external_image(source)?;
            let (w, h) = (source.width(), source.height());
            if w == 0 || h == 0 {
                return Err(Error::InvalidArgument("the frame is empty: a video with no frame decoded yet, or a closed ImageBitmap".into()));
            }
            let (ow, oh) = up.output_size(w as usize, h as usize)?;
            let mut frames = self.frames.borrow_mut().take().ok_or_else(|| Error::InvalidArgument("a frame is still in flight: await it before the next".into()))?;
            let result = (|| {
                let setup = frames.setup().clone();
                check_copyable(&js_source, (w, h), (ow, oh), &setup.device)?;
                let mut input = self.input.borrow_mut();
                if input.as_ref().is_none_or(|t| (t.width(), t.height()) != (w, h)) {
                    *input = Some(frames.texture(w, h, wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::RENDER_ATTACHMENT));
                }
                let Some(texture) = input.as_ref() else { unreachable!("made above") };
                setup.queue.copy_external_image_to_texture(
                    &wgpu::CopyExternalImageSourceInfo { source, origin: wgpu::Origin2d::ZERO, flip_y: false },
                    wgpu::CopyExternalImageDestInfo {
                        texture,
                        mip_level: 0,
                        origin: wgpu::Origin3d::ZERO,
                        aspect: wgpu::TextureAspect::All,
                        color_space: wgpu::PredefinedColorSpace::Srgb,
                        premultiplied_alpha: false,
                    },
                    texture.size(),
                );
                let sr = up.upscale_tensor(frames.tensor_of(texture)?)?;
                let size = (ow as u32, oh as u32);
                if self.configured.get() != size {
                    self.surface.configure(&setup.device, &wgpu::SurfaceConfiguration {
                        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                        format: self.format,
                        width: size.0,
                        height: size.1,
                        present_mode: wgpu::PresentMode::Fifo,
                        desired_maximum_frame_latency: 2,
                        alpha_mode: wgpu::CompositeAlphaMode::Auto,
                        view_formats: vec![],
                        color_space: wgpu::SurfaceColorSpace::Srgb,
                    });
                    self.configured.set(size);
                }
                let target = match self.surface.get_current_texture() {
                    wgpu::CurrentSurfaceTexture::Success(t) | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
                    other => return Err(Error::Backend(format!("the canvas gave no texture to draw into: {other:?}"))),
                };
                frames.draw(sr, &target.texture.create_view(&Default::default()), self.format)?;
                setup.queue.present(target);
                Ok(gpu_done(&setup.queue))
            })();
            *self.frames.borrow_mut() = Some(frames);
            result
        })();
        future_to_promise(async move {
            drawn.map_err(to_js)?.await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
