//! Our own kernels on burn's CPU backend (Flex), beside its operators: the convolution of
//! the inference hot path ([`conv`]), plugged into the graph's executor as the GPU's fused
//! kernel is (`crate::gpu`).

pub mod conv;
