//! The JavaScript API (wasm-bindgen), modelled on UpscalerJS: `await Upscaler.create(bytes)`,
//! `await upscaler.upscale(image, { onProgress, signal, keep, scorer })`, `info()`,
//! `dispose()`, the winning-ticket calls `scorePatches`, `selectPatches` and
//! `evaluatePatches`, video (`upscaler.stream()`, `gpuCanvas()`, `ContentPack`) and
//! `prune`. An edge only: it converts JS values to the library's types and back
//! ([`convert`]); options are the library's ([`crate::options`]). Every failure is a JS
//! `Error` with the library's message; nothing here panics on bad input.

mod canvas;
mod convert;
mod pack;
mod tools;
mod upscaler;
mod video;

pub use canvas::GpuCanvas;
pub use pack::ContentPack;
pub use tools::{downscale, export_onnx, metrics, patch_gains, prune, select_patches, ticket_overlay};
pub use upscaler::Upscaler;
pub use video::VideoStream;

use wasm_bindgen::prelude::*;

use crate::error::Error;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("api.d.ts");

/// Runs once per instance, before any other call (wasm-bindgen's glue calls it on every
/// instantiation, a restart's included): the static constructors, once
/// ([`crate::platform::static_constructors`]), and the panic hook.
#[wasm_bindgen(start)]
pub fn start() {
    crate::platform::static_constructors();
    console_error_panic_hook::set_once();
}

/// The library's error as a JS `Error` (named "AbortError" for an abort).
fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    if matches!(e, Error::Aborted) {
        err.set_name("AbortError");
    }
    err.into()
}
