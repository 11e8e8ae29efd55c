//! ticketsr: super-resolution on WebGPU, made fast by sparsity in the data (winning-ticket
//! patches) and in the weights (pruned networks). The same library runs in the browser
//! (wasm32, WebGPU) and natively (Vulkan or CPU) for the command line and tests.

pub mod backend;
pub mod cpu;
pub mod error;
pub mod frontier;
pub mod gpu;
pub mod graph;
pub mod imaging;
pub mod model;
pub mod options;
pub mod patch;
pub mod platform;
pub mod progress;
pub mod prune;
pub mod overfit;
pub mod pack;
pub mod tile;
pub mod train;
pub mod upscale;
pub mod video;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use backend::{Backend, BackendChoice, BackendInfo, BackendKind};
pub use error::{Error, Result};
pub use imaging::RgbaImage;
pub use model::{ModelFile, ModelInfo};
pub use progress::{Progress, Silent};
pub use upscale::{Upscaler, UpscalerInfo};
