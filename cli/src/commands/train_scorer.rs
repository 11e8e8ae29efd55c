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
    /// Train this many scorers, from seeds `seed`, `seed + 1`, ..., and save their mean as
    /// one scorer (its sign is safer where they disagree).
    #[arg(long, default_value_t = 1)]
    members: usize,
    #[arg(long, short)]
    output: PathBuf,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { images, frame_every, max_frames, run, patch, crop, steps, batch, lr, seed, members, output } = a;
    if !(1..=learned::MAX_MEMBERS).contains(&members) {
        return Err(ticketsr::Error::InvalidArgument(format!("--members must be 1..={}, not {members}", learned::MAX_MEMBERS)));
    }
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
    let mut trained = Vec::with_capacity(members);
    let mut mse = f64::NAN;
    let start = now_ms();
    for k in 0..members as u64 {
        let config = TrainConfig { steps, batch, patch, lr, lr_min: lr / 100.0, seed: seed + k };
        let bar = progress::steps(json, steps);
        mse = f64::NAN;
        trained.push(
            learned::train(&samples, config, up.device(), |r| {
                mse = running(mse, r.loss);
                bar.set_position(r.step as u64);
                bar.set_message(format!("scorer {} of {members}: mse {mse:.3}", k + 1));
            })
            .await?,
        );
        bar.finish_and_clear();
    }
    let mut scorer = if members == 1 { trained.remove(0) } else { learned::ensemble(&trained)? };
    let names: Vec<String> = files.iter().map(|f| stem(f)).collect();
    scorer.info.notes = format!(
        "predicts {}'s gain over bicubic per {patch}x{patch} LR patch, sign(d) ln(1 + |d|) of its squared-error reduction d (8-bit levels squared per pixel); \
         trained by `ticketsr train-scorer` on {} patches of {} images and frames from {} ({steps} steps, batch {batch}, Adam lr {lr:e}, seed {seed}{}), {:.1} min; final running MSE {mse:.3}",
        model.info.name,
        samples.len(),
        hr.len(),
        names.join(", "),
        if members > 1 { format!("; the mean of {members} scorers from seeds {seed}..{}", seed + members as u64 - 1) } else { String::new() },
        (now_ms() - start) / 60e3
    );
    write(&output, &format::to_bytes(&scorer)?)?;
    Ok(json!({ "command": "train-scorer", "output": output, "patches": samples.len(), "mse": mse, "notes": scorer.info.notes }))
}
