//! What differs between the browser and a native process, at the bottom of the library: the
//! clock, giving the event loop its turn, and whether the browser has WebGPU. The backend,
//! the library's timing and both edges use it; it uses nothing of ours but the error type.

#[cfg(target_arch = "wasm32")]
use crate::error::Result;

/// Milliseconds for timing runs on both targets: `Instant` natively, the JS clock in the
/// browser, where `std::time::Instant` panics.
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
}

#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A file's bytes, the path in the error. Natively only, as everything the library does
/// with files (the browser hands it bytes).
#[cfg(not(target_arch = "wasm32"))]
pub fn read_file(path: &std::path::Path) -> crate::error::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| crate::error::Error::io(format!("reading {}", path.display()), e))
}

/// Writes a file, the path in the error. Natively only.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> crate::error::Result<()> {
    std::fs::write(path, bytes).map_err(|e| crate::error::Error::io(format!("writing {}", path.display()), e))
}

/// Runs the static constructors (cubecl's registrations through `inventory`, hundreds of
/// them) once per instance; natively the loader does. In wasm, a module that never calls
/// `__wasm_call_ctors` is linked as a "command", and wasm-ld then runs every constructor
/// again at the start of every exported function: every method call, and every string the
/// glue passes (the inventory crate's documentation, "WebAssembly"). Called by the JS
/// edge's start, which the glue runs on every instantiation before anything else, and by
/// the GPU backend, which needs them, for harnesses that run no start (wasm-bindgen-test).
#[cfg(not(target_arch = "wasm32"))]
pub fn static_constructors() {}

#[cfg(target_arch = "wasm32")]
pub fn static_constructors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // wasm-ld's synthetic function that calls every constructor.
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::Relaxed) {
        // SAFETY: the linker's own initialiser, run once per instance (one thread).
        unsafe { __wasm_call_ctors() };
    }
}

/// Lets the browser run its event loop (input, repaint, other tasks) before going on.
/// Natively another thread does that work: a millisecond's sleep lets it.
#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_now() {
    std::thread::sleep(std::time::Duration::from_millis(1));
}

#[cfg(target_arch = "wasm32")]
pub async fn yield_now() {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
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
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Fails unless the browser exposes WebGPU and grants an adapter; checked before wgpu is
/// asked, so that a missing GPU is an error to fall back from, never a panic inside it.
#[cfg(target_arch = "wasm32")]
pub async fn require_webgpu() -> Result<()> {
    use crate::error::Error;
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
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
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| Error::Backend(format!("requestAdapter failed: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(Error::Backend("WebGPU is present but the browser granted no adapter".into()));
    }
    Ok(())
}
