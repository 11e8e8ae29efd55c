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

/// The size of a frame the browser can copy to a texture on the GPU (a video's is its
/// current frame's, 0x0 before one is decoded).
fn frame_size(source: &JsValue) -> Result<(u32, u32)> {
    let source = if source.is_instance_of::<web_sys::ImageBitmap>() {
        wgpu::ExternalImageSource::ImageBitmap(source.clone().unchecked_into())
    } else if source.is_instance_of::<web_sys::HtmlVideoElement>() {
        wgpu::ExternalImageSource::HTMLVideoElement(source.clone().unchecked_into())
    } else if source.is_instance_of::<web_sys::HtmlCanvasElement>() {
        wgpu::ExternalImageSource::HTMLCanvasElement(source.clone().unchecked_into())
    } else {
        return Err(Error::InvalidArgument("a GPU frame comes from an ImageBitmap, a <video> or a <canvas>".into()));
    };
    Ok((source.width(), source.height()))
}

/// Refuses a frame the GPU could not take, before wgpu is asked to: frames (and the
/// upscaled canvas) must fit the device's textures, and a video must have a frame decoded.
fn check_fits(source: &JsValue, (w, h): (u32, u32), (ow, oh): (usize, usize), device: &wgpu::Device) -> Result<()> {
    let max = device.limits().max_texture_dimension_2d;
    if w.max(h) > max || ow.max(oh) > max as usize {
        return Err(Error::InvalidArgument(format!("the frame is {w}x{h} and upscales to {ow}x{oh}; this GPU's textures are at most {max} pixels a side")));
    }
    if source.is_instance_of::<web_sys::HtmlVideoElement>() && Reflect::get(source, &"readyState".into()).ok().and_then(|r| r.as_f64()).is_none_or(|r| r < 2.0) {
        return Err(Error::InvalidArgument("the video has no frame decoded yet (readyState below HAVE_CURRENT_DATA)".into()));
    }
    Ok(())
}

/// Copies the frame into the texture with the browser's own `copyExternalImageToTexture`
/// rather than wgpu's, which unwraps the browser's exception and so aborts the module. The
/// browser throws when it will not copy the frame: a cross-origin frame without CORS
/// (SecurityError), or a source that has since been closed or emptied. A 2D canvas probe
/// used to check readability first, but it passed whenever Chromium had no frame of the
/// video ready for a 2D canvas, and the GPU copy then threw.
fn copy_frame(queue: &wgpu::Queue, source: &JsValue, texture: &wgpu::Texture) -> Result<()> {
    let (Some(js_queue), Some(js_texture)) = (queue.as_webgpu(), texture.as_webgpu()) else {
        return Err(Error::Backend("GPU frames need the browser's WebGPU".into()));
    };
    let dict = |entries: &[(&str, JsValue)]| {
        let object = js_sys::Object::new();
        for (key, value) in entries {
            let _ = Reflect::set(&object, &(*key).into(), value);
        }
        object
    };
    let copied = Reflect::get(js_queue, &"copyExternalImageToTexture".into()).and_then(|f| f.dyn_into::<Function>()).and_then(|copy| {
        copy.call3(
            js_queue,
            &dict(&[("source", source.clone()), ("flipY", false.into())]),
            &dict(&[("texture", JsValue::from(js_texture.clone())), ("premultipliedAlpha", false.into())]),
            &dict(&[("width", texture.width().into()), ("height", texture.height().into())]),
        )
    });
    copied.map(|_| ()).map_err(|e| {
        let field = |name: &str| Reflect::get(&e, &name.into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        if field("name") == "SecurityError" {
            Error::InvalidArgument("the frame comes from another origin without CORS: the browser forbids reading its pixels, on the GPU too (serve it with Access-Control-Allow-Origin and set crossOrigin)".into())
        } else {
            Error::InvalidArgument(format!("the browser cannot copy this frame to the GPU: {}: {}", field("name"), field("message")))
        }
    })
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
            let (w, h) = frame_size(&source)?;
            if w == 0 || h == 0 {
                return Err(Error::InvalidArgument("the frame is empty: a video with no frame decoded yet, or a closed ImageBitmap".into()));
            }
            let (ow, oh) = up.output_size(w as usize, h as usize)?;
            let mut frames = self.frames.borrow_mut().take().ok_or_else(|| Error::InvalidArgument("a frame is still in flight: await it before the next".into()))?;
            let result = (|| {
                let setup = frames.setup().clone();
                check_fits(&source, (w, h), (ow, oh), &setup.device)?;
                let mut input = self.input.borrow_mut();
                if input.as_ref().is_none_or(|t| (t.width(), t.height()) != (w, h)) {
                    *input = Some(frames.texture(w, h, wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::RENDER_ATTACHMENT));
                }
                let Some(texture) = input.as_ref() else { unreachable!("made above") };
                copy_frame(&setup.queue, &source, texture)?;
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
