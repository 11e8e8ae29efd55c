use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::model::format;
use ticketsr::platform::now_ms;
use ticketsr::prune::channel::{self, Budget, ChannelConfig, Criterion};
use ticketsr::prune::{self, MethodKind, magnitude::Scope, recover};
use ticketsr::train::data::PatchPairs;
use ticketsr::train::{StepReport, TrainConfig};
use ticketsr::{Backend, BackendChoice, Error, Result, Upscaler};

use crate::args::{Schedule, choice};
use crate::files::{load_hr, load_model, write};
use crate::progress::{self, running};

/// Prune a model: zero its smallest weights (the file shrinks with sparsity) or remove
/// whole channels (a smaller, faster dense network); optionally train it back.
#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    #[arg(long, short)]
    output: PathBuf,
    /// magnitude (zero the smallest weights), two-of-four (keep 2 of every 4 consecutive
    /// input channels of each filter tap) or channel (remove whole channels, coupled ones
    /// together: a smaller dense network); the JS API's names.
    #[arg(long, value_parser = choice::<MethodKind>, default_value = "magnitude")]
    method: MethodKind,
    /// Magnitude: rank all weights together (global) or take the same share from every
    /// layer (per-layer).
    #[arg(long, value_parser = choice::<Scope>, default_value = "global")]
    scope: Scope,
    /// Share of the weights (magnitude) or of the channels (channel) to remove.
    #[arg(long, default_value_t = 0.5)]
    sparsity: f64,
    /// Channel: how channels are scored: l1 (mean absolute weight of the filter, Chase),
    /// l2 (its root mean square), leverage (column-subset leverage of the layer's filter
    /// matrix, CHEX) or reconstruction (on --calibrate images: the channels whose removal
    /// changes the next layers least go, and those layers are re-fitted by least squares).
    #[arg(long, value_parser = choice::<Criterion>, default_value = "l1")]
    criterion: Criterion,
    /// Channel: rank all channels together (global), or take the same share from every
    /// layer (per-layer).
    #[arg(long, value_parser = choice::<Budget>, default_value = "global")]
    budget: Budget,
    /// Channel: share of every layer's channels that always stays.
    #[arg(long, default_value_t = channel::default_floor())]
    floor: f64,
    /// Channel: every layer keeps a multiple of this many channels (the nearest).
    #[arg(long, default_value_t = channel::default_multiple())]
    multiple: usize,
    /// Steps of recovery training on --data (pruned weights stay zero); with
    /// --lottery or --gradual, the steps of each training.
    #[arg(long, default_value_t = 0)]
    fine_tune: usize,
    /// HR images, folders or videos to train on.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Channel, reconstruction: images, folders or videos as the model will see them
    /// (its inputs), whose activations choose the channels and re-fit the layers.
    #[arg(long, num_args = 1..)]
    calibrate: Vec<PathBuf>,
    /// Recovery learns the unpruned model's output on --data instead of the HR images
    /// (distillation).
    #[arg(long)]
    distill: bool,
    /// Global magnitude: find a lottery ticket in this many rounds of train, prune,
    /// rewind (then train the ticket once more).
    #[arg(long, conflicts_with = "gradual")]
    lottery: Option<usize>,
    /// Channel: prune gradually while training (Chase's cubic schedule), every N steps.
    #[arg(long)]
    gradual: Option<usize>,
    #[arg(long, default_value_t = 1)]
    frame_every: usize,
    #[arg(long, default_value_t = 100)]
    max_frames: usize,
    /// LR patch side for training.
    #[arg(long, default_value_t = 32)]
    patch: usize,
    #[command(flatten)]
    schedule: Schedule,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args {
        model,
        output,
        method,
        scope,
        sparsity,
        criterion,
        budget,
        floor,
        multiple,
        fine_tune,
        data,
        calibrate,
        distill,
        lottery,
        gradual,
        frame_every,
        max_frames,
        patch,
        schedule,
        backend,
    } = a;
    let m = load_model(Some(&model))?;
    let channels = ChannelConfig { sparsity, criterion, budget, floor, multiple };
    let pass = match method {
        MethodKind::Magnitude => prune::Method::Magnitude { sparsity, scope },
        MethodKind::TwoOfFour => prune::Method::TwoOfFour,
        MethodKind::Channel => prune::Method::Channel(channels),
    };
    let global = matches!(pass, prune::Method::Magnitude { scope: Scope::Global, .. });
    if lottery.is_some() && !global || gradual.is_some() && method != MethodKind::Channel {
        return Err(Error::InvalidArgument("--lottery goes with --method magnitude --scope global, --gradual with --method channel".into()));
    }
    let trains = fine_tune > 0 || lottery.is_some() || gradual.is_some();
    if trains && (fine_tune == 0 || data.is_empty()) {
        return Err(Error::InvalidArgument("training needs --fine-tune STEPS and --data IMAGES|VIDEO".into()));
    }
    if pass.needs_calibration() == calibrate.is_empty() || pass.needs_calibration() && gradual.is_some() {
        return Err(Error::InvalidArgument("--calibrate IMAGES goes with --method channel --criterion reconstruction (not --gradual)".into()));
    }
    if distill && !trains {
        return Err(Error::InvalidArgument("--distill needs --fine-tune STEPS and --data IMAGES|VIDEO".into()));
    }
    let start = now_ms();
    let device = if trains || pass.needs_calibration() { Some(Backend::acquire(backend).await?) } else { None };
    let base = match &device {
        Some(b) if pass.needs_calibration() => pass.apply_on(&m, &load_hr(&calibrate, frame_every, max_frames)?, &b.device).await?,
        _ => pass.apply(&m)?,
    };
    let pruned = match device {
        Some(backend) if trains => {
            let Schedule { batch, lr, lr_min, seed } = schedule;
            let config = TrainConfig { steps: fine_tune, batch, patch, lr, lr_min, seed };
            let mut pairs = PatchPairs::from_hr(&load_hr(&data, frame_every, max_frames)?, m.info.scale)?;
            let device = backend.device.clone();
            if distill {
                pairs = recover::distilled(&pairs, &Upscaler::new(&m, backend)?).await?;
            }
            let trainings = lottery.map_or(1, |r| r + 1);
            let bar = progress::steps(json, fine_tune * trainings);
            let (mut done, mut psnr) = (0, f64::NAN);
            let mut on_step = |phase: &str, r: StepReport| {
                done += 1;
                psnr = running(psnr, r.psnr);
                bar.set_position(done as u64);
                bar.set_message(format!("{phase}: psnr {psnr:.2} dB"));
            };
            let how = recover::Recovery { data: &pairs, config, device: &device };
            let out = match (lottery, gradual) {
                (Some(rounds), _) => recover::lottery(&m, sparsity, rounds, how, &mut on_step).await?,
                (_, Some(every)) => recover::gradual_channels(&m, &channels, every, how, &mut on_step).await?,
                _ => recover::fine_tune(&base, how, &mut on_step).await?,
            };
            bar.finish_and_clear();
            out
        }
        _ => base,
    };
    let file = format::to_bytes(&pruned)?;
    write(&output, &file)?;
    let before = prune::summary(&m, &m, format::to_bytes(&m)?.len())?;
    Ok(json!({
        "command": "prune", "output": output, "before": before, "after": prune::summary(&m, &pruned, file.len())?,
        "minutes": (now_ms() - start) / 60e3, "notes": pruned.info.notes,
    }))
}

pub fn print(v: &Value) {
    let (b, a) = (&v["before"], &v["after"]);
    println!("{:<22} {:>12} {:>12}", "", "before", "after");
    for key in ["parameters", "nonzero", "macsPerOutputPixel", "bytes"] {
        println!("{key:<22} {:>12} {:>12}", b[key], a[key]);
    }
    for l in a["layers"].as_array().into_iter().flatten() {
        println!(
            "  {:<20} channels {:>4} of {:<4} nonzero {:>7} of {}",
            l["name"].as_str().unwrap_or(""),
            l["channels"],
            l["channelsBefore"],
            l["nonzero"],
            l["weights"]
        );
    }
    println!("wrote {}", v["output"].as_str().unwrap_or(""));
}
