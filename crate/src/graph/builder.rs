//! Builds graphs with parameter names derived from layer names, so loaders and architecture
//! builders agree on naming (`{layer}.weight`, `{layer}.bias`). Each operator adds its own
//! method (`conv`, `relu`, ...) in its file under `ops/`.

use super::{Graph, Node, NodeId, Op, ParamId, ParamSpec};

#[derive(Default)]
pub struct GraphBuilder {
    params: Vec<ParamSpec>,
    nodes: Vec<Node>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parameter of this name and shape, for an operator's builder method (`ops/*.rs`).
    pub(super) fn param(&mut self, name: String, shape: Vec<usize>) -> ParamId {
        self.params.push(ParamSpec { name, shape });
        self.params.len() - 1
    }

    pub fn node(&mut self, name: impl Into<String>, op: Op, inputs: Vec<NodeId>) -> NodeId {
        self.nodes.push(Node { name: name.into(), op, inputs });
        self.nodes.len() - 1
    }

    pub fn finish(self, output: NodeId) -> Graph {
        Graph { params: self.params, nodes: self.nodes, output }
    }
}
