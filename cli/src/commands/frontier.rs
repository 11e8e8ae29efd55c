use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::frontier::{self, Plan, Point, Variant};
use ticketsr::patch::score::Scorer;
use ticketsr::prune::channel::{ChannelConfig, Criterion};
use ticketsr::prune::reconstruct;
use ticketsr::{Backend, BackendChoice, Error, Result};

use crate::files::{load_hr, load_model, stem, write};
use crate::progress;

/// The frontier: PSNR against measured time for every model dense, channel-pruned (by
/// reconstruction on --calibrate images) and on winning-ticket patches, and their
/// combinations, on HR photos, in one run on one device; the Pareto front marked.
#[derive(clap::Args)]
pub struct Args {
    /// HR photos, folders or videos (their frames, decoded by ffmpeg) to downscale,
    /// upscale and score against.
    #[arg(required = true)]
    photos: Vec<PathBuf>,
    /// From videos, take every Nth frame...
    #[arg(long, default_value_t = 10)]
    frame_every: usize,
    /// ...and at most this many frames per video.
    #[arg(long, default_value_t = 4)]
    max_frames: usize,
    /// Model files (one scale); the colour of each family in the plot is its file name.
    #[arg(long, num_args = 1.., required = true)]
    models: Vec<PathBuf>,
    /// Shares of the channels to remove, comma-separated (0 for none).
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5")]
    sparsity: Vec<f64>,
    /// Images the pruning calibrates on (as the models will see them).
    #[arg(long, num_args = 1..)]
    calibrate: Vec<PathBuf>,
    /// Keep ratios of the tickets runs, comma-separated (dense SR is always measured).
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5")]
    keep: Vec<f64>,
    /// What picks the tickets.
    #[arg(long, default_value = "gradient")]
    scorer: Scorer,
    /// Timed runs per photo after a warm-up (the median counts).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// LR pixels of context around the tickets (default: each model's receptive radius,
    /// exact; more than a model's radius is capped to it).
    #[arg(long)]
    context: Option<usize>,
    /// Use only the central N x N pixels of each photo.
    #[arg(long)]
    crop: Option<usize>,
    /// Write the plot here (SVG).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { photos, frame_every, max_frames, models, sparsity, calibrate, keep, scorer, repeat, context, crop, svg, backend } = a;
    let prunes = sparsity.iter().any(|s| *s > 0.0);
    if prunes && calibrate.is_empty() {
        return Err(Error::InvalidArgument("--sparsity above 0 needs --calibrate IMAGES".into()));
    }
    let photos = load_hr(&photos, frame_every, max_frames)?
        .into_iter()
        .map(|img| crop.map_or(Ok(img.clone()), |n| img.crop_centre(n.min(img.width), n.min(img.height))))
        .collect::<Result<Vec<_>>>()?;
    let backend = Backend::acquire(backend).await?;
    let calibration = if prunes { load_hr(&calibrate, 1, 100)? } else { Vec::new() };
    let mut variants = Vec::new();
    for path in &models {
        let model = load_model(Some(path))?;
        let mut pruned = Vec::new();
        for &s in sparsity.iter().filter(|s| **s > 0.0) {
            let config = ChannelConfig { criterion: Criterion::Reconstruction, ..ChannelConfig::new(s) };
            let model = reconstruct::prune(&model, &config, &calibration, &backend.device).await?;
            pruned.push(Variant { family: stem(path), channels_removed: s, model });
        }
        variants.push(Variant { family: stem(path), channels_removed: 0.0, model });
        variants.extend(pruned);
    }
    let keeps_per = 1 + keep.iter().filter(|k| **k < 1.0).count();
    let bar = progress::steps(json, 1 + variants.len() * keeps_per);
    let plan = Plan { keeps: keep, scorer, repeats: repeat, context };
    let points = frontier::measure(&variants, &photos, &plan, &backend, &mut |p| {
        bar.inc(1);
        bar.set_message(format!("{} {:.0} ms {:.2} dB", p.label(), p.ms, p.psnr));
    })
    .await?;
    bar.finish_and_clear();
    let tickets = context.map_or_else(|| "tickets with full context".to_string(), |c| format!("tickets with {c} px context"));
    let title = format!("{} photos or frames x{}, {tickets}, {:?}: {}", photos.len(), variants[0].model.info.scale, backend.info.kind, backend.info.adapter);
    if let Some(path) = &svg {
        write(path, frontier::svg(&points, &title).as_bytes())?;
    }
    // For each dense model's time, the best point within it.
    let budgets: Vec<Value> = points
        .iter()
        .filter(|p| p.keep == 1.0 && p.channels_removed == 0.0)
        .map(|d| {
            let (best, dense) = frontier::best_within(&points, d.ms);
            json!({ "ms": d.ms, "best": best.map(Point::label), "best_psnr": best.map(|p| p.psnr), "dense": dense.map(Point::label), "dense_psnr": dense.map(|p| p.psnr) })
        })
        .collect();
    let points: Vec<Value> = points.iter().map(|p| json!({ "label": p.label(), "point": p })).collect();
    Ok(json!({ "command": "frontier", "title": title, "points": points, "budgets": budgets, "svg": svg }))
}

pub fn print(v: &Value) {
    println!("{}", v["title"].as_str().unwrap_or(""));
    println!("{:<44} {:>10} {:>8}  front", "configuration", "ms", "PSNR");
    for p in v["points"].as_array().into_iter().flatten() {
        let front = if p["point"]["on_front"].as_bool() == Some(true) { "*" } else { "" };
        let f = |k: &str| p["point"][k].as_f64().unwrap_or(f64::NAN);
        println!("{:<44} {:>10.1} {:>8.2}  {front}", p["label"].as_str().unwrap_or(""), f("ms"), f("psnr"));
    }
    for b in v["budgets"].as_array().into_iter().flatten() {
        println!(
            "within {:.0} ms: best {} ({:.2} dB), best dense {} ({:.2} dB)",
            b["ms"].as_f64().unwrap_or(0.0),
            b["best"].as_str().unwrap_or("-"),
            b["best_psnr"].as_f64().unwrap_or(f64::NAN),
            b["dense"].as_str().unwrap_or("-"),
            b["dense_psnr"].as_f64().unwrap_or(f64::NAN)
        );
    }
}
