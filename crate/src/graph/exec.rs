//! The one executor: runs a [`Graph`] on burn tensors on any device. Parameters are burn
//! `Param`s inside a `Module`, so the same network runs for inference and trains under
//! burn's autodiff.

use burn::module::{Module, Param};
use burn::tensor::activation::{prelu, relu, tanh};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Analysis, Graph, Interpolation, Op};
use crate::error::{Error, Result};
use crate::ops::{pixel_shuffle::pixel_shuffle, resize};

/// A graph with its parameters on a device.
#[derive(Module, Debug)]
pub struct Network {
    #[module(skip)]
    graph: Graph,
    #[module(skip)]
    analysis: Analysis,
    /// Flat parameter values in `graph.params` order; reshaped where they are used.
    params: Vec<Param<Tensor<1>>>,
}

impl Network {
    /// Uploads `values` (one flat vector per `graph.params` entry) after checking the graph
    /// and every length, so nothing is allocated on the device for an invalid model.
    pub fn new(graph: Graph, values: &[Vec<f32>], device: &Device) -> Result<Self> {
        let analysis = graph.analyze()?;
        if values.len() != graph.params.len() {
            return Err(Error::model(format!(
                "graph declares {} parameters, {} given",
                graph.params.len(),
                values.len()
            )));
        }
        for (spec, v) in graph.params.iter().zip(values) {
            if spec.len() != v.len() {
                return Err(Error::model(format!(
                    "parameter `{}` of shape {:?} needs {} values, got {}",
                    spec.name,
                    spec.shape,
                    spec.len(),
                    v.len()
                )));
            }
        }
        let params = values
            .iter()
            .map(|v| Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), device)))
            .collect();
        Ok(Self { graph, analysis, params })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    pub fn scale(&self) -> usize {
        self.analysis.scale
    }

    fn param<const D: usize>(&self, id: usize) -> Tensor<D> {
        let shape: [usize; D] = std::array::from_fn(|i| self.graph.params[id].shape.get(i).copied().unwrap_or(1));
        self.params[id].val().reshape(shape)
    }

    /// Runs the network on `[n, 3, h, w]` RGB in [0, 1]; returns `[n, 3, h*s, w*s]`.
    pub fn forward(&self, input: Tensor<4>) -> Result<Tensor<4>> {
        let [_, c, h, w] = input.dims();
        if c != 3 || h == 0 || w == 0 {
            return Err(Error::InvalidArgument(format!("network input must be [n, 3, h, w], got {:?}", input.dims())));
        }
        let nodes = &self.graph.nodes;
        let mut values: Vec<Option<Tensor<4>>> = vec![None; nodes.len()];
        let mut input = Some(input);
        for (id, node) in nodes.iter().enumerate() {
            let mut args = Vec::with_capacity(node.inputs.len());
            for &i in &node.inputs {
                let v = values[i].clone().ok_or_else(|| Error::model(format!("node {i} was freed before node {id} read it")))?;
                args.push(v);
            }
            let mut args = args.into_iter();
            let mut arg = || args.next().ok_or_else(|| Error::model(format!("node {id} is missing an input")));
            let out = match &node.op {
                Op::Input => input.take().ok_or_else(|| Error::model("graph reads its input twice"))?,
                Op::Conv2d { kernel, weight, bias, .. } => {
                    let pad = [kernel[0] / 2, kernel[1] / 2];
                    let b = bias.map(|b| self.param::<1>(b));
                    conv2d(arg()?, self.param::<4>(*weight), b, ConvOptions::new([1, 1], pad, [1, 1], 1))
                }
                Op::Relu => relu(arg()?),
                Op::Prelu { alpha } => prelu(arg()?, self.param::<1>(*alpha)),
                Op::Tanh => tanh(arg()?),
                Op::Affine { scale, shift } => arg()?.mul_scalar(*scale).add_scalar(*shift),
                Op::Add => {
                    let mut acc = arg()?;
                    for _ in 1..node.inputs.len() {
                        acc = acc + arg()?;
                    }
                    acc
                }
                Op::Concat => {
                    let mut all = Vec::with_capacity(node.inputs.len());
                    for _ in 0..node.inputs.len() {
                        all.push(arg()?);
                    }
                    Tensor::cat(all, 1)
                }
                Op::PixelShuffle { factor } => pixel_shuffle(arg()?, *factor),
                Op::Upsample { factor, mode: Interpolation::Nearest } => resize::nearest(arg()?, *factor),
                Op::Upsample { factor, mode: Interpolation::Bicubic } => resize::bicubic(arg()?, *factor),
            };
            values[id] = Some(out);
            // Free what no later node reads, so peak memory follows the graph's width.
            for &i in &node.inputs {
                if self.analysis.last_use[i] == id {
                    values[i] = None;
                }
            }
        }
        values[self.graph.output].take().ok_or_else(|| Error::model("output node produced nothing"))
    }

    /// Reads every parameter back (for saving a trained or pruned network).
    pub async fn values(&self) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let data = p.val().into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
            out.push(data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))?);
        }
        Ok(out)
    }
}
