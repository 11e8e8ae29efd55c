//! The fused convolution: conv + bias + activation in one pass over NCHW tensors, for the
//! small channel counts SR networks use. Burn's own route for a convolution (without
//! autotune, its direct kernel) permutes the input and the weights to NHWC, convolves, and
//! leaves an NHWC result that the next operation copies back, then runs the activation as
//! another pass: four or five passes over memory per layer, each a kernel launch. Here the
//! weights are packed once when the model loads, the input is read where it lies (crops
//! and other views by their strides, the image's edge as zeros), and each invocation
//! computes a row of 4 output pixels for 8 output channels, so every input value it loads
//! feeds up to 8 x `kw` multiply-adds and every weight vector 4.
//!
//! The shader (`conv.wgsl`) is filled in per kernel size and activation, with the taps
//! unrolled.

use std::collections::HashMap;

use burn::backend::wgpu::{WgpuSetup, wgpu};
use burn::tensor::Tensor;

use super::{bind, flush, primitive};
use crate::error::{Error, Result};
use crate::graph::fuse::{Activation, fused_convs};
use crate::graph::{ConvKernels, Graph, NodeId};

/// Output pixels along a row per invocation.
const PIXELS: usize = 4;
/// Groups of 4 output channels per invocation where there are more than 4 (a layer of 4,
/// like RDN's growth layers, takes 1: a second group would compute zeros).
const GROUPS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    kh: usize,
    kw: usize,
    act: Activation,
    /// Groups of 4 output channels per invocation: 1 or [`GROUPS`].
    groups: usize,
}

/// The kernel's WGSL, beside this file; [`shader`] fills in one kernel size.
const TEMPLATE: &str = include_str!("conv.wgsl");

/// WGSL for one kernel size and activation: the template's constants, and its marked
/// places filled with the taps, accumulators and stores unrolled.
fn shader(key: Key) -> String {
    let Key { kh, kw, act, groups: gs } = key;
    let span = kw + PIXELS - 1;
    let mut taps = String::new();
    for i in 0..span {
        taps += &format!("      let v{i} = ld(base, iy, ix0 + {i});\n");
    }
    for kx in 0..kw {
        for g in 0..gs {
            taps += &format!("      let w{g}_{kx} = w[wi + ({g}u * KH + ky) * KW + {kx}u];\n");
        }
    }
    for kx in 0..kw {
        for g in 0..gs {
            for p in 0..PIXELS {
                taps += &format!("      a{g}{p} += w{g}_{kx} * v{};\n", kx + p);
            }
        }
    }
    let mut accumulators = String::new();
    let mut stores = String::new();
    for g in 0..gs {
        for p in 0..PIXELS {
            accumulators += &format!("  var a{g}{p} = b[min(g0 + {g}u, p.groups - 1u)];\n");
            stores += &format!("  put(n, g0 + {g}u, oy, ox + {p}u, act(a{g}{p}, g0 + {g}u));\n");
        }
    }
    let activation = match act {
        Activation::None => 0,
        Activation::Relu => 1,
        Activation::Prelu => 2,
    };
    let constants = format!(
        "const KH: u32 = {kh}u;\nconst KW: u32 = {kw}u;\nconst PIXELS: u32 = {PIXELS}u;\nconst GROUPS: u32 = {gs}u;\n\
         const PER_C: u32 = {}u;\nconst ACTIVATION: u32 = {activation}u;\n",
        gs * kh * kw
    );
    let fill = |src: &str, mark: &str, code: &str| {
        let at = src.find(mark).map(|i| i + src[i..].find('\n').unwrap_or(src.len() - i));
        match at {
            Some(end) => format!("{}{code}{}", &src[..end + 1], &src[end + 1..]),
            None => src.to_string(),
        }
    };
    let src = fill(TEMPLATE, "// @accumulators", &accumulators);
    let src = fill(&src, "// @taps", &taps);
    constants + &fill(&src, "// @stores", &stores)
}

/// One convolution's packed parameters.
struct Packed {
    key: Key,
    activation_node: Option<NodeId>,
    in_c: usize,
    out_c: usize,
    kernel: [usize; 2],
    /// `[out blocks][in][key.groups][kh][kw]` vec4s over 4 output channels, zero past the last.
    weights: wgpu::Buffer,
    /// Bias vec4s per group of 4 channels, then the PReLU slopes the same way.
    bias: wgpu::Buffer,
}

/// The network's convolutions, packed for the fused shader, with a pipeline per kernel
/// size and activation they use.
pub struct FusedConvs {
    setup: WgpuSetup,
    convs: HashMap<NodeId, Packed>,
    pipelines: HashMap<Key, wgpu::ComputePipeline>,
}

impl std::fmt::Debug for FusedConvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusedConvs").field("convs", &self.convs.len()).field("pipelines", &self.pipelines.len()).finish()
    }
}

fn buffer(setup: &WgpuSetup, label: &str, values: &[f32]) -> wgpu::Buffer {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let buffer = setup.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.len().max(16) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    setup.queue.write_buffer(&buffer, 0, &bytes);
    buffer
}

impl FusedConvs {
    /// Packs every convolution of `graph` (values in `graph.params` order).
    pub fn new(setup: &WgpuSetup, graph: &Graph, values: &[Vec<f32>]) -> Result<Self> {
        let mut convs = HashMap::new();
        let mut pipelines = HashMap::new();
        for conv in fused_convs(graph, values) {
            let (oc, ic, kernel, act) = (conv.out_c, conv.in_c, conv.kernel, conv.act);
            let gs = if oc <= 4 { 1 } else { GROUPS };
            let key = Key { kh: kernel[0], kw: kernel[1], act, groups: gs };
            let blocks = oc.div_ceil(4 * gs);
            let taps = kernel[0] * kernel[1];
            let w = conv.weight;
            let mut packed = vec![0f32; blocks * ic * gs * taps * 4];
            for o in 0..oc {
                let (block, g, lane) = (o / (4 * gs), (o / 4) % gs, o % 4);
                for i in 0..ic {
                    for t in 0..taps {
                        packed[(((block * ic + i) * gs + g) * taps + t) * 4 + lane] = w[(o * ic + i) * taps + t];
                    }
                }
            }
            // Bias vec4s per group of 4 channels, then the PReLU slopes the same way.
            let groups = oc.div_ceil(4);
            let mut side = vec![0f32; 2 * groups * 4];
            side[..oc].copy_from_slice(&conv.bias);
            side[groups * 4..groups * 4 + conv.slopes.len()].copy_from_slice(&conv.slopes);
            pipelines.entry(key).or_insert_with(|| {
                let module = setup.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some("ticketsr fused conv"),
                    source: wgpu::ShaderSource::Wgsl(shader(key).into()),
                });
                setup.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("ticketsr fused conv"),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
            });
            convs.insert(
                conv.id,
                Packed {
                    activation_node: conv.activation_node,
                    key,
                    in_c: ic,
                    out_c: oc,
                    kernel,
                    weights: buffer(setup, &format!("{} weights", conv.name), &packed),
                    bias: buffer(setup, &format!("{} bias", conv.name), &side),
                },
            );
        }
        Ok(Self { setup: setup.clone(), convs, pipelines })
    }
}

impl ConvKernels for FusedConvs {
    /// Whether node `id` is a convolution this runs, and the activation node it takes in.
    fn fused_activation(&self, id: NodeId) -> Option<Option<NodeId>> {
        Some(self.convs.get(&id)?.activation_node)
    }

    /// Convolves node `id`'s input `x`, whose pixel `(0, 0)` the output's pixel `(0, 0)`
    /// is `shift` (x, y) pixels before, keeping `out` (width, height) pixels; what lies
    /// outside `x` reads as zero (the image's edge).
    fn run(&self, id: NodeId, x: Tensor<4>, shift: [usize; 2], out: [usize; 2]) -> Result<Tensor<4>> {
        let packed = self.convs.get(&id).ok_or_else(|| Error::model(format!("node {id} is not a packed convolution")))?;
        let [n, c, h, w] = x.dims();
        if c != packed.in_c {
            return Err(Error::model(format!("node {id} takes {} channels, got {c}", packed.in_c)));
        }
        let [ow, oh] = out;
        let device = x.device();
        let x = primitive(x)?;
        let y = primitive(Tensor::<4>::empty([n, packed.out_c, oh, ow], &device))?;
        flush(&x)?;
        let align = self.setup.device.limits().min_storage_buffer_offset_alignment as u64;
        let (bx, by) = (bind(&x, align)?, bind(&y, align)?);
        let s = x.meta.strides();
        let [kh, kw] = packed.kernel;
        let groups = packed.out_c.div_ceil(4);
        let blocks = packed.out_c.div_ceil(4 * packed.key.groups);
        let words: [u32; 16] = [
            c as u32,
            packed.out_c as u32,
            h as u32,
            w as u32,
            oh as u32,
            ow as u32,
            (shift[1] as i32 - (kh / 2) as i32) as u32,
            (shift[0] as i32 - (kw / 2) as i32) as u32,
            bx.first,
            s[0] as u32,
            s[1] as u32,
            s[2] as u32,
            s[3] as u32,
            by.first,
            groups as u32,
            blocks as u32,
        ];
        let d = &self.setup.device;
        let params = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ticketsr conv params"),
            size: 64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.setup.queue.write_buffer(&params, 0, &words.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>());
        let pipeline = &self.pipelines[&packed.key];
        let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ticketsr fused conv"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: bx.binding() },
                wgpu::BindGroupEntry { binding: 1, resource: packed.weights.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: packed.bias.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: by.binding() },
                wgpu::BindGroupEntry { binding: 4, resource: params.as_entire_binding() },
            ],
        });
        let z = n * blocks;
        let limit = d.limits().max_compute_workgroups_per_dimension as usize;
        let (gx, gy) = (ow.div_ceil(PIXELS).div_ceil(8), oh.div_ceil(8));
        if gx > limit || gy > limit || z > limit {
            return Err(Error::Backend(format!("a {ow}x{oh}x{n} convolution is more than one dispatch can cover")));
        }
        let mut encoder = d.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(gx as u32, gy as u32, z as u32);
        }
        self.setup.queue.submit([encoder.finish()]);
        drop(x);
        Ok(Tensor::from_primitive::<burn::backend::Wgpu>(y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shader_unrolls_every_tap_for_every_pixel() {
        let src = shader(Key { kh: 3, kw: 5, act: Activation::Prelu, groups: GROUPS });
        // Each row loads kw + PIXELS - 1 inputs and does kw * GROUPS * PIXELS vec4 FMAs.
        assert_eq!(src.matches("= ld(").count(), 5 + PIXELS - 1);
        assert_eq!(src.matches(" += w").count(), 5 * GROUPS * PIXELS);
        assert_eq!(src.matches("put(n, g0").count(), GROUPS * PIXELS);
        assert!(src.contains("const KH: u32 = 3u;") && src.contains("const ACTIVATION: u32 = 2u;"));
    }

    /// On Vulkan (lavapipe here): the fused kernel gives the plain path's output.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn fused_equals_the_plain_path() {
        let Ok(backend) = pollster::block_on(crate::Backend::acquire(crate::BackendChoice::Gpu)) else {
            panic!("no Vulkan adapter: scripts/setup.sh installs lavapipe");
        };
        let setup = backend.wgpu.clone().unwrap();
        crate::graph::fuse::check::equals_the_plain_path(&backend.device, |m| FusedConvs::new(&setup, &m.graph, &m.values).unwrap());
    }
}
