//! WDSR-B as STDO's code builds it: input - 0.5; head conv3x3 3->n; `blocks` residual blocks
//! [conv3x3 n->e*n, ReLU, conv3x3 e*n->n] + identity; tail conv3x3 n->3s^2; a parallel skip
//! conv5x5 3->3s^2 on the input, added before the pixel shuffle; output + 0.5. Parameter
//! names follow the PyTorch reference (`head.0.weight`, `body.3.body.2.bias`, ...) so its
//! weight-normalised checkpoints load directly.

use super::{ModelFile, ModelInfo, init::random_values};
use crate::error::{Error, Result};
use crate::graph::{Graph, GraphBuilder};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WdsrConfig {
    pub scale: usize,
    pub blocks: usize,
    /// Feature channels `n` between blocks.
    pub channels: usize,
    /// Width multiplier `e` inside a block (the "wide activation").
    pub expansion: usize,
}

impl WdsrConfig {
    /// STDO's configuration: 16 blocks, 32 channels, expansion 4 (about 1.19 M at x2).
    pub fn stdo(scale: usize) -> Self {
        Self { scale, blocks: 16, channels: 32, expansion: 4 }
    }
}

pub fn graph(c: WdsrConfig) -> Result<Graph> {
    if !(2..=4).contains(&c.scale) || c.blocks > 64 || c.channels == 0 || c.expansion == 0 {
        return Err(Error::InvalidArgument(format!("unsupported WDSR-B configuration {c:?}")));
    }
    let (n, wide, out) = (c.channels, c.channels * c.expansion, 3 * c.scale * c.scale);
    let mut b = GraphBuilder::new();
    let input = b.input();
    let x = b.affine("sub_mean", input, 1.0, -0.5);
    let mut h = b.conv("head.0", x, 3, n, 3, true);
    for i in 0..c.blocks {
        let a = b.conv(&format!("body.{i}.body.0"), h, n, wide, 3, true);
        let r = b.relu(&format!("body.{i}.body.1"), a);
        let z = b.conv(&format!("body.{i}.body.2"), r, wide, n, 3, true);
        h = b.add(&format!("body.{i}.add"), vec![z, h]);
    }
    let tail = b.conv("tail.0", h, n, out, 3, true);
    let skip = b.conv("skip.0", x, 3, out, 5, true);
    let sum = b.add("sum", vec![tail, skip]);
    let shuffled = b.pixel_shuffle("shuffle", sum, c.scale);
    let y = b.affine("add_mean", shuffled, 1.0, 0.5);
    Ok(b.finish(y))
}

/// WDSR-B with random weights drawn from `seed`.
pub fn build(c: WdsrConfig, seed: u64) -> Result<ModelFile> {
    let graph = graph(c)?;
    let values = random_values(&graph, seed);
    let info = ModelInfo {
        name: format!("wdsr-b-x{}-{}x{}", c.scale, c.blocks, c.channels),
        scale: c.scale,
        architecture: "wdsr-b".into(),
        source: format!("ticketsr wdsr builder, random weights (seed {seed})"),
        licence: "MIT OR Apache-2.0".into(),
        notes: format!("blocks {}, channels {}, expansion {}", c.blocks, c.channels, c.expansion),
    };
    ModelFile::new(info, graph, values)
}

/// The configuration a WDSR-B model was built with, read back from its parameter shapes.
pub fn config_of(model: &ModelFile) -> Result<WdsrConfig> {
    let shape = |name: &str| model.graph.params.iter().find(|p| p.name == name).map(|p| p.shape.clone());
    let not_wdsr = || Error::InvalidArgument(format!("`{}` is not a WDSR-B graph", model.info.name));
    let head = shape("head.0.weight").ok_or_else(not_wdsr)?;
    let blocks = (0..).take_while(|i| shape(&format!("body.{i}.body.0.weight")).is_some()).count();
    let wide = if blocks > 0 { shape("body.0.body.0.weight").ok_or_else(not_wdsr)?[0] } else { head[0] };
    Ok(WdsrConfig { scale: model.info.scale, blocks, channels: head[0], expansion: wide / head[0].max(1) })
}

/// `model` with only its first `blocks` residual blocks: head, tail and skip stay, so the
/// shorter network starts from the longer one's weights.
pub fn truncate(model: &ModelFile, blocks: usize) -> Result<ModelFile> {
    let c = config_of(model)?;
    if blocks > c.blocks {
        return Err(Error::InvalidArgument(format!("`{}` has {} blocks, cannot keep {blocks}", model.info.name, c.blocks)));
    }
    let graph = graph(WdsrConfig { blocks, ..c })?;
    let by_name: std::collections::HashMap<&str, &Vec<f32>> =
        model.graph.params.iter().map(|p| p.name.as_str()).zip(&model.values).collect();
    let values = graph.params.iter().map(|p| by_name[p.name.as_str()].clone()).collect();
    let mut info = model.info.clone();
    info.name = format!("{}-first{blocks}", info.name);
    info.notes = format!("the first {blocks} of {} blocks of `{}`. {}", c.blocks, model.info.name, info.notes);
    ModelFile::new(info, graph, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_size() {
        // RESEARCH.md: ~1.19 M parameters at x2.
        assert_eq!(graph(WdsrConfig::stdo(2)).unwrap().parameter_count(), 1_187_484);
        for s in 2..=4 {
            assert_eq!(graph(WdsrConfig::stdo(s)).unwrap().analyze().unwrap().scale, s);
        }
        let c = WdsrConfig { scale: 4, blocks: 3, channels: 8, expansion: 2 };
        assert_eq!(config_of(&build(c, 0).unwrap()).unwrap(), c);
        assert!(truncate(&build(c, 0).unwrap(), 4).is_err());
    }
}
