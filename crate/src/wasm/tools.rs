//! Calls that need no upscaler: choosing patches from scores, pruning and exporting model
//! files, the bicubic downscale, per-patch gains, the tickets overlay and image metrics.

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::ImageData;

use super::convert::{read_image, to_js_value, value, write_image};
use super::to_js;
use crate::error::Error;
use crate::imaging::{bicubic, metrics};
use crate::model::{ModelFile, format};
use crate::patch::score;
use crate::patch::select::{self, Selection};
use crate::patch::{Grid, overlay};

/// Picks patches from scores (`scorePatches(...).scores`): highest first.
#[wasm_bindgen(js_name = selectPatches)]
pub fn select_patches(
    #[wasm_bindgen(unchecked_param_type = "number[] | Float32Array")] scores: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Selection")] selection: JsValue,
) -> std::result::Result<Vec<u32>, JsValue> {
    (|| {
        let scores: Vec<f32> = value(scores, "scores")?.ok_or_else(|| Error::InvalidArgument("scores must be an array of numbers".into()))?;
        let selection: Selection = serde_wasm_bindgen::from_value(selection)
            .map_err(|e| Error::InvalidArgument(format!("selection must be {{keep}}, {{threshold}}, {{budget: {{ms, cost}}}} or \"gains\": {e}")))?;
        Ok(select::select(&scores, selection)?.into_iter().map(|i| i as u32).collect())
    })()
    .map_err(to_js)
}

/// Prunes a ticketsr model file; the result is another model file with the summaries of
/// both. Runs on the CPU in a few milliseconds for the bundled models, so a page can prune
/// live as a slider moves. Channels by `criterion: "reconstruction"` need calibration
/// images and a device: `upscaler.prune(...)`.
#[wasm_bindgen(unchecked_return_type = "PruneResult")]
pub fn prune(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array,
    #[wasm_bindgen(unchecked_param_type = "PruneMethod")] method: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    (|| {
        let (method, original) = (prune_method(method)?, format::from_bytes(&model.to_vec())?);
        if method.needs_calibration() {
            return Err(Error::InvalidArgument("the reconstruction criterion needs calibration images: use upscaler.prune(model, method, image)".into()));
        }
        prune_result(&original, &method.apply(&original)?)
    })()
    .map_err(to_js)
}

pub(super) fn prune_method(method: JsValue) -> Result<crate::prune::Method, Error> {
    serde_wasm_bindgen::from_value(method).map_err(|e| {
        Error::InvalidArgument(format!("prune method must be {{method: \"magnitude\" | \"two-of-four\" | \"channel\", sparsity, ...}}: {e}"))
    })
}

/// `{ model, before, after }`: the pruned file and both summaries.
pub(super) fn prune_result(original: &ModelFile, pruned: &ModelFile) -> Result<JsValue, Error> {
    let result = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&result, &k.into(), v).map(drop).map_err(|_| Error::Backend("building the result".into()));
    let file = format::to_bytes(pruned)?;
    set("model", &Uint8Array::from(file.as_slice()).into())?;
    set("before", &to_js_value(&crate::prune::summary(original, original, format::to_bytes(original)?.len())?)?)?;
    set("after", &to_js_value(&crate::prune::summary(original, pruned, file.len())?)?)?;
    Ok(result.into())
}

/// Writes a ticketsr model file as ONNX (opset 17; RGB in [0, 1] as `[n, 3, h, w]`, height
/// and width free), for ONNX Runtime Web and other runtimes: a model pruned on the page
/// leaves it this way.
#[wasm_bindgen(js_name = exportOnnx, unchecked_return_type = "Uint8Array<ArrayBuffer>")]
pub fn export_onnx(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array) -> std::result::Result<Uint8Array, JsValue> {
    (|| Ok(Uint8Array::from(crate::model::onnx::to_bytes(&format::from_bytes(&model.to_vec())?)?.as_slice())))().map_err(to_js)
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

/// Per patch, the PSNR gain in dB of `image` over `baseline` against `reference` (all the
/// output size; the grid is `patchSize` over the input): where a result's tickets paid off.
#[wasm_bindgen(js_name = patchGains)]
pub fn patch_gains(
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] baseline: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] reference: JsValue,
    scale: usize,
    patch_size: usize,
) -> std::result::Result<Vec<f32>, JsValue> {
    (|| {
        let (a, b, hr) = (read_image(&image)?, read_image(&baseline)?, read_image(&reference)?);
        let hr = if (hr.width, hr.height) == (a.width, a.height) { hr } else { hr.crop(a.width, a.height)? };
        if scale == 0 || a.width % scale != 0 || a.height % scale != 0 {
            return Err(Error::InvalidArgument(format!("a {}x{} output is not x{scale} of an input", a.width, a.height)));
        }
        let grid = Grid::new(a.width / scale, a.height / scale, patch_size)?;
        score::patch_gains(&a, &b, &hr, &grid)
    })()
    .map_err(to_js)
}

/// The winning tickets as a transparent layer over an `scale`-times output: the score
/// heatmap (`heatOpacity` 0 hides it), the patch grid, and the `selected` patches outlined.
#[wasm_bindgen(js_name = ticketOverlay)]
pub fn ticket_overlay(
    #[wasm_bindgen(unchecked_param_type = "Grid")] grid: JsValue,
    scale: usize,
    #[wasm_bindgen(unchecked_param_type = "number[] | Float32Array")] scores: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] selected: JsValue,
    heat_opacity: f32,
) -> std::result::Result<ImageData, JsValue> {
    (|| {
        let g: Grid = serde_wasm_bindgen::from_value(grid).map_err(|e| Error::InvalidArgument(format!("grid: {e}")))?;
        let grid = Grid::new(g.width, g.height, g.patch)?;
        if !(1..=8).contains(&scale) {
            return Err(Error::InvalidArgument(format!("scale must be 1 to 8, not {scale}")));
        }
        let scores: Vec<f32> = value(scores, "scores")?.unwrap_or_default();
        let selected: Vec<usize> = value(selected, "selected")?.unwrap_or_default();
        write_image(&overlay::layer(&grid.scaled(scale), &scores, &selected, heat_opacity)?)
    })()
    .map_err(to_js)
}

/// PSNR (RGB, Y) and SSIM (Y) of an image against its reference.
#[derive(Serialize, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
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
        to_js_value(&m)
    })()
    .map_err(to_js)
}
