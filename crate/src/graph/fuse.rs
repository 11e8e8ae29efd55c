//! What a fused convolution kernel takes in: each convolution of a graph with its bias and
//! the activation that can run in the same pass. The GPU kernel (`gpu::conv`) and the CPU
//! kernel (`cpu::conv`) pack these their own way; which activation may be folded, and how
//! a shared PReLU slope spreads over the channels, is decided once, here.

use super::ops::{Conv2d, Prelu};
use super::{Graph, NodeId, Op};

/// What follows the convolution in the same pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    None,
    Relu,
    Prelu,
}

/// The activation a convolution can take into its pass: the one node that reads it, when
/// that is a ReLU or PReLU.
fn fusable_activation(graph: &Graph, conv: NodeId) -> Option<(NodeId, Activation)> {
    let mut readers = graph.nodes.iter().enumerate().filter(|(_, n)| n.inputs.contains(&conv));
    let (id, node) = readers.next()?;
    if readers.next().is_some() || conv == graph.output || node.inputs.len() != 1 {
        return None;
    }
    match node.op {
        Op::Relu(_) => Some((id, Activation::Relu)),
        Op::Prelu(_) => Some((id, Activation::Prelu)),
        _ => None,
    }
}

/// One convolution as a fused kernel runs it.
pub struct FusedConv<'a> {
    pub id: NodeId,
    pub name: &'a str,
    pub in_c: usize,
    pub out_c: usize,
    /// Height and width.
    pub kernel: [usize; 2],
    /// `[out, in, kh, kw]`.
    pub weight: &'a [f32],
    /// One per output channel (zeros where the layer has none).
    pub bias: Vec<f32>,
    pub act: Activation,
    /// The activation node the pass applies, so the executor skips it.
    pub activation_node: Option<NodeId>,
    /// One PReLU slope per output channel (empty unless `act` is PReLU).
    pub slopes: Vec<f32>,
}

/// Every convolution of `graph` (parameter `values` in `graph.params` order, already
/// validated against the graph) with what follows it.
pub fn fused_convs<'a>(graph: &'a Graph, values: &'a [Vec<f32>]) -> Vec<FusedConv<'a>> {
    let mut convs = Vec::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        let Op::Conv2d(Conv2d { in_channels: in_c, out_channels: out_c, kernel, weight, bias }) = node.op else { continue };
        let (activation_node, act) = fusable_activation(graph, id).map_or((None, Activation::None), |(a, act)| (Some(a), act));
        let mut slopes = Vec::new();
        if let Some(Op::Prelu(Prelu { alpha })) = activation_node.map(|a| &graph.nodes[a].op) {
            // One shared slope (Keras' shared axes) or one per channel.
            let a = &values[*alpha];
            slopes = (0..out_c).map(|o| if a.len() == 1 { a[0] } else { a.get(o).copied().unwrap_or(0.0) }).collect();
        }
        convs.push(FusedConv {
            id,
            name: &node.name,
            in_c,
            out_c,
            kernel,
            weight: &values[weight],
            bias: (0..out_c).map(|o| bias.and_then(|b| values[b].get(o).copied()).unwrap_or(0.0)).collect(),
            act,
            activation_node,
            slopes,
        });
    }
    convs
}

/// What every fused kernel is tested against: burn's own operators on the same network.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod check {
    use burn::tensor::{Device, Tensor, TensorData};

    use crate::graph::{ConvKernels, GraphBuilder, Network, Sides};
    use crate::model::{ModelFile, ModelInfo, format, init::random_values};

    /// Every kernel size from 1 to 9, both activations, channel counts that are not
    /// multiples of 4 or 8, a convolution read by two nodes (so not fused) and one feeding
    /// a pixel shuffle.
    fn mixed() -> ModelFile {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let c1 = b.conv("c1", x, 3, 10, 5, true);
        let p1 = b.prelu("p1", c1, 10);
        let c2 = b.conv("c2", p1, 10, 7, 3, false);
        let r2 = b.relu("r2", c2);
        let c3 = b.conv("c3", r2, 7, 10, 1, true);
        let res = b.add("res", vec![c3, c1]);
        let c4 = b.conv("c4", res, 10, 12, 3, true);
        let ps = b.pixel_shuffle("ps", c4, 2);
        let c5 = b.conv("c5", ps, 3, 5, 7, true);
        let r5 = b.relu("r5", c5);
        let y = b.conv("y", r5, 5, 3, 9, true);
        let graph = b.finish(y);
        let values = random_values(&graph, 5);
        ModelFile::new(ModelInfo { name: "mixed".into(), scale: 2, ..Default::default() }, graph, values).unwrap()
    }

    /// The kernels `make` builds give the plain path's output on every bundled model and on
    /// `mixed`, whole and cropped (the executor's views), batched.
    pub fn equals_the_plain_path<K: ConvKernels>(device: &Device, make: impl Fn(&ModelFile) -> K) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/models");
        let mut models = vec![mixed()];
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "safetensors")).collect();
        files.sort();
        models.extend(files.iter().map(|f| format::from_bytes(&std::fs::read(f).unwrap()).unwrap()));
        assert!(models.len() >= 8, "bundled models missing from {}", dir.display());
        let (h, w) = (19, 22);
        let pixels: Vec<f32> = (0..2 * 3 * h * w).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect();
        for m in &models {
            let net = Network::new(m.graph.clone(), &m.values, device).unwrap();
            let kernels = make(m);
            let x = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [2, 3, h, w]), device);
            // Each new shape costs the plain path kernel compilations on lavapipe: the
            // mixed graph takes three crops, the bundled models two.
            let drops: &[Sides] = if m.info.name == "mixed" { &[[0; 4], [3, 1, 0, 2], [6, 5, 7, 4]] } else { &[[0; 4], [3, 1, 0, 2]] };
            for &drop in drops {
                let plain = net.forward_cropped(x.clone(), drop).unwrap();
                let fast = net.forward_cropped_fused(x.clone(), drop, &kernels).unwrap();
                assert_eq!(plain.dims(), fast.dims());
                let read = |t: Tensor<4>| pollster::block_on(t.into_data_async()).unwrap().try_to_vec::<f32>().unwrap();
                let (a, b) = (read(plain), read(fast));
                let worst = a.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                eprintln!("{} {drop:?}: max |fused - plain| = {worst:e}", m.info.name);
                assert!(worst < 1e-4, "{} {drop:?}: fused differs from plain by {worst}", m.info.name);
            }
        }
    }
}
