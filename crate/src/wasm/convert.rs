//! Between JS values and the library's types: options objects read into the library's
//! option types (a key they do not declare is an error), images in and out, results out,
//! and the progress callback and abort signal as the library's [`Progress`].

use js_sys::{Function, Reflect, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, ImageData};

use crate::error::{Error, Result};
use crate::imaging::RgbaImage;
use crate::platform;
use crate::progress::Progress;

/// The keys of an options object that only JS passes and [`JsProgress`] reads.
pub const CANCELLABLE: [&str; 2] = ["onProgress", "signal"];

/// Entries a JS array may have (selections, scores): the largest patch grid,
/// (16384 / 4)^2. Checked before the array is copied into the module.
const MAX_ARRAY: f64 = (1u32 << 24) as f64;

fn is_typed_array(v: &JsValue) -> bool {
    v.is_instance_of::<js_sys::Float32Array>() || v.is_instance_of::<js_sys::Uint32Array>()
}

/// Refuses an array longer than [`MAX_ARRAY`] before anything copies it.
fn check_length(v: &JsValue, name: &str) -> Result<()> {
    if is_typed_array(v) || js_sys::Array::is_array(v) {
        let len = Reflect::get(v, &"length".into()).ok().and_then(|l| l.as_f64()).unwrap_or(f64::INFINITY);
        if len > MAX_ARRAY {
            return Err(Error::InvalidArgument(format!("{name} has {len} entries, more than {MAX_ARRAY}")));
        }
    }
    Ok(())
}

/// `v` as serde-wasm-bindgen reads it: a typed array as a plain array, any array bounded
/// first; `name` labels the error.
fn plain(v: JsValue, name: &str) -> Result<JsValue> {
    check_length(&v, name)?;
    Ok(if is_typed_array(&v) { js_sys::Array::from(&v).into() } else { v })
}

/// An optional JS value (typed arrays read as arrays); `name` labels errors.
pub fn value<T: DeserializeOwned>(v: JsValue, name: &str) -> Result<Option<T>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(plain(v, name)?).map(Some).map_err(|e| Error::InvalidArgument(format!("{name}: {e}")))
}

/// An options object as the library type `T` (absent, or a field null or undefined:
/// `T`'s defaults). Keys that neither `T` declares nor are among `js_only` (read by the
/// caller) are refused; arrays are read from typed arrays too, and bounded first.
pub fn options<T: DeserializeOwned + Default>(object: &JsValue, js_only: &[&str]) -> Result<T> {
    if object.is_undefined() || object.is_null() {
        return Ok(T::default());
    }
    if !object.is_object() {
        return Err(Error::InvalidArgument("options must be an object".into()));
    }
    refuse_unknown_fields::<T>(object, js_only)?;
    let data = js_sys::Object::new();
    for entry in js_sys::Object::entries(object.unchecked_ref()).iter() {
        let entry: js_sys::Array = entry.unchecked_into();
        let (key, v) = (entry.get(0), entry.get(1));
        // null and undefined both mean "the default", as they always have.
        if key.as_string().is_some_and(|k| js_only.contains(&k.as_str())) || v.is_undefined() || v.is_null() {
            continue;
        }
        let v = plain(v, &key.as_string().unwrap_or_default())?;
        Reflect::set(&data, &key, &v).map_err(|e| Error::InvalidArgument(format!("options: {e:?}")))?;
    }
    serde_wasm_bindgen::from_value(data.into()).map_err(|e| Error::InvalidArgument(format!("options: {e}")))
}

/// Refuses keys of a JS object that the serde struct `T` does not declare (nor `js_only`).
/// serde-wasm-bindgen reads a struct's declared fields only, so `deny_unknown_fields` never
/// sees a misspelt option (RReverser/serde-wasm-bindgen#39): the declared names are asked
/// of `T` itself.
fn refuse_unknown_fields<T: DeserializeOwned>(object: &JsValue, js_only: &[&str]) -> Result<()> {
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
    for key in js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()) {
        if !fields.contains(&key.as_str()) && !js_only.contains(&key.as_str()) {
            let known: Vec<&str> = fields.iter().chain(js_only).copied().collect();
            return Err(Error::InvalidArgument(format!("options: unknown option `{key}` (known: {})", known.join(", "))));
        }
    }
    Ok(())
}

/// A result as a plain JS object. Result types serialize their fields in camelCase in the
/// wasm build (`serde(rename_all(serialize = "camelCase"))` beside their tsify derive, so
/// the generated TypeScript says the same), while natively they keep the snake_case of the
/// CLI's JSON and of files.
pub fn to_js_value<T: Serialize>(v: &T) -> Result<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| Error::Backend(e.to_string()))
}

/// Reads `{ width, height, data }` (an `ImageData` or anything shaped like one).
pub fn read_image(image: &JsValue) -> Result<RgbaImage> {
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

pub fn write_image(img: &RgbaImage) -> Result<ImageData> {
    // Copied out of wasm memory: a view into it detaches when the memory grows.
    let pixels = js_sys::Uint8ClampedArray::new_with_length(img.data.len() as u32);
    pixels.copy_from(&img.data);
    ImageData::new_with_js_u8_clamped_array_and_sh(&pixels, img.width as u32, img.height as u32)
        .map_err(|e| Error::image(format!("the browser could not create a {}x{} ImageData: {e:?}", img.width, img.height)))
}

/// An options object's `onProgress` and `signal`: progress reported after every tile, the
/// page given its turn, and an abort honoured, at every checkpoint.
pub struct JsProgress {
    callback: Option<Function>,
    signal: Option<AbortSignal>,
}

impl JsProgress {
    pub fn from_options(options: &JsValue) -> Result<Self> {
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

    pub fn check(&self) -> Result<()> {
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
        platform::yield_now().await;
        self.check()
    }
}
