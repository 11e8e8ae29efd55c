//! A stride-1 convolution with "same" zero padding and an odd kernel: what SR networks use,
//! and what keeps tiled inference exact.

use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use serde::{Deserialize, Serialize};

use super::{Channels, Infer, OnnxAttribute, OnnxInput, OnnxOp, Operator, ParamUse, Run, crop};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op, ParamId};

/// Kernel sizes beyond this are refused (a hostile header's reach and work).
const MAX_KERNEL: usize = 15;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    /// Height and width.
    pub kernel: [usize; 2],
    /// `[out, in, kh, kw]`.
    pub weight: ParamId,
    /// `[out]`.
    pub bias: Option<ParamId>,
}

/// The options of a stride-1, undilated, ungrouped convolution with zero `padding` (height,
/// width): the only convolution the graph has.
pub fn conv_options(padding: [usize; 2]) -> ConvOptions<2> {
    ConvOptions::new([1, 1], padding, [1, 1], 1)
}

/// The stride-1 convolution with zero `padding` (height, width): burn's, or natively, with a
/// bias, `graph::conv_autodiff`'s, which the backend runs and differentiates with its own
/// kernels where it has them (the CPU does).
fn convolve(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>, padding: [usize; 2]) -> Tensor<4> {
    match bias {
        #[cfg(not(target_arch = "wasm32"))]
        Some(bias) => crate::graph::conv_autodiff::conv2d(x, weight, bias, padding),
        bias => conv2d(x, weight, bias, conv_options(padding)),
    }
}

impl Conv2d {
    /// Values per filter: input channels times taps.
    pub fn filter_len(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// The sum of the taps that take input channel `i` into output channel `o`: what a
    /// constant on that input adds to that output, per unit.
    pub fn tap_sum(&self, weight: &[f32], o: usize, i: usize) -> f64 {
        let taps = self.kernel[0] * self.kernel[1];
        weight[(o * self.in_channels + i) * taps..][..taps].iter().map(|&v| v as f64).sum()
    }
}

impl Operator for Conv2d {
    fn kind(&self) -> &'static str {
        "conv2d"
    }

    fn params(&self) -> Vec<ParamUse> {
        let mut out = vec![ParamUse { id: self.weight, output_axis: Some(0), input_axis: Some(1) }];
        out.extend(self.bias.map(|id| ParamUse { id, output_axis: Some(0), input_axis: None }));
        out
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        let (s, k) = (cx.inputs[0], self.kernel);
        if s.channels != self.in_channels {
            return Err(format!("expects {} input channels, gets {}", self.in_channels, s.channels));
        }
        if k.iter().any(|&k| k % 2 == 0 || k > MAX_KERNEL) {
            return Err(format!("kernel {k:?} must be odd and at most {MAX_KERNEL}"));
        }
        let want = [self.out_channels, self.in_channels, k[0], k[1]];
        let weight = (cx.param)(self.weight)?;
        if weight != want {
            return Err(format!("weight shape {weight:?} should be {want:?}"));
        }
        if let Some(b) = self.bias {
            let bias = (cx.param)(b)?;
            if bias != [self.out_channels] {
                return Err(format!("bias shape {bias:?} should be [{}]", self.out_channels));
            }
        }
        Ok(NodeShape { channels: self.out_channels, scale: s.scale })
    }

    fn halo(&self) -> usize {
        self.kernel[0].max(self.kernel[1]) / 2
    }

    fn macs_per_pixel(&self) -> u64 {
        // In u64: on wasm32 the product of hostile (but checked) sizes nears usize's limit.
        self.out_channels as u64 * self.in_channels as u64 * (self.kernel[0] * self.kernel[1]) as u64
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        let [kh, kw] = self.kernel;
        let (weight, bias) = (cx.param::<4>(self.weight), self.bias.map(|b| cx.param::<1>(b)));
        let want = cx.want;
        let (x, have) = cx.arg()?;
        let pad = [kw / 2, kh / 2, kw / 2, kh / 2];
        // Per side: inside the image, read exactly what the crop needs and convolve
        // without padding; at the image's edge (nothing to drop yet), zero-pad like
        // whole-image inference and crop afterwards.
        let mut before = [0; 4];
        let mut zeros = [0; 4];
        let mut after = [0; 4];
        for k in 0..4 {
            if want[k] >= have[k] + pad[k] {
                before[k] = want[k] - have[k] - pad[k];
            } else {
                zeros[k] = pad[k];
                after[k] = want[k] - have[k];
            }
        }
        let x = crop(x, before);
        let y = if zeros == pad {
            convolve(x, weight, bias, [pad[1], pad[0]])
        } else {
            let x = if zeros == [0; 4] { x } else { x.pad([(zeros[1], zeros[3]), (zeros[0], zeros[2])], PadMode::Constant(0.0)) };
            convolve(x, weight, bias, [0, 0])
        };
        Ok(crop(y, after))
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        let mut inputs = vec![OnnxInput::Arg(0), OnnxInput::Param(self.weight, None)];
        inputs.extend(self.bias.map(|b| OnnxInput::Param(b, None)));
        let [kh, kw] = self.kernel.map(|k| k as i64);
        let attributes = vec![
            ("kernel_shape", OnnxAttribute::Ints(vec![kh, kw])),
            ("pads", OnnxAttribute::Ints(vec![kh / 2, kw / 2, kh / 2, kw / 2])),
            ("strides", OnnxAttribute::Ints(vec![1, 1])),
        ];
        vec![OnnxOp::new("Conv", inputs, attributes)]
    }

    fn channels(&self) -> Channels {
        Channels::Own
    }

    fn flat(&self, args: &[&[f64]], values: &[Vec<f32>]) -> Vec<f64> {
        let (x, w) = (args[0], &values[self.weight]);
        (0..self.out_channels)
            .map(|o| self.bias.map_or(0.0, |b| values[b][o] as f64) + (0..self.in_channels).map(|i| x[i] * self.tap_sum(w, o, i)).sum::<f64>())
            .collect()
    }

    fn set_channels(&mut self, inputs: usize, outputs: usize) {
        self.in_channels = inputs;
        self.out_channels = outputs;
    }
}

impl GraphBuilder {
    /// A stride-1 "same" convolution with parameters `{name}.weight` and optionally `{name}.bias`.
    pub fn conv(&mut self, name: &str, x: NodeId, in_channels: usize, out_channels: usize, kernel: usize, bias: bool) -> NodeId {
        let weight = self.param(format!("{name}.weight"), vec![out_channels, in_channels, kernel, kernel]);
        let bias = bias.then(|| self.param(format!("{name}.bias"), vec![out_channels]));
        let op = Conv2d { in_channels, out_channels, kernel: [kernel, kernel], weight, bias };
        self.node(name, Op::Conv2d(op), vec![x])
    }
}
