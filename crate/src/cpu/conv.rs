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
//!
//! Square 3x3 and 5x5 layers (nearly all of an SR network's work) go through Winograd's
//! transforms first (`cpu::winograd`): the same kernel then runs n² 1x1 convolutions of
//! the transformed blocks, 4x fewer multiply-adds for 3x3 and 2.8x fewer for 5x5.

use std::collections::HashMap;

use burn::backend::Flex;
use burn::tensor::{DType, Tensor, TensorData};
use wide::f32x4;

use crate::error::{Error, Result};
use crate::graph::fuse::{Activation, fused_convs};
use crate::graph::{ConvKernels, Graph, NodeId};

use super::winograd::{self, Transform};

/// Output channels per block: two vectors of four.
const BLOCK: usize = 8;
/// Output pixels along a row per tile: with [`BLOCK`], 8 vector accumulators, which leaves
/// registers for the weights and the input on x86's 16.
const PIXELS: usize = 4;
// `Taps::tile` reads the four pixels by name.
const _: () = assert!(PIXELS == 4);
/// The largest padded input or output (elements) of one call: a tile's are far smaller.
const MAX_PADDED: usize = 1 << 28;
/// Fewer input channels leave the transforms' cost (per input channel) too large a share.
const WINOGRAD_MIN_IN: usize = 8;
/// Transformed inputs held at once (floats): rows of blocks are transformed in bands of
/// about this size, so that they stay in cache for every block of output channels.
const WINOGRAD_BAND: usize = 1 << 16;

/// One convolution's packed parameters.
struct Packed {
    in_c: usize,
    out_c: usize,
    /// Height and width.
    kernel: [usize; 2],
    act: Activation,
    activation_node: Option<NodeId>,
    /// Square 3x3 and 5x5 layers of at least [`WINOGRAD_MIN_IN`] input channels.
    winograd: Option<Transform>,
    /// `[out blocks][tap][in][BLOCK]`, zero past the last output channel: taps are the
    /// kernel's `[kh][kw]`, or with `winograd` the n x n transformed filter's.
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
            let winograd = if kh == kw && ic >= WINOGRAD_MIN_IN { Transform::for_kernel(kh) } else { None };
            let taps = if winograd.is_some() { winograd::N * winograd::N } else { kh * kw };
            let mut weights = vec![0f32; blocks * ic * taps * BLOCK];
            for o in 0..oc {
                for i in 0..ic {
                    let filter = &conv.weight[(o * ic + i) * kh * kw..][..kh * kw];
                    let transformed = winograd.as_ref().map(|t| t.filter(filter));
                    for t in 0..taps {
                        let value = match &transformed {
                            Some(u) => u[t],
                            None => filter[t],
                        };
                        weights[(((o / BLOCK) * taps + t) * ic + i) * BLOCK + o % BLOCK] = value;
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
                winograd,
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
        // Winograd's blocks cover m x m outputs, read in groups of PIXELS; the direct
        // kernel's tiles, PIXELS outputs along a row.
        let (ph, pw) = match &p.winograd {
            Some(t) => (oh.next_multiple_of(t.m) + kh - 1, ow.next_multiple_of(t.m) + kw - 1),
            None => (oh + kh - 1, ow.next_multiple_of(PIXELS) + kw - 1),
        };
        // With Winograd, the transformed input of a band as well.
        let band = p.winograd.as_ref().map(|t| winograd_band(t, c, [oh, ow]));
        let transformed = band.map_or(Some(0), |(_, stride)| stride.checked_mul(c * winograd::N * winograd::N));
        let len = ph.checked_mul(pw).and_then(|e| e.checked_mul(c)).filter(|&e| e <= MAX_PADDED && transformed.is_some_and(|t| t <= MAX_PADDED));
        let image = p.out_c.checked_mul(oh).and_then(|e| e.checked_mul(ow));
        let (Some(len), Some(transformed), Some(image), Some(total)) = (len, transformed, image, image.and_then(|e| e.checked_mul(n)).filter(|&e| e <= MAX_PADDED)) else {
            return Err(Error::InvalidArgument(format!("a {ow}x{oh} convolution of {c} to {} channels is too large for the CPU", p.out_c)));
        };
        let mut padded = vec![0f32; len];
        // Shared by the batch's images, as `padded` is.
        let mut v = vec![0f32; transformed];
        let mut y = vec![0f32; total];
        for (b, out) in y.chunks_exact_mut(image.max(1)).enumerate() {
            source.pad(b, origin, pw, &mut padded)?;
            match (&p.winograd, band) {
                (Some(t), Some(band)) => convolve_winograd(p, t, &padded, pw, (&mut v, band), out, [oh, ow]),
                _ => convolve(p, &padded, pw, out, [oh, ow]),
            }
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
                        y[channel * plane + oy * ow + ox + k] = p.activate(channel, lanes[o / 4][o % 4]);
                    }
                }
            }
        }
    }
}

/// [`convolve`] through Winograd's transforms: bands of rows of m x m output blocks
/// ([`winograd_band`]: `band`, with `v` to hold one), whose input blocks are transformed
/// into `[tap][block][in]` (n² taps), then for each
/// group of [`PIXELS`] blocks and each block of output channels, every tap is a 1x1
/// convolution by [`Taps::tile`] (the transformed filter's tap as its weights), and the
/// n² products go back through the output transform, with bias and activation.
///
/// An output's value depends, in its last bits, on its block's whole n x n input, a few
/// pixels past its receptive field (the transforms' terms cancel there exactly only in
/// exact arithmetic): a tile or a thread's band, which reads zeros past its halo, differs
/// from the whole image's by rounding (docs/performance.md).
fn convolve_winograd(p: &Packed, t: &Transform, padded: &[f32], pw: usize, (v, band): (&mut [f32], (usize, usize)), y: &mut [f32], [oh, ow]: [usize; 2]) {
    const TAPS: usize = winograd::N * winograd::N;
    let (c, m) = (p.in_c, t.m);
    let (rows, cols) = (oh.div_ceil(m), ow.div_ceil(m));
    let (band_rows, stride) = band;
    let per_block = c * TAPS * BLOCK;
    let plane = oh * ow;
    // Per block of the group and half of the output channels, the n² products.
    let mut products = [[[f32x4::ZERO; TAPS]; 2]; PIXELS];
    let mut out = [f32x4::ZERO; 16];
    for first in (0..rows).step_by(band_rows) {
        let blocks = (rows - first).min(band_rows) * cols;
        // The input transform, four channels at a time (the last four zero-padded).
        for b in 0..blocks {
            let at = (first + b / cols) * m * pw + (b % cols) * m;
            for ch in (0..c).step_by(4) {
                let lanes = (c - ch).min(4);
                let block = &padded[at * c + ch..];
                let load = |y: usize, x: usize| {
                    let start = (y * pw + x) * c;
                    match block.get(start..start + lanes) {
                        Some(&[l0, l1, l2, l3]) => f32x4::new([l0, l1, l2, l3]),
                        Some(part) => f32x4::new(std::array::from_fn(|l| part.get(l).copied().unwrap_or(0.0))),
                        None => f32x4::ZERO,
                    }
                };
                t.input(load, |tap, value| {
                    let to = (tap * stride + b) * c + ch;
                    if let Some(x) = v.get_mut(to..to + lanes) {
                        x.copy_from_slice(&value.to_array()[..lanes]);
                    }
                });
            }
        }
        for group in (0..blocks).step_by(PIXELS) {
            for (block, weights) in p.weights.chunks_exact(per_block).enumerate() {
                for (tap, weights) in weights.chunks_exact(c * BLOCK).enumerate() {
                    let taps = Taps { padded: &v[tap * stride * c..][..stride * c], c, pw: 0, kernel: [1, 1], at: group };
                    for (k, pixel) in taps.tile(weights, [0.0; BLOCK]).into_iter().enumerate() {
                        products[k][0][tap] = pixel[0];
                        products[k][1][tap] = pixel[1];
                    }
                }
                let channels = BLOCK.min(p.out_c - block * BLOCK);
                for (k, halves) in products.iter().enumerate().take(blocks - group) {
                    let (by, bx) = ((first + (group + k) / cols) * m, ((group + k) % cols) * m);
                    for (half, product) in halves.iter().enumerate() {
                        t.output(product, &mut out);
                        for o in (half * 4..half * 4 + 4).take_while(|&o| o < channels) {
                            let channel = block * BLOCK + o;
                            let bias = p.bias[channel];
                            for oy in (by..by + m).take_while(|&oy| oy < oh) {
                                for ox in (bx..bx + m).take_while(|&ox| ox < ow) {
                                    let s = out[(oy - by) * m + ox - bx].to_array()[o % 4] + bias;
                                    y[channel * plane + oy * ow + ox] = p.activate(channel, s);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Rows of output blocks per band, and the blocks a band holds: whole groups of
/// [`PIXELS`], the last padded with zeros.
fn winograd_band(t: &Transform, c: usize, [oh, ow]: [usize; 2]) -> (usize, usize) {
    let (rows, cols) = (oh.div_ceil(t.m), ow.div_ceil(t.m));
    let band_rows = (WINOGRAD_BAND / (winograd::N * winograd::N * cols * c).max(1)).clamp(1, rows.max(1));
    (band_rows, (band_rows * cols).next_multiple_of(PIXELS))
}

impl Packed {
    #[inline]
    fn activate(&self, channel: usize, s: f32) -> f32 {
        match self.act {
            Activation::None => s,
            Activation::Relu => s.max(0.0),
            Activation::Prelu if s < 0.0 => s * self.slopes[channel],
            Activation::Prelu => s,
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

    /// An output too large for the CPU is refused before anything is allocated, by the
    /// direct kernel (3 input channels) and through Winograd's transforms (8).
    #[test]
    fn a_convolution_too_large_for_the_cpu_is_refused() {
        for c in [3, 8] {
            let mut b = crate::graph::GraphBuilder::new();
            let x = b.input();
            let y = b.conv("y", x, c, 16, 3, true);
            let graph = b.finish(y);
            let convs = CpuConvs::new(&graph, &crate::model::init::random_values(&graph, 1));
            assert_eq!(convs.convs[&y].winograd.is_some(), c >= WINOGRAD_MIN_IN);
            let input = Tensor::<4>::zeros([1, c, 4, 4], &burn::tensor::Device::flex());
            assert_eq!(convs.run(y, input.clone(), [0, 0], [4, 4]).unwrap().dims(), [1, 16, 4, 4]);
            let refused = convs.run(y, input, [0, 0], [1 << 16, 1 << 16]).unwrap_err();
            assert!(refused.to_string().contains("too large for the CPU"), "{refused}");
        }
    }
}
