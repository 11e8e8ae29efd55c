//! The CPU convolution: conv + bias + activation in one pass, with the machine's 128-bit
//! SIMD (wasm simd128 in the browser, SSE natively, through `wide`).
//!
//! Burn's CPU route for a convolution (im2col into a buffer nine times the input, a general
//! GEMM, then the activation as another pass) spends much of its time moving memory for the
//! small channel counts of SR networks. Here the input is copied once into a zero-padded,
//! channels-last buffer (which also turns a crop or view into plain rows and the image's
//! edge into zeros), the weights are packed once at load, and the inner loop runs over the
//! input channels of one tap, where input and weights both lie contiguous: each step loads
//! [`BLOCK`] output channels' weights as two vectors and one input value per pixel, and does
//! `PIXELS x BLOCK` multiply-adds in registers, as XNNPACK's indirect GEMM does.

use std::collections::HashMap;

use burn::backend::Flex;
use burn::tensor::{DType, Tensor, TensorData};
use wide::f32x4;

use crate::error::{Error, Result};
use crate::graph::fuse::{Activation, fused_convs};
use crate::graph::{ConvKernels, Graph, NodeId};

/// Output channels per block: two vectors of four.
const BLOCK: usize = 8;
/// Output pixels along a row per tile: with [`BLOCK`], 8 vector accumulators, which leaves
/// registers for the weights and the input on x86's 16.
const PIXELS: usize = 4;
// `Taps::tile` reads the four pixels by name.
const _: () = assert!(PIXELS == 4);
/// The largest padded input or output (elements) of one call: a tile's are far smaller.
const MAX_PADDED: usize = 1 << 28;

/// One convolution's packed parameters.
struct Packed {
    in_c: usize,
    out_c: usize,
    /// Height and width.
    kernel: [usize; 2],
    act: Activation,
    activation_node: Option<NodeId>,
    /// `[out blocks][kh][kw][in][BLOCK]`, zero past the last output channel.
    weights: Vec<f32>,
    /// Per output channel, `BLOCK`-padded with zeros.
    bias: Vec<f32>,
    slopes: Vec<f32>,
}

/// The network's convolutions, packed for the CPU kernel.
pub struct CpuConvs {
    convs: HashMap<NodeId, Packed>,
}

impl std::fmt::Debug for CpuConvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuConvs").field("convs", &self.convs.len()).finish()
    }
}

impl CpuConvs {
    /// Packs every convolution of `graph` (values in `graph.params` order).
    pub fn new(graph: &Graph, values: &[Vec<f32>]) -> Self {
        let mut convs = HashMap::new();
        for conv in fused_convs(graph, values) {
            let (oc, ic, [kh, kw]) = (conv.out_c, conv.in_c, conv.kernel);
            if kh == 0 || kw == 0 || ic == 0 || conv.weight.len() != oc * ic * kh * kw {
                continue;
            }
            let blocks = oc.div_ceil(BLOCK);
            let taps = kh * kw;
            let mut weights = vec![0f32; blocks * ic * taps * BLOCK];
            for o in 0..oc {
                for i in 0..ic {
                    for t in 0..taps {
                        weights[(((o / BLOCK) * taps + t) * ic + i) * BLOCK + o % BLOCK] = conv.weight[(o * ic + i) * taps + t];
                    }
                }
            }
            let mut bias = conv.bias.clone();
            bias.resize(blocks * BLOCK, 0.0);
            let packed = Packed {
                in_c: ic,
                out_c: oc,
                kernel: conv.kernel,
                act: conv.act,
                activation_node: conv.activation_node,
                weights,
                bias,
                slopes: conv.slopes,
            };
            convs.insert(conv.id, packed);
        }
        Self { convs }
    }
}

impl ConvKernels for CpuConvs {
    fn fused_activation(&self, id: NodeId) -> Option<Option<NodeId>> {
        Some(self.convs.get(&id)?.activation_node)
    }

    fn run(&self, id: NodeId, x: Tensor<4>, shift: [usize; 2], out: [usize; 2]) -> Result<Tensor<4>> {
        let p = self.convs.get(&id).ok_or_else(|| Error::model(format!("node {id} is not a packed convolution")))?;
        let [n, c, h, w] = x.dims();
        if c != p.in_c {
            return Err(Error::model(format!("node {id} takes {} channels, got {c}", p.in_c)));
        }
        let device = x.device();
        let x = x.try_into_primitive::<Flex>().map_err(|e| Error::Backend(format!("the tensor is not on the CPU: {e:?}")))?;
        if x.dtype() != DType::F32 {
            return Err(Error::Backend(format!("the CPU convolution takes f32, got {:?}", x.dtype())));
        }
        let layout = x.layout();
        let &[sb, sc, sy, sx] = layout.strides() else {
            return Err(Error::Backend(format!("the CPU convolution takes 4-d tensors, got strides {:?}", layout.strides())));
        };
        let source = Source { data: x.storage::<f32>(), start: layout.start_offset(), strides: [sb, sc, sy, sx], c, h, w };
        let [ow, oh] = out;
        let [kh, kw] = p.kernel;
        let origin = [shift[1] as isize - (kh / 2) as isize, shift[0] as isize - (kw / 2) as isize];
        let (ph, pw) = (oh + kh - 1, ow.next_multiple_of(PIXELS) + kw - 1);
        let len = ph.checked_mul(pw).and_then(|e| e.checked_mul(c)).filter(|&e| e <= MAX_PADDED);
        let image = p.out_c.checked_mul(oh).and_then(|e| e.checked_mul(ow));
        let (Some(len), Some(image), Some(total)) = (len, image, image.and_then(|e| e.checked_mul(n)).filter(|&e| e <= MAX_PADDED)) else {
            return Err(Error::InvalidArgument(format!("a {ow}x{oh} convolution of {c} to {} channels is too large for the CPU", p.out_c)));
        };
        let mut padded = vec![0f32; len];
        let mut y = vec![0f32; total];
        for (b, out) in y.chunks_exact_mut(image.max(1)).enumerate() {
            source.pad(b, origin, pw, &mut padded)?;
            convolve(p, &padded, pw, out, [oh, ow]);
        }
        drop(x);
        Ok(Tensor::from_data(TensorData::new(y, [n, p.out_c, oh, ow]), &device))
    }
}

/// A 4-d f32 view: the input tensor's storage, by its strides.
struct Source<'a> {
    data: &'a [f32],
    start: usize,
    strides: [isize; 4],
    c: usize,
    h: usize,
    w: usize,
}

impl Source<'_> {
    /// Copies image `b` into `padded` (`[ph][pw][c]`, channels last), whose pixel (0, 0)
    /// is the source's `origin` (y, x), with zeros outside the source.
    fn pad(&self, b: usize, origin: [isize; 2], pw: usize, padded: &mut [f32]) -> Result<()> {
        let [sb, sc, sy, sx] = self.strides;
        let out_of_range = || Error::Backend("the convolution's input view lies outside its storage".into());
        let c = self.c;
        padded.fill(0.0);
        // Source columns that land in a padded row: x in [x0, x1).
        let x0 = (-origin[1]).clamp(0, pw as isize) as usize;
        let x1 = (self.w as isize - origin[1]).clamp(0, pw as isize) as usize;
        for (py, row) in padded.chunks_exact_mut(pw * c).enumerate() {
            let yy = py as isize + origin[0];
            if yy < 0 || yy >= self.h as isize || x0 >= x1 {
                continue;
            }
            for ci in 0..c {
                let first = self.start as isize + b as isize * sb + ci as isize * sc + yy * sy + (x0 as isize + origin[1]) * sx;
                let last = first + (x1 - x0 - 1) as isize * sx;
                if first.min(last) < 0 || first.max(last) as usize >= self.data.len() {
                    return Err(out_of_range());
                }
                for (k, v) in row[x0 * c + ci..x1 * c].iter_mut().step_by(c).enumerate() {
                    *v = self.data[(first + k as isize * sx) as usize];
                }
            }
        }
        Ok(())
    }
}

/// All output channels of one image from its padded input (`[ph][pw][c]`) into `y`
/// (`[out_c][oh][ow]`), with bias and activation. Row by row of output, so that the input
/// rows it reads stay in cache while every block of output channels reads them.
fn convolve(p: &Packed, padded: &[f32], pw: usize, y: &mut [f32], [oh, ow]: [usize; 2]) {
    let [kh, kw] = p.kernel;
    let per_block = p.in_c * kh * kw * BLOCK;
    let plane = oh * ow;
    for oy in 0..oh {
        for (block, weights) in p.weights.chunks_exact(per_block).enumerate() {
            let bias: [f32; BLOCK] = std::array::from_fn(|o| p.bias[block * BLOCK + o]);
            let channels = BLOCK.min(p.out_c - block * BLOCK);
            for ox in (0..ow).step_by(PIXELS) {
                let taps = Taps { padded, c: p.in_c, pw, kernel: p.kernel, at: oy * pw + ox };
                let acc = taps.tile(weights, bias);
                for (k, pixel) in acc.iter().enumerate().take(ow - ox) {
                    let lanes = [pixel[0].to_array(), pixel[1].to_array()];
                    for o in 0..channels {
                        let channel = block * BLOCK + o;
                        let s = lanes[o / 4][o % 4];
                        y[channel * plane + oy * ow + ox + k] = match p.act {
                            Activation::None => s,
                            Activation::Relu => s.max(0.0),
                            Activation::Prelu if s < 0.0 => s * p.slopes[channel],
                            Activation::Prelu => s,
                        };
                    }
                }
            }
        }
    }
}

/// The padded input one output tile reads.
struct Taps<'a> {
    padded: &'a [f32],
    c: usize,
    pw: usize,
    kernel: [usize; 2],
    /// The tile's first pixel in the padded input, in pixels.
    at: usize,
}

impl Taps<'_> {
    /// [`PIXELS`] pixels of [`BLOCK`] output channels (two vectors each): for every tap, a
    /// run over the input channels, where each step loads two weight vectors and
    /// broadcasts one input value per pixel.
    #[inline(always)]
    fn tile(&self, weights: &[f32], bias: [f32; BLOCK]) -> [[f32x4; 2]; PIXELS] {
        let c = self.c;
        let halves = [f32x4::new([bias[0], bias[1], bias[2], bias[3]]), f32x4::new([bias[4], bias[5], bias[6], bias[7]])];
        let mut acc = [halves; PIXELS];
        let [kh, kw] = self.kernel;
        for (t, tap) in weights.chunks_exact(c * BLOCK).enumerate().take(kh * kw) {
            let base = (self.at + (t / kw) * self.pw + t % kw) * c;
            let pixel = |k: usize| self.padded.get(base + k * c..base + (k + 1) * c);
            let (Some(i0), Some(i1), Some(i2), Some(i3)) = (pixel(0), pixel(1), pixel(2), pixel(3)) else { continue };
            // Zipped, so that no index is checked inside the loop.
            for ((((w, &a), &b), &d), &e) in tap.chunks_exact(BLOCK).zip(i0).zip(i1).zip(i2).zip(i3) {
                let (Some(w0), Some(w1)) = (w.first_chunk::<4>(), w[4..].first_chunk::<4>()) else { continue };
                let (w0, w1) = (f32x4::new(*w0), f32x4::new(*w1));
                for (px, v) in acc.iter_mut().zip([a, b, d, e]) {
                    let v = f32x4::splat(v);
                    px[0] += w0 * v;
                    px[1] += w1 * v;
                }
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fuse::check;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn cpu_kernel_equals_the_plain_path() {
        check::equals_the_plain_path(&burn::tensor::Device::flex(), |m| CpuConvs::new(&m.graph, &m.values));
    }

    /// An output too large for the CPU is refused before anything is allocated.
    #[test]
    fn a_convolution_too_large_for_the_cpu_is_refused() {
        let mut b = crate::graph::GraphBuilder::new();
        let x = b.input();
        let y = b.conv("y", x, 3, 16, 3, true);
        let graph = b.finish(y);
        let convs = CpuConvs::new(&graph, &crate::model::init::random_values(&graph, 1));
        let input = Tensor::<4>::zeros([1, 3, 4, 4], &burn::tensor::Device::flex());
        assert_eq!(convs.run(y, input.clone(), [0, 0], [4, 4]).unwrap().dims(), [1, 16, 4, 4]);
        let refused = convs.run(y, input, [0, 0], [1 << 16, 1 << 16]).unwrap_err();
        assert!(refused.to_string().contains("too large for the CPU"), "{refused}");
    }
}
