//! Our own kernels on burn's CPU backend (Flex), beside its operators: in wasm, the
//! convolution of the inference hot path ([`conv`], 128-bit SIMD, one thread), plugged into
//! the graph's executor as the GPU's fused kernel is (`crate::gpu`); natively, the
//! convolution forward and backward as per-tap GEMMs on the thread pool ([`conv_gemm`]),
//! plugged into every convolution through `graph::conv_autodiff`'s backend extension.

pub mod conv;
mod winograd;
#[cfg(not(target_arch = "wasm32"))]
pub mod conv_gemm;
