//! `Upscaler`: a model on a device, and what it does with images.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::canvas::GpuCanvas;
use super::convert::{self, CANCELLABLE, JsProgress, read_image, to_js_value, value, write_image};
use super::{to_js, tools};
use super::video::VideoStream;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::imaging::bicubic;
use crate::model::{self, format};
use crate::options::{EvaluateOptions, ScoreOptions, UpscaleOptions, UpscalerOptions};
use crate::patch::score::{Reference, Scorer};
use crate::patch::{Grid, LearnedScorer, SparseUpscaler, evaluate, sparse};
use crate::video::Stream;

/// The model behind an `Upscaler`, shared with its video streams and GPU canvases so that
/// `dispose()` frees it for all of them.
pub type Slot = Rc<RefCell<Option<Rc<crate::Upscaler>>>>;

/// The learned scorer an `Upscaler` loaded, shared with its video streams. Held beside
/// the model, not in it: loading one never waits for a run in flight (which keeps the
/// scorer it started with).
pub type ScorerSlot = Rc<RefCell<Option<Rc<LearnedScorer>>>>;

/// The upscaler in a slot, unless it was disposed.
pub fn occupant(slot: &Slot) -> Result<Rc<crate::Upscaler>> {
    slot.borrow().clone().ok_or_else(|| Error::InvalidArgument("this upscaler was disposed".into()))
}

/// What `scorePatches` gives: a score per patch of `grid`, row-major.
#[derive(serde::Serialize, tsify::Tsify)]
pub struct PatchScores {
    pub grid: Grid,
    pub scorer: Scorer,
    pub scores: Vec<f32>,
}

/// A model on a device, ready to upscale images.
#[wasm_bindgen]
pub struct Upscaler {
    inner: Slot,
    learned: ScorerSlot,
}

impl Upscaler {
    async fn build(model: Result<crate::ModelFile>, options: JsValue) -> Result<Upscaler> {
        let opts: UpscalerOptions = convert::options(&options, &[])?;
        let model = model?;
        let backend = Backend::acquire(opts.backend).await?;
        let mut up = crate::Upscaler::new(&model, backend)?;
        if let Some(t) = opts.tile_size {
            up = up.with_tile_size(t)?;
        }
        if opts.plain_kernels {
            up = up.without_fused_kernels();
        }
        Ok(Upscaler { inner: Rc::new(RefCell::new(Some(Rc::new(up)))), learned: Default::default() })
    }

    /// The model and the learned scorer loaded now, for a call to hold while it runs.
    fn get(&self) -> Result<(Rc<crate::Upscaler>, Option<Rc<LearnedScorer>>)> {
        Ok((occupant(&self.inner)?, self.learned.borrow().clone()))
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
        let prepared = self.get().and_then(|(up, learned)| {
            let opts: UpscaleOptions = convert::options(&options, &CANCELLABLE)?;
            let progress = JsProgress::from_options(&options)?;
            progress.check()?;
            let img = read_image(&image)?;
            up.output_size(img.width, img.height)?;
            Ok((up, learned, opts, progress, img))
        });
        future_to_promise(async move {
            let (up, learned, opts, mut progress, img) = prepared.map_err(to_js)?;
            let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_deref());
            let (out, _) = opts.upscale(&sparse, &img, &mut progress).await.map_err(to_js)?;
            write_image(&out).map(JsValue::from).map_err(to_js)
        })
    }

    /// The bands of rows that `parts` threads split a `width` x `height` image into
    /// (`core`: the rows a thread produces; `padded`: the rows it reads), for
    /// `upscaleRegion` in as many instances of the module (pkg/threads.js).
    #[wasm_bindgen(unchecked_return_type = "Tile[]")]
    pub fn bands(&self, width: usize, height: usize, parts: usize) -> std::result::Result<JsValue, JsValue> {
        (|| {
            let (up, _) = self.get()?;
            up.output_size(width, height)?;
            to_js_value(&crate::tile::bands(width, height, parts, up.halo())?)
        })()
        .map_err(to_js)
    }

    /// Dense SR of `region` of an image, from the region and the pixels around it: the
    /// same pixels as `upscale`'s output there (`region` scaled), at the region's cost.
    /// Takes `upscale`'s options, but for the tickets (`keep`, `selected`, `budgetMs`,
    /// `gainsOnly`), which are chosen over the whole image.
    #[wasm_bindgen(js_name = upscaleRegion, unchecked_return_type = "Promise<ImageData>")]
    pub fn upscale_region(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Region")] region: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UpscaleOptions")] options: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|(up, _)| {
            let region: crate::imaging::Region = value(region, "region")?.ok_or_else(|| Error::InvalidArgument("upscaleRegion needs a region".into()))?;
            let opts: UpscaleOptions = convert::options(&options, &CANCELLABLE)?;
            if !matches!(opts.work(1, 1)?, crate::options::Work::Dense) {
                return Err(Error::InvalidArgument("upscaleRegion runs dense SR: tickets are chosen over the whole image (upscale)".into()));
            }
            let progress = JsProgress::from_options(&options)?;
            progress.check()?;
            Ok((up, region, progress, read_image(&image)?))
        });
        future_to_promise(async move {
            let (up, region, mut progress, img) = prepared.map_err(to_js)?;
            let out = up.upscale_region(&img, region, &mut progress).await.map_err(to_js)?;
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
        let prepared = self.get().and_then(|(up, learned)| {
            let ScoreOptions { patch_size, scorer, seed } = convert::options(&options, &["reference"])?;
            let img = read_image(&image)?;
            let grid = Grid::new(img.width, img.height, patch_size)?;
            let reference = match Reflect::get(&options, &"reference".into()).ok().filter(|v| !v.is_undefined() && !v.is_null()) {
                Some(r) if scorer.needs_reference() => Some(read_image(&r)?),
                _ => None,
            };
            Ok((up, learned, img, grid, scorer, seed, reference))
        });
        future_to_promise(async move {
            let (up, learned, img, grid, scorer, seed, hr) = prepared.map_err(to_js)?;
            let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_deref());
            let scores = async {
                let s = up.scale();
                let Some(hr) = hr else { return sparse.score(scorer, &img, &grid, None, seed).await };
                let (ow, oh) = up.output_size(img.width, img.height)?;
                if hr.width < ow || hr.height < oh {
                    return Err(Error::image(format!("the reference is {}x{}; x{s} of the input needs {ow}x{oh}", hr.width, hr.height)));
                }
                let hr = if (hr.width, hr.height) == (ow, oh) { hr } else { hr.crop(ow, oh)? };
                let sr = up.upscale(&img, &mut crate::Silent).await?;
                let base = bicubic::resize(&img, ow, oh)?;
                sparse.score(scorer, &img, &grid, Some(&Reference { hr: &hr, sr: &sr, bicubic: &base }), seed).await
            }
            .await
            .map_err(to_js)?;
            to_js_value(&PatchScores { grid, scorer, scores }).map_err(to_js)
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
        let prepared = self.get().and_then(|(up, learned)| {
            let opts: UpscaleOptions = convert::options(&options, &CANCELLABLE)?;
            let img = read_image(&image)?;
            up.output_size(img.width, img.height)?;
            let grid = Grid::new(img.width, img.height, opts.patch_size)?;
            Ok((up, learned, img, grid, opts, JsProgress::from_options(&options)?))
        });
        future_to_promise(async move {
            let (up, learned, img, grid, opts, mut progress) = prepared.map_err(to_js)?;
            // Measured with the context the upscaling will use: a narrow one costs less.
            let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_deref()).with_context(opts.context).map_err(to_js)?;
            let cost = async {
                let scores = sparse.score(opts.scorer, &img, &grid, None, opts.seed).await?;
                sparse.measure_cost(&img, &grid, &scores, &mut progress).await
            }
            .await
            .map_err(to_js)?;
            to_js_value(&cost).map_err(to_js)
        })
    }

    /// The share of dense SR's multiply-accumulates (halos included) that upscaling only
    /// the `selected` patches of a `width` x `height` input costs, with `context` input
    /// pixels around them (default: the receptive radius, as `upscale` takes it).
    #[wasm_bindgen(js_name = patchWork)]
    pub fn patch_work(
        &self,
        width: usize,
        height: usize,
        patch_size: usize,
        #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] selected: JsValue,
        context: Option<usize>,
    ) -> std::result::Result<f64, JsValue> {
        (|| {
            let (up, _) = self.get()?;
            let selected: Vec<usize> = value(selected, "selected")?.unwrap_or_default();
            let grid = Grid::new(width, height, patch_size)?;
            let selected = grid.selection(&selected)?;
            let sparse = SparseUpscaler::new(&up).with_context(context)?;
            Ok(sparse.sparse_work(&grid, &selected, sparse::default_band(patch_size, up.scale())))
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
        let prepared = self.get().and_then(|(up, learned)| {
            let opts: EvaluateOptions = convert::options(&options, &CANCELLABLE)?;
            let progress = JsProgress::from_options(&options)?;
            Ok((up, learned, read_image(&hr)?, opts, progress))
        });
        future_to_promise(async move {
            let (up, learned, hr, opts, mut progress) = prepared.map_err(to_js)?;
            let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_deref()).with_context(opts.context).map_err(to_js)?;
            let scorers = opts.scorers_for(&sparse);
            let sweep = evaluate::Sweep { patch: opts.patch_size, scorers: &scorers, keeps: &opts.keeps, seed: opts.seed, band: opts.band };
            let e = evaluate::evaluate(&sparse, &hr, &sweep, &mut progress).await.map_err(to_js)?;
            to_js_value(&e).map_err(to_js)
        })
    }

    /// Loads (or replaces) the learned patch scorer (a ticketsr model file, e.g. the
    /// bundled `ticket-scorer-x2.safetensors`, trained on the default model's gains):
    /// afterwards `scorer: "learned"` works in every call. It may be called at any time;
    /// calls already running keep the scorer they started with.
    #[wasm_bindgen(js_name = loadScorer)]
    pub fn load_scorer(&self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array) -> std::result::Result<(), JsValue> {
        (|| {
            let (up, _) = self.get()?;
            let scorer = LearnedScorer::new(&format::from_bytes(&model.to_vec())?, up.device())?;
            *self.learned.borrow_mut() = Some(Rc::new(scorer));
            Ok(())
        })()
        .map_err(to_js)
    }

    /// Prunes a model file (any, not only this upscaler's) as `prune()` does, on this
    /// upscaler's device, so that channels by `criterion: "reconstruction"` can be chosen
    /// and re-fitted on `calibration`: an image as the pruned model will see it (its
    /// input), e.g. the one about to be upscaled.
    #[wasm_bindgen(unchecked_return_type = "Promise<PruneResult>")]
    pub fn prune(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] model: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "PruneMethod")] method: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ImageData | ImageLike")] calibration: JsValue,
    ) -> Promise {
        let prepared = self.get().and_then(|(up, _)| Ok((up, tools::prune_method(method)?, format::from_bytes(&model.to_vec())?, read_image(&calibration)?)));
        future_to_promise(async move {
            let (up, method, original, image) = prepared.map_err(to_js)?;
            let pruned = method.apply_on(&original, &[image], up.device()).await.map_err(to_js)?;
            tools::prune_result(&original, &pruned).map_err(to_js)
        })
    }

    /// A video upscaled frame by frame with this model: `await stream.next(frame, options)`
    /// per frame, in order. It remembers what temporal reuse needs between frames.
    pub fn stream(&self) -> std::result::Result<VideoStream, JsValue> {
        self.get().map_err(to_js)?;
        Ok(VideoStream::new(self.inner.clone(), self.learned.clone(), Stream::new()))
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
        to_js_value(&self.get().map_err(to_js)?.0.info()).map_err(to_js)
    }

    /// Releases the model's device memory now; later calls fail with a clear error.
    pub fn dispose(&self) {
        self.inner.borrow_mut().take();
        self.learned.borrow_mut().take();
    }
}
