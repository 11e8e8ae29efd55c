//! The JavaScript API (wasm-bindgen), modelled on UpscalerJS: `await Upscaler.create(bytes)`,
//! `await upscaler.upscale(image, { onProgress, signal })`, `info()`, `dispose()`. Every
//! failure is a JS `Error` with the library's message; nothing here panics on bad input.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{AbortSignal, ImageData};

use crate::backend::{Backend, BackendChoice};
use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic, metrics};
use crate::model::{self, format};
use crate::upscale::Progress;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface UpscalerOptions {
  /** "auto" (WebGPU when an adapter exists, else CPU), "webgpu" or "cpu". */
  backend?: "auto" | "webgpu" | "gpu" | "cpu";
  /** Core tile side in input pixels; by default derived from the adapter's buffer limits. */
  tileSize?: number;
}
export interface UpscaleOptions {
  /** Called after every tile with the tiles done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the promise with an Error named "AbortError". */
  signal?: AbortSignal;
}
export interface ImageLike { width: number; height: number; data: Uint8ClampedArray | Uint8Array; }
export interface UpscalerInfo {
  model: { name: string; scale: number; architecture: string; source: string; licence: string; notes: string };
  backend: { kind: "webgpu" | "vulkan" | "cpu"; adapter: string; max_tensor_bytes: number; fallback_reason?: string };
  parameters: number;
  macs_per_input_pixel: number;
  tile: number;
  halo: number;
}
export interface Metrics { psnrRgb: number; psnrY: number; ssimY: number; }
"#;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    if matches!(e, Error::Aborted) {
        err.set_name("AbortError");
    }
    err.into()
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateOptions {
    #[serde(default)]
    backend: Option<String>,
    #[serde(default)]
    tile_size: Option<usize>,
}

fn parse_options(options: JsValue) -> Result<CreateOptions> {
    if options.is_undefined() || options.is_null() {
        return Ok(CreateOptions::default());
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| Error::InvalidArgument(format!("options: {e}")))
}

/// Fails unless the browser exposes WebGPU and grants an adapter; checked here so that a
/// missing GPU is an error to fall back from, never a panic inside the runtime.
pub(crate) async fn require_webgpu() -> Result<()> {
    let gpu = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"gpu".into()))
        .unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err(Error::Backend("WebGPU is not available in this browser (navigator.gpu is missing)".into()));
    }
    let request = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| Error::Backend("navigator.gpu.requestAdapter is missing".into()))?;
    let promise: Promise = request.call0(&gpu).map_err(|e| Error::Backend(format!("{e:?}")))?.unchecked_into();
    let adapter = JsFuture::from(promise).await.map_err(|e| Error::Backend(format!("requestAdapter failed: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(Error::Backend("WebGPU is present but the browser granted no adapter".into()));
    }
    Ok(())
}

/// Lets the browser run its event loop (and repaint) between tiles.
async fn yield_to_event_loop() {
    let promise = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        match Reflect::get(&global, &"setTimeout".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()) {
            Some(set_timeout) => {
                let _ = set_timeout.call2(&global, &resolve, &JsValue::from(0));
            }
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}

struct JsProgress {
    callback: Option<Function>,
    signal: Option<AbortSignal>,
}

impl JsProgress {
    fn from_options(options: &JsValue) -> Result<Self> {
        if options.is_undefined() || options.is_null() {
            return Ok(Self { callback: None, signal: None });
        }
        let get = |k: &str| Reflect::get(options, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let callback = match get("onProgress") {
            v if v.is_undefined() || v.is_null() => None,
            v => Some(v.dyn_into::<Function>().map_err(|_| Error::InvalidArgument("onProgress must be a function".into()))?),
        };
        let signal = match get("signal") {
            v if v.is_undefined() || v.is_null() => None,
            v => Some(v.dyn_into::<AbortSignal>().map_err(|_| Error::InvalidArgument("signal must be an AbortSignal".into()))?),
        };
        Ok(Self { callback, signal })
    }

    fn check(&self) -> Result<()> {
        if self.signal.as_ref().is_some_and(AbortSignal::aborted) { Err(Error::Aborted) } else { Ok(()) }
    }
}

impl Progress for JsProgress {
    async fn tile_done(&mut self, done: usize, total: usize) -> Result<()> {
        if let Some(cb) = &self.callback {
            cb.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32))
                .map_err(|e| Error::InvalidArgument(format!("onProgress threw: {e:?}")))?;
        }
        yield_to_event_loop().await;
        self.check()
    }
}

/// Reads `{ width, height, data }` (an `ImageData` or anything shaped like one).
fn read_image(image: &JsValue) -> Result<RgbaImage> {
    let dim = |k: &str| -> Result<usize> {
        let v = Reflect::get(image, &k.into()).ok().and_then(|v| v.as_f64());
        match v {
            Some(v) if v.fract() == 0.0 && (0.0..=1e9).contains(&v) => Ok(v as usize),
            _ => Err(Error::image(format!("image.{k} must be a non-negative integer"))),
        }
    };
    let (w, h) = (dim("width")?, dim("height")?);
    crate::imaging::check_dimensions(w, h)?;
    let data = Reflect::get(image, &"data".into()).unwrap_or(JsValue::UNDEFINED);
    if !data.is_instance_of::<js_sys::Uint8ClampedArray>() && !data.is_instance_of::<Uint8Array>() {
        return Err(Error::image("image.data must be a Uint8ClampedArray or Uint8Array of RGBA bytes"));
    }
    let bytes = Uint8Array::new(&data);
    if bytes.length() as usize != w * h * 4 {
        return Err(Error::image(format!("image.data has {} bytes, {w}x{h} RGBA needs {}", bytes.length(), w * h * 4)));
    }
    RgbaImage::new(w, h, bytes.to_vec())
}

fn write_image(img: &RgbaImage) -> Result<ImageData> {
    // Copied out of wasm memory: a view into it detaches when the memory grows.
    let pixels = js_sys::Uint8ClampedArray::new_with_length(img.data.len() as u32);
    pixels.copy_from(&img.data);
    ImageData::new_with_js_u8_clamped_array_and_sh(&pixels, img.width as u32, img.height as u32)
        .map_err(|e| Error::image(format!("the browser could not create a {}x{} ImageData: {e:?}", img.width, img.height)))
}

/// A model on a device, ready to upscale images.
#[wasm_bindgen]
pub struct Upscaler {
    inner: RefCell<Option<Rc<crate::Upscaler>>>,
}

impl Upscaler {
    async fn build(model: Result<crate::ModelFile>, options: JsValue) -> Result<Upscaler> {
        let opts = parse_options(options)?;
        let choice: BackendChoice = opts.backend.as_deref().unwrap_or("auto").parse()?;
        let model = model?;
        let backend = Backend::acquire(choice).await?;
        let mut up = crate::Upscaler::new(&model, backend)?;
        if let Some(t) = opts.tile_size {
            up = up.with_tile_size(t);
        }
        Ok(Upscaler { inner: RefCell::new(Some(Rc::new(up))) })
    }

    fn get(&self) -> Result<Rc<crate::Upscaler>> {
        self.inner.borrow().clone().ok_or_else(|| Error::InvalidArgument("this upscaler was disposed".into()))
    }
}

#[wasm_bindgen]
impl Upscaler {
    /// Loads a ticketsr model file (safetensors with its graph) onto the chosen backend.
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "UpscalerOptions")] options: JsValue,
    ) -> std::result::Result<Upscaler, JsValue> {
        Self::build(format::from_bytes(&model.to_vec()), options).await.map_err(to_js)
    }

    /// The bicubic baseline at `scale`, run through the same tiled path as a network.
    pub async fn bicubic(
        scale: usize,
        #[wasm_bindgen(unchecked_param_type = "UpscalerOptions")] options: JsValue,
    ) -> std::result::Result<Upscaler, JsValue> {
        let model = if (2..=8).contains(&scale) {
            model::bicubic(scale)
        } else {
            Err(Error::InvalidArgument(format!("bicubic scale must be 2 to 8, not {scale}")))
        };
        Self::build(model, options).await.map_err(to_js)
    }

    /// Upscales an `ImageData` (or `{ width, height, data }`), resolving to an `ImageData`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ImageData>")]
    pub fn upscale(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UpscaleOptions")] options: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|up| {
            let progress = JsProgress::from_options(&options)?;
            progress.check()?;
            let img = read_image(&image)?;
            up.output_size(img.width, img.height)?;
            Ok((up, progress, img))
        });
        future_to_promise(async move {
            let (up, mut progress, img) = prepared.map_err(to_js)?;
            let out = up.upscale(&img, &mut progress).await.map_err(to_js)?;
            write_image(&out).map(JsValue::from).map_err(to_js)
        })
    }

    /// Model, scale, backend and adapter, tile size.
    #[wasm_bindgen(unchecked_return_type = "UpscalerInfo")]
    pub fn info(&self) -> std::result::Result<JsValue, JsValue> {
        let info = self.get().map_err(to_js)?.info();
        info.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| to_js(Error::Backend(e.to_string())))
    }

    /// Releases the model's device memory now; later calls fail with a clear error.
    pub fn dispose(&self) {
        self.inner.borrow_mut().take();
    }
}

/// Makes the low-resolution version of an image with the project's bicubic convention
/// (sides first cropped to multiples of `scale`): what evaluation mode feeds the network.
#[wasm_bindgen]
pub fn downscale(
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
    scale: usize,
) -> std::result::Result<ImageData, JsValue> {
    (|| {
        if !(2..=8).contains(&scale) {
            return Err(Error::InvalidArgument(format!("scale must be 2 to 8, not {scale}")));
        }
        let img = read_image(&image)?;
        let hr = img.crop_to_multiple(scale)?;
        write_image(&bicubic::downscale(&hr, scale)?)
    })()
    .map_err(to_js)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    psnr_rgb: f64,
    psnr_y: f64,
    ssim_y: f64,
}

/// PSNR (RGB and Y) and SSIM (Y) of `image` against `reference`, ignoring a `shave`-pixel
/// border. The reference is cropped to the image's size first, as evaluation needs.
#[wasm_bindgen(unchecked_return_type = "Metrics")]
pub fn metrics(
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] reference: JsValue,
    shave: usize,
) -> std::result::Result<JsValue, JsValue> {
    (|| {
        let a = read_image(&image)?;
        let b = read_image(&reference)?;
        let b = if (b.width, b.height) == (a.width, a.height) { b } else { b.crop(a.width, a.height)? };
        let m = Metrics {
            psnr_rgb: metrics::psnr_rgb(&a, &b, shave)?,
            psnr_y: metrics::psnr_y(&a, &b, shave)?,
            ssim_y: metrics::ssim_y(&a, &b, shave)?,
        };
        m.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| Error::Backend(e.to_string()))
    })()
    .map_err(to_js)
}
