//! The native integration tests, as modules of one test binary: each file of its own would
//! be one more binary linking burn, wgpu and the CLI's dependencies (docs/ci.md).

mod architecture;
mod common;
mod fuzz_corpus;
mod learned_scorer;
mod pruning;
mod tiling;
mod trained_models;
mod upscalerjs;
