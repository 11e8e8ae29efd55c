//! Data-aware channel pruning: what a layer computes on real images decides which
//! channels go and how the layers that read them are re-fitted, before any training.
//!
//! The weight criteria of [`super::channel`] collapse these small SR networks (ESPCN and
//! RDN fall to about 10 dB at 25%, docs/pruning.md): they never look at what a channel
//! carries. Here, as in ThiNet (Luo et al. 2017) and He et al. 2017:
//!
//! 1. **Choose** on the dense network's activations for calibration images: removing a
//!    set of channels changes each reading convolution's output by the sum of those
//!    channels' contributions (their means folded into its bias). With every reader's input
//!    covariance the squared change of any set is a quadratic form, so channels are removed
//!    greedily (ThiNet's order), each time the one that adds least to the summed relative
//!    error of all readers, cross terms included; the order is the score that the budget,
//!    floor and multiple of [`super::channel::choose_by`] use.
//! 2. **Re-fit**, in graph order, every convolution whose input changed: its weights and
//!    bias by ridge least squares so that, on the pruned network's own input (errors of
//!    earlier layers included), it reproduces the dense network's output.

use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::DMatrix;

use super::channel::{self, ChannelConfig, Criterion};
use super::coupling::Coupling;
use crate::error::{Error, Result};
use crate::graph::ops::Conv2d;
use crate::graph::{NodeId, Op};
use crate::imaging::{Region, RgbaImage};
use crate::model::ModelFile;

/// Crops the calibration cuts: enough positions (48 x 32^2 = 49,152) for the longest
/// filters of the bundled models (UpscalerJS RDN's 5x5 over 56 channels: 1,400 weights, 35
/// positions each; with 12 crops its re-fit overfitted them and lost 0.2 dB more at 50%),
/// few enough that a re-fit is a small solve and every activation fits in memory.
const CROPS: usize = 48;
const CROP: usize = 32;
/// Filters longer than this are not re-fitted: the normal equations grow with its square.
const MAX_FILTER: usize = 4096;
/// Ridge towards the sliced weights, relative to the mean input energy.
const RIDGE: f64 = 1e-3;

/// Calibration inputs: crops of the images the network will upscale, on a device.
pub struct Calibration {
    input: Tensor<4>,
}

impl Calibration {
    /// Up to [`CROPS`] crops of [`CROP`] px (or each image's smaller side, at least 8),
    /// spread over a grid of each image, taken from the images in turn.
    pub fn new(images: &[RgbaImage], device: &Device) -> Result<Self> {
        let side = images.iter().map(|i| i.width.min(i.height)).min().unwrap_or(0).min(CROP);
        if side < 8 {
            return Err(Error::InvalidArgument("calibration needs at least one image, each at least 8x8 pixels".into()));
        }
        let grids: Vec<Vec<Region>> = images
            .iter()
            .map(|img| {
                let (nx, ny) = (img.width / side, img.height / side);
                let at = |i: usize, n: usize, len: usize| if n > 1 { i * (len - side) / (n - 1) } else { 0 };
                (0..ny * nx).map(|k| Region { x: at(k % nx, nx, img.width), y: at(k / nx, ny, img.height), width: side, height: side }).collect()
            })
            .collect();
        // Each grid in a spread order (every s-th crop, then the ones after those, ...), and
        // the k-th crop of every image before any image's (k+1)-th.
        let spread: Vec<Vec<Region>> = grids
            .iter()
            .map(|g| {
                let s = (g.len() / CROPS.div_ceil(images.len())).max(1);
                (0..s).flat_map(|r| g.iter().skip(r).step_by(s).copied()).collect()
            })
            .collect();
        let longest = spread.iter().map(Vec::len).max().unwrap_or(0);
        let chosen: Vec<(&RgbaImage, Region)> =
            (0..longest).flat_map(|k| images.iter().zip(&spread).filter_map(move |(img, g)| Some((img, *g.get(k)?)))).take(CROPS).collect();
        let n = chosen.len();
        let planes: Vec<f32> = chosen.into_iter().flat_map(|(img, region)| img.planes(region)).collect();
        let input = Tensor::<4>::from_data(TensorData::new(planes, [n, 3, side, side]), device);
        Ok(Self { input })
    }
}

/// A node's value read back: the statistics are computed on the CPU, where they are a few
/// matrix products. On a GPU burn's matmul would bring its matmul kernels (4 MB) into the
/// wasm, and cutting taps there compiles a kernel per shape (SwiftShader: seconds each).
async fn read(t: Tensor<4>) -> Result<(Vec<f32>, [usize; 4])> {
    let dims = t.dims();
    let data = t.into_data_async().await.map_err(|e| Error::Backend(format!("reading calibration activations failed: {e:?}")))?;
    Ok((data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))?, dims))
}

/// A convolution's input as rows of its filters' inputs: `[positions, in x kh x kw]`, in
/// the weights' order, zero past the edges.
fn features((x, [n, c, h, w]): &(Vec<f32>, [usize; 4]), conv: &Conv2d) -> DMatrix<f32> {
    let [kh, kw] = conv.kernel;
    DMatrix::from_fn(n * h * w, c * kh * kw, |r, col| {
        let (b, y, x0) = (r / (h * w), r / w % h, r % w);
        let (ch, t) = (col / (kh * kw), col % (kh * kw));
        let (sy, sx) = ((y + t / kw).checked_sub(kh / 2), (x0 + t % kw).checked_sub(kw / 2));
        match (sy, sx) {
            (Some(sy), Some(sx)) if sy < *h && sx < *w => x[((b * c + ch) * h + sy) * w + sx],
            _ => 0.0,
        }
    })
}

/// A node's value as rows of channels: `[positions, channels]`.
fn rows((y, [n, c, h, w]): &(Vec<f32>, [usize; 4])) -> DMatrix<f32> {
    DMatrix::from_fn(n * h * w, *c, |r, ch| y[(r / (h * w) * c + ch) * h * w + r % (h * w)])
}

/// Every column's mean, which is then subtracted from it.
fn centre(m: &mut DMatrix<f32>) -> Vec<f64> {
    let n = m.nrows().max(1) as f64;
    m.column_iter_mut()
        .map(|mut col| {
            let mean = col.iter().map(|&v| v as f64).sum::<f64>() / n;
            col.add_scalar_mut(-mean as f32);
            mean
        })
        .collect()
}

/// Means and covariance of a convolution's input features, centred before the product:
/// activations of networks that work in 0..255 have means far above their spread, and
/// `E[x x] - E[x] E[x]` in f32 would cancel to noise (RDN fell to 13 dB).
struct Moments {
    mean: Vec<f64>,
    cov: DMatrix<f64>,
    /// The features minus their means, for products with targets.
    centred: DMatrix<f32>,
}

fn moments(mut centred: DMatrix<f32>) -> Moments {
    let mean = centre(&mut centred);
    let n = centred.nrows().max(1) as f64;
    // Transposed then multiplied: `*` runs matrixmultiply's gemm, `tr_mul` a dot per entry.
    let cov = (centred.transpose() * &centred).map(|v| v as f64) / n;
    Moments { mean, cov, centred }
}

fn filter_len_ok(model: &ModelFile, conv: &Conv2d) -> Result<()> {
    if conv.filter_len() > MAX_FILTER {
        return Err(Error::InvalidArgument(format!(
            "{}: filters of {} weights are longer than the {MAX_FILTER} a re-fit solves for",
            model.info.name,
            conv.filter_len()
        )));
    }
    Ok(())
}

/// The readers of every class's channels, with the covariance-weighted effect of removing
/// any two of them together: the removal error of a set `S` is the sum over readers of
/// `sum_{k,l in S} e[k][l]`, relative to that reader's output energy.
struct Reader {
    classes: Vec<usize>,
    /// `classes x classes`, row-major.
    e: Vec<f64>,
}

/// ThiNet's greedy order over all classes: each next the one whose removal, with those
/// already removed, adds least to the summed relative error. Returns each class's place.
fn greedy_order(readers: &[Reader], classes: usize) -> Vec<f64> {
    let mut at: Vec<Vec<(usize, usize)>> = vec![Vec::new(); classes];
    for (r, reader) in readers.iter().enumerate() {
        reader.classes.iter().enumerate().for_each(|(i, &k)| at[k].push((r, i)));
    }
    let mut inc: Vec<f64> = (0..classes).map(|k| at[k].iter().map(|&(r, i)| readers[r].e[i * readers[r].classes.len() + i]).sum()).collect();
    let mut place = vec![f64::NAN; classes];
    for step in 0..classes {
        let Some(best) = (0..classes).filter(|&k| place[k].is_nan()).min_by(|&a, &b| inc[a].total_cmp(&inc[b])) else { break };
        place[best] = step as f64;
        for &(r, i) in &at[best] {
            let reader = &readers[r];
            let m = reader.classes.len();
            reader.classes.iter().enumerate().for_each(|(j, &k)| inc[k] += 2.0 * reader.e[j * m + i]);
        }
    }
    place
}

/// Every convolution's reader statistics on the dense network.
async fn readers(model: &ModelFile, coupling: &Coupling, calibration: &Calibration, device: &Device) -> Result<Vec<Reader>> {
    let net = model.network(device)?;
    let convs: Vec<(NodeId, &Conv2d)> = model.graph.nodes.iter().enumerate().filter_map(|(id, n)| if let Op::Conv2d(c) = &n.op { Some((id, c)) } else { None }).collect();
    let mut out = Vec::new();
    for (id, conv) in convs {
        let input = model.graph.nodes[id].inputs[0];
        let slots = &coupling.slots[input];
        if slots.iter().all(Option::is_none) {
            continue;
        }
        filter_len_ok(model, conv)?;
        let x = read(net.forward_taps(calibration.input.clone(), &[input])?.remove(0)).await?;
        let m = moments(features(&x, conv));
        let f = conv.filter_len();
        // The covariance of the features and W^T W: their elementwise product summed over a
        // block of two channels' taps is what removing both changes the output by.
        let cov = m.cov;
        let w = DMatrix::from_row_slice(conv.out_channels, f, &model.values[conv.weight].iter().map(|&v| v as f64).collect::<Vec<_>>());
        let p = (w.transpose() * w).component_mul(&cov);
        let energy = p.sum();
        if energy <= 0.0 {
            continue;
        }
        let taps = conv.kernel[0] * conv.kernel[1];
        let mut classes: Vec<usize> = slots.iter().flatten().copied().collect();
        classes.sort_unstable();
        classes.dedup();
        let index = |k: usize| classes.binary_search(&k).unwrap_or(0);
        let mut e = vec![0.0; classes.len() * classes.len()];
        for (i, ki) in slots.iter().enumerate() {
            for (j, kj) in slots.iter().enumerate() {
                let (Some(ki), Some(kj)) = (ki, kj) else { continue };
                let block: f64 = (0..taps).flat_map(|a| (0..taps).map(move |b| (a, b))).map(|(a, b)| p[(i * taps + a, j * taps + b)]).sum();
                e[index(*ki) * classes.len() + index(*kj)] += block / energy;
            }
        }
        out.push(Reader { classes, e });
    }
    Ok(out)
}

/// Which classes to remove: the greedy order on calibration activations under `config`'s
/// budget, floor and multiple.
pub async fn choose(model: &ModelFile, coupling: &Coupling, config: &ChannelConfig, calibration: &Calibration, device: &Device) -> Result<Vec<bool>> {
    let readers = readers(model, coupling, calibration, device).await?;
    channel::choose_by(coupling, config, &greedy_order(&readers, coupling.classes()))
}

/// Solves `(A + l I) x = B + l X0` for the ridge `l` relative to `A`'s mean diagonal,
/// growing it until `A` is positive definite (a channel that is zero on every crop).
fn ridge_solve(a: DMatrix<f64>, b: DMatrix<f64>, x0: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let scale = a.diagonal().mean().max(1e-12);
    let mut l = RIDGE * scale;
    for _ in 0..8 {
        let reg = &a + DMatrix::identity(a.nrows(), a.ncols()) * l;
        if let Some(c) = reg.cholesky() {
            return Some(c.solve(&(&b + x0 * l)));
        }
        l *= 10.0;
    }
    None
}

/// Re-fits every convolution of `pruned` (sliced from `model` keeping `keep`) whose input
/// is not the dense network's, in graph order, to the dense network's output.
async fn refit(model: &ModelFile, pruned: &mut ModelFile, keep: &[Vec<usize>], calibration: &Calibration, device: &Device) -> Result<()> {
    let dense = model.network(device)?;
    let shapes = model.graph.analyze()?.shapes;
    let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); model.graph.nodes.len()];
    for (id, node) in model.graph.nodes.iter().enumerate() {
        node.inputs.iter().for_each(|&i| readers[i].push(id));
    }
    // Whether a node's kept channels differ from the dense network's.
    let mut changed = vec![false; model.graph.nodes.len()];
    for (id, node) in model.graph.nodes.iter().enumerate() {
        let inputs_changed = node.inputs.iter().any(|&i| changed[i]);
        let Op::Conv2d(conv) = &node.op else {
            changed[id] = inputs_changed;
            continue;
        };
        let input = node.inputs[0];
        if !inputs_changed && keep[input].len() == shapes[input].channels {
            continue;
        }
        changed[id] = true;
        filter_len_ok(model, conv)?;
        let Op::Conv2d(small) = &pruned.graph.nodes[id].op else { return Err(Error::model("slicing changed an operator")) };
        let small = small.clone();
        let kept = &keep[id];
        // A convolution whose only reader adds it to a residual stream computed before it
        // is fitted to what the stream needs, the dense sum minus the pruned network's other
        // terms, so the stream's error does not build up block after block (RDN's blocks).
        let residual = match readers[id].as_slice() {
            &[r] if matches!(model.graph.nodes[r].op, Op::Add(_)) && model.graph.nodes[r].inputs.iter().all(|&i| i <= id) => Some(r),
            _ => None,
        };
        let others: Vec<NodeId> = residual.map(|r| model.graph.nodes[r].inputs.iter().copied().filter(|&i| i != id).collect()).unwrap_or_default();
        let mut taps = pruned.network(device)?.forward_taps(calibration.input.clone(), &[&[input][..], &others].concat())?.into_iter();
        let x = taps.next().ok_or_else(|| Error::model("no calibration input"))?;
        let whole = rows(&read(dense.forward_taps(calibration.input.clone(), &[residual.unwrap_or(id)])?.remove(0)).await?);
        let mut y = DMatrix::from_fn(whole.nrows(), kept.len(), |r, c| whole[(r, kept[c])]);
        for other in taps {
            y -= rows(&read(other).await?);
        }
        let m = moments(features(&read(x).await?, &small));
        let y_mean = centre(&mut y);
        // Positions at this node's resolution (after an upsampling, scale^2 per input pixel).
        let n = y.nrows().max(1) as f64;
        let xy = (m.centred.transpose() * &y).map(|v| v as f64) / n;
        let f = small.filter_len();
        let w0 = &pruned.values[small.weight];
        let x0 = DMatrix::from_fn(f, kept.len(), |r, c| w0[c * f + r] as f64);
        // The normal equations: with a bias, of the centred features (the bias then takes
        // the means' difference); without, of the raw ones. One column per kept output.
        let b = DMatrix::from_fn(f, kept.len(), |r, c| xy[(r, c)]);
        let a = match small.bias {
            Some(_) => m.cov,
            None => &m.cov + DMatrix::from_fn(f, f, |r, c| m.mean[r] * m.mean[c]),
        };
        let b = match small.bias {
            Some(_) => b,
            None => b + DMatrix::from_fn(f, kept.len(), |r, c| m.mean[r] * y_mean[c]),
        };
        let Some(w) = ridge_solve(a, b, &x0) else { continue };
        pruned.values[small.weight] = (0..kept.len() * f).map(|i| w[(i % f, i / f)] as f32).collect();
        if let Some(b) = small.bias {
            pruned.values[b] = (0..kept.len()).map(|c| y_mean[c] - (0..f).map(|r| w[(r, c)] * m.mean[r]).sum::<f64>()).map(|v| v as f32).collect();
        }
    }
    Ok(())
}

/// Channel pruning on calibration images (`config.criterion` must be
/// [`Criterion::Reconstruction`]): classes chosen greedily, sliced out, readers re-fitted.
pub async fn prune(model: &ModelFile, config: &ChannelConfig, images: &[RgbaImage], device: &Device) -> Result<ModelFile> {
    if config.criterion != Criterion::Reconstruction {
        return Err(Error::InvalidArgument(format!("calibrated pruning uses the reconstruction criterion, not {:?}", config.criterion)));
    }
    let calibration = Calibration::new(images, device)?;
    let coupling = Coupling::of(&model.graph)?;
    let removed = choose(model, &coupling, config, &calibration, device).await?;
    let mut pruned = channel::slice(model, &coupling, &removed)?;
    refit(model, &mut pruned, &channel::kept(&coupling, &removed), &calibration, device).await?;
    channel::drop_moved_grids(&mut pruned);
    pruned.validate()?;
    let share = removed.iter().filter(|r| **r).count() as f64 / removed.len().max(1) as f64;
    pruned.info.notes = format!(
        "{:.0}% of channels pruned on {} calibration crops (greedy reconstruction, {:?} budget, floor {}; readers re-fitted by least squares). {}",
        share * 100.0,
        calibration.input.dims()[0],
        config.budget,
        config.floor,
        model.info.notes
    );
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::prune::small_wdsr as wdsr;

    fn image(w: usize, h: usize, seed: usize) -> RgbaImage {
        let px = (0..w * h).flat_map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let v = |f: f32, g: f32| ((x * f + seed as f32).sin() * (y * g).cos() * 100.0 + 128.0) as u8;
            [v(0.3, 0.17), v(0.11, 0.4), v(0.5, 0.07), 255]
        });
        RgbaImage::new(w, h, px.collect()).unwrap()
    }

    /// The network's output on a held-out image, before rounding to bytes.
    fn output(model: &ModelFile) -> Vec<f32> {
        let device = Backend::cpu().device;
        let img = image(21, 17, 9);
        let x = Tensor::<4>::from_data(TensorData::new(img.planes(Region { x: 0, y: 0, width: 21, height: 17 }), [1, 3, 17, 21]), &device);
        let y = model.network(&device).unwrap().forward(x).unwrap();
        pollster::block_on(y.into_data_async()).unwrap().try_to_vec::<f32>().unwrap()
    }

    fn mse(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn a_duplicated_channel_is_merged_into_its_twin_by_the_refit() {
        // Wide channel 5 of one block repeats channel 2 (same filter and bias, so the same
        // activation): slicing it out and re-fitting the reader gives its weights to the
        // twin, and the output stays the dense one, which is only possible if the refit
        // reads features in the weights' order.
        let device = Backend::cpu().device;
        let mut m = wdsr();
        let coupling = Coupling::of(&m.graph).unwrap();
        let node = m.graph.nodes.iter().position(|n| n.name == "body.1.body.0").unwrap();
        let Op::Conv2d(Conv2d { weight, bias: Some(bias), .. }) = m.graph.nodes[node].op else { panic!() };
        let len = m.values[weight].len() / 16;
        let twin = m.values[weight][2 * len..][..len].to_vec();
        m.values[weight][5 * len..][..len].copy_from_slice(&twin);
        m.values[bias][5] = m.values[bias][2];
        let mut removed = vec![false; coupling.classes()];
        removed[coupling.slots[node][5].unwrap()] = true;
        let sliced = channel::slice(&m, &coupling, &removed).unwrap();
        let mut refitted = sliced.clone();
        let calibration = Calibration::new(&[image(40, 36, 1), image(33, 40, 2)], &device).unwrap();
        pollster::block_on(refit(&m, &mut refitted, &channel::kept(&coupling, &removed), &calibration, &device)).unwrap();
        let dense = output(&m);
        let (before, after) = (mse(&output(&sliced), &dense), mse(&output(&refitted), &dense));
        assert!(after < 1e-5 && after < before / 1e3, "sliced {before:e}, re-fitted {after:e}");
    }

    #[test]
    fn reconstruction_keeps_closer_to_the_dense_output_than_weight_magnitudes() {
        let device = Backend::cpu().device;
        let m = wdsr();
        let images = [image(48, 40, 3), image(40, 48, 4)];
        let dense = output(&m);
        let config = ChannelConfig { criterion: Criterion::Reconstruction, ..ChannelConfig::new(0.25) };
        let ours = pollster::block_on(prune(&m, &config, &images, &device)).unwrap();
        let l1 = channel::prune(&m, &ChannelConfig::new(0.25)).unwrap();
        let classes = |m: &ModelFile| Coupling::of(&m.graph).unwrap().classes();
        assert_eq!(classes(&ours), classes(&l1), "the same number of channels");
        assert!(ours.graph.parameter_count() < m.graph.parameter_count());
        let (ours, l1) = (mse(&output(&ours), &dense), mse(&output(&l1), &dense));
        assert!(ours * 10.0 < l1, "reconstruction {ours:e}, L1 {l1:e}");
        // Nothing to remove: nothing changes.
        let none = pollster::block_on(prune(&m, &ChannelConfig { sparsity: 0.0, ..config }, &images, &device)).unwrap();
        assert_eq!(none.values, m.values);
    }

    #[test]
    fn calibration_and_criteria_are_checked() {
        let device = Backend::cpu().device;
        assert!(Calibration::new(&[], &device).is_err());
        assert!(Calibration::new(&[image(40, 40, 1), image(7, 30, 1)], &device).is_err());
        let c = Calibration::new(&[image(200, 100, 1), image(64, 64, 2), image(8, 9, 3)], &device).unwrap();
        assert_eq!(c.input.dims(), [CROPS, 3, 8, 8]);
        let m = wdsr();
        let config = ChannelConfig { criterion: Criterion::Reconstruction, ..ChannelConfig::new(0.25) };
        let err = channel::prune(&m, &config).unwrap_err().to_string();
        assert!(err.contains("calibration"), "{err}");
        assert!(pollster::block_on(prune(&m, &ChannelConfig::new(0.25), &[image(40, 40, 1)], &device)).is_err());
    }

    #[test]
    fn the_greedy_order_counts_what_two_channels_cancel() {
        // Channels 0 and 1 each change the output a lot but cancel each other (e = -1
        // between them), channel 2 changes it a little, and channel 3 (read by a second
        // reader) a little more. 2 goes first; once 0 is gone, removing 1 too undoes its
        // change, so 1 comes before 3 although alone it costs more.
        let readers = [
            Reader { classes: vec![0, 1, 2], e: vec![1.0, -1.0, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 0.3] },
            Reader { classes: vec![0, 3], e: vec![0.0, 0.0, 0.0, 0.5] },
        ];
        assert_eq!(greedy_order(&readers, 4), [2.0, 3.0, 0.0, 1.0]);
    }
}
