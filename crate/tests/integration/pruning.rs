//! Channel pruning on every bundled model, checked on the graph rather than per
//! architecture: coupled channels go together, the pruned model loads, runs at its output
//! size, and saved and reloaded gives the same output.

use crate::common;

use ticketsr::graph::ops::Channels;
use ticketsr::model::{ModelFile, format};
use ticketsr::prune::channel::{self, ChannelConfig, Criterion};
use ticketsr::prune::coupling::Coupling;
use ticketsr::{Backend, RgbaImage, Silent, Upscaler};

const MODELS: [&str; 5] = [
    "upscalerjs-rdn-x2",
    "upscalerjs-psnr-small-x2",
    "ticketsr-wdsr-b-x2",
    "ticketsr-wdsr-b-x4",
    "ticketsr-espcn-x2",
];

fn bundled(name: &str) -> ModelFile {
    format::from_bytes(&common::read(common::repo().join(format!("web/models/{name}.safetensors")))).unwrap()
}

fn run(model: &ModelFile, img: &RgbaImage) -> RgbaImage {
    let up = Upscaler::new(model, Backend::cpu()).unwrap();
    pollster::block_on(up.upscale(img, &mut Silent)).unwrap()
}

#[test]
fn coupled_channels_are_removed_together_in_every_bundled_graph() {
    for name in MODELS {
        let m = bundled(name);
        let coupling = Coupling::of(&m.graph).unwrap();
        for criterion in [Criterion::L1, Criterion::Leverage] {
            let removed = channel::choose(&m, &coupling, &ChannelConfig { criterion, ..ChannelConfig::new(0.5) }).unwrap();
            let keep = channel::kept(&coupling, &removed);
            let shapes = m.graph.analyze().unwrap().shapes;
            for (id, node) in m.graph.nodes.iter().enumerate() {
                let at = |k: usize| &keep[node.inputs[k]];
                match node.op.operator().channels() {
                    // Element-wise: the same channels on both sides; an add: in every input.
                    Channels::Same => {
                        for k in 0..node.inputs.len() {
                            assert_eq!(at(k), &keep[id], "{name}: `{}` input {k}", node.name);
                        }
                    }
                    // A concat keeps each input's channels at its offset.
                    Channels::Concatenated => {
                        let mut offset = 0;
                        let mut expect = Vec::new();
                        for k in 0..node.inputs.len() {
                            expect.extend(at(k).iter().map(|c| c + offset));
                            offset += shapes[node.inputs[k]].channels;
                        }
                        assert_eq!(expect, keep[id], "{name}: `{}`", node.name);
                    }
                    // A pixel shuffle keeps whole groups of r^2 input channels.
                    Channels::Grouped { size, contiguous } => {
                        let n = shapes[id].channels;
                        let mut expect: Vec<usize> =
                            keep[id].iter().flat_map(|&c| (0..size).map(move |k| if contiguous { c * size + k } else { k * n + c })).collect();
                        expect.sort();
                        assert_eq!(at(0), &expect, "{name}: `{}`", node.name);
                    }
                    Channels::Own => {}
                }
            }
            // The RGB input and output are never cut.
            assert_eq!(keep[0].len(), 3);
            assert_eq!(keep[m.graph.output].len(), 3);
            let share = removed.iter().filter(|r| **r).count() as f64 / removed.len() as f64;
            assert!((0.4..=0.6).contains(&share), "{name}: {share} of the channels go");
        }
    }
}

#[test]
fn half_the_channels_pruned_every_bundled_model_loads_runs_and_reloads_the_same() {
    let img = RgbaImage::new(20, 14, (0..20 * 14 * 4).map(|i| (i * 53 % 256) as u8).collect()).unwrap();
    for name in MODELS {
        let m = bundled(name);
        let pruned = channel::prune(&m, &ChannelConfig::new(0.5)).unwrap();
        let ratio = pruned.graph.parameter_count() as f64 / m.graph.parameter_count() as f64;
        let bytes = format::to_bytes(&pruned).unwrap();
        let reloaded = format::from_bytes(&bytes).unwrap();
        assert_eq!(reloaded, pruned);
        let (a, b) = (run(&pruned, &img), run(&reloaded, &img));
        let s = m.info.scale;
        assert_eq!((a.width, a.height), (20 * s, 14 * s), "{name}");
        assert_eq!(a.data, b.data, "{name}");
        println!("{name}: 50% of channels pruned keeps {:.0}% of the parameters, file {} bytes", ratio * 100.0, bytes.len());
        assert!(ratio < 0.5, "{name}: {ratio}");
    }
}
