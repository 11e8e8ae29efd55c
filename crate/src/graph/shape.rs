//! Shape inference and validation. Every loader runs this before allocating a single
//! parameter, so a lying file is rejected by arithmetic on its header, not by a panic deep
//! inside a GPU kernel.

use super::ops::{Infer, Op};
use super::Graph;
use crate::error::{Error, Result};

/// Bounds that keep a hostile header from asking for absurd work or memory.
const MAX_NODES: usize = 4096;
const MAX_CHANNELS: usize = 4096;
const MAX_PARAMS: usize = 1 << 28;
/// Work per input pixel: 25 times the default model's 2.6 M.
const MAX_MACS_PER_PIXEL: u64 = 1 << 26;
/// Input pixels one output pixel may depend on, each way: every tile and patch window
/// reads this much around it (the default model: 39).
const MAX_RECEPTIVE_RADIUS: usize = 512;

/// What a node produces: its channel count and its resolution relative to the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeShape {
    pub channels: usize,
    /// Spatial size is `scale` times the input's.
    pub scale: usize,
}

/// The facts about a valid graph that execution and tiling need.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub shapes: Vec<NodeShape>,
    /// Upscaling factor of the whole network.
    pub scale: usize,
    /// How far (in input pixels, rounded up) an output pixel can see: the halo a tile needs
    /// for tiled inference to equal whole-image inference.
    pub receptive_radius: usize,
    /// For each node, the index of the last node that reads it (so the executor frees it).
    pub last_use: Vec<usize>,
    /// Multiply-accumulates per input pixel, summed over convolutions.
    pub macs_per_input_pixel: u64,
    /// For each node, how far (in output pixels) its values travel to the output through
    /// later convolutions and bicubic upsampling: what cropped execution must keep.
    pub to_output: Vec<usize>,
}

/// Per-side pixel counts: left, top, right, bottom.
pub type Sides = [usize; 4];

impl Analysis {
    /// What each node may leave out when only the output inside `drop` input pixels from
    /// each side of the input is wanted, in that node's own pixels.
    pub fn crops(&self, drop: Sides) -> Vec<Sides> {
        let s = self.scale;
        self.shapes
            .iter()
            .zip(&self.to_output)
            .map(|(shape, &reach)| {
                let unit = (s / shape.scale.max(1)).max(1);
                drop.map(|d| (d * s).saturating_sub(reach) / unit)
            })
            .collect()
    }

    /// Multiply-accumulates of a `width` x `height` input run with `drop` cropped
    /// (see [`Analysis::crops`]), from each operator's own MACs per pixel.
    pub fn macs(&self, graph: &Graph, width: usize, height: usize, drop: Sides) -> u64 {
        let crops = self.crops(drop);
        graph
            .nodes
            .iter()
            .enumerate()
            .map(|(id, node)| {
                let sc = self.shapes[id].scale;
                let c = crops[id];
                let w = (width * sc).saturating_sub(c[0] + c[2]) as u64;
                let h = (height * sc).saturating_sub(c[1] + c[3]) as u64;
                w * h * node.op.operator().macs_per_pixel()
            })
            .sum()
    }
}

fn bad(graph: &Graph, id: usize, msg: impl std::fmt::Display) -> Error {
    let name = graph.nodes.get(id).map(|n| n.name.as_str()).unwrap_or("?");
    Error::model(format!("node {id} `{name}`: {msg}"))
}

impl Graph {
    /// Checks the graph is well formed and infers every node's shape.
    pub fn analyze(&self) -> Result<Analysis> {
        if self.nodes.is_empty() || self.nodes.len() > MAX_NODES {
            return Err(Error::model(format!(
                "graph must have 1 to {MAX_NODES} nodes, has {}",
                self.nodes.len()
            )));
        }
        let total: usize = self
            .params
            .iter()
            .map(|p| p.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX))
            .fold(0usize, |a, n| a.saturating_add(n));
        if total > MAX_PARAMS {
            return Err(Error::model(format!("graph declares {total} parameters, more than {MAX_PARAMS}")));
        }
        let mut shapes: Vec<NodeShape> = Vec::with_capacity(self.nodes.len());
        // Receptive radius so far, in input pixels (fractional after upsampling).
        let mut reach: Vec<f64> = Vec::with_capacity(self.nodes.len());
        let mut last_use: Vec<usize> = (0..self.nodes.len()).collect();
        let mut macs = 0u64;
        let mut inputs_seen = 0;
        for (id, node) in self.nodes.iter().enumerate() {
            let op = node.op.operator();
            for &i in &node.inputs {
                if i >= id {
                    return Err(bad(self, id, format!("reads node {i}, which does not come before it")));
                }
                last_use[i] = id;
            }
            let arity = op.inputs();
            if !arity.contains(&node.inputs.len()) {
                let takes = match (arity.start(), arity.end()) {
                    (a, b) if a == b => format!("{a} input(s)"),
                    (a, b) => format!("{a} to {b} inputs"),
                };
                return Err(bad(self, id, format!("{} takes {takes}, got {}", op.kind(), node.inputs.len())));
            }
            inputs_seen += usize::from(matches!(node.op, Op::Input(_)));
            let inputs: Vec<NodeShape> = node.inputs.iter().map(|&i| shapes[i]).collect();
            if inputs.iter().any(|s| s.scale != inputs[0].scale) {
                return Err(bad(self, id, "inputs have different resolutions"));
            }
            let param = |p: usize| -> std::result::Result<&[usize], String> {
                self.params.get(p).map(|s| s.shape.as_slice()).ok_or_else(|| format!("names parameter {p}, which does not exist"))
            };
            let shape = op.infer(&Infer { inputs: &inputs, param: &param }).map_err(|e| bad(self, id, e))?;
            if shape.channels == 0 || shape.channels > MAX_CHANNELS {
                return Err(bad(self, id, format!("{} channels is out of range", shape.channels)));
            }
            if shape.scale > 64 {
                return Err(bad(self, id, "resolution grows beyond 64x"));
            }
            macs = macs.saturating_add(op.macs_per_pixel().saturating_mul((shape.scale * shape.scale) as u64));
            if macs > MAX_MACS_PER_PIXEL {
                return Err(bad(self, id, format!("the network needs more than {MAX_MACS_PER_PIXEL} multiply-adds per input pixel")));
            }
            let input_scale = inputs.first().map_or(1, |s| s.scale) as f64;
            let r = node.inputs.iter().map(|&i| reach[i]).fold(0.0, f64::max) + op.halo() as f64 / input_scale;
            shapes.push(shape);
            reach.push(r);
        }
        // A parameter no node reads would still be loaded and expanded: refused, so that
        // the work cap above also bounds the weights a file makes us hold.
        let mut used = vec![false; self.params.len()];
        for node in &self.nodes {
            node.op.operator().params().iter().for_each(|p| used[p.id] = true);
        }
        if let Some(p) = used.iter().position(|u| !u) {
            return Err(Error::model(format!("parameter `{}` is read by no node", self.params[p].name)));
        }
        // Parameters are stored and looked up by name: two of one name would read one
        // tensor twice, and writing them back made safetensors index out of bounds (fuzzing).
        let mut names = std::collections::HashSet::with_capacity(self.params.len());
        if let Some(p) = self.params.iter().find(|p| !names.insert(p.name.as_str())) {
            return Err(Error::model(format!("parameter `{}` is declared twice", p.name)));
        }
        if inputs_seen != 1 {
            return Err(Error::model(format!("graph must have exactly one input node, has {inputs_seen}")));
        }
        let out = *shapes
            .get(self.output)
            .ok_or_else(|| Error::model(format!("output node {} does not exist", self.output)))?;
        if out.channels != 3 {
            return Err(Error::model(format!("output has {} channels, must be 3 (RGB)", out.channels)));
        }
        last_use[self.output] = usize::MAX;
        // Backwards: a node's distance to the output is the longest way through its readers.
        let mut to_output = vec![0usize; self.nodes.len()];
        for (id, node) in self.nodes.iter().enumerate().rev() {
            let input_scale = node.inputs.first().map_or(1, |&i| shapes[i].scale);
            let own = node.op.operator().halo() * (out.scale / input_scale.max(1)).max(1);
            for &i in &node.inputs {
                to_output[i] = to_output[i].max(to_output[id] + own);
            }
        }
        let receptive_radius = reach[self.output].ceil() as usize + 1;
        if receptive_radius > MAX_RECEPTIVE_RADIUS {
            return Err(Error::model(format!("an output pixel reads {receptive_radius} input pixels each way, more than {MAX_RECEPTIVE_RADIUS}")));
        }
        Ok(Analysis {
            to_output,
            scale: out.scale,
            // One extra pixel absorbs the rounding of fractional reach after upsampling.
            receptive_radius,
            shapes,
            last_use,
            macs_per_input_pixel: macs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Interpolation};

    #[test]
    fn infers_channels_scale_and_reach() {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c = b.conv("c1", x, 3, 12, 3, true);
        let p = b.pixel_shuffle("ps", c, 2);
        let up = b.upsample("up", x, 2, Interpolation::Bicubic);
        let y = b.add("sum", vec![p, up]);
        let g = b.finish(y);
        let a = g.analyze().unwrap();
        assert_eq!(a.scale, 2);
        assert_eq!(a.shapes[p], NodeShape { channels: 3, scale: 2 });
        // max(conv 1 + shuffle 0, bicubic 2) = 2, plus one pixel of slack.
        assert_eq!(a.receptive_radius, 3);
        assert_eq!(a.macs_per_input_pixel, 3 * 12 * 9);
        assert_eq!(a.last_use[x], up);
        // In output pixels: the conv's 1 LR px is 2, bicubic's 2 LR px are 4.
        assert_eq!((a.to_output[x], a.to_output[c], a.to_output[p], a.to_output[y]), (4, 0, 0, 0));
        // Keeping all but 3 LR px per side: the input may lose floor((6 - 4) / 2) = 1 px, the
        // conv's output floor(6 / 2) = 3 px, everything at x2 6 px.
        assert_eq!(a.crops([3, 3, 0, 3])[x], [1, 1, 0, 1]);
        assert_eq!(a.crops([3, 3, 0, 3])[c], [3, 3, 0, 3]);
        assert_eq!(a.crops([3, 3, 0, 3])[y], [6, 6, 0, 6]);
        assert_eq!(a.macs(&g, 10, 10, [0; 4]), 100 * 3 * 12 * 9);
        assert_eq!(a.macs(&g, 10, 10, [3, 0, 3, 0]), 40 * 3 * 12 * 9);
    }

    #[test]
    fn rejects_mismatched_channels_and_bad_references() {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c = b.conv("c1", x, 4, 8, 3, true);
        let err = b.finish(c).analyze().unwrap_err().to_string();
        assert!(err.contains("expects 4 input channels, gets 3"), "{err}");

        let mut b = GraphBuilder::new();
        let x = b.input();
        let y = b.relu("r", x);
        let mut g = b.finish(y);
        g.nodes[1].inputs = vec![5];
        assert!(g.analyze().unwrap_err().to_string().contains("does not come before"));
    }

    #[test]
    fn rejects_lying_parameter_shapes() {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c = b.conv("c1", x, 3, 3, 3, true);
        let mut g = b.finish(c);
        g.params[0].shape = vec![3, 3, 5, 5];
        assert!(g.analyze().unwrap_err().to_string().contains("weight shape"));
        g.params[0].shape = vec![1 << 20, 1 << 20, 3, 3];
        assert!(g.analyze().unwrap_err().to_string().contains("parameters, more than"));
    }

    #[test]
    fn rejects_absurd_fan_in_work_and_reach() {
        // An addition of 300 copies of the input.
        let mut b = GraphBuilder::new();
        let x = b.input();
        let y = b.relu("r", x);
        let mut g = b.finish(y);
        g.nodes[1].op = Op::Add(crate::graph::ops::Add {});
        g.nodes[1].inputs = vec![0; 300];
        assert!(g.analyze().unwrap_err().to_string().contains("2 to 256 inputs, got 300"));
        // 80 convolutions of 15x15 kernels reach 80 * 7 = 560 pixels each way.
        let mut b = GraphBuilder::new();
        let mut y = b.input();
        for i in 0..80 {
            y = b.conv(&format!("c{i}"), y, 3, 3, 15, false);
        }
        assert!(b.finish(y).analyze().unwrap_err().to_string().contains("more than 512"));
        // Wide 15x15 layers: 4 of 512 channels are 4 * 512 * 512 * 225 = 236 M MACs per pixel.
        let mut b = GraphBuilder::new();
        let mut y = b.input();
        y = b.conv("in", y, 3, 512, 3, false);
        for i in 0..4 {
            y = b.conv(&format!("c{i}"), y, 512, 512, 15, false);
        }
        y = b.conv("out", y, 512, 3, 3, false);
        assert!(b.finish(y).analyze().unwrap_err().to_string().contains("multiply-adds per input pixel"));
        // A parameter no node reads.
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c = b.conv("c", x, 3, 3, 3, true);
        let mut g = b.finish(c);
        g.params.push(crate::graph::ParamSpec { name: "stray".into(), shape: vec![1 << 20] });
        assert!(g.analyze().unwrap_err().to_string().contains("`stray` is read by no node"));
        // An affine map that overflows f32.
        let mut b = GraphBuilder::new();
        let x = b.input();
        let y = b.affine("a", x, 1.0, 0.0);
        let mut g = b.finish(y);
        g.nodes[1].op = Op::Affine(crate::graph::ops::Affine { scale: f32::INFINITY, shift: 0.0 });
        assert!(g.analyze().unwrap_err().to_string().contains("must be finite"), "{:?}", g.analyze().err());
        // Two parameters of one name.
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c = b.conv("c", x, 3, 3, 3, true);
        let mut g = b.finish(c);
        g.params[1].name = g.params[0].name.clone();
        assert!(g.analyze().unwrap_err().to_string().contains("`c.weight` is declared twice"), "{:?}", g.analyze().err());
    }
}
