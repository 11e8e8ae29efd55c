//! Weight-level sparsity (RESEARCH.md section 4) as passes over a model's parameters, so
//! every model the project loads can be pruned: unstructured magnitude pruning (global or
//! per layer) and N:M patterns, as zeroed convolution weights ([`magnitude`]).

pub mod magnitude;
