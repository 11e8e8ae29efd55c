use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::imaging::{self, bicubic};
use ticketsr::patch::score::Scorer;
use ticketsr::patch::select::{Selection, select};
use ticketsr::patch::{SparseUpscaler, evaluate, overlay};
use ticketsr::{Error, Result, Silent};

use super::OVERLAY_HEAT;
use crate::args::RunArgs;
use crate::files::{create_dir, image_files, load_image, load_model, stem, write};
use crate::progress;

/// Winning-ticket patches: treat each image as HR, and report how much of dense SR's
/// PSNR gain over bicubic each scorer's patches keep at each keep ratio. A folder
/// stands for the images in it.
#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    /// Patch side in LR pixels.
    #[arg(long, default_value_t = ticketsr::patch::DEFAULT_PATCH)]
    patch: usize,
    /// Keep ratios, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.25,0.5")]
    keep: Vec<f64>,
    /// Scorers, comma-separated: gradient, laplacian, contrast, learned, oracle, stdo, random.
    #[arg(long, value_delimiter = ',', default_value = "gradient,laplacian,contrast,learned,oracle,stdo,random")]
    scorers: Vec<Scorer>,
    /// Seed of the random control.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Use only the central N x N pixels of each image (keeps big photos affordable).
    #[arg(long)]
    crop: Option<usize>,
    /// Save tickets.json (curves and summary) and, per image, an overlay of the first
    /// scorer's tickets here.
    #[arg(long)]
    save_dir: Option<PathBuf>,
    /// Input pixels of context around the patches (default: the network's receptive
    /// radius, exact); below it every point is run patch-sparse, not composed.
    #[arg(long)]
    context: Option<usize>,
    /// Feathering band in output pixels (default: an eighth of an output patch).
    #[arg(long)]
    band: Option<usize>,
    /// Keep ratio the saved overlays show.
    #[arg(long, default_value_t = 0.25)]
    overlay_keep: f64,
}

/// Images whose dense gain is below this (dB) are left out of the share of the gain kept.
const MIN_GAIN_DB: f64 = 0.1;

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { images, run, patch, keep, scorers, seed, crop, context, band, save_dir, overlay_keep } = a;
    let images = image_files(&images)?;
    if let Some(dir) = &save_dir {
        create_dir(dir)?;
    }
    let model = load_model(run.model.as_deref())?;
    let up = run.upscaler(&model).await?;
    let learned = run.learned_scorer(&up)?;
    let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_ref()).with_context(context)?;
    let bar = progress::steps(json, images.len());
    let (mut evals, mut per_image) = (Vec::with_capacity(images.len()), Vec::with_capacity(images.len()));
    let s = up.scale();
    for path in &images {
        let mut hr = load_image(path)?;
        if let Some(n) = crop {
            hr = hr.crop_centre(n.min(hr.width), n.min(hr.height))?;
        }
        let sweep = evaluate::Sweep { patch, scorers: &scorers, keeps: &keep, seed, band };
        let e = evaluate::evaluate(&sparse, &hr, &sweep, &mut Silent).await?;
        let mut overlay = None;
        if let Some(dir) = &save_dir {
            // The first scorer's tickets at `overlay_keep`, over the bicubic upscaling.
            let lr = bicubic::downscale(&hr.crop_to_multiple(s)?, s)?;
            let base = bicubic::resize(&lr, lr.width * s, lr.height * s)?;
            let scores = &e.curves[0].scores;
            let selected = select(scores, Selection::Keep(overlay_keep))?;
            let file = dir.join(format!("{}-{}-keep{}.png", stem(path), e.curves[0].scorer, (overlay_keep * 100.0).round()));
            write(&file, &imaging::encode_png(&overlay::draw(&base, &e.grid.scaled(s), scores, &selected, OVERLAY_HEAT)?)?)?;
            overlay = Some(file);
        }
        per_image.push(json!({ "image": path, "evaluation": e, "overlay": overlay }));
        evals.push(e);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary = evaluate::summarise(&evals, MIN_GAIN_DB);
    let result = json!({ "command": "tickets", "patch": patch, "context": sparse.context(), "images": per_image, "summary": summary, "info": up.info() });
    if let Some(dir) = &save_dir {
        let curves = serde_json::to_vec_pretty(&result).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        write(&dir.join("tickets.json"), &curves)?;
    }
    Ok(result)
}

pub fn print(v: &Value) {
    for img in v["images"].as_array().into_iter().flatten() {
        let e = &img["evaluation"];
        println!(
            "{}: dense {:.2} dB, bicubic {:.2} dB, {} patches of {} px",
            img["image"].as_str().unwrap_or(""),
            e["dense_psnr"].as_f64().unwrap_or(f64::NAN),
            e["bicubic_psnr"].as_f64().unwrap_or(f64::NAN),
            e["grid"]["cols"].as_u64().unwrap_or(0) * e["grid"]["rows"].as_u64().unwrap_or(0),
            v["patch"]
        );
    }
    println!(
        "{:<10} {:>10}  {:>16}  {:>6}  {:>22}  {:>5}  {:>11}",
        "scorer", "keep", "dB over bicubic", "worst", "share of dense gain", "work", "beats random"
    );
    for row in v["summary"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        let wins = row["beats_random"].as_u64().map(|n| format!("{n}/{}", row["images"])).unwrap_or_default();
        let keep = if row["gains_only"].as_bool() == Some(true) { format!("gains {:.0}%", f("keep") * 100.0) } else { format!("{:.0}%", f("keep") * 100.0) };
        println!(
            "{:<10} {:>10}  {:>7.3} ± {:<6.3}  {:>6.2}  {:>6.3} ± {:<5.3} (n={})  {:>5.2}  {:>11}",
            row["scorer"].as_str().unwrap_or(""),
            keep,
            f("mean_gain_db"),
            f("sd_gain_db"),
            f("worst_gain_db"),
            f("mean_share"),
            f("sd_share"),
            row["share_images"],
            f("mean_work"),
            wins
        );
    }
    println!("model: {} on {}", v["info"]["model"]["name"].as_str().unwrap_or(""), v["info"]["backend"]["adapter"].as_str().unwrap_or(""));
}
