//! Training a pruned network back: fine-tuning that keeps pruned weights at zero,
//! iterative magnitude pruning with rewinding (lottery tickets), and Chase's gradual
//! channel pruning during training. All three are the project's trainer with masks.

use super::channel::{self, ChannelConfig};
use super::coupling::Coupling;
use super::magnitude::{self, Scope};
use crate::error::Result;
use crate::graph::Op;
use crate::graph::ops::Conv2d;
use crate::model::ModelFile;
use crate::train::data::PatchPairs;
use crate::train::{StepReport, TrainConfig, Trainer};
use crate::{Silent, Upscaler};
use burn::tensor::Device;

/// What a long run reports after each step: which phase (a round of lottery tickets, or
/// fine-tuning) and the step's figures.
pub type OnStep<'a> = &'a mut dyn FnMut(&str, StepReport);

/// What every recovery trains on and how: the patch pairs, the schedule of each training
/// (`config.steps` per training) and the device.
#[derive(Clone, Copy)]
pub struct Recovery<'a> {
    pub data: &'a PatchPairs,
    pub config: TrainConfig,
    pub device: &'a Device,
}

/// Distillation's data: `data`'s LR images, each with `teacher`'s output (the unpruned
/// model's) as its target instead of the HR image. The pruned network then learns to do
/// what the dense one did, which any images or video frames teach, HR or not, and which
/// keeps it from drifting towards the fine-tuning data's own look.
pub async fn distilled(data: &PatchPairs, teacher: &Upscaler) -> Result<PatchPairs> {
    let mut pairs = Vec::new();
    for lr in data.inputs() {
        pairs.push((lr.clone(), teacher.upscale(lr, &mut Silent).await?));
    }
    PatchPairs::from_pairs(data.scale(), pairs)
}

/// Masks that hold every zero convolution weight of `model` at zero.
pub fn zero_masks(model: &ModelFile) -> Vec<Option<Vec<f32>>> {
    let mut masks = vec![None; model.values.len()];
    for node in &model.graph.nodes {
        if let Op::Conv2d(Conv2d { weight, .. }) = node.op {
            let w = &model.values[weight];
            if w.contains(&0.0) {
                masks[weight] = Some(w.iter().map(|v| if *v == 0.0 { 0.0 } else { 1.0 }).collect());
            }
        }
    }
    masks
}

async fn train(model: &ModelFile, masks: &[Option<Vec<f32>>], how: Recovery<'_>, phase: &str, on_step: OnStep<'_>) -> Result<ModelFile> {
    let mut trainer = Trainer::new(model, how.device, how.config)?;
    trainer.set_masks(masks)?;
    while !trainer.is_done() {
        let report = trainer.step(how.data).await?;
        on_step(phase, report);
    }
    trainer.model().await
}

/// `config.steps` of training on `data` in which every zero weight of `model` stays zero:
/// recovery after magnitude or N:M pruning (a channel-pruned model is dense and simply
/// trains).
pub async fn fine_tune(model: &ModelFile, how: Recovery<'_>, on_step: OnStep<'_>) -> Result<ModelFile> {
    let mut tuned = train(model, &zero_masks(model), how, "fine-tune", on_step).await?;
    tuned.info.notes = format!("fine-tuned {} steps (pruned weights held at zero). {}", how.config.steps, tuned.info.notes);
    Ok(tuned)
}

/// Iterative magnitude pruning with rewinding: train, prune the smallest weights of the
/// whole network, rewind the survivors to `model`'s weights, and again, `rounds` times
/// (each round prunes the same share of what is left, to `sparsity` at the end); then the
/// ticket trains from the rewound weights once more. `config.steps` per training.
pub async fn lottery(model: &ModelFile, sparsity: f64, rounds: usize, how: Recovery<'_>, on_step: OnStep<'_>) -> Result<ModelFile> {
    let rounds = rounds.max(1);
    let mut ticket = model.clone();
    for round in 1..=rounds {
        let trained = train(&ticket, &zero_masks(&ticket), how, &format!("round {round}/{rounds}"), on_step).await?;
        let target = 1.0 - (1.0 - sparsity).powf(round as f64 / rounds as f64);
        let pruned = magnitude::magnitude(&trained, target, Scope::Global)?;
        // Rewind: the original weights where the trained network kept its weights.
        ticket = model.clone();
        for (t, p) in ticket.values.iter_mut().zip(zero_masks(&pruned)) {
            if let Some(p) = p {
                t.iter_mut().zip(p).for_each(|(v, k)| *v *= k);
            }
        }
    }
    let mut result = train(&ticket, &zero_masks(&ticket), how, "ticket", on_step).await?;
    result.grids.clear();
    result.info.notes = format!(
        "lottery ticket: {rounds} rounds of magnitude pruning to {:.0}% with rewinding, {} steps each. {}",
        sparsity * 100.0,
        how.config.steps,
        model.info.notes
    );
    Ok(result)
}

/// Chase's channel sparsity at step `t` of `total`: `s (1 - (1 - t/total)^3)`, fast early
/// and gentle late.
pub fn cubic(sparsity: f64, t: usize, total: usize) -> f64 {
    let x = (t as f64 / total.max(1) as f64).min(1.0);
    sparsity * (1.0 - (1.0 - x).powi(3))
}

/// Gradual channel pruning during training: every `every` steps the weakest channels are
/// silenced (filters and biases held at zero) up to the cubic schedule's share, which
/// reaches `channels.sparsity` at three quarters of the run (always a pruning step); the last quarter trains at
/// the final sparsity, and the silenced channels are then sliced out (exactly: they are
/// zero).
pub async fn gradual_channels(model: &ModelFile, channels: &ChannelConfig, every: usize, how: Recovery<'_>, on_step: OnStep<'_>) -> Result<ModelFile> {
    let Recovery { data, config, device } = how;
    let coupling = Coupling::of(&model.graph)?;
    let ramp = config.steps * 3 / 4;
    let mut removed = vec![false; coupling.classes()];
    let mut trainer = Trainer::new(model, device, config)?;
    while !trainer.is_done() {
        let t = trainer.step_index();
        if t > 0 && (t % every.max(1) == 0 && t < ramp || t == ramp) {
            let now = trainer.model().await?;
            let step = ChannelConfig { sparsity: cubic(channels.sparsity, t, ramp), ..*channels };
            // Silenced channels score zero, so they stay chosen.
            removed = channel::choose(&now, &coupling, &step)?;
            trainer.set_masks(&channel::masks(&now, &coupling, &removed))?;
        }
        let report = trainer.step(data).await?;
        on_step("gradual", report);
    }
    let mut result = channel::slice(&trainer.model().await?, &coupling, &removed)?;
    let share = removed.iter().filter(|r| **r).count() as f64 / removed.len().max(1) as f64;
    result.info.notes = format!(
        "{:.0}% of channels pruned gradually (cubic schedule, every {every} steps, {} steps). {}",
        share * 100.0,
        config.steps,
        model.info.notes
    );
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::RgbaImage;
    use crate::model::espcn;
    use crate::Backend;

    fn data() -> PatchPairs {
        let (w, h) = (48, 40);
        let px = (0..w * h).flat_map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let v = |f: f32| ((x * f).sin() * (y * 0.17).cos() * 100.0 + 128.0) as u8;
            [v(0.3), v(0.11), v(0.5), 255]
        });
        PatchPairs::from_hr(&[RgbaImage::new(w, h, px.collect()).unwrap()], 2).unwrap()
    }

    fn config(steps: usize) -> TrainConfig {
        TrainConfig { steps, batch: 2, patch: 8, lr: 1e-3, lr_min: 1e-4, seed: 3 }
    }

    #[test]
    fn the_cubic_schedule_starts_at_zero_and_ends_at_the_target() {
        assert_eq!(cubic(0.5, 0, 100), 0.0);
        assert!((cubic(0.5, 100, 100) - 0.5).abs() < 1e-12);
        assert!(cubic(0.5, 50, 100) > 0.25 * 1.5, "most of it early");
    }

    #[test]
    fn fine_tuning_keeps_pruned_weights_at_zero_and_changes_the_rest() {
        let device = Backend::cpu().device;
        let m = espcn::build(2, 1).unwrap();
        let pruned = magnitude::magnitude(&m, 0.5, Scope::Global).unwrap();
        let data = data();
        let how = Recovery { data: &data, config: config(3), device: &device };
        let tuned = pollster::block_on(fine_tune(&pruned, how, &mut |_, _| {})).unwrap();
        assert!((magnitude::sparsity(&tuned) - magnitude::sparsity(&pruned)).abs() < 1e-9);
        let moved = pruned.values.iter().flatten().zip(tuned.values.iter().flatten()).filter(|(a, b)| a != b).count();
        assert!(moved > 1000, "{moved} weights moved");
    }

    #[test]
    fn distillation_targets_are_the_teachers_output() {
        // The teacher trained on its own outputs starts at (almost) zero loss: the targets
        // are its output rounded to bytes, where the HR images are far from it. One 20 px LR
        // image and 20 px patches: the patch is the whole image, as the teacher saw it.
        let device = Backend::cpu().device;
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/models/ticketsr-espcn-x2.safetensors");
        let m = crate::model::format::from_bytes(&std::fs::read(file).unwrap()).unwrap();
        let px = (0..40 * 40).flat_map(|i| [(i * 7 % 256) as u8, (i / 40 * 6) as u8, (i % 40 * 6) as u8, 255]);
        let data = PatchPairs::from_hr(&[RgbaImage::new(40, 40, px.collect()).unwrap()], 2).unwrap();
        let distilled = pollster::block_on(distilled(&data, &crate::Upscaler::new(&m, Backend::cpu()).unwrap())).unwrap();
        let first = |d: &PatchPairs| {
            let mut psnr = 0.0;
            let config = TrainConfig { patch: 20, ..config(1) };
            pollster::block_on(fine_tune(&m, Recovery { data: d, config, device: &device }, &mut |_, r| psnr = r.psnr)).unwrap();
            psnr
        };
        let (own, hr) = (first(&distilled), first(&data));
        assert!(own > 45.0 && hr < 35.0, "on its own output {own:.1} dB, on the HR image {hr:.1} dB");
        let lr = data.inputs().next().unwrap().clone();
        assert!(PatchPairs::from_pairs(2, vec![(lr.clone(), lr)]).is_err(), "a target of the wrong size");
    }

    #[test]
    fn lottery_tickets_rewind_to_the_original_weights() {
        let device = Backend::cpu().device;
        let m = espcn::build(2, 2).unwrap();
        let mut starts = Vec::new();
        let data = data();
        let how = Recovery { data: &data, config: config(2), device: &device };
        let ticket = pollster::block_on(lottery(&m, 0.5, 2, how, &mut |phase, r| {
            if r.step == 1 {
                starts.push(phase.to_string());
            }
        }))
        .unwrap();
        assert_eq!(starts, ["round 1/2", "round 2/2", "ticket"]);
        assert!((magnitude::sparsity(&ticket) - 0.5).abs() < 0.01, "{}", magnitude::sparsity(&ticket));
    }

    #[test]
    fn gradual_channel_pruning_ends_sliced_at_the_target() {
        let device = Backend::cpu().device;
        let m = espcn::build(2, 3).unwrap();
        let channels = ChannelConfig::new(0.5);
        let data = data();
        let how = Recovery { data: &data, config: config(8), device: &device };
        let pruned = pollster::block_on(gradual_channels(&m, &channels, 2, how, &mut |_, _| {})).unwrap();
        let classes = Coupling::of(&m.graph).unwrap().classes();
        let left = Coupling::of(&pruned.graph).unwrap().classes();
        assert_eq!(left, classes - classes / 2);
        let up = crate::Upscaler::new(&pruned, Backend::cpu()).unwrap();
        let out = pollster::block_on(up.upscale(&RgbaImage::filled(6, 5, [10, 200, 90, 255]).unwrap(), &mut crate::Silent)).unwrap();
        assert_eq!((out.width, out.height), (12, 10));
    }
}
