//! One file per command: its arguments, what it runs and, where it has one, its table.

pub mod build;
pub mod convert;
pub mod eval;
pub mod export_onnx;
pub mod frontier;
pub mod info;
pub mod overfit;
pub mod play_pack;
pub mod prune;
pub mod tickets;
pub mod train;
pub mod train_scorer;
pub mod upscale;
pub mod video;

/// Opacity of the score heatmap in saved overlays.
pub const OVERLAY_HEAT: f32 = 0.35;
