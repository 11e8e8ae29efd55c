//! ESPCN as STDO's code builds it: conv3x3 3->64->64->32 with ReLU, conv3x3 32->3s^2,
//! pixel shuffle (about 61k parameters at x2).

use super::{ModelFile, ModelInfo, init::random_values};
use crate::error::{Error, Result};
use crate::graph::{Graph, GraphBuilder};

pub fn graph(scale: usize) -> Result<Graph> {
    if !(2..=4).contains(&scale) {
        return Err(Error::InvalidArgument(format!("ESPCN is built for scales 2, 3 and 4, not {scale}")));
    }
    let mut b = GraphBuilder::new();
    let x = b.input();
    let c1 = b.conv("conv1", x, 3, 64, 3, true);
    let r1 = b.relu("relu1", c1);
    let c2 = b.conv("conv2", r1, 64, 64, 3, true);
    let r2 = b.relu("relu2", c2);
    let c3 = b.conv("conv3", r2, 64, 32, 3, true);
    let r3 = b.relu("relu3", c3);
    let c4 = b.conv("conv4", r3, 32, 3 * scale * scale, 3, true);
    let y = b.pixel_shuffle("shuffle", c4, scale);
    Ok(b.finish(y))
}

/// ESPCN with random weights drawn from `seed`.
pub fn build(scale: usize, seed: u64) -> Result<ModelFile> {
    let graph = graph(scale)?;
    let values = random_values(&graph, seed);
    let info = ModelInfo {
        name: format!("espcn-x{scale}"),
        scale,
        architecture: "espcn".into(),
        source: format!("ticketsr espcn builder, random weights (seed {seed})"),
        licence: "MIT OR Apache-2.0".into(),
        notes: String::new(),
    };
    ModelFile::new(info, graph, values)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_published_size() {
        let g = super::graph(2).unwrap();
        assert_eq!(g.parameter_count(), 60_652); // "~61k params at x2"
        assert_eq!(g.analyze().unwrap().scale, 2);
        assert_eq!(super::graph(4).unwrap().analyze().unwrap().scale, 4);
        assert!(super::graph(5).is_err());
    }
}
