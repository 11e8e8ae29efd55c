//! Weight-level sparsity (RESEARCH.md section 4) as passes over a model's graph, so every
//! model the project loads can be pruned: unstructured magnitude pruning (global or per
//! layer) and N:M patterns as zeroed weights ([`magnitude`], stored compactly by the model
//! format), and channel pruning ([`channel`]) that slices coupled channels ([`coupling`])
//! out of the graph, chosen from the weights or, by [`reconstruct`], from what the layers
//! compute on calibration images. [`recover`] trains the result back.

pub mod channel;
pub mod coupling;
pub mod magnitude;
pub mod reconstruct;
pub mod recover;

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::error::Result;
use crate::graph::Op;
use crate::imaging::RgbaImage;
use crate::graph::ops::Conv2d;
use crate::model::ModelFile;
use channel::{ChannelConfig, Criterion};
use magnitude::Scope;

/// One pruning pass, as the CLI and the JS API name it. [`MethodKind`] is its variants'
/// names alone, derived from it, for the CLI's `--method`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "method", rename_all = "kebab-case")]
#[strum_discriminants(name(MethodKind), derive(Deserialize), serde(rename_all = "kebab-case"))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Method {
    /// The smallest `sparsity` of the convolution weights zeroed.
    Magnitude {
        sparsity: f64,
        #[serde(default)]
        scope: Scope,
    },
    /// The two largest of every four input-channel weights kept.
    TwoOfFour,
    /// Whole channels removed: a smaller dense network.
    Channel(ChannelConfig),
}

impl Method {
    /// The pass from the weights alone (the reconstruction criterion needs [`Method::apply_on`]).
    pub fn apply(&self, model: &ModelFile) -> Result<ModelFile> {
        match self {
            Method::Magnitude { sparsity, scope } => magnitude::magnitude(model, *sparsity, *scope),
            Method::TwoOfFour => magnitude::n_of_m(model, 2, 4),
            Method::Channel(config) => channel::prune(model, config),
        }
    }

    /// The pass, with `calibration` (images as the model will see them) on `device` where
    /// it uses them: channels by [`Criterion::Reconstruction`]. Other passes ignore them.
    pub async fn apply_on(&self, model: &ModelFile, calibration: &[RgbaImage], device: &Device) -> Result<ModelFile> {
        match self {
            Method::Channel(config) if config.criterion == Criterion::Reconstruction => reconstruct::prune(model, config, calibration, device).await,
            _ => self.apply(model),
        }
    }

    /// Whether [`Method::apply_on`] reads its calibration images.
    pub fn needs_calibration(&self) -> bool {
        matches!(self, Method::Channel(ChannelConfig { criterion: Criterion::Reconstruction, .. }))
    }
}

/// One convolution of a pruned model next to the original.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(rename = "PruneLayer"))]
pub struct Layer {
    pub name: String,
    pub channels_before: usize,
    /// Output channels left.
    pub channels: usize,
    pub weights: usize,
    pub nonzero: usize,
}

/// Every convolution's channels and nonzero weights, matched to `original` by name: the
/// per-layer chart.
pub fn layers(original: &ModelFile, pruned: &ModelFile) -> Vec<Layer> {
    pruned
        .graph
        .nodes
        .iter()
        .filter_map(|node| {
            let Op::Conv2d(Conv2d { out_channels, weight, .. }) = node.op else { return None };
            let before = original.graph.nodes.iter().find_map(|n| match n.op {
                Op::Conv2d(Conv2d { out_channels, .. }) if n.name == node.name => Some(out_channels),
                _ => None,
            });
            let w = &pruned.values[weight];
            Some(Layer {
                name: node.name.clone(),
                channels_before: before.unwrap_or(out_channels),
                channels: out_channels,
                weights: w.len(),
                nonzero: w.iter().filter(|v| **v != 0.0).count(),
            })
        })
        .collect()
}

/// What a user weighs a pruned model by.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(rename = "PruneSummary"))]
pub struct Summary {
    pub parameters: usize,
    pub nonzero: usize,
    /// Multiply-accumulates per output pixel, the cost dense kernels pay.
    pub macs_per_output_pixel: f64,
    /// Size of the model file.
    pub bytes: usize,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "PruneLayer[]"))]
    pub layers: Vec<Layer>,
}

/// `bytes`: the size of `pruned`'s model file, which the caller has encoded to save anyway.
pub fn summary(original: &ModelFile, pruned: &ModelFile, bytes: usize) -> Result<Summary> {
    let analysis = pruned.validate()?;
    Ok(Summary {
        parameters: pruned.graph.parameter_count(),
        nonzero: pruned.values.iter().flatten().filter(|v| **v != 0.0).count(),
        macs_per_output_pixel: analysis.macs_per_input_pixel as f64 / (analysis.scale * analysis.scale) as f64,
        bytes,
        layers: layers(original, pruned),
    })
}

/// A small WDSR-B (3 blocks of 8 channels, 16 wide) for the passes' tests.
#[cfg(test)]
pub(crate) fn small_wdsr() -> ModelFile {
    crate::model::wdsr::build(crate::model::wdsr::WdsrConfig { scale: 2, blocks: 3, channels: 8, expansion: 2 }, 5).unwrap()
}
