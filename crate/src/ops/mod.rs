//! Tensor operations the graph needs that burn does not provide as one call.

pub mod pixel_shuffle;
pub mod resize;
