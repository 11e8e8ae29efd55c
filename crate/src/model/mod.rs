//! Models as files: the project's own single-file format, the TF.js loader, and the
//! architectures the research uses, all producing the same [`ModelFile`].

pub mod espcn;
pub mod format;
pub mod init;
pub mod onnx;
pub mod tfjs;
pub mod wdsr;
pub mod weight_norm;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::graph::{Analysis, Graph, Network};
use burn::tensor::Device;

/// The facts a user needs about a model, carried inside the model file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct ModelInfo {
    pub name: String,
    /// Upscaling factor; checked against the graph when loading.
    pub scale: usize,
    /// Architecture family, such as `rdn`, `espcn` or `wdsr-b`.
    pub architecture: String,
    /// Where the weights came from.
    pub source: String,
    pub licence: String,
    /// Free-form notes: how it was converted or trained.
    #[serde(default)]
    pub notes: String,
}

/// The 256 values `min + scale * q` a parameter was quantized to (TF.js's uint8 affine
/// quantization). Kept so a quantized model is stored at a quarter of its float size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uint8Grid {
    pub min: f32,
    pub scale: f32,
}

impl Uint8Grid {
    pub fn value(self, q: u8) -> f32 {
        self.min + self.scale * q as f32
    }

    /// The codes of `values`, or `None` when any value is off the grid (the parameter was
    /// changed since, by pruning or training), so storing it quantized would lose it.
    pub fn codes(self, values: &[f32]) -> Option<Vec<u8>> {
        values
            .iter()
            .map(|&v| {
                let q = ((v - self.min) / self.scale).round();
                (0.0..=255.0).contains(&q).then_some(q as u8).filter(|&q| self.value(q) == v)
            })
            .collect()
    }
}

/// A model held on the CPU: graph, facts and parameter values in `graph.params` order.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    pub info: ModelInfo,
    pub graph: Graph,
    pub values: Vec<Vec<f32>>,
    /// Parameters (by name) whose values came from a uint8 grid; only a storage hint.
    pub grids: HashMap<String, Uint8Grid>,
}

impl ModelFile {
    /// Builds a model after checking graph, values and stated scale agree.
    pub fn new(info: ModelInfo, graph: Graph, values: Vec<Vec<f32>>) -> Result<Self> {
        let model = Self { info, graph, values, grids: HashMap::new() };
        model.validate()?;
        Ok(model)
    }

    pub fn validate(&self) -> Result<Analysis> {
        let analysis = self.graph.analyze()?;
        if analysis.scale != self.info.scale {
            return Err(Error::model(format!(
                "model says scale {} but its graph upscales by {}",
                self.info.scale, analysis.scale
            )));
        }
        if self.values.len() != self.graph.params.len() {
            return Err(Error::model(format!(
                "graph has {} parameters, file has {}",
                self.graph.params.len(),
                self.values.len()
            )));
        }
        for (spec, v) in self.graph.params.iter().zip(&self.values) {
            if spec.len() != v.len() {
                return Err(Error::model(format!("parameter `{}` should have {} values, has {}", spec.name, spec.len(), v.len())));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::model(format!("parameter `{}` contains NaN or infinity", spec.name)));
            }
        }
        Ok(analysis)
    }

    /// Uploads the model to a device.
    pub fn network(&self, device: &Device) -> Result<Network> {
        Network::new(self.graph.clone(), &self.values, device)
    }
}

/// The bicubic baseline as a model: one upsampling node, no parameters. Running it through
/// the same tiled path as the networks makes comparisons fair and costs almost nothing.
pub fn bicubic(scale: usize) -> Result<ModelFile> {
    let mut b = crate::graph::GraphBuilder::new();
    let x = b.input();
    let y = b.upsample("bicubic", x, scale, crate::graph::Interpolation::Bicubic);
    let info = ModelInfo {
        name: format!("bicubic-x{scale}"),
        scale,
        architecture: "bicubic".into(),
        source: "ticketsr".into(),
        licence: "MIT OR Apache-2.0".into(),
        notes: "Keys a = -0.5, pixel-centre aligned, replicated edges".into(),
    };
    ModelFile::new(info, b.finish(y), vec![])
}
