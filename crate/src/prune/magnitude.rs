//! Magnitude pruning: the smallest convolution weights set to zero, over the whole network
//! (one threshold, so layers with many small weights lose more) or layer by layer (every
//! layer loses the same share), and N:M (in every group of M consecutive input channels of
//! a filter tap, only the N largest survive: 2:4 is what sparse tensor cores run). Biases
//! and PReLU slopes are left alone: they are few and every output depends on them.

use crate::error::{Error, Result};
use crate::graph::Op;
use crate::model::ModelFile;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Scope {
    #[default]
    Global,
    PerLayer,
}

/// Indices (into `graph.params`) of every convolution weight, with its input channels and
/// kernel area.
fn conv_weights(model: &ModelFile) -> Vec<(usize, usize, usize)> {
    model
        .graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Conv2d(conv) => Some((conv.weight, conv.in_channels, conv.kernel[0] * conv.kernel[1])),
            _ => None,
        })
        .collect()
}

/// Zeroes the `k` smallest-magnitude values among `slots` (ties: the earlier first).
fn zero_smallest(values: &mut [Vec<f32>], slots: &[(usize, usize)], k: usize) {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    let mag = |i: usize| values[slots[i].0][slots[i].1].abs();
    order.sort_by(|&a, &b| mag(a).total_cmp(&mag(b)).then(a.cmp(&b)));
    for &i in &order[..k.min(order.len())] {
        values[slots[i].0][slots[i].1] = 0.0;
    }
}

/// `model` with the smallest `sparsity` (0..1) of its convolution weights zeroed.
pub fn magnitude(model: &ModelFile, sparsity: f64, scope: Scope) -> Result<ModelFile> {
    if !(0.0..=1.0).contains(&sparsity) {
        return Err(Error::InvalidArgument(format!("sparsity {sparsity} is outside 0..1")));
    }
    let mut out = model.clone();
    let weights = conv_weights(model);
    let slots_of = |p: usize| (0..model.values[p].len()).map(move |i| (p, i));
    match scope {
        Scope::Global => {
            let slots: Vec<(usize, usize)> = weights.iter().flat_map(|&(p, _, _)| slots_of(p)).collect();
            let k = (sparsity * slots.len() as f64).round() as usize;
            zero_smallest(&mut out.values, &slots, k);
        }
        Scope::PerLayer => {
            for &(p, _, _) in &weights {
                let slots: Vec<(usize, usize)> = slots_of(p).collect();
                let k = (sparsity * slots.len() as f64).round() as usize;
                zero_smallest(&mut out.values, &slots, k);
            }
        }
    }
    out.grids.clear();
    out.info.notes = format!("{:.0}% of conv weights pruned by magnitude ({scope:?}). {}", sparsity * 100.0, out.info.notes);
    out.validate()?;
    Ok(out)
}

/// `model` with only the `n` largest of every `m` consecutive input-channel weights of
/// each filter tap kept (a last, shorter group keeps at most `n`).
pub fn n_of_m(model: &ModelFile, n: usize, m: usize) -> Result<ModelFile> {
    if m == 0 || n > m {
        return Err(Error::InvalidArgument(format!("{n}:{m} is not a sparsity pattern")));
    }
    let mut out = model.clone();
    for (p, cin, taps) in conv_weights(model) {
        let filters = model.values[p].len() / (cin * taps);
        for o in 0..filters {
            for t in 0..taps {
                for start in (0..cin).step_by(m) {
                    let group: Vec<(usize, usize)> = (start..(start + m).min(cin)).map(|i| (p, (o * cin + i) * taps + t)).collect();
                    let k = group.len().saturating_sub(n);
                    zero_smallest(&mut out.values, &group, k);
                }
            }
        }
    }
    out.grids.clear();
    out.info.notes = format!("{n}:{m} sparse conv weights (magnitude). {}", out.info.notes);
    out.validate()?;
    Ok(out)
}

/// Share of convolution weights that are zero.
pub fn sparsity(model: &ModelFile) -> f64 {
    let (zero, all) = conv_weights(model)
        .iter()
        .fold((0usize, 0usize), |(z, a), &(p, _, _)| (z + model.values[p].iter().filter(|v| **v == 0.0).count(), a + model.values[p].len()));
    zero as f64 / all.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wdsr::{self, WdsrConfig};

    fn model() -> ModelFile {
        wdsr::build(WdsrConfig { scale: 2, blocks: 2, channels: 8, expansion: 2 }, 4).unwrap()
    }

    #[test]
    fn global_pruning_zeroes_the_smallest_weights_of_the_whole_network() {
        let m = model();
        let p = magnitude(&m, 0.5, Scope::Global).unwrap();
        assert!((sparsity(&p) - 0.5).abs() < 1e-3, "{}", sparsity(&p));
        let weights = conv_weights(&m);
        let all = |model: &ModelFile| weights.iter().flat_map(|&(i, _, _)| model.values[i].clone()).collect::<Vec<_>>();
        let (before, after) = (all(&m), all(&p));
        let largest_cut = before.iter().zip(&after).filter(|(_, a)| **a == 0.0).map(|(b, _)| b.abs()).fold(0f32, f32::max);
        let smallest_kept = before.iter().zip(&after).filter(|(_, a)| **a != 0.0).map(|(b, _)| b.abs()).fold(f32::MAX, f32::min);
        assert!(largest_cut <= smallest_kept);
        // Kept weights are unchanged, biases untouched.
        assert!(before.iter().zip(&after).all(|(b, a)| *a == 0.0 || a == b));
        let bias = m.graph.param_id("head.0.bias").unwrap();
        assert_eq!(p.values[bias], m.values[bias]);
        assert!(magnitude(&m, 1.5, Scope::Global).is_err());
    }

    #[test]
    fn per_layer_pruning_takes_the_same_share_from_every_layer() {
        let m = model();
        let p = magnitude(&m, 0.25, Scope::PerLayer).unwrap();
        for (i, _, _) in conv_weights(&m) {
            let zero = p.values[i].iter().filter(|v| **v == 0.0).count() as f64 / p.values[i].len() as f64;
            assert!((zero - 0.25).abs() < 0.02, "{}: {zero}", m.graph.params[i].name);
        }
        // The pruned model still runs and keeps its output size.
        let up = crate::Upscaler::new(&p, crate::Backend::cpu()).unwrap();
        let img = crate::RgbaImage::filled(12, 10, [90, 140, 200, 255]).unwrap();
        let out = pollster::block_on(up.upscale(&img, &mut crate::Silent)).unwrap();
        assert_eq!((out.width, out.height), (24, 20));
    }

    #[test]
    fn two_of_four_keeps_the_two_largest_of_every_group() {
        let m = model();
        let p = n_of_m(&m, 2, 4).unwrap();
        for (i, cin, taps) in conv_weights(&m) {
            let (before, after) = (&m.values[i], &p.values[i]);
            for o in 0..before.len() / (cin * taps) {
                for t in 0..taps {
                    for start in (0..cin).step_by(4) {
                        let idx: Vec<usize> = (start..(start + 4).min(cin)).map(|c| (o * cin + c) * taps + t).collect();
                        let kept: Vec<usize> = idx.iter().copied().filter(|&j| after[j] != 0.0).collect();
                        assert!(kept.len() <= 2);
                        let min_kept = kept.iter().map(|&j| before[j].abs()).fold(f32::MAX, f32::min);
                        assert!(idx.iter().filter(|j| !kept.contains(j)).all(|&j| before[j].abs() <= min_kept));
                    }
                }
            }
        }
        // The head has 3 input channels: one group of 3 keeps 2, so 1/3 is zero there.
        assert!(sparsity(&p) > 0.45 && sparsity(&p) < 0.5, "{}", sparsity(&p));
        assert!(n_of_m(&m, 3, 2).is_err());
    }
}
