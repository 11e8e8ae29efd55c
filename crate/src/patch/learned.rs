//! The learned scorer: a tiny fully convolutional network that predicts, from the LR image
//! alone, how much an SR model gains over bicubic in each patch, with its sign: where the
//! model makes the image worse the prediction is negative, and gains-only selection keeps
//! bicubic there. Its targets are measurements of that SR model on images the evaluation
//! never sees; its cost is four 3x3 convolutions of 16 channels, a rounding error next to
//! the SR network.
//!
//! The target is the patch's reduction of squared error, `d = mse(bicubic) - mse(SR)` in
//! 8-bit levels squared per pixel, compressed as `sign(d) ln(1 + |d|)`. Unlike the gain in
//! dB it weighs a patch by what it does to the image's PSNR: a flat patch whose dB gain
//! swings by several dB on a tiny error no longer outweighs a textured one, and the sign
//! is exactly whether SR helps. Means over patches of any size stay close to additive.

use burn::tensor::{Tensor, TensorData};

use super::Grid;
use super::score;
use crate::error::{Error, Result};
use crate::graph::{GraphBuilder, Network, NodeId};
use crate::imaging::{Region, RgbaImage, bicubic};
use crate::model::{ModelFile, ModelInfo, init};
use crate::progress::Silent;
use crate::train::{StepReport, TrainConfig, Trainer};
use crate::upscale::Upscaler;

const WIDTH: usize = 16;

/// The training target of a patch whose squared error SR reduces by `d` levels² per pixel.
pub fn target(d: f64) -> f32 {
    (d.signum() * d.abs().ln_1p()) as f32
}

/// The scorer network with random weights. Its three output channels are averaged, and
/// the average over a patch is the predicted gain.
pub fn build(seed: u64) -> Result<ModelFile> {
    let mut b = GraphBuilder::new();
    let x = b.input();
    let y = branch(&mut b, x, "");
    let graph = b.finish(y);
    let values = init::random_values(&graph, seed);
    let info = ModelInfo {
        name: "ticket-scorer".into(),
        scale: 1,
        architecture: "gain-net (4 conv 3x3, 16 channels)".into(),
        source: "ticketsr".into(),
        licence: "MIT OR Apache-2.0".into(),
        notes: "predicts the SR model's gain over bicubic per patch, sign(d) ln(1 + |d|) of its squared-error reduction d; untrained".into(),
    };
    ModelFile::new(info, graph, values)
}

/// The scorer's layers on `x`, named after `prefix`.
fn branch(b: &mut GraphBuilder, mut x: NodeId, prefix: &str) -> NodeId {
    for (i, (cin, cout)) in [(3, WIDTH), (WIDTH, WIDTH), (WIDTH, WIDTH)].into_iter().enumerate() {
        let c = b.conv(&format!("{prefix}conv{i}"), x, cin, cout, 3, true);
        x = b.relu(&format!("{prefix}relu{i}"), c);
    }
    b.conv(&format!("{prefix}out"), x, WIDTH, 3, 3, true)
}

/// One scorer whose prediction is the mean of `members`' (each as [`build`] makes them,
/// trained from different seeds). Where the training data say little, as on a photo
/// unlike any of them, members trained from different seeds disagree in sign, and their
/// mean leans to no gain: gains-only selection then keeps bicubic, the safe side. The
/// members run side by side in one graph, their output layers scaled by `1 / n` and added.
pub fn ensemble(members: &[ModelFile]) -> Result<ModelFile> {
    let single = build(0)?;
    let n = members.len();
    if !(2..=MAX_MEMBERS).contains(&n) {
        return Err(Error::InvalidArgument(format!("an ensemble has 2..={MAX_MEMBERS} scorers, not {n}")));
    }
    if let Some(m) = members.iter().find(|m| m.graph != single.graph) {
        return Err(Error::model(format!("`{}` is not a single learned scorer ({})", m.info.name, m.info.architecture)));
    }
    let mut b = GraphBuilder::new();
    let x = b.input();
    let outs = (0..n).map(|k| branch(&mut b, x, &format!("m{k}."))).collect();
    let y = b.add("mean", outs);
    let graph = b.finish(y);
    let out = [single.graph.param_id("out.weight"), single.graph.param_id("out.bias")];
    let values = members
        .iter()
        .flat_map(|m| m.values.iter().enumerate().map(|(i, v)| if out.contains(&Some(i)) { v.iter().map(|w| w / n as f32).collect() } else { v.clone() }))
        .collect();
    let info = ModelInfo { architecture: format!("mean of {n} gain-nets (4 conv 3x3, 16 channels each)"), ..members[0].info.clone() };
    ModelFile::new(info, graph, values)
}

/// More members cost more than the scorer is worth next to an SR network.
pub const MAX_MEMBERS: usize = 8;

/// Predicted gain of every patch of `grid` over `lr` (positive: SR beats bicubic), on the
/// network's device.
pub async fn scores(net: &Network, lr: &RgbaImage, grid: &Grid, device: &burn::tensor::Device) -> Result<Vec<f32>> {
    grid.check(lr)?;
    let x = Tensor::<4>::from_data(TensorData::new(lr.planes(lr.full()), [1, 3, lr.height, lr.width]), device);
    let map = net.forward(x)?.mean_dim(1);
    score::patch_means(map, grid).await
}

/// LR patches and the gain the SR model measured on each ([`target`]): the training set.
pub struct GainSamples {
    pub patch: usize,
    /// `[n, 3, patch, patch]` planar RGB in 0..1.
    pub planes: Vec<f32>,
    pub gains: Vec<f32>,
}

/// A learned scorer on a device, ready to score patches. It is held beside an
/// [`Upscaler`] (a [`super::SparseUpscaler`] borrows both), not inside it: loading one
/// never waits for the upscaler's runs.
pub struct LearnedScorer {
    network: Network,
    device: burn::tensor::Device,
}

impl LearnedScorer {
    /// Loads a scorer model (see [`build`], [`train`]) onto `device`.
    pub fn new(scorer: &ModelFile, device: &burn::tensor::Device) -> Result<Self> {
        let a = scorer.validate()?;
        if a.scale != 1 {
            return Err(Error::model(format!("a patch scorer keeps the input's size; `{}` upscales x{}", scorer.info.name, a.scale)));
        }
        Ok(Self { network: scorer.network(device)?, device: device.clone() })
    }

    /// Predicted gain of every patch of `grid` over `lr`.
    pub async fn scores(&self, lr: &RgbaImage, grid: &Grid) -> Result<Vec<f32>> {
        scores(&self.network, lr, grid, &self.device).await
    }
}

impl GainSamples {
    /// Runs `up` densely on every HR image's LR version and measures the gain of every
    /// whole patch at half-patch steps (overlapping patches: four times the samples from
    /// one SR run, and positions that do not follow one grid).
    pub async fn measure(up: &Upscaler, images: &[RgbaImage], patch: usize) -> Result<Self> {
        super::check_side(patch)?;
        let s = up.scale();
        let step = (patch / 2).max(1);
        let mut out = Self { patch, planes: vec![], gains: vec![] };
        for img in images {
            let hr = img.crop_to_multiple(s)?;
            let lr = bicubic::downscale(&hr, s)?;
            if lr.width < patch || lr.height < patch {
                continue;
            }
            let sr = up.upscale(&lr, &mut Silent).await?;
            let base = bicubic::resize(&lr, hr.width, hr.height)?;
            for y in (0..=lr.height - patch).step_by(step) {
                for x in (0..=lr.width - patch).step_by(step) {
                    let r = Region { x, y, width: patch, height: patch };
                    let big = Region { x: x * s, y: y * s, width: patch * s, height: patch * s };
                    out.planes.extend(lr.planes(r));
                    out.gains.push(target(score::squared_error_removed(&sr, &base, &hr, big)));
                }
            }
        }
        if out.gains.is_empty() {
            return Err(Error::InvalidArgument(format!("no image has a whole {patch}x{patch} patch")));
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.gains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gains.is_empty()
    }
}

/// Trains the scorer on `samples`: mean squared error between each patch's predicted and
/// measured gain ([`target`]). `report` sees every step.
pub async fn train(samples: &GainSamples, config: TrainConfig, device: &burn::tensor::Device, mut report: impl FnMut(&StepReport)) -> Result<ModelFile> {
    use rand::Rng;
    let mut trainer = Trainer::new(&build(config.seed)?, device, config)?;
    let (p, b) = (samples.patch, config.batch);
    let area = 3 * p * p;
    while !trainer.is_done() {
        let mut rng = trainer.rng();
        let picks: Vec<usize> = (0..b).map(|_| rng.random_range(0..samples.len())).collect();
        let mut planes = Vec::with_capacity(b * area);
        for &i in &picks {
            planes.extend_from_slice(&samples.planes[i * area..(i + 1) * area]);
        }
        let targets: Vec<f32> = picks.iter().map(|&i| samples.gains[i]).collect();
        let x = Tensor::<4>::from_data(TensorData::new(planes, [b, 3, p, p]), trainer.device());
        let t = Tensor::<1>::from_data(TensorData::new(targets, [b]), trainer.device());
        let r = trainer
            .step_on(x, |out| {
                let predicted = out.mean_dim(3).mean_dim(2).mean_dim(1).reshape([b]);
                let mse = (predicted - t).square().mean();
                (mse.clone(), mse)
            })
            .await?;
        report(&r);
    }
    let mut model = trainer.model().await?;
    model.info.notes = format!(
        "predicts {}'s gain over bicubic per {p}x{p} LR patch, sign(d) ln(1 + |d|) of its squared-error \
         reduction d; trained on {} patches ({} steps, batch {b}, Adam lr {:e})",
        "the SR model", samples.len(), config.steps, config.lr
    );
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;

    #[test]
    fn samples_overlap_by_half_a_patch_and_their_sign_says_whether_sr_helps() {
        assert!(target(3.0) > 1.0 && target(-3.0) == -target(3.0) && target(0.0) == 0.0);
        let data = (0..40 * 24).flat_map(|i| {
            let (x, y) = ((i % 40) as f32, (i / 40) as f32);
            let v = (128.0 + 90.0 * (x * 0.9).sin() * (y * 0.7).cos()) as u8;
            [v, 255 - v, v / 2, 255]
        });
        let hr = RgbaImage::new(40, 24, data.collect()).unwrap();
        // Bicubic as the "SR model": no gain anywhere. LR 20x12, patches of 8 every 4 px.
        let bicubic = Upscaler::new(&crate::model::bicubic(2).unwrap(), Backend::cpu()).unwrap();
        let same = pollster::block_on(GainSamples::measure(&bicubic, std::slice::from_ref(&hr), 8)).unwrap();
        assert_eq!((same.len(), same.planes.len()), (4 * 2, 8 * 3 * 8 * 8));
        assert!(same.gains.iter().all(|g| g.abs() < 0.5), "{:?}", same.gains);
        // An untrained network loses to bicubic: its targets are negative.
        let random = Upscaler::new(&crate::model::espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        let worse = pollster::block_on(GainSamples::measure(&random, &[hr], 8)).unwrap();
        assert!(worse.gains.iter().all(|&g| g < -1.0), "{:?}", worse.gains);
        assert!(pollster::block_on(GainSamples::measure(&bicubic, &[RgbaImage::new(8, 8, vec![0; 256]).unwrap()], 8)).is_err());
    }

    #[test]
    fn an_ensemble_predicts_the_mean_of_its_members() {
        let members: Vec<ModelFile> = (0..3).map(|seed| build(seed).unwrap()).collect();
        let mean = ensemble(&members).unwrap();
        assert_eq!(mean.graph.parameter_count(), 3 * members[0].graph.parameter_count());
        let data = (0..24 * 16).flat_map(|i| [(i * 7 % 256) as u8, (i * 13 % 256) as u8, (i * 29 % 256) as u8, 255]);
        let img = RgbaImage::new(24, 16, data.collect()).unwrap();
        let grid = Grid::new(24, 16, 8).unwrap();
        let device = Backend::cpu().device;
        let score = |m: &ModelFile| pollster::block_on(LearnedScorer::new(m, &device).unwrap().scores(&img, &grid)).unwrap();
        let each: Vec<Vec<f32>> = members.iter().map(score).collect();
        for (p, got) in score(&mean).into_iter().enumerate() {
            let want = each.iter().map(|s| s[p]).sum::<f32>() / 3.0;
            assert!((got - want).abs() < 1e-4 * (1.0 + want.abs()), "patch {p}: {got} vs {want}");
        }
        assert!(ensemble(&members[..1]).is_err());
        assert!(ensemble(&vec![members[0].clone(); MAX_MEMBERS + 1]).is_err());
        assert!(ensemble(&[members[0].clone(), crate::model::espcn::build(2, 1).unwrap()]).is_err());
    }

    /// A synthetic gain that depends on texture: the scorer can learn it, and learning it
    /// ranks textured patches first.
    #[test]
    fn the_scorer_learns_to_rank_textured_patches_first() {
        let p = 8;
        let mut samples = GainSamples { patch: p, planes: vec![], gains: vec![] };
        for k in 0..64 {
            let amplitude = (k % 8) as f32 / 8.0;
            for i in 0..3 * p * p {
                let (x, y) = ((i % p) as f32, ((i / p) % p) as f32);
                samples.planes.push(0.5 + 0.4 * amplitude * ((x * 1.7 + y * 0.9 + k as f32).sin()));
            }
            samples.gains.push(4.0 * amplitude);
        }
        let config = TrainConfig { steps: 150, batch: 16, patch: p, lr: 3e-3, lr_min: 1e-4, seed: 1 };
        let model = pollster::block_on(train(&samples, config, &burn::tensor::Device::flex(), |_| {})).unwrap();
        let backend = Backend::cpu();
        let net = model.network(&backend.device).unwrap();
        // Flat left half, textured right half.
        let (w, h) = (32, 16);
        let data = (0..w * h).flat_map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let v = if x < 16.0 { 128.0 } else { 128.0 + 100.0 * (x * 1.7 + y * 0.9).sin() };
            [v as u8, v as u8, v as u8, 255]
        });
        let img = RgbaImage::new(w, h, data.collect()).unwrap();
        let grid = Grid::new(w, h, 16).unwrap();
        let s = pollster::block_on(scores(&net, &img, &grid, &backend.device)).unwrap();
        assert!(s[1] > s[0] + 1.0, "textured {} vs flat {}", s[1], s[0]);
    }
}
