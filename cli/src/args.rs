//! Arguments several commands share, and the upscaler they describe. Choices are the
//! library's own types, parsed by their own names (no enums mirrored here).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use ticketsr::patch::LearnedScorer;
use ticketsr::{Backend, BackendChoice, ModelFile, Result, Upscaler};

use crate::files::{DEFAULT_SCORER, load_model};

/// A command-line value as the library type whose serde names the JS API and files use:
/// a misspelt one is an error listing the names there are.
pub fn choice<T: DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s)).map_err(|e| e.to_string())
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Model file (ticketsr safetensors); defaults to the bundled UpscalerJS psnr-small x2 RDN.
    #[arg(long, short)]
    pub model: Option<PathBuf>,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Tile side in input pixels (default: derived from the device's buffer limits).
    #[arg(long)]
    pub tile: Option<usize>,
    /// The learned patch scorer's model (default: the bundled one, when present).
    #[arg(long)]
    pub scorer_model: Option<PathBuf>,
    /// Run convolutions with burn's own kernels instead of ticketsr's fused ones (on the
    /// GPU and the CPU; to compare the two).
    #[arg(long)]
    pub plain_kernels: bool,
}

impl RunArgs {
    /// An upscaler for `model` as these arguments ask.
    pub async fn upscaler(&self, model: &ModelFile) -> Result<Upscaler> {
        let backend = Backend::acquire(self.backend).await?;
        let mut up = Upscaler::new(model, backend)?;
        if let Some(t) = self.tile {
            up = up.with_tile_size(t)?;
        }
        if self.plain_kernels {
            up = up.without_fused_kernels();
        }
        Ok(up)
    }

    /// The learned patch scorer these arguments name (by default the bundled one, when
    /// present), on `up`'s device.
    pub fn learned_scorer(&self, up: &Upscaler) -> Result<Option<LearnedScorer>> {
        let path = match &self.scorer_model {
            Some(path) => path.as_path(),
            None if Path::new(DEFAULT_SCORER).exists() => Path::new(DEFAULT_SCORER),
            None => return Ok(None),
        };
        LearnedScorer::new(&load_model(Some(path))?, up.device()).map(Some)
    }
}

/// Batches and the learning-rate schedule of a training run.
#[derive(clap::Args)]
pub struct Schedule {
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Adam's learning rate at the first step, decayed along a cosine...
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// ...to this at the last.
    #[arg(long, default_value_t = 1e-5)]
    pub lr_min: f64,
    /// Seeds the order of patches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
