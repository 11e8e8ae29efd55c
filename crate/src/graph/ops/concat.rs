//! Channel concatenation of the inputs in order.

use std::ops::RangeInclusive;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Channels, Infer, MAX_FAN_IN, OnnxAttribute, OnnxInput, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Concat {}

impl Operator for Concat {
    fn kind(&self) -> &'static str {
        "concat"
    }

    fn inputs(&self) -> RangeInclusive<usize> {
        2..=MAX_FAN_IN
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        Ok(NodeShape { channels: cx.inputs.iter().map(|s| s.channels).sum(), scale: cx.inputs[0].scale })
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        Ok(Tensor::cat(cx.same(), 1))
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        vec![OnnxOp::new("Concat", vec![OnnxInput::Args], vec![("axis", OnnxAttribute::Int(1))])]
    }

    fn channels(&self) -> Channels {
        Channels::Concatenated
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args.concat()
    }
}

impl GraphBuilder {
    pub fn concat(&mut self, name: &str, inputs: Vec<NodeId>) -> NodeId {
        self.node(name, Op::Concat(Concat {}), inputs)
    }
}
