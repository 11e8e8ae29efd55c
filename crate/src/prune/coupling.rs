//! Which channels of a graph must be removed together, read off the graph rather than
//! assumed per architecture. Every channel of every node is a slot; element-wise ops tie a
//! slot to the same channel of their input, `add` ties the same channel of all its inputs
//! (a residual stream is one set of channels however many convolutions write to it),
//! `concat` ties each input's channels to its range of the output, and a pixel shuffle
//! ties each output channel to its `r^2` input channels. The connected slots form a class:
//! one prunable channel. Classes that reach the input or the output (the RGB channels, and
//! through the last pixel shuffle the `3 r^2` channels before it) are fixed.

use crate::error::Result;
use crate::graph::ops::Channels;
use crate::graph::{Graph, NodeId, Op};

/// The channel classes of a graph.
#[derive(Clone, Debug)]
pub struct Coupling {
    /// For every node, the class of each of its channels; `None` for a fixed channel.
    pub slots: Vec<Vec<Option<usize>>>,
    /// For every class, the convolution output channels that write it (node, channel).
    pub producers: Vec<Vec<(NodeId, usize)>>,
    /// For every class, its layer: the first convolution that writes it. Budgets, floors
    /// and the per-layer chart count channels per layer.
    pub layer_of: Vec<NodeId>,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut a: usize) -> usize {
        while self.0[a] != a {
            self.0[a] = self.0[self.0[a]];
            a = self.0[a];
        }
        a
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

impl Coupling {
    pub fn of(graph: &Graph) -> Result<Self> {
        let shapes = graph.analyze()?.shapes;
        let mut offset = Vec::with_capacity(shapes.len());
        let mut total = 0;
        for s in &shapes {
            offset.push(total);
            total += s.channels;
        }
        let slot = |node: NodeId, c: usize| offset[node] + c;
        let mut uf = UnionFind((0..total).collect());
        for (id, node) in graph.nodes.iter().enumerate() {
            let n = shapes[id].channels;
            match node.op.operator().channels() {
                Channels::Own => {}
                Channels::Same => {
                    for &i in &node.inputs {
                        (0..n).for_each(|c| uf.union(slot(id, c), slot(i, c)));
                    }
                }
                Channels::Concatenated => {
                    let mut at = 0;
                    for &i in &node.inputs {
                        (0..shapes[i].channels).for_each(|c| uf.union(slot(id, at + c), slot(i, c)));
                        at += shapes[i].channels;
                    }
                }
                Channels::Grouped { size, contiguous } => {
                    let source = |c: usize, k: usize| if contiguous { c * size + k } else { k * n + c };
                    for &i in &node.inputs {
                        for c in 0..n {
                            (0..size).for_each(|k| uf.union(slot(id, c), slot(i, source(c, k))));
                        }
                    }
                }
            }
        }
        let mut fixed = vec![false; total];
        for (id, node) in graph.nodes.iter().enumerate() {
            // The network's input (a node that reads no node) and output are RGB.
            if node.inputs.is_empty() || id == graph.output {
                (0..shapes[id].channels).for_each(|c| fixed[uf.find(slot(id, c))] = true);
            }
        }
        // Classes in the order their first convolution writes them.
        let mut class_of_root = vec![None; total];
        let (mut producers, mut layer_of) = (Vec::new(), Vec::new());
        for (id, node) in graph.nodes.iter().enumerate() {
            if let Op::Conv2d(conv) = &node.op {
                for c in 0..conv.out_channels {
                    let root = uf.find(slot(id, c));
                    if fixed[root] {
                        continue;
                    }
                    let class = *class_of_root[root].get_or_insert_with(|| {
                        producers.push(Vec::new());
                        layer_of.push(id);
                        producers.len() - 1
                    });
                    producers[class].push((id, c));
                }
            }
        }
        let slots = (0..graph.nodes.len())
            .map(|id| (0..shapes[id].channels).map(|c| class_of_root[uf.find(slot(id, c))]).collect())
            .collect();
        Ok(Self { slots, producers, layer_of })
    }

    pub fn classes(&self) -> usize {
        self.producers.len()
    }

    /// The layers (first-writer convolutions) in graph order, each with its classes.
    pub fn layers(&self) -> Vec<(NodeId, Vec<usize>)> {
        let mut layers: Vec<(NodeId, Vec<usize>)> = Vec::new();
        for (class, &layer) in self.layer_of.iter().enumerate() {
            match layers.iter_mut().find(|(l, _)| *l == layer) {
                Some((_, classes)) => classes.push(class),
                None => layers.push((layer, vec![class])),
            }
        }
        layers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;
    use crate::model::wdsr::{self, WdsrConfig};

    #[test]
    fn residual_streams_are_one_set_of_channels_and_the_output_is_fixed() {
        let g = wdsr::graph(WdsrConfig { scale: 2, blocks: 3, channels: 6, expansion: 2 }).unwrap();
        let c = Coupling::of(&g).unwrap();
        let node = |name: &str| g.nodes.iter().position(|n| n.name == name).unwrap();
        // head and every block's second conv write the same 6 classes; each block's wide
        // conv has 12 of its own; tail and skip feed the shuffle to RGB, so they are fixed.
        let stream: Vec<_> = c.slots[node("head.0")].clone();
        for i in 0..3 {
            assert_eq!(c.slots[node(&format!("body.{i}.body.2"))], stream);
            assert_eq!(c.slots[node(&format!("body.{i}.add"))], stream);
            assert!(c.slots[node(&format!("body.{i}.body.0"))].iter().all(|s| s.is_some_and(|s| !stream.contains(&Some(s)))));
        }
        assert!(c.slots[node("tail.0")].iter().chain(&c.slots[node("skip.0")]).all(Option::is_none));
        assert_eq!(c.classes(), 6 + 3 * 12);
        assert_eq!(c.layers().len(), 4);
        let head = c.slots[node("head.0")][0].unwrap();
        assert_eq!(c.producers[head].len(), 4);
    }

    #[test]
    fn concat_maps_ranges_and_an_inner_pixel_shuffle_groups_its_inputs() {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let a = b.conv("a", x, 3, 4, 3, true);
        let p = b.conv("p", x, 3, 2, 3, true);
        let cat = b.concat("cat", vec![a, p]);
        let up = b.conv("up", cat, 6, 8, 3, true);
        let sh = b.pixel_shuffle("shuffle", up, 2);
        let out = b.conv("out", sh, 2, 3, 3, true);
        let g = b.finish(out);
        let c = Coupling::of(&g).unwrap();
        assert_eq!(&c.slots[cat][..4], &c.slots[a][..]);
        assert_eq!(&c.slots[cat][4..], &c.slots[p][..]);
        // The shuffle's two output channels each tie four of `up`'s channels.
        assert_eq!(c.slots[up][0..4], [c.slots[sh][0]; 4]);
        assert_eq!(c.slots[up][4..8], [c.slots[sh][1]; 4]);
        assert_eq!(c.producers[c.slots[sh][1].unwrap()], (4..8).map(|k| (up, k)).collect::<Vec<_>>());
        assert!(c.slots[out].iter().all(Option::is_none));
        assert_eq!(c.classes(), 4 + 2 + 2);
    }
}
