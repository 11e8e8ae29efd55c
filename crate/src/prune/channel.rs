//! Channel pruning: whole channels (see [`super::coupling`] for what "a channel" is in a
//! graph with residuals, concatenations and pixel shuffles) scored, chosen under a global or
//! per-layer budget with a per-layer floor, and physically sliced out, so the result is a
//! smaller dense graph that ordinary kernels run faster, not a mask.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::coupling::Coupling;
use crate::error::{Error, Result};
use crate::graph::ops::Conv2d;
use crate::graph::{NodeId, Op};
use crate::model::ModelFile;

/// How a channel's importance is measured, from the filters that write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Criterion {
    /// Chase's: the mean absolute weight of the filter, zeros included.
    L1,
    /// The root mean square of the filter.
    L2,
    /// CHEX's column-subset leverage: a filter's squared norm in the top singular vectors of
    /// its layer's filter matrix, as many of them as the layer keeps channels. Redundant
    /// filters (ones the others span) score low even when they are large.
    Leverage,
    /// Data-aware (ThiNet, He et al. 2017): channels chosen by how little their removal
    /// changes the next layers' outputs on calibration images, and those layers re-fitted
    /// by least squares ([`super::reconstruct`]). Needs the images, so not in [`prune`].
    Reconstruction,
}

/// Where the share of channels to remove is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Budget {
    /// One ranking over the whole network, each channel's score divided by its layer's
    /// mean: layers whose channels differ more lose more. (Chase ranks raw magnitudes, which
    /// batch normalisation makes comparable; SR networks have none, and a filter's mean
    /// magnitude shrinks with its fan-in, so raw scores would empty the widest layers' readers.)
    Global,
    /// Every layer loses the same share.
    PerLayer,
}

/// Everything but `sparsity` has a default, so JS options name only what they change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ChannelConfig {
    /// Share (0..1) of the prunable channels to remove.
    pub sparsity: f64,
    #[serde(default = "default_criterion")]
    pub criterion: Criterion,
    #[serde(default = "default_budget")]
    pub budget: Budget,
    /// Share of each layer's channels that always stays (at least one channel).
    #[serde(default = "default_floor")]
    pub floor: f64,
    /// Every layer keeps a multiple of this many channels (or all it has), the nearest:
    /// GPU kernels load channels four at a time, and a layer of 47 channels ran slower
    /// than one of 64 on lavapipe (docs/pruning.md).
    #[serde(default = "default_multiple")]
    pub multiple: usize,
}

pub fn default_criterion() -> Criterion {
    Criterion::L1
}

pub fn default_budget() -> Budget {
    Budget::Global
}

/// Chase keeps a per-layer floor so no layer is emptied; a tenth is ours.
pub fn default_floor() -> f64 {
    0.1
}

pub fn default_multiple() -> usize {
    4
}

impl ChannelConfig {
    pub fn new(sparsity: f64) -> Self {
        Self { sparsity, criterion: default_criterion(), budget: default_budget(), floor: default_floor(), multiple: default_multiple() }
    }

    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.sparsity) || !(0.0..=1.0).contains(&self.floor) {
            return Err(Error::InvalidArgument(format!("sparsity {} and floor {} must lie in 0..1", self.sparsity, self.floor)));
        }
        Ok(())
    }
}

/// Each convolution's output channels with its filter (input channels x taps) flattened.
fn filters(model: &ModelFile, node: NodeId) -> Option<(&[f32], usize)> {
    match model.graph.nodes[node].op {
        Op::Conv2d(ref conv) => {
            let w = &model.values[conv.weight];
            Some((w.as_slice(), conv.filter_len()))
        }
        _ => None,
    }
}

/// Leverage of every row of a `rows` x `cols` matrix in its top `rank` left singular vectors.
fn leverage(w: &[f32], rows: usize, cols: usize, rank: usize) -> Vec<f64> {
    let m = DMatrix::from_row_slice(rows, cols, &w.iter().map(|&v| v as f64).collect::<Vec<_>>());
    let svd = m.svd(true, false);
    let (Some(u), s) = (svd.u, svd.singular_values) else { return vec![0.0; rows] };
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    order.truncate(rank);
    (0..rows).map(|i| order.iter().map(|&j| u[(i, j)] * u[(i, j)]).sum()).collect()
}

/// Every class's score: the mean of its writing filters' scores.
fn scores(model: &ModelFile, coupling: &Coupling, config: &ChannelConfig) -> Result<Vec<f64>> {
    if config.criterion == Criterion::Reconstruction {
        return Err(Error::InvalidArgument("the reconstruction criterion needs calibration images (prune::reconstruct)".into()));
    }
    let keep = 1.0 - config.sparsity;
    let mut per_filter: std::collections::HashMap<NodeId, Vec<f64>> = Default::default();
    for &(node, _) in coupling.producers.iter().flatten() {
        per_filter.entry(node).or_insert_with(|| {
            let Some((w, len)) = filters(model, node) else { return Vec::new() };
            let rows = w.len() / len.max(1);
            match config.criterion {
                Criterion::L1 => w.chunks(len).map(|f| f.iter().map(|v| v.abs() as f64).sum::<f64>() / len as f64).collect(),
                Criterion::L2 => w.chunks(len).map(|f| (f.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / len as f64).sqrt()).collect(),
                Criterion::Leverage => {
                    let rank = ((keep * rows as f64).round() as usize).clamp(1, rows.min(len));
                    leverage(w, rows, len, rank)
                }
                Criterion::Reconstruction => Vec::new(),
            }
        });
    }
    Ok(coupling
        .producers
        .iter()
        .map(|p| p.iter().map(|&(node, c)| per_filter[&node][c]).sum::<f64>() / p.len().max(1) as f64)
        .collect())
}

/// Which classes to remove (true) under `config`, scored from the weights.
pub fn choose(model: &ModelFile, coupling: &Coupling, config: &ChannelConfig) -> Result<Vec<bool>> {
    config.check()?;
    let mut score = scores(model, coupling, config)?;
    if config.budget == Budget::Global {
        for (_, classes) in &coupling.layers() {
            let mean = classes.iter().map(|&c| score[c]).sum::<f64>() / classes.len() as f64;
            if mean > 0.0 {
                classes.iter().for_each(|&c| score[c] /= mean);
            }
        }
    }
    choose_by(coupling, config, &score)
}

/// Which classes to remove under `config`'s budget, floor and multiple, the lowest
/// `score`s first (scores comparable across layers under a global budget).
pub fn choose_by(coupling: &Coupling, config: &ChannelConfig, score: &[f64]) -> Result<Vec<bool>> {
    config.check()?;
    if score.len() != coupling.classes() {
        return Err(Error::InvalidArgument(format!("{} scores for {} channel classes", score.len(), coupling.classes())));
    }
    let layers = coupling.layers();
    let by_score = |classes: &mut Vec<usize>| classes.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let min_keep = |size: usize| ((config.floor * size as f64).ceil() as usize).max(1);
    let mut removed = vec![false; coupling.classes()];
    match config.budget {
        Budget::PerLayer => {
            for (_, mut classes) in layers.clone() {
                let k = ((config.sparsity * classes.len() as f64).round() as usize).min(classes.len() - min_keep(classes.len()));
                by_score(&mut classes);
                classes[..k].iter().for_each(|&c| removed[c] = true);
            }
        }
        Budget::Global => {
            let mut room: std::collections::HashMap<NodeId, usize> =
                layers.iter().map(|(l, c)| (*l, c.len() - min_keep(c.len()))).collect();
            let mut all: Vec<usize> = (0..coupling.classes()).collect();
            by_score(&mut all);
            let mut k = (config.sparsity * all.len() as f64).round() as usize;
            for c in all {
                let left = room.get_mut(&coupling.layer_of[c]).expect("every class has a layer");
                if k == 0 {
                    break;
                }
                if *left > 0 {
                    *left -= 1;
                    k -= 1;
                    removed[c] = true;
                }
            }
        }
    }
    // Round every layer's kept count to the nearest multiple (at least one multiple, at
    // most the layer), bringing back its best removed or removing its worst kept.
    let m = config.multiple.max(1);
    for (_, mut classes) in layers {
        let kept = classes.iter().filter(|&&c| !removed[c]).count();
        let target = ((kept + m / 2) / m * m).clamp(m.min(classes.len()), classes.len());
        by_score(&mut classes);
        if target > kept {
            let back: Vec<usize> = classes.iter().rev().copied().filter(|&c| removed[c]).take(target - kept).collect();
            back.into_iter().for_each(|c| removed[c] = false);
        } else {
            let more: Vec<usize> = classes.iter().copied().filter(|&c| !removed[c]).take(kept - target).collect();
            more.into_iter().for_each(|c| removed[c] = true);
        }
    }
    Ok(removed)
}

/// For every node, the channels that stay when the `removed` classes go.
pub fn kept(coupling: &Coupling, removed: &[bool]) -> Vec<Vec<usize>> {
    coupling.slots.iter().map(|s| (0..s.len()).filter(|&c| s[c].is_none_or(|k| !removed[k])).collect()).collect()
}

/// What every channel of every node carries when the input is a flat mid-grey image (away
/// from the borders every value is a per-channel constant; after an inner pixel shuffle,
/// the mean over the sub-pixel positions).
fn flat_grey(model: &ModelFile) -> Vec<Vec<f64>> {
    let grey = [0.5; 3];
    let mut values: Vec<Vec<f64>> = Vec::with_capacity(model.graph.nodes.len());
    for node in &model.graph.nodes {
        // The input node (which reads no node) reads the grey image.
        let args: Vec<&[f64]> = if node.inputs.is_empty() { vec![&grey] } else { node.inputs.iter().map(|&i| values[i].as_slice()).collect() };
        let v = node.op.operator().flat(&args, &model.values);
        values.push(v);
    }
    values
}

/// `model` without the `removed` classes: every convolution loses the filters that write
/// them and the input channels that read them, PReLU slopes follow their channels. What a
/// removed channel would have added on a flat image is folded into the reading
/// convolution's bias: a weak filter with a large bias is mostly a constant, and without
/// this its removal shifts every output (ESPCN x2 lost 9 dB to 1% of its channels).
pub fn slice(model: &ModelFile, coupling: &Coupling, removed: &[bool]) -> Result<ModelFile> {
    if removed.len() != coupling.classes() {
        return Err(Error::InvalidArgument(format!("{} removal flags for {} channel classes", removed.len(), coupling.classes())));
    }
    let keep = kept(coupling, removed);
    let constant = flat_grey(model);
    let mut out = model.clone();
    for (id, node) in model.graph.nodes.iter().enumerate() {
        let (ko, ki) = (&keep[id], node.inputs.first().map_or(&keep[id], |&i| &keep[i]));
        if let Op::Conv2d(conv) = &node.op {
            if ko.is_empty() {
                return Err(Error::InvalidArgument(format!("pruning would remove every channel of `{}`", node.name)));
            }
            if let Some(b) = conv.bias {
                let (w, input) = (&model.values[conv.weight], &constant[node.inputs[0]]);
                let gone: Vec<usize> = (0..conv.in_channels).filter(|i| !ki.contains(i)).collect();
                for (o, v) in out.values[b].iter_mut().enumerate() {
                    let shift: f64 = gone.iter().map(|&i| input[i] * conv.tap_sum(w, o, i)).sum();
                    *v += shift as f32;
                }
            }
        }
        // Every parameter loses the entries of removed channels along the axes that
        // follow them, and the operator takes its new channel counts.
        for p in node.op.operator().params() {
            let shape = &model.graph.params[p.id].shape;
            let axes = [(p.output_axis, ko), (p.input_axis, ki)];
            let kept: Vec<Vec<usize>> = (0..shape.len())
                .map(|a| axes.iter().find(|(axis, _)| *axis == Some(a)).map_or_else(|| (0..shape[a]).collect(), |(_, k)| k.to_vec()))
                .collect();
            out.values[p.id] = gather(&out.values[p.id], shape, &kept);
            out.graph.params[p.id].shape = kept.iter().map(Vec::len).collect();
        }
        out.graph.nodes[id].op.operator_mut().set_channels(ki.len(), ko.len());
    }
    // Sliced parameters still lie on their uint8 grid and stay a byte per value; biases
    // that took a removed channel's constant do not.
    drop_moved_grids(&mut out);
    out.validate()?;
    Ok(out)
}

/// Forgets the uint8 grid of every parameter whose values no longer lie on it.
pub(super) fn drop_moved_grids(model: &mut ModelFile) {
    let by_name: std::collections::HashMap<&str, usize> = model.graph.params.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let values = &model.values;
    model.grids.retain(|name, grid| by_name.get(name.as_str()).is_some_and(|&i| grid.codes(&values[i]).is_some()));
}

/// The entries of a row-major tensor of `shape` at the `kept` indices of each axis.
fn gather(values: &[f32], shape: &[usize], kept: &[Vec<usize>]) -> Vec<f32> {
    let mut out = Vec::with_capacity(kept.iter().map(Vec::len).product());
    let strides: Vec<usize> = (0..shape.len()).map(|a| shape[a + 1..].iter().product()).collect();
    fn walk(values: &[f32], strides: &[usize], kept: &[Vec<usize>], at: usize, out: &mut Vec<f32>) {
        match kept.split_first() {
            None => out.push(values[at]),
            Some((first, rest)) => first.iter().for_each(|&i| walk(values, &strides[1..], rest, at + i * strides[0], out)),
        }
    }
    walk(values, &strides, kept, 0, &mut out);
    out
}

/// Multipliers (0 or 1, per parameter; `None` = all kept) that silence the `removed`
/// classes in place: their filters and biases zeroed. What gradual pruning trains under;
/// slicing the silenced channels afterwards leaves the output unchanged.
pub fn masks(model: &ModelFile, coupling: &Coupling, removed: &[bool]) -> Vec<Option<Vec<f32>>> {
    let mut masks: Vec<Option<Vec<f32>>> = vec![None; model.values.len()];
    for (class, producers) in coupling.producers.iter().enumerate() {
        if !removed[class] {
            continue;
        }
        for &(node, c) in producers {
            if let Op::Conv2d(Conv2d { out_channels, weight, bias, .. }) = model.graph.nodes[node].op {
                let len = model.values[weight].len() / out_channels;
                let w = masks[weight].get_or_insert_with(|| vec![1.0; model.values[weight].len()]);
                w[c * len..][..len].fill(0.0);
                if let Some(b) = bias {
                    masks[b].get_or_insert_with(|| vec![1.0; out_channels])[c] = 0.0;
                }
            }
        }
    }
    masks
}

/// Channel pruning in one call: classes chosen under `config` and sliced out.
pub fn prune(model: &ModelFile, config: &ChannelConfig) -> Result<ModelFile> {
    let coupling = Coupling::of(&model.graph)?;
    let removed = choose(model, &coupling, config)?;
    let mut pruned = slice(model, &coupling, &removed)?;
    let share = removed.iter().filter(|r| **r).count() as f64 / removed.len().max(1) as f64;
    pruned.info.notes = format!(
        "{:.0}% of channels pruned ({:?} criterion, {:?} budget, floor {}). {}",
        share * 100.0,
        config.criterion,
        config.budget,
        config.floor,
        pruned.info.notes
    );
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prune::{layers, small_wdsr as wdsr};
    use crate::{Backend, RgbaImage, Silent, Upscaler};

    fn run(model: &ModelFile) -> Vec<u8> {
        let up = Upscaler::new(model, Backend::cpu()).unwrap();
        let img = RgbaImage::new(11, 9, (0..11 * 9 * 4).map(|i| (i * 37 % 251) as u8).collect()).unwrap();
        pollster::block_on(up.upscale(&img, &mut Silent)).unwrap().data
    }

    /// Outputs before the final rounding to bytes, for exact comparisons.
    fn run_float(model: &ModelFile) -> Vec<f32> {
        let device = Backend::cpu().device;
        let net = model.network(&device).unwrap();
        let x: Vec<f32> = (0..3 * 9 * 11).map(|i| (i * 37 % 251) as f32 / 255.0).collect();
        let x = burn::tensor::Tensor::<4>::from_data(burn::tensor::TensorData::new(x, [1, 3, 9, 11]), &device);
        pollster::block_on(net.forward(x).unwrap().into_data_async()).unwrap().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn removing_channels_that_are_already_silent_leaves_the_output_unchanged() {
        let mut m = wdsr();
        let coupling = Coupling::of(&m.graph).unwrap();
        // Silence 3 of the residual stream's 8 channels (4 writers each) and 5 wide channels.
        let mut removed = vec![false; coupling.classes()];
        for &c in &[0, 3, 7, 8, 10, 20, 21, 30] {
            removed[c] = true;
        }
        for (p, mask) in masks(&m, &coupling, &removed).into_iter().enumerate() {
            if let Some(mask) = mask {
                m.values[p].iter_mut().zip(mask).for_each(|(v, k)| *v *= k);
            }
        }
        // L1 finds exactly the silent ones when asked for their share.
        let share = 8.0 / coupling.classes() as f64;
        let config = ChannelConfig { floor: 0.0, multiple: 1, ..ChannelConfig::new(share) };
        assert_eq!(choose(&m, &coupling, &config).unwrap(), removed);
        let pruned = prune(&m, &config).unwrap();
        assert!(pruned.graph.parameter_count() < m.graph.parameter_count());
        let layers = layers(&m, &pruned);
        assert_eq!(layers.iter().find(|l| l.name == "head.0").unwrap().channels, 5);
        assert_eq!(layers.iter().find(|l| l.name == "body.1.body.2").unwrap().channels, 5);
        let (dense, sliced) = (run_float(&m), run_float(&pruned));
        let diff = dense.iter().zip(&sliced).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-5, "max difference {diff}");
        // Pruning live channels does change it.
        let live = prune(&wdsr(), &ChannelConfig::new(0.5)).unwrap();
        assert_ne!(run(&live), run(&wdsr()));
    }

    #[test]
    fn a_constant_channel_is_folded_into_the_next_bias() {
        // Wide channels whose filters are zero but whose bias is not carry a constant; slicing
        // them out adds it to the reading conv's bias, so the output away from the borders
        // (where zero padding made the constant vary) is unchanged.
        let mut m = wdsr();
        let coupling = Coupling::of(&m.graph).unwrap();
        let mut removed = vec![false; coupling.classes()];
        let node = m.graph.nodes.iter().position(|n| n.name == "body.1.body.0").unwrap();
        let Op::Conv2d(Conv2d { weight, bias: Some(bias), .. }) = m.graph.nodes[node].op else { panic!() };
        let len = m.values[weight].len() / 16;
        for c in [2, 9] {
            m.values[weight][c * len..][..len].fill(0.0);
            m.values[bias][c] = 0.3;
            removed[coupling.slots[node][c].unwrap()] = true;
        }
        let pruned = slice(&m, &coupling, &removed).unwrap();
        let (dense, sliced) = (run_float(&m), run_float(&pruned));
        // Output planes are 22 x 18; the four convs after the constant reach 4 LR px (8 HR).
        let interior = |i: &usize| (8..14).contains(&(i % 22)) && (8..10).contains(&(i / 22 % 18));
        let diff = (0..dense.len()).filter(interior).map(|i| (dense[i] - sliced[i]).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-5, "{diff}");
        let border = (0..dense.len()).map(|i| (dense[i] - sliced[i]).abs()).fold(0f32, f32::max);
        assert!(border > 1e-4, "the borders do see the padding");
    }

    #[test]
    fn budgets_and_floors_decide_how_many_each_layer_loses() {
        let m = wdsr();
        let coupling = Coupling::of(&m.graph).unwrap();
        for criterion in [Criterion::L1, Criterion::L2, Criterion::Leverage] {
            let per_layer = ChannelConfig { criterion, budget: Budget::PerLayer, ..ChannelConfig::new(0.5) };
            let p = prune(&m, &per_layer).unwrap();
            let layers = layers(&m, &p);
            assert!(layers.iter().filter(|l| l.name != "tail.0" && l.name != "skip.0").all(|l| l.channels * 2 == l.channels_before), "{layers:?}");
            assert_eq!(run(&p).len(), 22 * 18 * 4);
            let global = ChannelConfig { criterion, multiple: 1, ..ChannelConfig::new(0.5) };
            let removed = choose(&m, &coupling, &global).unwrap();
            assert_eq!(removed.iter().filter(|r| **r).count(), coupling.classes() / 2);
            // Rounded to multiples of 4 per layer, the nearest.
            let removed = choose(&m, &coupling, &ChannelConfig { criterion, budget: Budget::PerLayer, ..ChannelConfig::new(0.3) }).unwrap();
            for (_, classes) in coupling.layers() {
                let kept = classes.iter().filter(|&&c| !removed[c]).count();
                // 30% of 8 is 2 channels, leaving 6: a tie, rounded up to 8; of 16, 5 go: 11 -> 12.
                assert_eq!(kept, if classes.len() == 8 { 8 } else { 12 });
            }
        }
        // A floor of 0.9 keeps 90% of every layer whatever the budget asks.
        let p = prune(&m, &ChannelConfig { floor: 0.9, ..ChannelConfig::new(0.75) }).unwrap();
        assert!(layers(&m, &p).iter().all(|l| l.channels * 10 >= l.channels_before * 9));
        // Everything pruned still leaves one channel per layer.
        let p = prune(&m, &ChannelConfig { floor: 0.0, ..ChannelConfig::new(1.0) }).unwrap();
        assert!(layers(&m, &p).iter().all(|l| l.channels >= 1));
        assert_eq!(run(&p).len(), 22 * 18 * 4);
        assert!(prune(&m, &ChannelConfig::new(1.5)).is_err());
    }

    #[test]
    fn leverage_ranks_a_repeated_filter_below_a_distinct_one() {
        // Rows 0 and 1 are the same direction; row 2 is orthogonal and smaller. With one
        // channel to drop, leverage at rank 2 keeps the distinct one.
        let w = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.5, 0.0];
        let l = leverage(&w, 3, 3, 2);
        assert!(l[2] > l[0] && l[2] > l[1], "{l:?}");
        assert!((l.iter().sum::<f64>() - 2.0).abs() < 1e-9);
    }
}
