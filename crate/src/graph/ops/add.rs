//! The element-wise sum of inputs with equal channels: their channels are coupled (a
//! residual stream is one set of channels however many convolutions write to it).

use std::ops::RangeInclusive;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Infer, MAX_FAN_IN, OnnxInput, OnnxOp, Operator, Run};
use crate::error::{Error, Result};
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Add {}

impl Operator for Add {
    fn kind(&self) -> &'static str {
        "add"
    }

    fn inputs(&self) -> RangeInclusive<usize> {
        2..=MAX_FAN_IN
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        let first = cx.inputs[0];
        match cx.inputs.iter().find(|s| s.channels != first.channels) {
            Some(s) => Err(format!("adds {} and {} channels", first.channels, s.channels)),
            None => Ok(first),
        }
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        cx.same().into_iter().reduce(|a, b| a + b).ok_or_else(|| Error::model("an addition of nothing"))
    }

    fn onnx(&self, args: usize, _: &Graph) -> Vec<OnnxOp> {
        vec![OnnxOp::new(if args == 2 { "Add" } else { "Sum" }, vec![OnnxInput::Args], vec![])]
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        (0..args[0].len()).map(|c| args.iter().map(|a| a[c]).sum()).collect()
    }
}

impl GraphBuilder {
    pub fn add(&mut self, name: &str, inputs: Vec<NodeId>) -> NodeId {
        self.node(name, Op::Add(Add {}), inputs)
    }
}
