//! The learned scorer: a tiny fully convolutional network that predicts, from the LR image
//! alone, how many dB an SR model gains over bicubic in each patch. Its targets are the
//! oracle's measurements of that SR model on photos the evaluation never sees; its cost is
//! four 3x3 convolutions of 16 channels, a rounding error next to the SR network.

use burn::tensor::{Tensor, TensorData};

use super::Grid;
use super::score::{self, Reference, Scorer};
use crate::error::{Error, Result};
use crate::graph::{GraphBuilder, Network};
use crate::imaging::{RgbaImage, bicubic};
use crate::model::{ModelFile, ModelInfo, init};
use crate::progress::Silent;
use crate::train::{StepReport, TrainConfig, Trainer};
use crate::upscale::Upscaler;

const WIDTH: usize = 16;
/// Gains are clipped to this range (dB) for training: flat patches that both methods render
/// almost exactly have PSNRs near the cap, and their huge differences mean nothing.
const GAIN_RANGE: (f32, f32) = (-3.0, 6.0);

/// The scorer network with random weights. Its three output channels are averaged, and
/// the average over a patch is the predicted gain.
pub fn build(seed: u64) -> Result<ModelFile> {
    let mut b = GraphBuilder::new();
    let mut x = b.input();
    for (i, (cin, cout)) in [(3, WIDTH), (WIDTH, WIDTH), (WIDTH, WIDTH)].into_iter().enumerate() {
        let c = b.conv(&format!("conv{i}"), x, cin, cout, 3, true);
        x = b.relu(&format!("relu{i}"), c);
    }
    let y = b.conv("out", x, WIDTH, 3, 3, true);
    let graph = b.finish(y);
    let values = init::random_values(&graph, seed);
    let info = ModelInfo {
        name: "ticket-scorer".into(),
        scale: 1,
        architecture: "gain-net (4 conv 3x3, 16 channels)".into(),
        source: "ticketsr".into(),
        licence: "MIT OR Apache-2.0".into(),
        notes: "predicts the SR model's PSNR gain over bicubic (dB) per patch; untrained".into(),
    };
    ModelFile::new(info, graph, values)
}

/// Predicted gain of every patch of `grid` over `lr`, on the network's device.
pub async fn scores(net: &Network, lr: &RgbaImage, grid: &Grid, device: &burn::tensor::Device) -> Result<Vec<f32>> {
    grid.check(lr)?;
    let x = Tensor::<4>::from_data(TensorData::new(lr.planes(lr.full()), [1, 3, lr.height, lr.width]), device);
    let map = net.forward(x)?.mean_dim(1);
    score::patch_means(map, grid).await
}

/// LR patches and the gain the SR model measured on each: the training set.
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
    /// Runs `up` densely on every HR image's LR version and measures each whole patch's
    /// gain over bicubic against the HR (the oracle).
    pub async fn measure(up: &Upscaler, images: &[RgbaImage], patch: usize) -> Result<Self> {
        let s = up.scale();
        let mut out = Self { patch, planes: vec![], gains: vec![] };
        for img in images {
            let hr = img.crop_to_multiple(s)?;
            let lr = bicubic::downscale(&hr, s)?;
            let grid = Grid::new(lr.width, lr.height, patch)?;
            let sr = up.upscale(&lr, &mut Silent).await?;
            let base = bicubic::resize(&lr, hr.width, hr.height)?;
            let gains = score::score(Scorer::Oracle, &lr, &grid, Some(&Reference { hr: &hr, sr: &sr, bicubic: &base }), up.device(), 0).await?;
            for (r, g) in grid.rects().zip(gains) {
                if r.width == patch && r.height == patch {
                    out.planes.extend(lr.planes(r));
                    out.gains.push(g.clamp(GAIN_RANGE.0, GAIN_RANGE.1));
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
/// measured gain. `report` sees every step.
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
        "predicts {}'s PSNR gain over bicubic (dB) per {p}x{p} LR patch; trained on {} patches \
         ({} steps, batch {b}, Adam lr {:e})",
        "the SR model", samples.len(), config.steps, config.lr
    );
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;

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
