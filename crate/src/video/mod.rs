//! Upscaling video frame by frame: the same network, tickets and packs as for photos,
//! plus what only a sequence allows, reusing the SR of patches that did not change.

pub mod gpu;
pub mod reuse;
pub mod stream;

pub use stream::{FrameOptions, FrameReport, Stream};
