//! Depth to space in TensorFlow's order (ONNX's DCR), as TF.js models written against
//! `tf.depthToSpace` use it: `out[c, h*r+i, w*r+j] = in[(i*r + j)*C + c, h, w]` for `C`
//! output channels. [`PixelShuffle`](super::PixelShuffle) is PyTorch's order.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::pixel_shuffle::{copy_pixels, onnx_depth_to_space, to_space};
use super::{Channels, Infer, OnnxOp, Operator, Run};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepthToSpace {
    pub factor: usize,
}

impl Operator for DepthToSpace {
    fn kind(&self) -> &'static str {
        "depth_to_space"
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        to_space(cx, self.factor)
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        copy_pixels(cx, self.factor, depth_to_space)
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        onnx_depth_to_space(self.factor, "DCR")
    }

    fn channels(&self) -> Channels {
        Channels::Grouped { size: self.factor * self.factor, contiguous: false }
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        // The mean over the sub-pixel positions.
        let (x, rr) = (args[0], self.factor * self.factor);
        let c = x.len() / rr;
        (0..c).map(|o| (0..rr).map(|k| x[k * c + o]).sum::<f64>() / rr as f64).collect()
    }
}

impl GraphBuilder {
    pub fn depth_to_space(&mut self, name: &str, x: NodeId, factor: usize) -> NodeId {
        self.node(name, Op::DepthToSpace(DepthToSpace { factor }), vec![x])
    }
}

pub fn depth_to_space(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let c_out = c / (r * r);
    x.reshape([n, r, r, c_out, h, w]).permute([0, 3, 4, 1, 5, 2]).reshape([n, c_out, h * r, w * r])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn follows_tensorflows_order() {
        let device = Device::flex();
        let (c, r, h, w) = (2, 3, 2, 4);
        let values: Vec<f32> = (0..c * r * r * h * w).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, c * r * r, h, w]), &device);
        let out = depth_to_space(x, r).into_data();
        assert_eq!(out.shape().to_vec(), vec![1, c, h * r, w * r]);
        let out = out.as_slice::<f32>().unwrap();
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    for i in 0..r {
                        for j in 0..r {
                            let src = values[(((i * r + j) * c + ch) * h + y) * w + xx];
                            assert_eq!(out[(ch * h * r + y * r + i) * w * r + xx * r + j], src, "c={ch} h={y} w={xx} i={i} j={j}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn channel_pruning_sees_each_output_channels_strided_inputs() {
        let op = DepthToSpace { factor: 2 };
        // Two output channels: channel 1 averages inputs 1, 3, 5, 7.
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(op.flat(&[&x], &[]), [3.0, 4.0]);
    }
}
