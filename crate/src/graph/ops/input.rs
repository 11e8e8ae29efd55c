//! The network's input: RGB in [0, 1], `[n, 3, h, w]`. It has no inputs of its own; the
//! executor hands it the network's input as its argument.

use std::ops::RangeInclusive;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Channels, Infer, OnnxInput, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {}

impl Operator for Input {
    fn kind(&self) -> &'static str {
        "input"
    }

    fn inputs(&self) -> RangeInclusive<usize> {
        0..=0
    }

    fn infer(&self, _: &Infer) -> std::result::Result<NodeShape, String> {
        Ok(NodeShape { channels: 3, scale: 1 })
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        cx.one()
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        // The graph's input is a value of its own; an identity names it as the node.
        vec![OnnxOp::new("Identity", vec![OnnxInput::Arg(0)], vec![])]
    }

    fn channels(&self) -> Channels {
        Channels::Own
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args[0].to_vec()
    }
}

impl GraphBuilder {
    pub fn input(&mut self) -> NodeId {
        self.node("input", Op::Input(Input {}), vec![])
    }
}
