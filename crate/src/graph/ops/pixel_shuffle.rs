//! Depth to space, PyTorch's `PixelShuffle`: `out[c, h*r+i, w*r+j] = in[c*r*r + i*r + j, h, w]`.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{Channels, Infer, MAX_FACTOR, OnnxAttribute, OnnxInput, OnnxOp, Operator, Run, crop, sub};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PixelShuffle {
    pub factor: usize,
}

impl Operator for PixelShuffle {
    fn kind(&self) -> &'static str {
        "pixel_shuffle"
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        to_space(cx, self.factor)
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        copy_pixels(cx, self.factor, pixel_shuffle)
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        // ticketsr's pixel shuffle reads channel c*r*r + i*r + j: DepthToSpace's CRD order.
        onnx_depth_to_space(self.factor, "CRD")
    }

    fn channels(&self) -> Channels {
        Channels::Grouped { size: self.factor * self.factor, contiguous: true }
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        // The mean over the sub-pixel positions.
        args[0].chunks(self.factor * self.factor).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect()
    }
}

/// The shape of `f * f` channels per output channel moved into space (pixel shuffles of
/// either order). Each output pixel reads exactly one input pixel: no halo.
pub(super) fn to_space(cx: &Infer, f: usize) -> std::result::Result<NodeShape, String> {
    let s = cx.inputs[0];
    if !(2..=MAX_FACTOR).contains(&f) || !s.channels.is_multiple_of(f * f) {
        return Err(format!("cannot move {} channels into space by {f}", s.channels));
    }
    Ok(NodeShape { channels: s.channels / (f * f), scale: s.scale * f })
}

/// ONNX's DepthToSpace by `f` in `mode` ("CRD" or "DCR").
pub(super) fn onnx_depth_to_space(f: usize, mode: &'static str) -> Vec<OnnxOp> {
    let attributes = vec![("blocksize", OnnxAttribute::Int(f as i64)), ("mode", OnnxAttribute::Text(mode))];
    vec![OnnxOp::new("DepthToSpace", vec![OnnxInput::Arg(0)], attributes)]
}

/// Runs `op`, an upsampling by `f` in which each output pixel copies one input pixel:
/// whole input pixels are cropped first, the remainder after.
pub(super) fn copy_pixels(cx: Run, f: usize, op: fn(Tensor<4>, usize) -> Tensor<4>) -> Result<Tensor<4>> {
    let want = cx.want;
    let (x, have) = cx.arg()?;
    let x = crop(x, sub(want.map(|v| v / f), have));
    Ok(crop(op(x, f), want.map(|v| v % f)))
}

impl GraphBuilder {
    pub fn pixel_shuffle(&mut self, name: &str, x: NodeId, factor: usize) -> NodeId {
        self.node(name, Op::PixelShuffle(PixelShuffle { factor }), vec![x])
    }
}

pub fn pixel_shuffle(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let c_out = c / (r * r);
    x.reshape([n, c_out, r, r, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([n, c_out, h * r, w * r])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn follows_the_formula() {
        let device = Device::flex();
        let (c, r, h, w) = (2, 3, 2, 4);
        let values: Vec<f32> = (0..c * r * r * h * w).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, c * r * r, h, w]), &device);
        let out = pixel_shuffle(x, r).into_data();
        assert_eq!(out.shape().to_vec(), vec![1, c, h * r, w * r]);
        let out = out.as_slice::<f32>().unwrap();
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    for i in 0..r {
                        for j in 0..r {
                            let src = values[((ch * r * r + i * r + j) * h + y) * w + xx];
                            let dst = out[(ch * h * r + y * r + i) * w * r + xx * r + j];
                            assert_eq!(src, dst, "c={ch} h={y} w={xx} i={i} j={j}");
                        }
                    }
                }
            }
        }
    }
}
