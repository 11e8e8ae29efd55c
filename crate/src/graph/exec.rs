//! The one executor: runs a [`Graph`] on burn tensors on any device. Parameters are burn
//! `Param`s inside a `Module`, so the same network runs for inference and trains under
//! burn's autodiff.

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use super::ops::{Op, Run};
use super::{Analysis, Graph, NodeId, Sides};
use crate::error::{Error, Result};

/// Kernels that run some convolutions, with the activation that follows each, faster than
/// burn's: a backend plugs them into the executor (on a GPU `gpu::conv::FusedConvs`, on the
/// CPU `cpu::conv::CpuConvs`). The graph owns the trait, so it imports no backend.
pub trait ConvKernels {
    /// Whether node `id` is a convolution run here, and the activation node it takes in.
    fn fused_activation(&self, id: NodeId) -> Option<Option<NodeId>>;

    /// Convolves node `id`'s input `x`, whose pixel `(0, 0)` the output's pixel `(0, 0)`
    /// is `shift` (x, y) pixels before, keeping `out` (width, height) pixels; what lies
    /// outside `x` reads as zero (the image's edge).
    fn run(&self, id: NodeId, x: Tensor<4>, shift: [usize; 2], out: [usize; 2]) -> Result<Tensor<4>>;
}

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
        // Ids by position, so an optimizer's saved state finds its parameters again when a
        // checkpoint is resumed into a freshly built network.
        let params = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), device);
                Param::initialized(ParamId::from(i as u64), t).set_require_grad(true)
            })
            .collect();
        Ok(Self { graph, analysis, params })
    }

    /// The network with each parameter multiplied by its mask (`None` leaves it), as fresh
    /// leaves for autodiff: how pruned weights stay pruned while training.
    pub fn masked(mut self, masks: &[Option<Tensor<1>>]) -> Self {
        self.params = self
            .params
            .into_iter()
            .zip(masks.iter().chain(std::iter::repeat(&None)))
            .map(|(p, m)| match m {
                Some(m) => p.map(|t| (t * m.clone()).detach().require_grad()),
                None => p,
            })
            .collect();
        self
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

    pub(super) fn param<const D: usize>(&self, id: usize) -> Tensor<D> {
        let shape: [usize; D] = std::array::from_fn(|i| self.graph.params[id].shape.get(i).copied().unwrap_or(1));
        self.params[id].val().reshape(shape)
    }

    /// Runs the network on `[n, 3, h, w]` RGB in [0, 1]; returns `[n, 3, h*s, w*s]`.
    pub fn forward(&self, input: Tensor<4>) -> Result<Tensor<4>> {
        self.forward_cropped(input, [0; 4])
    }

    /// Runs the network on a window of which only the output inside `drop` input pixels
    /// from each side (left, top, right, bottom) is wanted, and returns just that. Every
    /// layer computes only what the wanted output reads, so a tile's or a patch's halo
    /// shrinks layer by layer instead of being computed in full at every depth. Where a
    /// side keeps no margin the window's edge is the image's, and convolutions zero-pad
    /// there as whole-image inference does; the result equals `forward` cropped.
    pub fn forward_cropped(&self, input: Tensor<4>, drop: Sides) -> Result<Tensor<4>> {
        self.output(self.run(input, drop, None, &[self.graph.output])?)
    }

    /// The values of nodes `taps` (whole, in their own resolution) on `input`, computing no
    /// node after the last of them: what calibrating a pruned network reads.
    pub fn forward_taps(&self, input: Tensor<4>, taps: &[NodeId]) -> Result<Vec<Tensor<4>>> {
        if let Some(t) = taps.iter().find(|&&t| t >= self.graph.nodes.len()) {
            return Err(Error::InvalidArgument(format!("node {t} does not exist")));
        }
        self.run(input, [0; 4], None, taps)
    }

    /// [`Network::forward_cropped`] with the convolutions `kernels` cover (and the
    /// activations they take in) run by them instead of burn's: on a GPU, the fused kernel
    /// (`gpu::conv`), the inference hot path.
    pub fn forward_cropped_fused(&self, input: Tensor<4>, drop: Sides, kernels: &dyn ConvKernels) -> Result<Tensor<4>> {
        self.output(self.run(input, drop, Some(kernels), &[self.graph.output])?)
    }

    fn output(&self, mut values: Vec<Tensor<4>>) -> Result<Tensor<4>> {
        values.pop().ok_or_else(|| Error::model("output node produced nothing"))
    }

    /// Runs the nodes up to the last of `taps` and returns the tapped values.
    fn run(&self, input: Tensor<4>, drop: Sides, fused: Option<&dyn ConvKernels>, taps: &[NodeId]) -> Result<Vec<Tensor<4>>> {
        let [_, c, h, w] = input.dims();
        if c != 3 || h == 0 || w == 0 {
            return Err(Error::InvalidArgument(format!("network input must be [n, 3, h, w], got {:?}", input.dims())));
        }
        if drop[0] + drop[2] >= w || drop[1] + drop[3] >= h {
            return Err(Error::InvalidArgument(format!("cannot drop {drop:?} pixels from a {w}x{h} input")));
        }
        let crops = self.analysis.crops(drop);
        let nodes = &self.graph.nodes;
        // Each value with the crop it already has, in its own pixels.
        let mut values: Vec<Option<(Tensor<4>, Sides)>> = vec![None; nodes.len()];
        let mut input = Some(input);
        // Activation nodes a fused convolution has already applied.
        let mut applied = vec![false; nodes.len()];
        let last = taps.iter().copied().max().unwrap_or(0);
        for (id, node) in nodes.iter().enumerate().take(last + 1) {
            let mut args = Vec::with_capacity(node.inputs.len().max(1));
            for &i in &node.inputs {
                let v = values[i].clone().ok_or_else(|| Error::model(format!("node {i} was freed before node {id} read it")))?;
                args.push(v);
            }
            if node.inputs.is_empty() {
                // The input node reads the network's input.
                args.push((input.take().ok_or_else(|| Error::model("graph reads its input twice"))?, [0; 4]));
            }
            let want = crops[id];
            let cx = Run { args, want, network: self };
            let out = match &node.op {
                Op::Conv2d(_) if let Some((f, activation)) = fused.and_then(|f| Some((f, f.fused_activation(id)?))) => {
                    // Output pixel (0, 0) lies `want - have` pixels into the input on the
                    // left and top; the kernel reads zeros past the input's edges.
                    let (x, have) = cx.arg()?;
                    let [_, _, h, w] = x.dims();
                    let d: Sides = std::array::from_fn(|k| want[k].checked_sub(have[k]).unwrap_or(usize::MAX));
                    if d.contains(&usize::MAX) || d[0] + d[2] >= w || d[1] + d[3] >= h {
                        return Err(Error::model(format!("node {id}: crop {want:?} does not fit its input's {have:?}")));
                    }
                    if let Some(a) = activation {
                        applied[a] = true;
                    }
                    f.run(id, x, [d[0], d[1]], [w - d[0] - d[2], h - d[1] - d[3]])?
                }
                _ if applied[id] => cx.one()?,
                op => op.operator().run(cx)?,
            };
            values[id] = Some((out, want));
            // Free what no later node reads, so peak memory follows the graph's width.
            for &i in &node.inputs {
                if self.analysis.last_use[i] == id && !taps.contains(&i) {
                    values[i] = None;
                }
            }
        }
        taps.iter()
            .map(|&t| values[t].clone().map(|(y, _)| y).ok_or_else(|| Error::model(format!("node {t} produced nothing"))))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ops::crop;
    use crate::graph::{GraphBuilder, Interpolation};
    use crate::model::init::random_values;

    /// Every kind of node: 5x5 and 3x3 convolutions, a dense concat, a residual add, a
    /// pixel shuffle with a convolution after it, and a bicubic skip.
    fn mixed() -> Graph {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c1 = b.conv("c1", x, 3, 8, 5, true);
        let r1 = b.relu("r1", c1);
        let c2 = b.conv("c2", r1, 8, 8, 3, true);
        let cat = b.concat("cat", vec![r1, c2]);
        let c3 = b.conv("c3", cat, 16, 8, 1, true);
        let res = b.add("res", vec![c3, r1]);
        let c4 = b.conv("c4", res, 8, 12, 3, true);
        let ps = b.pixel_shuffle("ps", c4, 2);
        let c5 = b.conv("c5", ps, 3, 3, 3, true);
        let up = b.upsample("up", x, 2, Interpolation::Bicubic);
        let y = b.add("y", vec![c5, up]);
        b.finish(y)
    }

    #[test]
    fn cropped_execution_equals_the_cropped_full_output() {
        let graph = mixed();
        let device = Device::flex();
        let net = Network::new(graph.clone(), &random_values(&graph, 3), &device).unwrap();
        let (h, w) = (23, 31);
        let pixels: Vec<f32> = (0..2 * 3 * h * w).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [2, 3, h, w]), &device);
        let full = net.forward(x.clone()).unwrap();
        let r = net.analysis().receptive_radius;
        // No margin, margins below and above the receptive radius, one side at a time.
        for drop in [[0, 0, 0, 0], [r, r, r, r], [2, 0, 5, 1], [r + 3, 1, 0, r], [0, 9, 12, 0], [1, 1, 1, 1]] {
            let got = net.forward_cropped(x.clone(), drop).unwrap();
            let want = crop(full.clone(), drop.map(|d| d * 2));
            assert_eq!(got.dims(), want.dims(), "{drop:?}");
            let diff: f32 = (got - want).abs().max().into_scalar();
            assert!(diff < 1e-5, "{drop:?}: max difference {diff}");
        }
        assert!(net.forward_cropped(x, [16, 0, 15, 0]).is_err());
    }
}
