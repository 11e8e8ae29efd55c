//! `x * scale + shift`, for models that expect another value range.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Infer, OnnxInput, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    pub scale: f32,
    pub shift: f32,
}

impl Operator for Affine {
    fn kind(&self) -> &'static str {
        "affine"
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        // JSON has no infinity: `1e39` reads as an f32 infinity, which poisons every pixel
        // and writes back as `null` (fuzzing).
        if !(self.scale.is_finite() && self.shift.is_finite()) {
            return Err(format!("affine scale {} and shift {} must be finite", self.scale, self.shift));
        }
        Ok(cx.inputs[0])
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        Ok(cx.one()?.mul_scalar(self.scale).add_scalar(self.shift))
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        let scalar = |name, value| OnnxInput::Constant { name, dims: vec![], values: vec![value] };
        vec![
            OnnxOp::new("Mul", vec![OnnxInput::Arg(0), scalar("scale", self.scale)], vec![]),
            OnnxOp::new("Add", vec![OnnxInput::Previous, scalar("shift", self.shift)], vec![]),
        ]
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args[0].iter().map(|v| v * self.scale as f64 + self.shift as f64).collect()
    }
}

impl GraphBuilder {
    pub fn affine(&mut self, name: &str, x: NodeId, scale: f32, shift: f32) -> NodeId {
        self.node(name, Op::Affine(Affine { scale, shift }), vec![x])
    }
}
