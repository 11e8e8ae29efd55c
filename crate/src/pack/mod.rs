//! Content packs: what a server ships for one clip, the LR video with the models overfitted
//! to it and the per-frame maps saying which model upscales which patch. One safetensors
//! file, like a model: the tensors are the LR video (H.264 in MP4, bytes), each model (a
//! ticketsr model file, bytes) and the maps (bit-packed), the metadata a JSON manifest
//! under `format = "ticketsr-pack/1"`. Any safetensors reader can open it, the browser
//! fetches one file, and the loader here runs natively and in wasm alike.

pub mod evaluate;
#[cfg(not(target_arch = "wasm32"))]
pub mod make;
pub mod play;

use std::collections::HashMap;

use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{ModelFile, format};
use crate::overfit::{Layout, Method};

pub const FORMAT: &str = "ticketsr-pack/1";

/// Frames a pack may hold: 11 hours at 25 fps; a manifest claiming more is corrupt.
pub const MAX_FRAMES: usize = 1_000_000;

/// Map entries (frames x entries per frame) a pack may hold: 64 MiB of maps once read, an
/// hour of 640x360 at 25 fps in 32 px patches is 22 M. Checked before anything is read,
/// since a single-chunk map packs to no bytes at all whatever it claims.
pub const MAX_MAP_ENTRIES: usize = 1 << 26;

/// Where the HR frames came from, so a pack can be evaluated against them later.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(rename = "PackSource"), serde(rename_all(serialize = "camelCase")))]
pub struct Source {
    pub path: String,
    /// HR crop taken from every frame: left, top, width, height.
    pub crop: [usize; 4],
    pub frame_every: usize,
    pub max_frames: usize,
}

/// Everything about a pack except its bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(rename = "PackManifest"), serde(rename_all(serialize = "camelCase")))]
pub struct Manifest {
    #[cfg_attr(target_arch = "wasm32", tsify(type = "OverfitMethod"))]
    pub method: Method,
    pub scale: usize,
    /// LR patch side (Dy-DCA: of a small patch).
    pub patch: usize,
    /// LR frame size.
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    pub fps: f64,
    /// Frames no model was trained on.
    #[serde(default)]
    pub held_out: Vec<usize>,
    /// STDO: the lowest general-model PSNR of each chunk after the first.
    #[serde(default)]
    pub bounds: Vec<f64>,
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "PackSource | null"))]
    pub source: Option<Source>,
    /// How the pack was made: training facts, timings.
    #[serde(default)]
    pub notes: String,
}

impl Manifest {
    pub fn layout(&self) -> Result<Layout> {
        Layout::new(self.method, self.patch, self.width, self.height)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pack {
    pub manifest: Manifest,
    pub models: Vec<ModelFile>,
    /// One map per frame: `layout().entries()` values below `layout().levels()`.
    pub maps: Vec<Vec<u8>>,
    /// The LR video, H.264 in MP4.
    pub video: Vec<u8>,
}

/// Bits one map entry takes (0 for a single model).
fn bits(levels: usize) -> u32 {
    usize::BITS - levels.saturating_sub(1).leading_zeros()
}

fn pack_bits(values: impl Iterator<Item = u8>, bits: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in values.enumerate() {
        for b in 0..bits as usize {
            let at = i * bits as usize + b;
            if at / 8 == out.len() {
                out.push(0);
            }
            out[at / 8] |= ((v >> b) & 1) << (at % 8);
        }
    }
    out
}

fn unpack_bits(bytes: &[u8], bits: u32, n: usize) -> Vec<u8> {
    (0..n).map(|i| (0..bits as usize).fold(0u8, |v, b| v | ((bytes[(i * bits as usize + b) / 8] >> ((i * bits as usize + b) % 8)) & 1) << b)).collect()
}

impl Pack {
    /// Checks that the parts agree: models match the method and scale, every frame has a
    /// map whose entries name a model.
    pub fn validate(&self) -> Result<Layout> {
        let m = &self.manifest;
        let bad = |msg: String| Err(Error::InvalidPack(msg));
        let layout = m.layout().map_err(|e| Error::InvalidPack(e.to_string()))?;
        if self.models.len() != m.method.models() {
            return bad(format!("{} needs {} models, the pack has {}", m.method.name(), m.method.models(), self.models.len()));
        }
        if let Some(model) = self.models.iter().find(|x| x.info.scale != m.scale) {
            return bad(format!("model `{}` upscales x{}, the pack x{}", model.info.name, model.info.scale, m.scale));
        }
        if m.frames == 0 || self.maps.len() != m.frames || m.held_out.iter().any(|&f| f >= m.frames) {
            return bad(format!("{} frames, {} maps, held out {:?}", m.frames, self.maps.len(), m.held_out));
        }
        for (f, map) in self.maps.iter().enumerate() {
            layout.jobs(map).map_err(|e| Error::InvalidPack(format!("frame {f}: {e}")))?;
        }
        if !(m.fps.is_finite() && m.fps > 0.0) {
            return bad(format!("frame rate {}", m.fps));
        }
        Ok(layout)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let layout = self.validate()?;
        let bits = bits(layout.levels());
        let maps = pack_bits(self.maps.iter().flatten().copied(), bits);
        let models = self.models.iter().map(format::to_bytes).collect::<Result<Vec<_>>>()?;
        let mut tensors = vec![("video".to_string(), &self.video), ("maps".to_string(), &maps)];
        tensors.extend(models.iter().enumerate().map(|(i, b)| (format!("model.{i}"), b)));
        let views = tensors
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(name, b)| Ok((name, TensorView::new(Dtype::U8, vec![b.len()], b).map_err(|e| Error::InvalidPack(e.to_string()))?)))
            .collect::<Result<Vec<_>>>()?;
        let manifest = serde_json::to_string(&self.manifest).map_err(|e| Error::InvalidPack(e.to_string()))?;
        let metadata = HashMap::from([("format".to_string(), FORMAT.to_string()), ("manifest".to_string(), manifest)]);
        safetensors::serialize(views, Some(metadata)).map_err(|e| Error::InvalidPack(e.to_string()))
    }

    /// Reads a pack; anything truncated, of another format or version, or inconsistent is
    /// an [`Error::InvalidPack`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |msg: String| Error::InvalidPack(msg);
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        match meta.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) if other.starts_with("ticketsr-pack/") => return Err(bad(format!("format `{other}` is newer than this ticketsr reads ({FORMAT})"))),
            Some(other) => return Err(bad(format!("this is `{other}`, not a content pack"))),
            None => return Err(bad("no format in the metadata; not a content pack".into())),
        }
        let manifest: Manifest = serde_json::from_str(meta.get("manifest").ok_or_else(|| bad("no manifest".into()))?)
            .map_err(|e| bad(format!("manifest: {e}")))?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let blob = |name: &str| -> Result<Vec<u8>> {
            match tensors.tensor(name) {
                Ok(t) if t.dtype() == Dtype::U8 => Ok(t.data().to_vec()),
                Ok(t) => Err(bad(format!("`{name}` is {:?}, not bytes", t.dtype()))),
                Err(_) => Ok(Vec::new()),
            }
        };
        let layout = manifest.layout().map_err(|e| bad(e.to_string()))?;
        let models = (0..manifest.method.models())
            .map(|i| match blob(&format!("model.{i}"))? {
                b if b.is_empty() => Err(bad(format!("model {i} is missing"))),
                b => format::from_bytes(&b).map_err(|e| bad(format!("model {i}: {e}"))),
            })
            .collect::<Result<Vec<_>>>()?;
        if manifest.frames > MAX_FRAMES {
            return Err(bad(format!("{} frames is more than a pack holds ({MAX_FRAMES})", manifest.frames)));
        }
        let (entries, bits) = (layout.entries()?, bits(layout.levels()));
        let total = manifest.frames.checked_mul(entries).filter(|&n| n <= MAX_MAP_ENTRIES).ok_or_else(|| {
            bad(format!("{} frames of {entries} map entries are more than a pack holds ({MAX_MAP_ENTRIES})", manifest.frames))
        })?;
        let packed = blob("maps")?;
        let need = (total * bits as usize).div_ceil(8);
        if packed.len() != need {
            return Err(bad(format!("maps hold {} bytes, {} frames of {entries} entries need {need}", packed.len(), manifest.frames)));
        }
        let flat = unpack_bits(&packed, bits, total);
        let maps = (0..manifest.frames).map(|f| flat[f * entries..(f + 1) * entries].to_vec()).collect();
        let pack = Self { manifest, models, maps, video: blob("video")? };
        pack.validate()?;
        Ok(pack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wdsr::{self, WdsrConfig};

    pub(crate) fn tiny(method: Method) -> Pack {
        let model = |seed| wdsr::build(WdsrConfig { scale: 2, blocks: 1, channels: 4, expansion: 2 }, seed).unwrap();
        let manifest = Manifest {
            method,
            scale: 2,
            patch: 4,
            width: 16,
            height: 8,
            frames: 3,
            fps: 25.0,
            held_out: vec![2],
            bounds: vec![31.5, 36.0],
            source: Some(Source { path: "clip.mp4".into(), crop: [0, 0, 32, 16], frame_every: 1, max_frames: 3 }),
            notes: "test".into(),
        };
        let layout = manifest.layout().unwrap();
        let levels = layout.levels() as u8;
        let entries = layout.entries().unwrap();
        let maps = (0..3).map(|f| (0..entries).map(|i| ((i * 7 + f) % levels as usize) as u8).collect()).collect();
        Pack { manifest, models: (0..method.models() as u64).map(model).collect(), maps, video: vec![0, 0, 0, 24, b'f', b't', b'y', b'p'] }
    }

    /// A pack of one model file and whatever `manifest` claims, with no maps or video: what
    /// a lying file looks like to the loader.
    fn one_model_pack(manifest: &Manifest, model: &[u8]) -> Vec<u8> {
        let metadata = HashMap::from([("format".to_string(), FORMAT.to_string()), ("manifest".to_string(), serde_json::to_string(manifest).unwrap())]);
        let views = vec![("model.0".to_string(), TensorView::new(Dtype::U8, vec![model.len()], model).unwrap())];
        safetensors::serialize(views, Some(metadata)).unwrap()
    }

    #[test]
    fn chunk_and_split_maps_round_trip() {
        for method in [Method::Stdo { chunks: 3 }, Method::Stdo { chunks: 4 }, Method::DyDca { threshold: 40.0 }, Method::Single] {
            let pack = tiny(method);
            let bytes = pack.to_bytes().unwrap();
            assert_eq!(Pack::from_bytes(&bytes).unwrap(), pack, "{method:?}");
        }
        assert_eq!((bits(1), bits(2), bits(3), bits(4), bits(5)), (0, 1, 2, 2, 3));
        // 3 frames x 8 patches x 2 bits: 6 bytes of maps.
        assert_eq!(pack_bits([3u8, 0, 2, 1].into_iter(), 2), [0b0110_0011]);
    }

    #[test]
    fn a_corrupt_pack_is_a_clear_error() {
        let bytes = tiny(Method::Stdo { chunks: 3 }).to_bytes().unwrap();
        let err = |b: &[u8]| Pack::from_bytes(b).unwrap_err().to_string();
        assert!(err(&bytes[..bytes.len() - 10]).starts_with("invalid content pack"));
        assert!(err(b"garbage").contains("not a safetensors file"));
        let model = format::to_bytes(&wdsr::build(WdsrConfig { scale: 2, blocks: 1, channels: 4, expansion: 2 }, 0).unwrap()).unwrap();
        assert!(err(&model).contains("not a content pack"));
        // A map entry naming a model the pack does not have.
        let mut pack = tiny(Method::Stdo { chunks: 3 });
        pack.maps[1][0] = 3;
        assert!(pack.to_bytes().unwrap_err().to_string().contains("frame 1"));
        // Too few models for the method.
        let mut pack = tiny(Method::Stdo { chunks: 3 });
        pack.models.pop();
        assert!(pack.to_bytes().unwrap_err().to_string().contains("needs 3 models"));
        // A manifest claiming absurdly many frames (a single model has no maps to check).
        let single = tiny(Method::Single);
        let model = format::to_bytes(&single.models[0]).unwrap();
        let huge = one_model_pack(&Manifest { frames: MAX_FRAMES + 1, ..single.manifest }, &model);
        assert!(err(&huge).contains("more than a pack holds"));
        // One chunk packs its maps to no bytes, whatever the frame count claims: the claim
        // is refused before anything is allocated.
        let one = Pack { models: vec![single.models[0].clone()], ..tiny(Method::Stdo { chunks: 1 }) };
        let lying = one_model_pack(&Manifest { frames: MAX_FRAMES, width: 4096, height: 4096, ..one.manifest.clone() }, &model);
        let e = err(&lying);
        assert!(e.contains("map entries are more than a pack holds"), "{e}");
        // More models than a map byte can name.
        let many = Manifest { method: Method::Stdo { chunks: 300 }, ..one.manifest };
        assert!(err(&one_model_pack(&many, &model)).contains("1..=256"));
        // A newer version is named as such.
        let mut newer = bytes.clone();
        let at = newer.windows(FORMAT.len()).position(|w| w == FORMAT.as_bytes()).unwrap();
        newer[at + FORMAT.len() - 1] = b'9';
        assert!(err(&newer).contains("newer"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// A pack with damaged bytes, most often in its header and manifest, is a pack or a
        /// clear error, never a panic or a huge allocation.
        #[test]
        fn any_damaged_pack_is_an_error_not_a_panic(
            edits in proptest::collection::vec((0usize..2048, proptest::num::u8::ANY), 1..6),
            cut in proptest::option::of(0usize..4096),
        ) {
            let mut bytes = tiny(Method::Stdo { chunks: 3 }).to_bytes().unwrap();
            for (at, v) in edits {
                let n = bytes.len();
                bytes[at % n] = v;
            }
            if let Some(c) = cut {
                bytes.truncate(c % (bytes.len() + 1));
            }
            if let Ok(pack) = Pack::from_bytes(&bytes) {
                proptest::prop_assert!(pack.validate().is_ok());
            }
        }

        /// Manifests with any sizes, counts and methods: validated before anything is
        /// allocated from them.
        #[test]
        fn any_manifest_numbers_are_checked_before_allocating(
            frames in proptest::num::usize::ANY, width in proptest::num::usize::ANY, height in proptest::num::usize::ANY,
            patch in proptest::num::usize::ANY, chunks in 0usize..1024,
        ) {
            let single = tiny(Method::Single);
            let model = format::to_bytes(&single.models[0]).unwrap();
            let manifest = Manifest { method: Method::Stdo { chunks }, frames, width, height, patch, ..single.manifest };
            if let Ok(pack) = Pack::from_bytes(&one_model_pack(&manifest, &model)) {
                proptest::prop_assert!(pack.validate().is_ok() && pack.manifest.frames <= MAX_FRAMES);
            }
        }
    }
}
