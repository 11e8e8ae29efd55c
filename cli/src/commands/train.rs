use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::model::format;
use ticketsr::platform::now_ms;
use ticketsr::train::data::PatchPairs;
use ticketsr::train::{Checkpoint, TrainConfig, Trainer};
use ticketsr::{Backend, BackendChoice, Error, Result};

use crate::args::Schedule;
use crate::files::{load_hr, load_model, write};
use crate::progress::{self, running};

/// Train a model (from `build` or pretrained weights) on images: L1 loss, Adam,
/// cosine decay, random patch pairs made with the project's bicubic convention.
#[derive(clap::Args)]
pub struct Args {
    /// HR training images or videos (decoded by ffmpeg); a folder takes every image
    /// in it.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// From videos, take every Nth frame...
    #[arg(long, default_value_t = 1)]
    frame_every: usize,
    /// ...and at most this many frames per video.
    #[arg(long, default_value_t = 100)]
    max_frames: usize,
    /// The model to start from (`ticketsr build ...` for random weights).
    #[arg(long)]
    init: Option<PathBuf>,
    #[arg(long, short)]
    output: PathBuf,
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// LR patch side.
    #[arg(long, default_value_t = 48)]
    patch: usize,
    #[command(flatten)]
    schedule: Schedule,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Save a checkpoint (model, optimizer state, step) in this folder...
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// ...every this many steps, and at the end.
    #[arg(long, default_value_t = 100)]
    every: usize,
    /// Continue the run saved in this checkpoint folder (its settings win).
    #[arg(long, conflicts_with = "init")]
    resume: Option<PathBuf>,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { images, frame_every, max_frames, init, output, steps, patch, schedule, backend, checkpoint, every, resume } = a;
    let Schedule { batch, lr, lr_min, seed } = schedule;
    let backend = Backend::acquire(backend).await?;
    let mut trainer = match (&resume, &init) {
        (Some(dir), _) => Trainer::resume(&Checkpoint::load(dir)?, &backend.device)?,
        (None, Some(path)) => {
            let config = TrainConfig { steps, batch, patch, lr, lr_min, seed };
            Trainer::new(&load_model(Some(path))?, &backend.device, config)?
        }
        (None, None) => {
            return Err(Error::InvalidArgument("give --init MODEL (e.g. from `ticketsr build`) or --resume DIR".into()));
        }
    };
    let config = trainer.config();
    let hr = load_hr(&images, frame_every, max_frames)?;
    let data = PatchPairs::from_hr(&hr, trainer.scale())?;
    let bar = progress::steps(json, config.steps);
    bar.set_position(trainer.step_index() as u64);
    let start = now_ms();
    let (mut loss, mut psnr) = (f64::NAN, f64::NAN);
    while !trainer.is_done() {
        let r = trainer.step(&data).await?;
        (loss, psnr) = (running(loss, r.loss), running(psnr, r.psnr));
        bar.set_position(r.step as u64);
        bar.set_message(format!("loss {loss:.4} psnr {psnr:.2} dB lr {:.1e}", r.lr));
        if let Some(dir) = &checkpoint
            && (r.step % every.max(1) == 0 || trainer.is_done())
        {
            trainer.checkpoint().await?.save(dir)?;
        }
    }
    bar.finish_and_clear();
    let minutes = (now_ms() - start) / 60e3;
    let mut model = trainer.model().await?;
    model.info.notes = format!(
        "trained by `ticketsr train` on {} images or frames ({} steps, batch {}, LR patch {}, Adam lr {:e} cosine to {:e}, L1, seed {}), \
         {:.1} min on {}; final running loss {loss:.4}, batch PSNR {psnr:.2} dB. {}",
        hr.len(),
        config.steps,
        config.batch,
        config.patch,
        config.lr,
        config.lr_min,
        config.seed,
        minutes,
        backend.info.adapter,
        model.info.notes
    );
    write(&output, &format::to_bytes(&model)?)?;
    Ok(json!({
        "command": "train", "output": output, "images": hr.len(), "steps": config.steps,
        "loss": loss, "psnr": psnr, "minutes": minutes, "backend": backend.info, "parameters": model.graph.parameter_count(),
    }))
}
