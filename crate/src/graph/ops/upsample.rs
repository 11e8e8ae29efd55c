//! Integer upsampling. Bicubic is a fixed depthwise convolution built from the project's
//! bicubic kernel ([`crate::imaging::bicubic::phase_taps`]) followed by a pixel shuffle, so
//! the GPU result equals the CPU resize and tiles reproduce whole images.

use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::pixel_shuffle::{copy_pixels, pixel_shuffle};
use super::{Infer, MAX_FACTOR, OnnxAttribute, OnnxInput, OnnxOp, Operator, Run, crop, sub};
use crate::error::Result;
use crate::graph::{Graph, GraphBuilder, NodeId, NodeShape, Op};
use crate::imaging::bicubic::phase_taps;

/// How an upsampling node fills the new pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    Nearest,
    /// The project's one bicubic convention (see [`crate::imaging::bicubic`]).
    Bicubic,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Upsample {
    pub factor: usize,
    pub mode: Interpolation,
}

impl Operator for Upsample {
    fn kind(&self) -> &'static str {
        "upsample"
    }

    fn infer(&self, cx: &Infer) -> std::result::Result<NodeShape, String> {
        let s = cx.inputs[0];
        if !(2..=MAX_FACTOR).contains(&self.factor) {
            return Err(format!("upsampling factor {} is out of range", self.factor));
        }
        Ok(NodeShape { channels: s.channels, scale: s.scale * self.factor })
    }

    fn halo(&self) -> usize {
        // Bicubic reads two pixels either side; nearest reads the one it copies.
        match self.mode {
            Interpolation::Nearest => 0,
            Interpolation::Bicubic => 2,
        }
    }

    fn run(&self, cx: Run) -> Result<Tensor<4>> {
        let f = self.factor;
        match self.mode {
            Interpolation::Nearest => copy_pixels(cx, f, nearest),
            Interpolation::Bicubic => {
                // Reads two pixels either side (replicating at its edges): upsample what
                // there is, then crop, which the analysis' reach covers.
                let want = cx.want;
                let (x, have) = cx.arg()?;
                Ok(crop(bicubic(x, f), sub(want, have.map(|v| v * f))))
            }
        }
    }

    fn onnx(&self, _: usize, _: &Graph) -> Vec<OnnxOp> {
        let f = self.factor as f32;
        let scales = OnnxInput::Constant { name: "scales", dims: vec![4], values: vec![1.0, 1.0, f, f] };
        let attributes = match self.mode {
            // Output pixel y copies input pixel floor(y / f).
            Interpolation::Nearest => vec![
                ("mode", OnnxAttribute::Text("nearest")),
                ("coordinate_transformation_mode", OnnxAttribute::Text("asymmetric")),
                ("nearest_mode", OnnxAttribute::Text("floor")),
            ],
            // The project's bicubic: Keys a = -0.5, pixel-centre aligned, edges replicated.
            Interpolation::Bicubic => vec![
                ("mode", OnnxAttribute::Text("cubic")),
                ("coordinate_transformation_mode", OnnxAttribute::Text("half_pixel")),
                ("cubic_coeff_a", OnnxAttribute::Float(-0.5)),
                ("exclude_outside", OnnxAttribute::Int(0)),
            ],
        };
        vec![OnnxOp::new("Resize", vec![OnnxInput::Arg(0), OnnxInput::Absent, scales], attributes)]
    }

    fn flat(&self, args: &[&[f64]], _: &[Vec<f32>]) -> Vec<f64> {
        args[0].to_vec()
    }
}

impl GraphBuilder {
    pub fn upsample(&mut self, name: &str, x: NodeId, factor: usize, mode: Interpolation) -> NodeId {
        self.node(name, Op::Upsample(Upsample { factor, mode }), vec![x])
    }
}

pub fn nearest(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, r, w, r])
        .reshape([n, c, h * r, w * r])
}

pub fn bicubic(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [_, c, _, _] = x.dims();
    let taps = phase_taps(r);
    // Output channel ch*r*r + i*r + j holds phase (i, j) of input channel ch.
    let mut weights = Vec::with_capacity(c * r * r * 25);
    for _ in 0..c {
        for ty in &taps {
            for tx in &taps {
                for a in ty {
                    weights.extend(tx.iter().map(|b| a * b));
                }
            }
        }
    }
    let device = x.device();
    let weight = Tensor::<4>::from_data(TensorData::new(weights, [c * r * r, 1, 5, 5]), &device);
    let padded = x.pad([(2, 2), (2, 2)], PadMode::Edge);
    let phases = conv2d(padded, weight, None, ConvOptions::new([1, 1], [0, 0], [1, 1], c));
    pixel_shuffle(phases, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::bicubic::resize_plane;
    use burn::tensor::Device;

    #[test]
    fn bicubic_equals_the_cpu_resize() {
        let device = Device::flex();
        let (w, h) = (7, 5);
        let plane: Vec<f32> = (0..w * h).map(|i| ((i * 31) % 17) as f32 / 16.0).collect();
        for r in 2..=4 {
            let x = Tensor::<4>::from_data(TensorData::new(plane.clone(), [1, 1, h, w]), &device);
            let gpu = bicubic(x, r).into_data();
            let cpu = resize_plane(&plane, w, h, w * r, h * r);
            for (a, b) in gpu.as_slice::<f32>().unwrap().iter().zip(&cpu) {
                assert!((a - b).abs() < 1e-5, "r={r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn nearest_repeats_pixels() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2., 3., 4.], [1, 1, 2, 2]), &device);
        let out = nearest(x, 2).into_data();
        assert_eq!(
            out.as_slice::<f32>().unwrap(),
            &[1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]
        );
    }
}
