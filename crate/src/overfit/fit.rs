//! The server side of overfitting: maps from a general model's per-patch PSNR against HR,
//! then one trainer per model on exactly the patches the layout gives it, from the decoded
//! LR frames the client will see.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

use super::{Layout, Method, chunk, split};
use crate::error::{Error, Result};
use crate::imaging::{Region, RgbaImage};
use crate::model::ModelFile;
use crate::patch::score::patch_psnr;
use crate::patch::window::window;
use crate::train::{StepReport, TrainConfig, Trainer};

/// A clip as the server holds it: decoded LR frames, their HR originals, and which frames
/// are held out of training (evaluated, never fitted).
pub struct Clip<'a> {
    pub lr: &'a [RgbaImage],
    pub hr: &'a [RgbaImage],
    pub held_out: &'a [bool],
}

impl Clip<'_> {
    fn check(&self, layout: &Layout, scale: usize) -> Result<()> {
        if self.lr.is_empty() || self.lr.len() != self.hr.len() || self.lr.len() != self.held_out.len() {
            return Err(Error::InvalidArgument(format!(
                "{} LR frames, {} HR frames, {} held-out flags",
                self.lr.len(),
                self.hr.len(),
                self.held_out.len()
            )));
        }
        if self.held_out.iter().all(|&h| h) {
            return Err(Error::InvalidArgument("every frame is held out; nothing to train on".into()));
        }
        for (lr, hr) in self.lr.iter().zip(self.hr) {
            if (lr.width, lr.height) != (layout.width, layout.height) || (hr.width, hr.height) != (lr.width * scale, lr.height * scale) {
                return Err(Error::InvalidArgument(format!(
                    "frames are {}x{} LR and {}x{} HR; the layout wants {}x{} at x{scale}",
                    lr.width, lr.height, hr.width, hr.height, layout.width, layout.height
                )));
            }
        }
        Ok(())
    }
}

/// The score of every map cell of every frame: the general model's PSNR against HR
/// (`general` holds its output for every frame).
pub fn scores(layout: &Layout, clip: &Clip, general: &[RgbaImage], scale: usize) -> Result<Vec<Vec<f64>>> {
    clip.check(layout, scale)?;
    if general.len() != clip.hr.len() {
        return Err(Error::InvalidArgument(format!("{} general-model outputs for {} frames", general.len(), clip.hr.len())));
    }
    let grid = layout.grid()?;
    general.iter().zip(clip.hr).map(|(g, hr)| patch_psnr(g, hr, &grid)).collect()
}

/// The scores of the training frames' cells, pooled.
pub fn training_scores(scores: &[Vec<f64>], held_out: &[bool]) -> Vec<f64> {
    scores.iter().zip(held_out).filter(|(_, h)| !**h).flat_map(|(s, _)| s.iter().copied()).collect()
}

/// Per-frame maps and, for STDO, the chunk bounds.
pub fn maps(method: Method, scores: &[Vec<f64>], held_out: &[bool]) -> Result<(Vec<Vec<u8>>, Vec<f64>)> {
    Ok(match method {
        Method::Single => (vec![Vec::new(); scores.len()], Vec::new()),
        Method::DyDca { threshold } => (scores.iter().map(|s| split::map(s, threshold)).collect(), Vec::new()),
        Method::Stdo { chunks } => {
            // Chunks are cut on the training frames' patches, as the clip is known to the
            // server; a held-out frame's patches fall into the chunk whose range holds them.
            // Training frames take the quantiles' own labels (equal counts even where scores
            // tie across a bound).
            let chunks = chunk::quantiles(&training_scores(scores, held_out), chunks)?;
            let mut labels = chunks.labels.iter().copied();
            let maps = scores
                .iter()
                .zip(held_out)
                .map(|(s, &held)| s.iter().map(|&v| if held { chunk::of(v, &chunks.bounds) } else { labels.next().unwrap_or(0) }).collect())
                .collect();
            (maps, chunks.bounds)
        }
    })
}

/// One training sample: a patch with its context (the model's receptive radius, the window
/// shifted inside the frame at its edges), the HR window, and where the patch lies in it.
/// The loss counts the patch only, so each model learns exactly the pixels it will be asked
/// for, with the context it will have when playing (see [`crate::pack::play`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub lr: RgbaImage,
    pub hr: RgbaImage,
    /// The patch, in the LR window's pixels.
    pub core: Region,
}

/// The samples each model trains on, from the training frames; `halos` gives each model's
/// receptive radius.
pub fn training_sets(layout: &Layout, clip: &Clip, maps: &[Vec<u8>], scale: usize, halos: &[usize]) -> Result<Vec<Vec<Sample>>> {
    clip.check(layout, scale)?;
    if halos.len() != layout.levels() {
        return Err(Error::InvalidArgument(format!("{} halos for {} models", halos.len(), layout.levels())));
    }
    let mut sets = vec![Vec::new(); layout.levels()];
    for (f, map) in maps.iter().enumerate() {
        if clip.held_out[f] {
            continue;
        }
        for job in layout.jobs(map)? {
            let w = window(job.region, halos[job.model], (layout.width, layout.height));
            let lr = clip.lr[f].crop_at(w.x, w.y, w.width, w.height)?;
            let hr = clip.hr[f].crop_at(w.x * scale, w.y * scale, w.width * scale, w.height * scale)?;
            let core = Region { x: job.region.x - w.x, y: job.region.y - w.y, ..job.region };
            sets[job.model].push(Sample { lr, hr, core });
        }
    }
    Ok(sets)
}

/// How each model is trained: for a number of epochs over its own patches (so STDO's chunk
/// models together cost what one model over the clip costs).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub lr_min: f64,
    pub seed: u64,
}

impl FitConfig {
    /// Optimizer steps for `patches` training patches (none for none).
    pub fn steps(&self, patches: usize) -> usize {
        if patches == 0 { 0 } else { (self.epochs * patches).div_ceil(self.batch.max(1)).max(1) }
    }
}

/// What came out of fitting one model.
pub struct Fitted {
    pub model: ModelFile,
    /// Training patches and steps (0 when the layout gave it no patch: it keeps its start).
    pub patches: usize,
    pub steps: usize,
}

/// One step on a batch drawn from the trainer's seed and step: L1 on the patches only.
async fn step(trainer: &mut Trainer, set: &[Sample], scale: usize) -> Result<StepReport> {
    let n = trainer.config().batch;
    let mut rng = trainer.rng();
    let picks: Vec<&Sample> = (0..n).map(|_| &set[rng.random_range(0..set.len())]).collect();
    let (w, h) = (picks[0].lr.width, picks[0].lr.height);
    let (hw, hh) = (w * scale, h * scale);
    let (mut x, mut y, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for p in &picks {
        x.extend(p.lr.planes(p.lr.full()));
        y.extend(p.hr.planes(p.hr.full()));
        let c = p.core;
        let inside = |i: usize| {
            let (px, py) = ((i % hw) / scale, (i / hw) / scale);
            f32::from(u8::from(px >= c.x && px < c.x + c.width && py >= c.y && py < c.y + c.height))
        };
        for _ in 0..3 {
            mask.extend((0..hw * hh).map(inside));
        }
    }
    let count: f32 = mask.iter().sum();
    let device = trainer.device().clone();
    let x = Tensor::<4>::from_data(TensorData::new(x, [n, 3, h, w]), &device);
    let y = Tensor::<4>::from_data(TensorData::new(y, [n, 3, hh, hw]), &device);
    let mask = Tensor::<4>::from_data(TensorData::new(mask, [n, 3, hh, hw]), &device);
    trainer
        .step_on(x, move |out| {
            let diff = (out - y) * mask;
            (diff.clone().abs().sum().div_scalar(count), diff.square().sum().div_scalar(count))
        })
        .await
}

/// Overfits one model per training set, starting from `inits` (one per model). Trainers run
/// in lockstep, one step each in turn, which for Dy-DCA's two branches (no shared weights)
/// is joint training on the sum of their losses. `on_step(model, report)` follows.
pub async fn fit(
    sets: Vec<Vec<Sample>>,
    inits: &[ModelFile],
    config: FitConfig,
    device: &Device,
    mut on_step: impl FnMut(usize, &StepReport),
) -> Result<Vec<Fitted>> {
    if inits.len() != sets.len() {
        return Err(Error::InvalidArgument(format!("{} starting models for {} models", inits.len(), sets.len())));
    }
    let mut runs = Vec::with_capacity(sets.len());
    for (m, (set, init)) in sets.into_iter().zip(inits).enumerate() {
        if set.is_empty() {
            runs.push((None, set));
            continue;
        }
        let train = TrainConfig { steps: config.steps(set.len()), batch: config.batch, patch: set[0].core.width, lr: config.lr, lr_min: config.lr_min, seed: config.seed.wrapping_add(m as u64) };
        runs.push((Some(Trainer::new(init, device, train)?), set));
    }
    while runs.iter().any(|(t, _)| t.as_ref().is_some_and(|t| !t.is_done())) {
        for (m, (trainer, set)) in runs.iter_mut().enumerate() {
            if let Some(t) = trainer
                && !t.is_done()
            {
                let report = step(t, set, inits[m].info.scale).await?;
                on_step(m, &report);
            }
        }
    }
    let mut out = Vec::with_capacity(runs.len());
    for ((trainer, set), init) in runs.into_iter().zip(inits) {
        out.push(match trainer {
            Some(t) => Fitted { model: t.model().await?, patches: set.len(), steps: t.config().steps },
            None => Fitted { model: init.clone(), patches: 0, steps: 0 },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdo_maps_split_the_training_frames_equally_and_place_held_out_patches_by_bounds() {
        // Four equal scores on the training frames still make two chunks of two.
        let scores = vec![vec![30.0, 30.0], vec![30.0, 30.0], vec![29.0, 31.0]];
        let (maps, bounds) = maps(Method::Stdo { chunks: 2 }, &scores, &[false, false, true]).unwrap();
        assert_eq!(maps, vec![vec![0, 0], vec![1, 1], vec![0, 1]]);
        assert_eq!(bounds, vec![30.0]);
    }
}
