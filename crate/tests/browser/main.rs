//! The wasm tests, run in headless Chromium by wasm-bindgen-test-runner.
//!
//! Built as an example (`cargo run --release --target wasm32-unknown-unknown --example
//! browser`), not as a test: cargo compiles a test target and every crate it depends on with
//! `panic = "unwind"`, whatever the profile says, so a wasm test target rebuilt burn, wgpu
//! and cubecl beside the shipped cdylib's `panic = "abort"` build. As an example it shares
//! that build (docs/ci.md). The runner calls the exported `#[wasm_bindgen_test]` functions;
//! `main` is never run, and natively this is an empty program.

#[cfg(target_arch = "wasm32")]
mod webgpu;

fn main() {}
