//! The convolution natively on the CPU, forward and backward, without im2col: the input (and
//! for the backward pass the output's gradient) is laid out once with every image
//! zero-padded to the same padded plane, side by side (`[channels] x [images · padded
//! pixels]`). In that layout a tap `(ky, kx)` is a shift by `ky · padded width + kx` along
//! the pixels, so each tap is one GEMM over plain strided views of those buffers:
//!
//! - output: `Y += W[:, :, ky, kx] · X_shifted` (`[out] x [in]` by `[in] x [pixels]`);
//! - weight gradient: `gW[:, :, ky, kx] = G · X_shiftedᵀ`;
//! - input gradient: `gX += W[:, :, ky, kx]ᵀ · G_shifted`, gathered rather than scattered,
//!   so the threads write disjoint outputs.
//!
//! The padded columns and rows cost about 13% more multiply-adds than a 32x32 patch's pixels
//! (34x34) and save building the nine-times-larger columns matrix. burn's CPU backend builds
//! it for the forward pass; its backward pass takes a convolution whose kernel is the whole
//! output gradient for the weights, and a transposed convolution for the input. With those,
//! a training step took several times PyTorch's (docs/overfitting.md), and native CPU
//! inference took 1.6-1.9x this module's time (docs/performance.md). The GEMMs are the
//! `gemm` crate's, which burn's CPU backend uses too. In wasm the CPU path has its own
//! inference kernel (`cpu::conv`) and does not train.

use burn::backend::Flex;
use burn::backend::ops::ModuleOps;
use burn::tensor::TensorData;
use burn_flex::FlexTensor;
use gemm::Parallelism;
use rayon::prelude::*;

use crate::graph::conv_autodiff::{ConvGradients, Grads, Operands, TrainableConv, burn_grads};
use crate::graph::ops::conv_options;

/// The float32 values of contiguous copies of `tensors` (`None` for another type), passed to
/// `f`.
fn with_values<const N: usize, R>(tensors: [&FlexTensor; N], f: impl FnOnce([&[f32]; N]) -> R) -> Option<R> {
    let contiguous = tensors.map(|t| t.to_contiguous());
    let values = contiguous.each_ref().map(|t| t.as_slice::<f32>());
    values.iter().all(Option::is_some).then(|| f(values.map(|v| v.unwrap_or_default())))
}

fn dims(t: &FlexTensor) -> Option<[usize; 4]> {
    <[usize; 4]>::try_from(t.layout().shape().as_slice()).ok()
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl TrainableConv for Flex {
    fn conv2d_trainable(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, padding: [usize; 2]) -> FlexTensor {
        let geometry = dims(&x).zip(dims(&weight)).and_then(|(xs, ws)| Geometry::forward(xs, ws, padding));
        let bias_fits = Some(bias.layout().shape().as_slice()) == weight.layout().shape().as_slice().get(..1);
        let out = geometry.filter(|_| bias_fits).and_then(|g| {
            with_values([&x, &weight, &bias], |[x, w, b]| tensor(convolve(&g, x, w, b), vec![g.batch, g.cout, g.oh, g.ow]))
        });
        out.unwrap_or_else(|| Self::conv2d(x, weight, Some(bias), conv_options(padding)))
    }
}

impl ConvGradients for Flex {
    fn conv2d_grads(operands: Operands<Self>, grad: FlexTensor, padding: [usize; 2], want: [bool; 3]) -> Grads<Self> {
        let geometry = match [&operands.x, &operands.weight, &grad].map(dims) {
            [Some(x), Some(w), Some(g)] => Geometry::new(x, w, g, padding),
            _ => None,
        };
        let computed = geometry.and_then(|g| {
            with_values([&operands.x, &operands.weight, &grad], |[x, w, go]| {
                let [gx, gw, gb] = gradients(&g, x, w, go, want);
                [
                    gx.map(|v| tensor(v, vec![g.batch, g.cin, g.h, g.w])),
                    gw.map(|v| tensor(v, vec![g.cout, g.cin, g.kh, g.kw])),
                    gb.map(|v| tensor(v, vec![g.cout])),
                ]
            })
        });
        computed.unwrap_or_else(|| burn_grads::<Self>(operands, grad, padding, want))
    }
}

/// The sizes of a stride-1 convolution (`[batch, in, h, w]` by `[out, in, kh, kw]` with zero
/// padding `(ph, pw)` gives `[batch, out, oh, ow]`) and of the padded layout.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    kh: usize,
    kw: usize,
    ph: usize,
    pw: usize,
    oh: usize,
    ow: usize,
    /// The padded plane's width and size.
    wp: usize,
    plane: usize,
    /// The farthest tap's shift, `(kh - 1) · wp + kw - 1`: the zeros after the input's
    /// pixels and before the gradient's, so that every shifted view stays in its buffer.
    margin: usize,
    /// One channel's length in both padded buffers: `batch · plane + margin`.
    stride: usize,
}

impl Geometry {
    /// `None` where the shapes disagree, a size is zero or a buffer's length would overflow.
    fn new([batch, cin, h, w]: [usize; 4], [cout, wcin, kh, kw]: [usize; 4], [gb, gc, oh, ow]: [usize; 4], [ph, pw]: [usize; 2]) -> Option<Self> {
        let nonzero = [batch, cin, h, w, cout, kh, kw].iter().all(|&d| d > 0);
        let hp = h.checked_add(ph.checked_mul(2)?)?;
        let wp = w.checked_add(pw.checked_mul(2)?)?;
        let fits = nonzero && (hp.checked_sub(kh).map(|d| d + 1), wp.checked_sub(kw).map(|d| d + 1)) == (Some(oh), Some(ow)) && (gb, gc, wcin) == (batch, cout, cin);
        let plane = hp.checked_mul(wp)?;
        let margin = (kh - 1).checked_mul(wp)?.checked_add(kw - 1)?;
        let stride = batch.checked_mul(plane)?.checked_add(margin)?;
        // Every buffer's length, checked once here so the loops below index in range, and
        // every stride gemm takes, as an isize.
        let lens: [&[usize]; 5] = [&[batch, cin, h, w], &[batch, cout, oh, ow], &[cin.max(cout), stride], &[cout, cin, kh, kw], &[cin, plane, batch]];
        let products = lens.iter().all(|l| l.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).and_then(|n| isize::try_from(n).ok()).is_some());
        (fits && products).then_some(Self { batch, cin, h, w, cout, kh, kw, ph, pw, oh, ow, wp, plane, margin, stride })
    }

    /// The geometry of `[batch, in, h, w]` convolved by `[out, in, kh, kw]` with `padding`.
    fn forward(x: [usize; 4], w: [usize; 4], [ph, pw]: [usize; 2]) -> Option<Self> {
        let out = |n: usize, p: usize, k: usize| n.checked_add(p.checked_mul(2)?)?.checked_sub(k).map(|d| d + 1);
        Self::new(x, w, [x[0], w[0], out(x[2], ph, w[2])?, out(x[3], pw, w[3])?], [ph, pw])
    }

    fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// The shift of tap `t` along the padded pixels.
    fn shift(&self, t: usize) -> usize {
        t / self.kw * self.wp + t % self.kw
    }

    /// `[channels] x [stride]`: image `b`'s channel `c` as a padded plane at
    /// `c · stride + at + b · plane`, with `rows x cols` of its values placed at `(top, left)`.
    fn padded(&self, values: &[f32], channels: usize, (rows, cols): (usize, usize), (top, left): (usize, usize), at: usize) -> Vec<f32> {
        let mut out = vec![0.0; channels * self.stride];
        out.par_chunks_mut(self.stride).enumerate().for_each(|(c, channel)| {
            for b in 0..self.batch {
                let image = &values[(b * channels + c) * rows * cols..][..rows * cols];
                let plane = &mut channel[at + b * self.plane..][..self.plane];
                for (y, row) in image.chunks_exact(cols).enumerate() {
                    plane[(top + y) * self.wp + left..][..cols].copy_from_slice(row);
                }
            }
        });
        out
    }
}

/// A matrix in a slice: element `(i, j)` at `i * rs + j * cs`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

/// Whether a `rows x cols` matrix with strides `(rs, cs)` lies inside `len` values.
fn holds(len: usize, (rows, cols): (usize, usize), (rs, cs): (usize, usize)) -> bool {
    rows == 0 || cols == 0 || (rows - 1).checked_mul(rs).zip((cols - 1).checked_mul(cs)).and_then(|(a, b)| a.checked_add(b)).is_some_and(|last| last < len)
}

/// `dst (m x n, strides dst_s) = lhs (m x k) · rhs (k x n)`, plus `dst` if `accumulate`.
fn matmul(dst: &mut [f32], dst_s: (usize, usize), accumulate: bool, (m, n, k): (usize, usize, usize), lhs: View, rhs: View) {
    let strides = [dst_s.0, dst_s.1, lhs.rs, lhs.cs, rhs.rs, rhs.cs];
    let fits = holds(dst.len(), (m, n), dst_s)
        && holds(lhs.data.len(), (m, k), (lhs.rs, lhs.cs))
        && holds(rhs.data.len(), (k, n), (rhs.rs, rhs.cs))
        && strides.iter().chain(&[m, n, k]).all(|&v| isize::try_from(v).is_ok());
    assert!(fits, "conv_gemm::matmul: operands smaller than their sizes");
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: gemm reads lhs at i * rs + l * cs for i < m, l < k (rhs likewise) and writes
    // dst at i * rs + j * cs for i < m, j < n: `holds` puts every such index inside its
    // slice, and the isize conversions cannot wrap. `dst` is borrowed mutably, so it overlaps
    // neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_s.1 as isize,
            dst_s.0 as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Per tap `t`, `filters(t) · source` shifted to `at(t)`, summed over the taps: `m` output
/// channels from `k` channels of a padded buffer, over every padded pixel, in bands of
/// padded rows split over the threads (so that one image, in inference, uses them all).
/// Both the convolution and its input gradient are this, with their own filters and shifts.
struct Bands {
    /// Padded rows per band (the last may have fewer), output channels and row width.
    rows: usize,
    channels: usize,
    wp: usize,
    /// Each band's `[channels] x [its rows · wp]` values.
    values: Vec<Vec<f32>>,
}

impl Bands {
    fn new<'a>(g: &Geometry, (m, k): (usize, usize), source: &[f32], at: impl Fn(usize) -> usize + Sync, filters: impl Fn(usize) -> View<'a> + Sync) -> Self {
        let total = g.batch * g.plane / g.wp;
        let rows = total.div_ceil(2 * rayon::current_num_threads().max(1));
        let values = (0..total.div_ceil(rows))
            .into_par_iter()
            .map(|i| {
                let (first, len) = (i * rows * g.wp, rows.min(total - i * rows) * g.wp);
                let mut d = vec![0.0; m * len];
                for t in 0..g.taps() {
                    let shifted = View { data: &source[at(t) + first..], rs: g.stride, cs: 1 };
                    matmul(&mut d, (len, 1), t > 0, (m, len, k), filters(t), shifted);
                }
                d
            })
            .collect();
        Self { rows, channels: m, wp: g.wp, values }
    }

    /// Channel `c`'s padded row `r` (counting across the images): `wp` values.
    fn row(&self, c: usize, r: usize) -> &[f32] {
        let band = &self.values[r / self.rows];
        &band[c * (band.len() / self.channels) + r % self.rows * self.wp..][..self.wp]
    }
}

/// The convolution of contiguous NCHW `x` by OIHW `weight` plus `bias`.
fn convolve(g: &Geometry, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let taps = g.taps();
    let xp = g.padded(x, g.cin, (g.h, g.w), (g.ph, g.pw), 0);
    let bands = Bands::new(g, (g.cout, g.cin), &xp, |t| g.shift(t), |t| View { data: &weight[t..], rs: g.cin * taps, cs: taps });
    let mut out = vec![0.0; g.batch * g.cout * g.oh * g.ow];
    out.par_chunks_mut(g.oh * g.ow).enumerate().for_each(|(i, channel)| {
        let (b, co) = (i / g.cout, i % g.cout);
        for (oy, row) in channel.chunks_exact_mut(g.ow).enumerate() {
            for (o, v) in row.iter_mut().zip(bands.row(co, b * g.plane / g.wp + oy)) {
                *o = v + bias[co];
            }
        }
    });
    out
}

/// The gradients of input, weight and bias (those `want` names), from contiguous NCHW `x`,
/// OIHW `weight` and the output's gradient `grad`, whose lengths `g` has checked.
fn gradients(g: &Geometry, x: &[f32], weight: &[f32], grad: &[f32], want: [bool; 3]) -> [Option<Vec<f32>>; 3] {
    let (taps, pixels) = (g.taps(), g.batch * g.plane);
    // The output's gradient with the zeros of the padded layout: a shifted read of it that
    // falls outside an image's outputs reads zero.
    let gp = g.padded(grad, g.cout, (g.oh, g.ow), (0, 0), g.margin);
    let go = View { data: &gp[g.margin..], rs: g.stride, cs: 1 };
    let gw = want[1].then(|| {
        let xp = g.padded(x, g.cin, (g.h, g.w), (g.ph, g.pw), 0);
        let per_tap: Vec<Vec<f32>> = (0..taps)
            .into_par_iter()
            .map(|t| {
                let mut d = vec![0.0; g.cout * g.cin];
                let shifted = View { data: &xp[g.shift(t)..], rs: 1, cs: g.stride };
                matmul(&mut d, (g.cin, 1), false, (g.cout, g.cin, pixels), go, shifted);
                d
            })
            .collect();
        let mut gw = vec![0.0; g.cout * g.cin * taps];
        for (t, d) in per_tap.iter().enumerate() {
            for (slot, v) in gw.iter_mut().skip(t).step_by(taps).zip(d) {
                *slot = *v;
            }
        }
        gw
    });
    let gb = want[2].then(|| {
        let mut gb = vec![0.0; g.cout];
        for (i, plane) in grad.chunks_exact(g.oh * g.ow).enumerate() {
            gb[i % g.cout] += plane.iter().sum::<f32>();
        }
        gb
    });
    let gx = want[0].then(|| {
        // Gathered: input pixel n takes, per tap, the output gradient at n - shift.
        let bands = Bands::new(g, (g.cin, g.cout), &gp, |t| g.margin - g.shift(t), |t| View { data: &weight[t..], rs: taps, cs: g.cin * taps });
        let mut gx = vec![0.0; g.batch * g.cin * g.h * g.w];
        gx.par_chunks_mut(g.h * g.w).enumerate().for_each(|(i, channel)| {
            let (b, c) = (i / g.cin, i % g.cin);
            for (y, row) in channel.chunks_exact_mut(g.w).enumerate() {
                row.copy_from_slice(&bands.row(c, b * g.plane / g.wp + y + g.ph)[g.pw..][..g.w]);
            }
        });
        gx
    });
    [gx, gw, gb]
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use crate::graph::conv_autodiff;

    /// The convolution and its gradients equal burn's, for kernels of 1x1 to 5x5, "same"
    /// and no padding, one image and several, and an image narrower than the kernel's reach.
    #[test]
    fn cpu_convolution_and_gradients_equal_burns() {
        let device = Device::flex().autodiff();
        for (batch, cin, cout, (h, w), (kh, kw), pad) in [
            (2, 3, 5, (7, 6), (3, 3), [1, 1]),
            (3, 4, 2, (5, 9), (1, 1), [0, 0]),
            (1, 2, 3, (6, 5), (5, 3), [2, 1]),
            (2, 3, 4, (8, 7), (3, 3), [0, 0]),
            (1, 2, 2, (2, 2), (5, 5), [2, 2]),
            (5, 3, 4, (6, 6), (3, 3), [1, 1]),
            (1, 4, 3, (16, 12), (3, 3), [1, 1]),
        ] {
            let make = |shape: [usize; 4]| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device).require_grad();
            let (x, weight) = (make([batch, cin, h, w]), make([cout, cin, kh, kw]));
            let bias = Tensor::<1>::random([cout], Distribution::Normal(0.0, 1.0), &device).require_grad();
            let probe = Tensor::<4>::random([batch, cout, h + 2 * pad[0] + 1 - kh, w + 2 * pad[1] + 1 - kw], Distribution::Normal(0.0, 1.0), &device);
            let ours = conv_autodiff::conv2d(x.clone(), weight.clone(), bias.clone(), pad);
            let theirs = burn::tensor::module::conv2d(x.clone(), weight.clone(), Some(bias.clone()), crate::graph::ops::conv_options(pad));
            let worst = |a: Tensor<4>, b: Tensor<4>| (a - b).abs().max().into_scalar::<f32>();
            assert!(worst(ours.clone(), theirs.clone()) < 1e-4, "output, {cin}->{cout} {kh}x{kw} pad {pad:?}");
            let (ours, theirs) = ((ours * probe.clone()).sum().backward(), (theirs * probe).sum().backward());
            assert!(worst(x.grad(&ours).unwrap(), x.grad(&theirs).unwrap()) < 1e-4, "input gradient, {cin}->{cout} {kh}x{kw} pad {pad:?}");
            assert!(worst(weight.grad(&ours).unwrap(), weight.grad(&theirs).unwrap()) < 1e-3, "weight gradient, {cin}->{cout} {kh}x{kw} pad {pad:?}");
            let gb = (bias.grad(&ours).unwrap() - bias.grad(&theirs).unwrap()).abs().max().into_scalar::<f32>();
            assert!(gb < 1e-3, "bias gradient, {cin}->{cout} {kh}x{kw} pad {pad:?}");
        }
    }
}
