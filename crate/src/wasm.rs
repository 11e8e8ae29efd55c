//! The JavaScript API (wasm-bindgen), modelled on UpscalerJS: `await Upscaler.create(bytes)`,
//! `await upscaler.upscale(image, { onProgress, signal, keep, scorer })`, `info()`,
//! `dispose()`, the winning-ticket calls `scorePatches`, `selectPatches` and
//! `evaluatePatches`, video (`upscaler.stream()`, `ContentPack`) and `prune`. Every failure is a JS `Error` with the library's message; nothing
//! here panics on bad input.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{AbortSignal, ImageData};

use crate::backend::{Backend, BackendChoice};
use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic, metrics};
use crate::model::{self, format};
use crate::pack::Pack;
use crate::pack::play::Player;
use crate::patch::{evaluate, overlay};
use crate::patch::score::{self, Reference, Scorer};
use crate::patch::select::{self, Selection};
use crate::patch::{DEFAULT_PATCH, Grid, Tickets, sparse};
use crate::upscale::Progress;
use crate::video::gpu::GpuFrames;
use crate::video::{FrameOptions, Stream};
use burn::tensor::wgpu::wgpu;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface UpscalerOptions {
  /** "auto" (WebGPU when an adapter exists, else CPU), "webgpu" or "cpu". */
  backend?: "auto" | "webgpu" | "gpu" | "cpu";
  /** Core tile side in input pixels; by default derived from the adapter's buffer limits. */
  tileSize?: number;
  /** On WebGPU, run convolutions with burn's own kernels instead of ticketsr's fused one
   * (slower; for comparing the two). */
  plainKernels?: boolean;
}
export interface UpscaleOptions extends PatchOptions {
  /** Called after every tile (or batch of patch windows) with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the promise with an Error named "AbortError". */
  signal?: AbortSignal;
  /** Run the network only on this share (0..1) of the patches, picked by `scorer`;
   *  the rest is bicubic. Absent: dense SR everywhere. */
  keep?: number;
  /** Run the network exactly on these patches (indices into the `patchSize` grid,
   *  e.g. from `selectPatches`). Not together with `keep`. */
  selected?: Uint32Array | number[];
  /** Run the network on as many of the best patches as fit in this many milliseconds,
   *  at the per-frame `cost` that `measurePatchCost` measured. Not with `keep`/`selected`. */
  budgetMs?: number;
  cost?: CostModel;
}
/** Milliseconds per frame of patch-sparse SR on this device: `fixedMs + k * perPatchMs`. */
export interface CostModel { fixedMs: number; perPatchMs: number; }
/** LR-only scorers run on the GPU; "oracle" and "stdo" need the HR original. */
export type Scorer = "gradient" | "laplacian" | "contrast" | "learned" | "oracle" | "stdo" | "random";
export interface PatchOptions {
  /** Patch side in input pixels (default 32). */
  patchSize?: number;
  /** What picks the winning tickets (default "gradient"). */
  scorer?: Scorer;
  /** Seed of the "random" scorer (default 0). */
  seed?: number;
}
export interface ScoreOptions extends PatchOptions {
  /** The HR original (the input upscaled size), needed by "oracle" and "stdo". */
  reference?: ImageData | ImageLike;
}
export interface Grid { width: number; height: number; patch: number; cols: number; rows: number; }
export interface PatchScores { grid: Grid; scorer: Scorer; scores: number[]; }
/** One of: a share of the patches, every patch scoring at least a threshold, or as many
 *  as `budget.ms` pays for at a measured per-frame cost `fixedMs + k * perPatchMs`. */
export type Selection =
  | { keep: number }
  | { threshold: number }
  | { budget: { ms: number; cost: { fixedMs: number; perPatchMs: number } } };
export interface EvaluateOptions extends UpscaleOptions {
  /** Scorers to compare (default: all, "learned" when a scorer is loaded). */
  scorers?: Scorer[];
  /** Keep ratios (default 0, 0.05, 0.1, 0.25, 0.5, 0.75, 1). */
  keeps?: number[];
}
export interface Evaluation {
  grid: Grid;
  bicubic_psnr: number;
  dense_psnr: number;
  curves: {
    scorer: Scorer;
    scores: number[];
    points: { keep: number; patches: number; psnr: number; share_of_gain: number; work: number }[];
  }[];
}
export interface ImageLike { width: number; height: number; data: Uint8ClampedArray | Uint8Array; }
/** What a content pack holds besides its bytes (see `ticketsr overfit`). */
export interface PackManifest {
  method: { kind: "single" } | { kind: "stdo"; chunks: number } | { kind: "dydca"; threshold: number };
  scale: number;
  /** LR patch side (Dy-DCA: of a small patch). */
  patch: number;
  /** LR frame size. */
  width: number;
  height: number;
  frames: number;
  fps: number;
  held_out: number[];
  bounds: number[];
  source?: { path: string; crop: [number, number, number, number]; frame_every: number; max_frames: number } | null;
  notes: string;
}
export interface UpscalerInfo {
  model: { name: string; scale: number; architecture: string; source: string; licence: string; notes: string };
  backend: { kind: "webgpu" | "vulkan" | "cpu"; adapter: string; max_tensor_bytes: number; fallback_reason?: string };
  parameters: number;
  macs_per_input_pixel: number;
  tile: number;
  halo: number;
}
export interface Metrics { psnrRgb: number; psnrY: number; ssimY: number; }
export interface FrameOptions {
  /** Patch side in input pixels, for tickets and reuse (default 32). */
  patchSize?: number;
  /** Run the network on at most this share (0..1) of the patches per frame, the best
   *  scoring of those that need it; bicubic elsewhere. Absent or 1: no limit. */
  keep?: number;
  /** What ranks patches when `keep` limits them (default "laplacian"; LR-only scorers). */
  scorer?: "gradient" | "laplacian" | "contrast" | "learned" | "random";
  /** Temporal reuse: a patch keeps its SR while no 4x4 cell of it differs by more than
   *  this many 8-bit levels (mean absolute difference) from what that SR was made from.
   *  Absent: every frame afresh. 6 suits the compressed clips measured. */
  reuse?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}
/** One upscaled frame and what it cost: patches the network ran on, kept from earlier
 *  frames, and left bicubic (over the keep limit); `work` is the share of dense SR's
 *  multiply-accumulates. */
export interface UpscaledFrame {
  image: ImageData;
  patches: number;
  computed: number;
  reused: number;
  interpolated: number;
  work: number;
}
/** A pruning pass: the smallest weights zeroed (the file shrinks), 2 of every 4 kept, or
 *  whole channels removed (coupled ones together): a smaller network that runs faster. */
export type PruneMethod =
  | { method: "magnitude"; sparsity: number; scope?: "global" | "per-layer" }
  | { method: "two-of-four" }
  | { method: "channel"; sparsity: number; criterion?: "l1" | "l2" | "leverage"; budget?: "global" | "per-layer"; floor?: number; multiple?: number };
export interface PruneLayer { name: string; channelsBefore: number; channels: number; weights: number; nonzero: number; }
export interface PruneSummary { parameters: number; nonzero: number; macsPerOutputPixel: number; bytes: number; layers: PruneLayer[]; }
/** `model` is a ticketsr model file: pass it to `Upscaler.create` or save it. */
export interface PruneResult { model: Uint8Array; before: PruneSummary; after: PruneSummary; }
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
    #[serde(default)]
    plain_kernels: bool,
}

/// An optional field of an options object.
fn field<T: DeserializeOwned>(options: &JsValue, key: &str) -> Result<Option<T>> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    value(Reflect::get(options, &key.into()).unwrap_or(JsValue::UNDEFINED), key)
}

/// Entries a JS array may have (selections, scores): the largest patch grid,
/// (16384 / 4)^2. Checked before the array is copied into the module.
const MAX_ARRAY: f64 = (1u32 << 24) as f64;

/// An optional JS value (typed arrays read as arrays); `name` labels errors.
fn value<T: DeserializeOwned>(v: JsValue, name: &str) -> Result<Option<T>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let typed = v.is_instance_of::<js_sys::Float32Array>() || v.is_instance_of::<js_sys::Uint32Array>();
    if typed || js_sys::Array::is_array(&v) {
        let len = Reflect::get(&v, &"length".into()).ok().and_then(|l| l.as_f64()).unwrap_or(f64::INFINITY);
        if len > MAX_ARRAY {
            return Err(Error::InvalidArgument(format!("{name} has {len} entries, more than {MAX_ARRAY}")));
        }
    }
    let v = if typed { js_sys::Array::from(&v).into() } else { v };
    serde_wasm_bindgen::from_value(v).map(Some).map_err(|e| Error::InvalidArgument(format!("{name}: {e}")))
}

/// Patch size, scorer and seed, with the library's defaults.
fn patch_options(options: &JsValue) -> Result<(usize, Scorer, u64)> {
    Ok((
        field(options, "patchSize")?.unwrap_or(DEFAULT_PATCH),
        field(options, "scorer")?.unwrap_or(Scorer::Gradient),
        field::<u32>(options, "seed")?.unwrap_or(0) as u64,
    ))
}

fn to_js_value<T: Serialize>(v: &T) -> Result<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| Error::Backend(e.to_string()))
}

fn parse_options(options: JsValue) -> Result<CreateOptions> {
    if options.is_undefined() || options.is_null() {
        return Ok(CreateOptions::default());
    }
    refuse_unknown_fields::<CreateOptions>(&options, "options")?;
    serde_wasm_bindgen::from_value(options).map_err(|e| Error::InvalidArgument(format!("options: {e}")))
}

/// Refuses keys of a JS object that the serde struct `T` does not declare. serde-wasm-bindgen
/// reads a struct's declared fields only, so `deny_unknown_fields` never sees a misspelt
/// option (RReverser/serde-wasm-bindgen#39): the declared names are asked of `T` itself.
fn refuse_unknown_fields<T: DeserializeOwned>(object: &JsValue, name: &str) -> Result<()> {
    use serde::de::{self, Visitor};
    /// A deserializer that only records the fields `deserialize_struct` is told.
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    refuse_unknown_keys(object, name, fields)
}

/// Refuses keys of a JS object that are not in `known`: a misspelt option is an error, not
/// an option silently ignored.
fn refuse_unknown_keys(object: &JsValue, name: &str, known: &[&str]) -> Result<()> {
    if !object.is_object() {
        return Ok(());
    }
    for key in js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()) {
        if !known.contains(&key.as_str()) {
            return Err(Error::InvalidArgument(format!("{name}: unknown option `{key}` (known: {})", known.join(", "))));
        }
    }
    Ok(())
}

/// The keys of `UpscaleOptions`, `FrameOptions`, `ScoreOptions` and `EvaluateOptions` (TYPES
/// above), read field by field below until issue 16 declares them as serde types (then
/// [`refuse_unknown_fields`] takes over).
const UPSCALE_KEYS: [&str; 9] = ["onProgress", "signal", "keep", "selected", "budgetMs", "cost", "patchSize", "scorer", "seed"];
const FRAME_KEYS: [&str; 6] = ["onProgress", "signal", "patchSize", "keep", "scorer", "reuse"];
const SCORE_KEYS: [&str; 4] = ["patchSize", "scorer", "seed", "reference"];
const EVALUATE_KEYS: [&str; 11] = ["onProgress", "signal", "keep", "selected", "budgetMs", "cost", "patchSize", "scorer", "seed", "scorers", "keeps"];

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
pub(crate) async fn yield_to_event_loop() {
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
        self.checkpoint().await
    }

    async fn checkpoint(&mut self) -> Result<()> {
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

enum Mode {
    Dense,
    Tickets(Tickets),
    Patches(Grid, Vec<usize>),
}

/// Picks patches from scores (`scorePatches(...).scores`): highest first.
#[wasm_bindgen(js_name = selectPatches)]
pub fn select_patches(
    #[wasm_bindgen(unchecked_param_type = "number[] | Float32Array")] scores: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Selection")] selection: JsValue,
) -> std::result::Result<Vec<u32>, JsValue> {
    (|| {
        let scores: Vec<f32> = value(scores, "scores")?.ok_or_else(|| Error::InvalidArgument("scores must be an array of numbers".into()))?;
        let selection: Selection = serde_wasm_bindgen::from_value(selection)
            .map_err(|e| Error::InvalidArgument(format!("selection must be {{keep}}, {{threshold}} or {{budget: {{ms, cost}}}}: {e}")))?;
        Ok(select::select(&scores, selection)?.into_iter().map(|i| i as u32).collect())
    })()
    .map_err(to_js)
}

/// A model on a device, ready to upscale images.
/// The model behind an `Upscaler`, shared with its video streams so that `dispose()`
/// frees it for all of them.
type Slot = Rc<RefCell<Option<Rc<crate::Upscaler>>>>;

#[wasm_bindgen]
pub struct Upscaler {
    inner: Slot,
}

impl Upscaler {
    async fn build(model: Result<crate::ModelFile>, options: JsValue) -> Result<Upscaler> {
        let opts = parse_options(options)?;
        let choice: BackendChoice = opts.backend.as_deref().unwrap_or("auto").parse()?;
        let model = model?;
        let backend = Backend::acquire(choice).await?;
        let mut up = crate::Upscaler::new(&model, backend)?;
        if let Some(t) = opts.tile_size {
            up = up.with_tile_size(t)?;
        }
        if opts.plain_kernels {
            up = up.without_fused_kernels();
        }
        Ok(Upscaler { inner: Rc::new(RefCell::new(Some(Rc::new(up)))) })
    }

    fn get(&self) -> Result<Rc<crate::Upscaler>> {
        occupant(&self.inner)
    }
}

fn occupant(slot: &Slot) -> Result<Rc<crate::Upscaler>> {
    slot.borrow().clone().ok_or_else(|| Error::InvalidArgument("this upscaler was disposed".into()))
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
            refuse_unknown_keys(&options, "options", &UPSCALE_KEYS)?;
            let progress = JsProgress::from_options(&options)?;
            progress.check()?;
            let img = read_image(&image)?;
            up.output_size(img.width, img.height)?;
            Ok((up, progress, img))
        });
        let sparse = prepared.and_then(|p| {
            let keep: Option<f64> = field(&options, "keep")?;
            let selected: Option<Vec<usize>> = field(&options, "selected")?;
            let budget: Option<f64> = field(&options, "budgetMs")?;
            let (patch, scorer, seed) = patch_options(&options)?;
            let tickets = |selection| Mode::Tickets(Tickets { patch, scorer, selection, seed });
            let mode = match (keep, selected, budget) {
                (None, None, None) => Mode::Dense,
                (Some(k), None, None) => tickets(Selection::Keep(k)),
                (None, Some(sel), None) => Mode::Patches(Grid::new(p.2.width, p.2.height, patch)?, sel),
                (None, None, Some(ms)) => {
                    let cost = field(&options, "cost")?
                        .ok_or_else(|| Error::InvalidArgument("`budgetMs` needs the `cost` that measurePatchCost measured".into()))?;
                    tickets(Selection::Budget { ms, cost })
                }
                _ => return Err(Error::InvalidArgument("give one of `keep`, `selected` and `budgetMs`".into())),
            };
            Ok((p, mode))
        });
        future_to_promise(async move {
            let ((up, mut progress, img), mode) = sparse.map_err(to_js)?;
            let out = match mode {
                Mode::Dense => up.upscale(&img, &mut progress).await,
                Mode::Tickets(t) => up.upscale_tickets(&img, &t, &mut progress).await.map(|r| r.image),
                Mode::Patches(grid, sel) => {
                    let band = sparse::default_band(grid.patch, up.scale());
                    up.upscale_patches(&img, &grid, &sel, band, &mut progress).await
                }
            }
            .map_err(to_js)?;
            write_image(&out).map(JsValue::from).map_err(to_js)
        })
    }

    /// Scores every patch of an image: how much the network is expected to add there.
    #[wasm_bindgen(js_name = scorePatches, unchecked_return_type = "Promise<PatchScores>")]
    pub fn score_patches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ScoreOptions")] options: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|up| {
            refuse_unknown_keys(&options, "options", &SCORE_KEYS)?;
            let (patch, scorer, seed) = patch_options(&options)?;
            let img = read_image(&image)?;
            let grid = Grid::new(img.width, img.height, patch)?;
            let reference = match Reflect::get(&options, &"reference".into()).ok().filter(|v| !v.is_undefined() && !v.is_null()) {
                Some(r) if scorer.needs_reference() => Some(read_image(&r)?),
                _ => None,
            };
            Ok((up, img, grid, scorer, seed, reference))
        });
        future_to_promise(async move {
            let (up, img, grid, scorer, seed, hr) = prepared.map_err(to_js)?;
            let scores = async {
                let s = up.scale();
                let Some(hr) = hr else { return up.score(scorer, &img, &grid, None, seed).await };
                let (ow, oh) = up.output_size(img.width, img.height)?;
                if hr.width < ow || hr.height < oh {
                    return Err(Error::image(format!("the reference is {}x{}; x{s} of the input needs {ow}x{oh}", hr.width, hr.height)));
                }
                let hr = if (hr.width, hr.height) == (ow, oh) { hr } else { hr.crop(ow, oh)? };
                let sr = up.upscale(&img, &mut crate::Silent).await?;
                let base = bicubic::resize(&img, ow, oh)?;
                up.score(scorer, &img, &grid, Some(&Reference { hr: &hr, sr: &sr, bicubic: &base }), seed).await
            }
            .await
            .map_err(to_js)?;
            to_js_value(&serde_json::json!({ "grid": grid, "scorer": scorer, "scores": scores })).map_err(to_js)
        })
    }

    /// Times patch-sparse SR of this image on this device (a warm-up, the best patch, the
    /// best quarter) and fits the per-frame cost that `budgetMs` selections use.
    #[wasm_bindgen(js_name = measurePatchCost, unchecked_return_type = "Promise<CostModel>")]
    pub fn measure_patch_cost(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UpscaleOptions")] options: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|up| {
            refuse_unknown_keys(&options, "options", &UPSCALE_KEYS)?;
            let (patch, scorer, seed) = patch_options(&options)?;
            let img = read_image(&image)?;
            up.output_size(img.width, img.height)?;
            let grid = Grid::new(img.width, img.height, patch)?;
            Ok((up, img, grid, scorer, seed, JsProgress::from_options(&options)?))
        });
        future_to_promise(async move {
            let (up, img, grid, scorer, seed, mut progress) = prepared.map_err(to_js)?;
            let cost = async {
                let scores = up.score(scorer, &img, &grid, None, seed).await?;
                up.measure_cost(&img, &grid, &scores, &mut progress).await
            }
            .await
            .map_err(to_js)?;
            to_js_value(&cost).map_err(to_js)
        })
    }

    /// The share of dense SR's multiply-accumulates (halos included) that upscaling only
    /// the `selected` patches of a `width` x `height` input costs.
    #[wasm_bindgen(js_name = patchWork)]
    pub fn patch_work(
        &self,
        width: usize,
        height: usize,
        patch_size: usize,
        #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] selected: JsValue,
    ) -> std::result::Result<f64, JsValue> {
        (|| {
            let up = self.get()?;
            let selected: Vec<usize> = value(selected, "selected")?.unwrap_or_default();
            let grid = Grid::new(width, height, patch_size)?;
            let selected = grid.selection(&selected)?;
            Ok(up.sparse_work(&grid, &selected, sparse::default_band(patch_size, up.scale())))
        })()
        .map_err(to_js)
    }

    /// Treats `hr` as the original: downscales it, upscales densely once, and measures the
    /// PSNR that each scorer's tickets keep at each keep ratio, with dense SR and bicubic.
    #[wasm_bindgen(js_name = evaluatePatches, unchecked_return_type = "Promise<Evaluation>")]
    pub fn evaluate_patches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] hr: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EvaluateOptions")] options: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|up| {
            refuse_unknown_keys(&options, "options", &EVALUATE_KEYS)?;
            let (patch, _, seed) = patch_options(&options)?;
            let available = |s: &Scorer| *s != Scorer::Learned || up.has_learned_scorer();
            let scorers: Vec<Scorer> = field(&options, "scorers")?.unwrap_or_else(|| Scorer::ALL.into_iter().filter(available).collect());
            let keeps: Vec<f64> = field(&options, "keeps")?.unwrap_or_else(|| vec![0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0]);
            let progress = JsProgress::from_options(&options)?;
            Ok((up, read_image(&hr)?, patch, scorers, keeps, seed, progress))
        });
        future_to_promise(async move {
            let (up, hr, patch, scorers, keeps, seed, mut progress) = prepared.map_err(to_js)?;
            let e = evaluate::evaluate(&up, &hr, patch, &scorers, &keeps, seed, &mut progress).await.map_err(to_js)?;
            to_js_value(&e).map_err(to_js)
        })
    }

    /// Loads the learned patch scorer (a ticketsr model file, e.g. the bundled
    /// `ticket-scorer-x2.safetensors`, trained on the default model's gains): afterwards
    /// `scorer: "learned"` works in every call.
    #[wasm_bindgen(js_name = loadScorer)]
    pub fn load_scorer(&self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array) -> std::result::Result<(), JsValue> {
        (|| {
            let scorer = format::from_bytes(&model.to_vec())?;
            let rc = self.inner.borrow_mut().take().ok_or_else(|| Error::InvalidArgument("this upscaler was disposed".into()))?;
            match Rc::try_unwrap(rc) {
                Ok(mut up) => {
                    let loaded = up.set_learned_scorer(&scorer);
                    *self.inner.borrow_mut() = Some(Rc::new(up));
                    loaded
                }
                Err(rc) => {
                    *self.inner.borrow_mut() = Some(rc);
                    Err(Error::InvalidArgument("the upscaler is busy; load the scorer between runs".into()))
                }
            }
        })()
        .map_err(to_js)
    }

    /// A video upscaled frame by frame with this model: `await stream.next(frame, options)`
    /// per frame, in order. It remembers what temporal reuse needs between frames.
    pub fn stream(&self) -> std::result::Result<VideoStream, JsValue> {
        self.get().map_err(to_js)?;
        Ok(VideoStream { upscaler: self.inner.clone(), stream: Rc::new(RefCell::new(Some(Stream::new()))), reset_pending: Default::default() })
    }

    /// Draws this model's dense SR of video frames straight into `canvas` on the GPU: the
    /// frame goes from the browser to a texture, through the network and into the canvas
    /// without a copy through the CPU. WebGPU only; `canvas` must not have a context yet.
    #[wasm_bindgen(js_name = gpuCanvas)]
    pub fn gpu_canvas(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HTMLCanvasElement | OffscreenCanvas")] canvas: JsValue,
    ) -> std::result::Result<GpuCanvas, JsValue> {
        GpuCanvas::new(self.inner.clone(), canvas).map_err(to_js)
    }

    /// Model, scale, backend and adapter, tile size.
    #[wasm_bindgen(unchecked_return_type = "UpscalerInfo")]
    pub fn info(&self) -> std::result::Result<JsValue, JsValue> {
        to_js_value(&self.get().map_err(to_js)?.info()).map_err(to_js)
    }

    /// Releases the model's device memory now; later calls fail with a clear error.
    pub fn dispose(&self) {
        self.inner.borrow_mut().take();
    }
}

/// The frames of one video, upscaled in order (see `Upscaler.stream()`).
#[wasm_bindgen]
pub struct VideoStream {
    upscaler: Slot,
    /// Out while a frame is in flight: frames depend on the one before.
    stream: Rc<RefCell<Option<Stream>>>,
    /// A reset asked for while a frame was in flight, done when it lands.
    reset_pending: Rc<std::cell::Cell<bool>>,
}

#[wasm_bindgen]
impl VideoStream {
    /// Upscales the next frame (an `ImageData` or `{ width, height, data }`).
    #[wasm_bindgen(unchecked_return_type = "Promise<UpscaledFrame>")]
    pub fn next(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] frame: JsValue,
        #[wasm_bindgen(unchecked_param_type = "FrameOptions")] options: JsValue,
    ) -> Promise {
        let prepared = (|| {
            let up = occupant(&self.upscaler)?;
            refuse_unknown_keys(&options, "options", &FRAME_KEYS)?;
            let defaults = FrameOptions::default();
            let opts = FrameOptions {
                patch_size: field(&options, "patchSize")?.unwrap_or(defaults.patch_size),
                keep: field(&options, "keep")?,
                scorer: field(&options, "scorer")?.unwrap_or(defaults.scorer),
                reuse: field(&options, "reuse")?,
            };
            let progress = JsProgress::from_options(&options)?;
            let img = read_image(&frame)?;
            let stream = self.stream.borrow_mut().take().ok_or_else(|| Error::InvalidArgument("a frame is still in flight: await it before the next".into()))?;
            Ok((up, opts, progress, img, stream))
        })();
        let (slot, reset_pending) = (self.stream.clone(), self.reset_pending.clone());
        future_to_promise(async move {
            let (up, opts, mut progress, img, mut stream) = prepared.map_err(to_js)?;
            let result = stream.next(&up, &img, &opts, &mut progress).await;
            if reset_pending.replace(false) {
                stream.reset();
            }
            *slot.borrow_mut() = Some(stream);
            let (out, report) = result.map_err(to_js)?;
            let value = to_js_value(&report).map_err(to_js)?;
            Reflect::set(&value, &"image".into(), &write_image(&out).map_err(to_js)?.into())?;
            Ok(value)
        })
    }

    /// Forgets earlier frames (after a seek or a cut): the next frame is computed afresh.
    /// Called while a frame is in flight, it takes effect when that frame lands.
    pub fn reset(&self) {
        match self.stream.borrow_mut().as_mut() {
            Some(s) => s.reset(),
            None => self.reset_pending.set(true),
        }
    }
}

/// A content pack: the LR video of a clip with the models overfitted to it and the map of
/// every frame. `video()` gives the MP4 for a `<video>` element; `upscaleFrame(i, frame)`
/// upscales its frame `i` with the models the map names.
#[wasm_bindgen]
pub struct ContentPack {
    pack: Rc<Pack>,
    player: RefCell<Option<Rc<Player>>>,
}

#[wasm_bindgen]
impl ContentPack {
    pub async fn load(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "UpscalerOptions")] options: JsValue,
    ) -> std::result::Result<ContentPack, JsValue> {
        async {
            let pack = Pack::from_bytes(&bytes.to_vec())?;
            let choice: BackendChoice = parse_options(options)?.backend.as_deref().unwrap_or("auto").parse()?;
            let player = Player::new(&pack, &Backend::acquire(choice).await?)?;
            Ok(ContentPack { pack: Rc::new(pack), player: RefCell::new(Some(Rc::new(player))) })
        }
        .await
        .map_err(to_js)
    }

    #[wasm_bindgen(unchecked_return_type = "PackManifest")]
    pub fn manifest(&self) -> std::result::Result<JsValue, JsValue> {
        to_js_value(&self.pack.manifest).map_err(to_js)
    }

    /// The LR video (H.264 in MP4).
    pub fn video(&self) -> Uint8Array {
        Uint8Array::from(self.pack.video.as_slice())
    }

    /// Upscales frame `index` of the pack's video (an `ImageData` of the LR size).
    #[wasm_bindgen(js_name = upscaleFrame, unchecked_return_type = "Promise<ImageData>")]
    pub fn upscale_frame(&self, index: usize, #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] frame: JsValue) -> Promise {
        let prepared = (|| {
            let player = self.player.borrow().clone().ok_or_else(|| Error::InvalidArgument("this pack was disposed".into()))?;
            let map = self.pack.maps.get(index).cloned().ok_or_else(|| {
                Error::InvalidArgument(format!("frame {index} is not in a pack of {} frames", self.pack.maps.len()))
            })?;
            Ok((player, map, read_image(&frame)?))
        })();
        future_to_promise(async move {
            let (player, map, img) = prepared.map_err(to_js)?;
            let out = player.frame(&img, &map).await.map_err(to_js)?;
            write_image(&out).map(JsValue::from).map_err(to_js)
        })
    }

    /// Frees the models' GPU memory; later calls fail with an Error.
    pub fn dispose(&self) {
        self.player.borrow_mut().take();
    }
}

/// Prunes a ticketsr model file; the result is another model file with the summaries of
/// both. Runs on the CPU in a few milliseconds for the bundled models, so a page can prune
/// live as a slider moves.
#[wasm_bindgen(unchecked_return_type = "PruneResult")]
pub fn prune(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array,
    #[wasm_bindgen(unchecked_param_type = "PruneMethod")] method: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    (|| {
        let method: crate::prune::Method = serde_wasm_bindgen::from_value(method).map_err(|e| {
            Error::InvalidArgument(format!("prune method must be {{method: \"magnitude\" | \"two-of-four\" | \"channel\", sparsity, ...}}: {e}"))
        })?;
        let original = format::from_bytes(&model.to_vec())?;
        let pruned = method.apply(&original)?;
        let result = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&result, &k.into(), v).map(drop).map_err(|_| Error::Backend("building the result".into()));
        let file = format::to_bytes(&pruned)?;
        set("model", &Uint8Array::from(file.as_slice()).into())?;
        set("before", &to_js_value(&crate::prune::summary(&original, &original, format::to_bytes(&original)?.len())?)?)?;
        set("after", &to_js_value(&crate::prune::summary(&original, &pruned, file.len())?)?)?;
        Ok(result.into())
    })()
    .map_err(to_js)
}

/// Writes a ticketsr model file as ONNX (opset 17; RGB in [0, 1] as `[n, 3, h, w]`, height
/// and width free), for ONNX Runtime Web and other runtimes: a model pruned on the page
/// leaves it this way.
#[wasm_bindgen(js_name = exportOnnx, unchecked_return_type = "Uint8Array")]
pub fn export_onnx(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array) -> std::result::Result<Uint8Array, JsValue> {
    (|| Ok(Uint8Array::from(crate::model::onnx::to_bytes(&format::from_bytes(&model.to_vec())?)?.as_slice())))().map_err(to_js)
}

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
    configured: Rc<std::cell::Cell<(u32, u32)>>,
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
    fn new(upscaler: Slot, canvas: JsValue) -> Result<Self> {
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
        to_js_value(&m)
    })()
    .map_err(to_js)
}
