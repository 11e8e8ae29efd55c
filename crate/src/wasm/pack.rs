//! `ContentPack`: the LR video of a clip with the models overfitted to it and the map of
//! every frame. `video()` gives the MP4 for a `<video>` element; `upscaleFrame(i, frame)`
//! upscales its frame `i` with the models the map names.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{self, read_image, to_js_value, write_image};
use super::to_js;
use crate::backend::Backend;
use crate::error::Error;
use crate::options::UpscalerOptions;
use crate::pack::Pack;
use crate::pack::play::Player;

#[wasm_bindgen]
pub struct ContentPack {
    pack: Rc<Pack>,
    player: RefCell<Option<Rc<Player>>>,
}

#[wasm_bindgen]
impl ContentPack {
    /// Reads a pack (`ticketsr overfit` makes them) and loads its models onto the backend
    /// the options choose.
    pub async fn load(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "UpscalerOptions")] options: JsValue,
    ) -> std::result::Result<ContentPack, JsValue> {
        async {
            let opts: UpscalerOptions = convert::options(&options, &[])?;
            let pack = Pack::from_bytes(&bytes.to_vec())?;
            let player = Player::new(&pack, &Backend::acquire(opts.backend).await?)?;
            Ok(ContentPack { pack: Rc::new(pack), player: RefCell::new(Some(Rc::new(player))) })
        }
        .await
        .map_err(to_js)
    }

    #[wasm_bindgen(unchecked_return_type = "PackManifest")]
    pub fn manifest(&self) -> std::result::Result<JsValue, JsValue> {
        to_js_value(&self.pack.manifest).map_err(to_js)
    }

    /// The LR video (H.264 in MP4), a copy on its own `ArrayBuffer` (a `BlobPart`).
    #[wasm_bindgen(unchecked_return_type = "Uint8Array<ArrayBuffer>")]
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
