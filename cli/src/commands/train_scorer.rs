use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::Result;
use ticketsr::model::format;
use ticketsr::patch::learned;
use ticketsr::platform::now_ms;
use ticketsr::train::TrainConfig;

use crate::args::RunArgs;
use crate::files::{image_files, load_hr, load_model, stem, write};
use crate::progress::{self, running};

/// Train the learned patch scorer: measure the SR model's gain over bicubic on every
/// patch of these HR images and video frames, and fit a tiny network to predict it,
/// with its sign, from the LR patch.
#[derive(clap::Args)]
pub struct Args {
    /// HR images or videos (decoded by ffmpeg); a folder takes every image in it.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// From videos, take every Nth frame...
    #[arg(long, default_value_t = 30)]
    frame_every: usize,
    /// ...and at most this many frames per video.
    #[arg(long, default_value_t = 8)]
    max_frames: usize,
    #[command(flatten)]
    run: RunArgs,
    /// Patch side in LR pixels.
    #[arg(long, default_value_t = 16)]
    patch: usize,
    /// Use only the central N x N pixels of each image.
    #[arg(long)]
    crop: Option<usize>,
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, short)]
    output: PathBuf,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { images, frame_every, max_frames, run, patch, crop, steps, batch, lr, seed, output } = a;
    let model = load_model(run.model.as_deref())?;
    let up = run.upscaler(&model).await?;
    let files = image_files(&images)?;
    let mut hr = load_hr(&images, frame_every, max_frames)?;
    if let Some(n) = crop {
        for img in &mut hr {
            *img = img.crop_centre(n.min(img.width), n.min(img.height))?;
        }
    }
    let samples = learned::GainSamples::measure(&up, &hr, patch).await?;
    let config = TrainConfig { steps, batch, patch, lr, lr_min: lr / 100.0, seed };
    let bar = progress::steps(json, steps);
    let mut mse = f64::NAN;
    let start = now_ms();
    let mut scorer = learned::train(&samples, config, up.device(), |r| {
        mse = running(mse, r.loss);
        bar.set_position(r.step as u64);
        bar.set_message(format!("mse {mse:.3}"));
    })
    .await?;
    bar.finish_and_clear();
    let names: Vec<String> = files.iter().map(|f| stem(f)).collect();
    scorer.info.notes = format!(
        "predicts {}'s gain over bicubic per {patch}x{patch} LR patch, sign(d) ln(1 + |d|) of its squared-error reduction d (8-bit levels squared per pixel); \
         trained by `ticketsr train-scorer` on {} patches of {} images and frames from {} ({steps} steps, batch {batch}, Adam lr {lr:e}, seed {seed}), {:.1} min; final running MSE {mse:.3}",
        model.info.name,
        samples.len(),
        hr.len(),
        names.join(", "),
        (now_ms() - start) / 60e3
    );
    write(&output, &format::to_bytes(&scorer)?)?;
    Ok(json!({ "command": "train-scorer", "output": output, "patches": samples.len(), "mse": mse, "notes": scorer.info.notes }))
}
