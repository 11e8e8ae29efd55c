//! The one model representation every feature works on: a small dataflow graph of layers
//! whose parameters are named. Pruning and patch selection are passes over this graph, so
//! everything that couples channels (add, concat, pixel shuffle) is an explicit node here
//! rather than hidden inside a layer.

mod builder;
mod exec;
mod shape;

pub use builder::GraphBuilder;
pub use exec::{ConvKernels, Network};
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

/// How an upsampling node fills the new pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    Nearest,
    /// The project's one bicubic convention (see [`crate::image::bicubic`]).
    Bicubic,
}

/// A layer. Convolutions are stride 1, "same" zero padding, odd kernels: what SR networks use,
/// and what keeps tiled inference exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The RGB image, values in [0, 1], shape `[n, 3, h, w]`.
    Input,
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        weight: ParamId,
        bias: Option<ParamId>,
    },
    Relu,
    /// Per-channel slope for negative inputs; `alpha` has one value per channel.
    Prelu { alpha: ParamId },
    Tanh,
    /// Element-wise sum of inputs with equal channels: their channels are coupled.
    Add,
    /// Channel concatenation of the inputs in order.
    Concat,
    /// Depth to space: `out[c, h*r+i, w*r+j] = in[c*r*r + i*r + j, h, w]`.
    PixelShuffle { factor: usize },
    Upsample { factor: usize, mode: Interpolation },
    /// `x * scale + shift`, for models that expect another value range.
    Affine { scale: f32, shift: f32 },
}

impl Op {
    /// Short name for messages and displays.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Conv2d { .. } => "conv2d",
            Op::Relu => "relu",
            Op::Prelu { .. } => "prelu",
            Op::Tanh => "tanh",
            Op::Add => "add",
            Op::Concat => "concat",
            Op::PixelShuffle { .. } => "pixel_shuffle",
            Op::Upsample { .. } => "upsample",
            Op::Affine { .. } => "affine",
        }
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
