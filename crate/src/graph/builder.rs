//! Builds graphs with parameter names derived from layer names, so loaders and architecture
//! builders agree on naming (`{layer}.weight`, `{layer}.bias`).

use super::{Graph, Interpolation, Node, NodeId, Op, ParamId, ParamSpec};

#[derive(Default)]
pub struct GraphBuilder {
    params: Vec<ParamSpec>,
    nodes: Vec<Node>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    fn param(&mut self, name: String, shape: Vec<usize>) -> ParamId {
        self.params.push(ParamSpec { name, shape });
        self.params.len() - 1
    }

    pub fn node(&mut self, name: impl Into<String>, op: Op, inputs: Vec<NodeId>) -> NodeId {
        self.nodes.push(Node { name: name.into(), op, inputs });
        self.nodes.len() - 1
    }

    pub fn input(&mut self) -> NodeId {
        self.node("input", Op::Input, vec![])
    }

    /// A stride-1 "same" convolution with parameters `{name}.weight` and optionally `{name}.bias`.
    pub fn conv(
        &mut self,
        name: &str,
        x: NodeId,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        bias: bool,
    ) -> NodeId {
        let weight = self.param(
            format!("{name}.weight"),
            vec![out_channels, in_channels, kernel, kernel],
        );
        let bias = bias.then(|| self.param(format!("{name}.bias"), vec![out_channels]));
        let op = Op::Conv2d {
            in_channels,
            out_channels,
            kernel: [kernel, kernel],
            weight,
            bias,
        };
        self.node(name, op, vec![x])
    }

    pub fn relu(&mut self, name: &str, x: NodeId) -> NodeId {
        self.node(name, Op::Relu, vec![x])
    }

    pub fn prelu(&mut self, name: &str, x: NodeId, channels: usize) -> NodeId {
        let alpha = self.param(format!("{name}.alpha"), vec![channels]);
        self.node(name, Op::Prelu { alpha }, vec![x])
    }

    pub fn tanh(&mut self, name: &str, x: NodeId) -> NodeId {
        self.node(name, Op::Tanh, vec![x])
    }

    pub fn add(&mut self, name: &str, inputs: Vec<NodeId>) -> NodeId {
        self.node(name, Op::Add, inputs)
    }

    pub fn concat(&mut self, name: &str, inputs: Vec<NodeId>) -> NodeId {
        self.node(name, Op::Concat, inputs)
    }

    pub fn pixel_shuffle(&mut self, name: &str, x: NodeId, factor: usize) -> NodeId {
        self.node(name, Op::PixelShuffle { factor }, vec![x])
    }

    pub fn upsample(&mut self, name: &str, x: NodeId, factor: usize, mode: Interpolation) -> NodeId {
        self.node(name, Op::Upsample { factor, mode }, vec![x])
    }

    pub fn affine(&mut self, name: &str, x: NodeId, scale: f32, shift: f32) -> NodeId {
        self.node(name, Op::Affine { scale, shift }, vec![x])
    }

    pub fn finish(self, output: NodeId) -> Graph {
        Graph { params: self.params, nodes: self.nodes, output }
    }
}
