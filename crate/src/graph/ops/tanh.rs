//! The hyperbolic tangent.

use burn::tensor::Tensor;
use burn::tensor::activation::tanh;
use serde::{Deserialize, Serialize};

use super::{OnnxInput, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tanh {}

impl Operator for Tanh {
    fn kind(&self) -> &'static str {
        "tanh"
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        Ok(tanh(cx.one()?))
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        vec![OnnxOp::new("Tanh", vec![OnnxInput::Arg(0)], vec![])]
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args[0].iter().map(|v| v.tanh()).collect()
    }
}

impl GraphBuilder {
    pub fn tanh(&mut self, name: &str, x: NodeId) -> NodeId {
        self.node(name, Op::Tanh(Tanh {}), vec![x])
    }
}
