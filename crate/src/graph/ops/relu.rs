//! `max(x, 0)`.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::{OnnxInput, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relu {}

impl Operator for Relu {
    fn kind(&self) -> &'static str {
        "relu"
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        Ok(relu(cx.one()?))
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        vec![OnnxOp::new("Relu", vec![OnnxInput::Arg(0)], vec![])]
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args[0].iter().map(|v| v.max(0.0)).collect()
    }
}

impl GraphBuilder {
    pub fn relu(&mut self, name: &str, x: NodeId) -> NodeId {
        self.node(name, Op::Relu(Relu {}), vec![x])
    }
}
