//! A ReLU with a learnt slope for negative inputs, one per channel.

use burn::tensor::Tensor;
use burn::tensor::activation::prelu;
use serde::{Deserialize, Serialize};

use super::{Infer, OnnxInput, OnnxOp, Operator, ParamUse, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op, ParamId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prelu {
    /// One slope per channel.
    pub alpha: ParamId,
}

impl Operator for Prelu {
    fn kind(&self) -> &'static str {
        "prelu"
    }

    fn params(&self) -> Vec<ParamUse> {
        vec![ParamUse { id: self.alpha, output_axis: Some(0), input_axis: None }]
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        let s = cx.inputs[0];
        if (cx.param)(self.alpha)? != [s.channels] {
            return Err(format!("alpha must have {} values", s.channels));
        }
        Ok(s)
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        let alpha = cx.param::<1>(self.alpha);
        Ok(prelu(cx.one()?, alpha))
    }

    fn onnx(&self, _: usize, graph: &Graph) -> Vec<OnnxOp> {
        // One slope per channel, broadcast over [n, c, h, w] as [c, 1, 1].
        let channels = graph.params[self.alpha].len();
        vec![OnnxOp::new("PRelu", vec![OnnxInput::Arg(0), OnnxInput::Param(self.alpha, Some(vec![channels, 1, 1]))], vec![])]
    }

    fn flat(&self, args: &[&[f64]], values: &[Vec<f32>]) -> Vec<f64> {
        args[0].iter().zip(&values[self.alpha]).map(|(&v, &a)| if v < 0.0 { v * a as f64 } else { v }).collect()
    }
}

impl GraphBuilder {
    /// A PReLU with `channels` slopes in `{name}.alpha`.
    pub fn prelu(&mut self, name: &str, x: NodeId, channels: usize) -> NodeId {
        let alpha = self.param(format!("{name}.alpha"), vec![channels]);
        self.node(name, Op::Prelu(Prelu { alpha }), vec![x])
    }
}
