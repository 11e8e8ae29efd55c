//! The operators a graph is made of, one file each (rten's way). An operator's file holds
//! everything about it: the checks and shape rule the loaders rely on, how it runs on
//! tensors under the executor's cropping, how it is written as ONNX, how channels flow
//! through it (what channel pruning couples), what it computes on a flat image, and its
//! [`GraphBuilder`](super::GraphBuilder) method. The shape analysis, the executor, the ONNX
//! writer and the pruner only call [`Operator`], so adding an operator is its file and its
//! line in `ops!` below (plus a layer mapping in `model/tfjs.rs` if TF.js models use it).
//!
//! A node without inputs reads the network's input: the executor, the ONNX writer and the
//! pruner's flat-image pass hand it that as its one argument.

use std::ops::RangeInclusive;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Graph, Network, NodeShape, ParamId, Sides};
use crate::error::{Error, Result};

/// Resolution factors an upsampling operator may have.
pub const MAX_FACTOR: usize = 8;
/// Inputs of one addition or concatenation (dense blocks concatenate a few dozen).
pub const MAX_FAN_IN: usize = 256;

/// Declares the operators: their modules, the [`Op`] enum a model file names them by (the
/// serde tag is the variant in snake case), and the one dispatch to [`Operator`].
macro_rules! ops {
    ($($(#[$doc:meta])* $variant:ident($module:ident)),* $(,)?) => {
        $(mod $module; pub use $module::$variant;)*

        /// A layer: one of the operators above, with its settings and parameter ids.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        pub enum Op {
            $($(#[$doc])* $variant($variant)),*
        }

        impl Op {
            /// The operator, for everything that does not care which one it is.
            pub fn operator(&self) -> &dyn Operator {
                match self {
                    $(Op::$variant(op) => op),*
                }
            }

            pub(crate) fn operator_mut(&mut self) -> &mut dyn Operator {
                match self {
                    $(Op::$variant(op) => op),*
                }
            }
        }
    };
}

ops! {
    /// The RGB image, values in [0, 1], shape `[n, 3, h, w]`.
    Input(input),
    Conv2d(conv2d),
    Relu(relu),
    Prelu(prelu),
    Tanh(tanh),
    Add(add),
    Concat(concat),
    PixelShuffle(pixel_shuffle),
    DepthToSpace(depth_to_space),
    Upsample(upsample),
    Affine(affine),
}

pub use conv2d::conv_options;
pub use pixel_shuffle::pixel_shuffle;
pub use upsample::Interpolation;

impl Op {
    /// Short name for messages and displays.
    pub fn kind(&self) -> &'static str {
        self.operator().kind()
    }
}

/// What an operator is. Every method but [`Operator::run`], [`Operator::onnx`] and
/// [`Operator::flat`] has the default of a one-input, element-wise, parameter-free op.
pub trait Operator {
    /// The name in messages (the same as the model file's tag).
    fn kind(&self) -> &'static str;

    /// How many inputs it takes.
    fn inputs(&self) -> RangeInclusive<usize> {
        1..=1
    }

    /// The parameters it reads, and which of their axes follow channels.
    fn params(&self) -> Vec<ParamUse> {
        Vec::new()
    }

    /// Checks its inputs' shapes (already known to share one resolution) and its
    /// parameters' shapes, and gives its output's shape; the error is the reason.
    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        Ok(cx.inputs[0])
    }

    /// How far, in its input's pixels, each output pixel reads around itself each way.
    fn halo(&self) -> usize {
        0
    }

    /// Multiply-accumulates per output pixel.
    fn macs_per_pixel(&self) -> u64 {
        0
    }

    /// Computes its output, cropped as [`Run::want`] says.
    fn run(&self, cx: Run) -> Result<Tensor<4>>;

    /// The standard ONNX operators it is written as, the last one giving its value.
    fn onnx(&self, args: usize, graph: &Graph) -> Vec<OnnxOp>;

    /// How its output channels relate to its inputs' channels.
    fn channels(&self) -> Channels {
        Channels::Same
    }

    /// Each output channel's value away from the borders when each input channel is a
    /// constant (`args`), given every parameter's `values`: what channel pruning folds into
    /// a bias when it removes a channel.
    fn flat(&self, args: &[&[f64]], values: &[Vec<f32>]) -> Vec<f64>;

    /// Takes the channel counts pruning left it (an operator that records them).
    fn set_channels(&mut self, _inputs: usize, _outputs: usize) {}
}

/// A parameter an operator reads: which of its axes index the operator's output channels
/// and its input channels (pruning slices along them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamUse {
    pub id: ParamId,
    pub output_axis: Option<usize>,
    pub input_axis: Option<usize>,
}

/// How an operator's output channels relate to its inputs'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channels {
    /// Channels of its own: each mixes every input channel (a convolution, the input).
    Own,
    /// Channel `c` is computed from channel `c` of every input.
    Same,
    /// The inputs' channels one after another.
    Concatenated,
    /// Channel `c` of `C` is computed from `size` input channels: `c * size + k` if
    /// `contiguous`, else `k * C + c` (`k < size`).
    Grouped { size: usize, contiguous: bool },
}

/// What shape inference hands an operator.
pub struct Infer<'a> {
    pub inputs: &'a [NodeShape],
    /// A parameter's shape, or why it has none.
    pub param: &'a dyn Fn(ParamId) -> std::result::Result<&'a [usize], String>,
}

/// What the executor hands an operator: its arguments, each with the pixels already cropped
/// from each side (left, top, right, bottom) in its own pixels, and what to crop from its
/// own output.
pub struct Run<'a> {
    pub args: Vec<(Tensor<4>, Sides)>,
    pub want: Sides,
    pub(super) network: &'a Network,
}

impl Run<'_> {
    /// A parameter, shaped as declared (missing trailing axes read as 1).
    pub fn param<const D: usize>(&self, id: ParamId) -> Tensor<D> {
        self.network.param::<D>(id)
    }

    /// The one argument, with its crop.
    pub fn arg(self) -> Result<(Tensor<4>, Sides)> {
        self.args.into_iter().next().ok_or_else(|| Error::model("an operator is missing its input"))
    }

    /// The arguments cropped to the output's crop: for operators that keep the resolution
    /// and read each pixel at its own place.
    pub fn same(self) -> Vec<Tensor<4>> {
        let want = self.want;
        self.args.into_iter().map(|(x, have)| crop(x, sub(want, have))).collect()
    }

    /// The one argument cropped to the output's crop.
    pub fn one(self) -> Result<Tensor<4>> {
        self.same().into_iter().next().ok_or_else(|| Error::model("an operator is missing its input"))
    }
}

/// One ONNX operator of an operator's export.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxOp {
    pub op_type: &'static str,
    pub inputs: Vec<OnnxInput>,
    pub attributes: Vec<(&'static str, OnnxAttribute)>,
}

impl OnnxOp {
    pub fn new(op_type: &'static str, inputs: Vec<OnnxInput>, attributes: Vec<(&'static str, OnnxAttribute)>) -> Self {
        Self { op_type, inputs, attributes }
    }
}

/// A value an ONNX operator reads.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxInput {
    /// The node's `k`-th argument.
    Arg(usize),
    /// All of the node's arguments.
    Args,
    /// A parameter as an initializer of its name, with these dimensions (`None`: as declared).
    Param(ParamId, Option<Vec<usize>>),
    /// A constant initializer named `{node}.{name}`.
    Constant { name: &'static str, dims: Vec<usize>, values: Vec<f32> },
    /// The previous ONNX operator's output.
    Previous,
    /// An optional input left out.
    Absent,
}

/// An ONNX attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxAttribute {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Text(&'static str),
}

/// `a - b` per side, at least zero.
pub fn sub(a: Sides, b: Sides) -> Sides {
    std::array::from_fn(|k| a[k].saturating_sub(b[k]))
}

/// Removes `by` pixels from each side (left, top, right, bottom) of `[n, c, h, w]`.
pub fn crop(x: Tensor<4>, by: Sides) -> Tensor<4> {
    if by == [0; 4] {
        return x;
    }
    let [_, _, h, w] = x.dims();
    x.narrow(3, by[0], w - by[0] - by[2]).narrow(2, by[1], h - by[1] - by[3])
}
