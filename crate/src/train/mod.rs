//! Training any graph the project builds, on burn's autodiff: L1 loss on batches of
//! LR/HR patch pairs, Adam, cosine learning-rate decay, deterministic seeds. The trainer of
//! the general models, and the ground that overfitting (STDO, Dy-DCA), the learned patch
//! scorer and pruning recovery stand on.

#[cfg(not(target_arch = "wasm32"))]
pub mod checkpoint;
pub mod data;
#[cfg(not(target_arch = "wasm32"))]
pub mod video;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::graph::Network;
use crate::imaging::metrics;
use crate::model::ModelFile;
use data::PatchPairs;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub steps: usize,
    /// Patch pairs per step.
    pub batch: usize,
    /// LR patch side (HR patches are `scale` times larger).
    pub patch: usize,
    /// Learning rate at step 0, decayed along a cosine to `lr_min` at the last step.
    pub lr: f64,
    pub lr_min: f64,
    /// Seeds the order of patches (initial weights come with the model).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { steps: 1000, batch: 16, patch: 48, lr: 1e-3, lr_min: 1e-5, seed: 0 }
    }
}

impl TrainConfig {
    /// Cosine decay from `lr` to `lr_min` over `steps`.
    pub fn lr_at(&self, step: usize) -> f64 {
        let t = step as f64 / self.steps.max(1) as f64;
        self.lr_min + 0.5 * (self.lr - self.lr_min) * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
    }
}

/// What one step reports.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StepReport {
    pub step: usize,
    pub loss: f64,
    /// PSNR of the batch's output against its HR patches (from the MSE, on 0..1 values).
    pub psnr: f64,
    pub lr: f64,
}

/// A network being trained, its optimizer state and where it is in its schedule.
pub struct Trainer {
    network: Network,
    optimizer: ModuleOptimizer,
    config: TrainConfig,
    step: usize,
    device: Device,
    model: ModelFile,
    /// Multipliers applied after every step (pruned weights stay zero).
    masks: Vec<Option<Tensor<1>>>,
}

/// Everything a run needs to continue exactly where it stopped.
pub struct Checkpoint {
    /// The weights so far, with the model's graph and facts.
    pub model: ModelFile,
    /// Adam's moments (burn's record format).
    pub optimizer: Vec<u8>,
    pub step: usize,
    pub config: TrainConfig,
}

impl Trainer {
    /// Starts from `model`'s weights (random or pretrained) on `device` with autodiff.
    pub fn new(model: &ModelFile, device: &Device, config: TrainConfig) -> Result<Self> {
        if config.steps == 0 || config.batch == 0 || config.patch == 0 {
            return Err(Error::InvalidArgument(format!("steps, batch and patch must be positive: {config:?}")));
        }
        let device = device.clone().autodiff();
        let network = model.network(&device)?;
        Ok(Self { network, optimizer: AdamConfig::new().init(), config, step: 0, device, model: model.clone(), masks: Vec::new() })
    }

    /// Continues a run from its checkpoint: same weights, optimizer state, step and schedule.
    pub fn resume(checkpoint: &Checkpoint, device: &Device) -> Result<Self> {
        let mut t = Self::new(&checkpoint.model, device, checkpoint.config)?;
        t.optimizer = t
            .optimizer
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(checkpoint.optimizer.clone()))
            .map_err(|e| Error::InvalidModel(format!("checkpoint optimizer state: {e:?}")))?;
        t.step = checkpoint.step;
        Ok(t)
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint> {
        let optimizer = self.optimizer.into_bytes().map_err(|e| Error::Backend(format!("saving the optimizer state: {e:?}")))?;
        Ok(Checkpoint { model: self.model().await?, optimizer: optimizer.to_vec(), step: self.step, config: self.config })
    }

    /// From now on every parameter is multiplied by its mask (0 or 1 per value; `None`
    /// leaves it free) now and after every step, so pruned weights stay pruned.
    pub fn set_masks(&mut self, masks: &[Option<Vec<f32>>]) -> Result<()> {
        let specs = &self.model.graph.params;
        if masks.len() != specs.len() || masks.iter().zip(specs).any(|(m, s)| m.as_ref().is_some_and(|m| m.len() != s.len())) {
            return Err(Error::InvalidArgument("masks do not match the model's parameters".into()));
        }
        self.masks = masks
            .iter()
            .map(|m| m.as_ref().map(|m| Tensor::<1>::from_data(TensorData::new(m.clone(), [m.len()]), &self.device)))
            .collect();
        self.network = self.network.clone().masked(&self.masks);
        Ok(())
    }

    pub fn config(&self) -> TrainConfig {
        self.config
    }

    /// The upscaling factor of the network being trained.
    pub fn scale(&self) -> usize {
        self.network.scale()
    }

    pub fn step_index(&self) -> usize {
        self.step
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.config.steps
    }

    /// One optimizer step of super-resolution: L1 against the HR patches of a fresh batch
    /// of `data`.
    pub async fn step(&mut self, data: &PatchPairs) -> Result<StepReport> {
        let (c, s) = (self.config, data.scale());
        // Each step's patches follow from the seed and the step alone, so a resumed run
        // draws what the uninterrupted one would have.
        let mut rng = self.rng();
        let (lr_planes, hr_planes) = data.batch(&mut rng, c.batch, c.patch)?;
        let x = Tensor::<4>::from_data(TensorData::new(lr_planes, [c.batch, 3, c.patch, c.patch]), &self.device);
        let y = Tensor::<4>::from_data(TensorData::new(hr_planes, [c.batch, 3, c.patch * s, c.patch * s]), &self.device);
        self.step_on(x, |out| {
            let diff = out - y;
            (diff.clone().abs().mean(), diff.square().mean())
        })
        .await
    }

    /// One optimizer step on input `x` with any objective: `loss(output)` returns the loss
    /// to minimise and a mean squared error to report as PSNR (on 0..1 values).
    pub async fn step_on(&mut self, x: Tensor<4>, loss: impl FnOnce(Tensor<4>) -> (Tensor<1>, Tensor<1>)) -> Result<StepReport> {
        let out = self.network.forward(x)?;
        let (loss, mse) = loss(out);
        let grads = GradientsParams::from_grads(loss.backward(), &self.network);
        let lr = self.config.lr_at(self.step);
        self.network = self.optimizer.step(lr, self.network.clone(), grads);
        if !self.masks.is_empty() {
            self.network = self.network.clone().masked(&self.masks);
        }
        self.step += 1;
        let read = |t: Tensor<1>| async move {
            let d = t.detach().into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
            d.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}"))).map(|v| v[0] as f64)
        };
        let (loss, mse) = (read(loss).await?, read(mse).await?);
        Ok(StepReport { step: self.step, loss, psnr: metrics::psnr_from_mse(mse * 255.0 * 255.0), lr })
    }

    /// The random numbers of the current step, from the seed and the step alone.
    pub fn rng(&self) -> StdRng {
        StdRng::seed_from_u64(self.config.seed ^ (self.step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The device training runs on (with autodiff), for building batches.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The trained weights as a model file with the same graph and facts.
    pub async fn model(&self) -> Result<ModelFile> {
        let values = self.network.clone().valid().values().await?;
        let mut m = ModelFile::new(self.model.info.clone(), self.model.graph.clone(), values)?;
        m.grids.clear();
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::RgbaImage;
    use crate::model::espcn;

    fn photo_like(w: usize, h: usize) -> RgbaImage {
        let data = (0..w * h).flat_map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let v = |f: f32| ((x * f).sin() * (y * 0.13).cos() * 100.0 + 128.0) as u8;
            [v(0.21), v(0.07), v(0.33), 255]
        });
        RgbaImage::new(w, h, data.collect()).unwrap()
    }

    #[test]
    fn the_learning_rate_decays_along_a_cosine() {
        let c = TrainConfig { steps: 100, lr: 1e-3, lr_min: 1e-5, ..Default::default() };
        assert!((c.lr_at(0) - 1e-3).abs() < 1e-12);
        assert!((c.lr_at(50) - (1e-3 + 1e-5) / 2.0).abs() < 1e-12);
        assert!((c.lr_at(100) - 1e-5).abs() < 1e-12);
    }

    #[test]
    fn training_lowers_the_loss_on_a_fixed_problem() {
        let model = espcn::build(2, 1).unwrap();
        let data = PatchPairs::from_hr(&[photo_like(64, 64)], 2).unwrap();
        let config = TrainConfig { steps: 40, batch: 4, patch: 12, lr: 3e-3, lr_min: 1e-4, seed: 5 };
        let mut trainer = Trainer::new(&model, &Device::flex(), config).unwrap();
        let mut losses = vec![];
        while !trainer.is_done() {
            losses.push(pollster::block_on(trainer.step(&data)).unwrap().loss);
        }
        let first: f64 = losses[..5].iter().sum::<f64>() / 5.0;
        let last: f64 = losses[35..].iter().sum::<f64>() / 5.0;
        assert!(last < first * 0.7, "loss {first} -> {last}");
        // The trained weights are a loadable model that differs from the start.
        let trained = pollster::block_on(trainer.model()).unwrap();
        assert_ne!(trained.values, model.values);
        trained.validate().unwrap();
    }

    #[test]
    fn a_resumed_run_ends_where_the_uninterrupted_one_does() {
        let model = espcn::build(2, 2).unwrap();
        let data = PatchPairs::from_hr(&[photo_like(48, 40)], 2).unwrap();
        let config = TrainConfig { steps: 8, batch: 2, patch: 10, lr: 2e-3, lr_min: 1e-4, seed: 9 };
        let run = |t: &mut Trainer, n: usize| {
            for _ in 0..n {
                pollster::block_on(t.step(&data)).unwrap();
            }
        };
        let mut whole = Trainer::new(&model, &Device::flex(), config).unwrap();
        run(&mut whole, 8);
        let mut first = Trainer::new(&model, &Device::flex(), config).unwrap();
        run(&mut first, 4);
        let checkpoint = pollster::block_on(first.checkpoint()).unwrap();
        drop(first);
        let mut second = Trainer::resume(&checkpoint, &Device::flex()).unwrap();
        assert_eq!(second.step_index(), 4);
        run(&mut second, 4);
        let (a, b) = (pollster::block_on(whole.model()).unwrap(), pollster::block_on(second.model()).unwrap());
        let worst = a.values.iter().flatten().zip(b.values.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-6, "resumed weights differ by {worst}");
        // Without the optimizer state the run would not match: the check can fail.
        let mut fresh = Trainer::new(&checkpoint.model, &Device::flex(), config).unwrap();
        fresh.step = 4;
        run(&mut fresh, 4);
        let c = pollster::block_on(fresh.model()).unwrap();
        let off = a.values.iter().flatten().zip(c.values.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(off > 1e-5, "Adam's state made no difference ({off})");
    }
}
