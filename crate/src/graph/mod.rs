//! The one model representation every feature works on: a small dataflow graph of layers
//! whose parameters are named. Pruning and patch selection are passes over this graph, so
//! everything that couples channels (add, concat, pixel shuffle) is an explicit node here
//! rather than hidden inside a layer. The operators are in [`ops`], one file each.

mod builder;
#[cfg(not(target_arch = "wasm32"))]
pub mod conv_autodiff;
mod exec;
pub mod fuse;
pub mod ops;
mod shape;

pub use builder::GraphBuilder;
pub use exec::{ConvKernels, Network};
pub use ops::{Interpolation, Op, Operator};
pub use shape::{Analysis, NodeShape, Sides};

use serde::{Deserialize, Serialize};

/// Index of a node in [`Graph::nodes`]. Nodes only read nodes with smaller indices.
pub type NodeId = usize;
/// Index of a parameter in [`Graph::params`].
pub type ParamId = usize;

/// A named parameter tensor and its shape (convolution weights are `[out, in, kh, kw]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

impl ParamSpec {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<NodeId>,
}

/// A network: nodes in execution order, the parameters they name, and the output node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub params: Vec<ParamSpec>,
    pub nodes: Vec<Node>,
    pub output: NodeId,
}

impl Graph {
    /// Total number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(ParamSpec::len).sum()
    }

    pub fn param_id(&self, name: &str) -> Option<ParamId> {
        self.params.iter().position(|p| p.name == name)
    }
}
