//! `VideoStream`: the frames of one video, upscaled in order (see `Upscaler.stream()`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{self, CANCELLABLE, JsProgress, read_image, to_js_value, write_image};
use super::to_js;
use super::upscaler::{ScorerSlot, Slot, occupant};
use crate::error::{Error, Result};
use crate::patch::SparseUpscaler;
use crate::video::{FrameOptions, Stream};

#[wasm_bindgen]
pub struct VideoStream {
    upscaler: Slot,
    learned: ScorerSlot,
    /// Out while a frame is in flight: frames depend on the one before.
    stream: Rc<RefCell<Option<Stream>>>,
    /// A reset asked for while a frame was in flight, done when it lands.
    reset_pending: Rc<Cell<bool>>,
}

impl VideoStream {
    pub fn new(upscaler: Slot, learned: ScorerSlot, stream: Stream) -> Self {
        Self { upscaler, learned, stream: Rc::new(RefCell::new(Some(stream))), reset_pending: Default::default() }
    }
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
        let prepared = (|| -> Result<_> {
            let up = occupant(&self.upscaler)?;
            let opts: FrameOptions = convert::options(&options, &CANCELLABLE)?;
            let progress = JsProgress::from_options(&options)?;
            let img = read_image(&frame)?;
            let stream = self.stream.borrow_mut().take().ok_or_else(|| Error::InvalidArgument("a frame is still in flight: await it before the next".into()))?;
            Ok((up, self.learned.borrow().clone(), opts, progress, img, stream))
        })();
        let (slot, reset_pending) = (self.stream.clone(), self.reset_pending.clone());
        future_to_promise(async move {
            let (up, learned, opts, mut progress, img, mut stream) = prepared.map_err(to_js)?;
            let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_deref());
            let result = stream.next(&sparse, &img, &opts, &mut progress).await;
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
