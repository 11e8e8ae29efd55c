use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::imaging;
use ticketsr::options::{UpscaleOptions, Work};
use ticketsr::patch::score::Scorer;
use ticketsr::patch::{Grid, SparseUpscaler, overlay};
use ticketsr::platform::now_ms;
use ticketsr::{Error, Result};

use super::OVERLAY_HEAT;
use crate::args::RunArgs;
use crate::files::{load_image, load_model, write};
use crate::progress::Tiles;

/// Upscale an image with a model.
#[derive(clap::Args)]
pub struct Args {
    input: PathBuf,
    #[arg(long, short)]
    output: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Run the network only on this share of the patches (winning tickets); the rest
    /// is bicubic. Dense when absent.
    #[arg(long, conflicts_with_all = ["budget_ms", "gains_only"])]
    keep: Option<f64>,
    /// Run the network on as many of the best patches as fit in this many
    /// milliseconds, at a cost per patch measured on this image and device first.
    #[arg(long, conflicts_with = "gains_only")]
    budget_ms: Option<f64>,
    /// Run the network only on the patches the learned scorer predicts to gain over
    /// bicubic (with `--scorer learned`): bicubic is kept where the model would hurt.
    #[arg(long)]
    gains_only: bool,
    /// Scorer that picks the tickets: gradient, laplacian, contrast, learned or random.
    #[arg(long, default_value_t = UpscaleOptions::default().scorer)]
    scorer: Scorer,
    /// Patch side in input pixels.
    #[arg(long, default_value_t = UpscaleOptions::default().patch_size)]
    patch: usize,
    #[arg(long, default_value_t = UpscaleOptions::default().seed)]
    seed: u64,
    /// How far the network's patches feather into bicubic, in output pixels (0: a hard
    /// edge; default: an eighth of an output patch).
    #[arg(long)]
    band: Option<usize>,
    /// Input pixels of context the network sees around its patches (default: its
    /// receptive radius, so patches equal dense SR; less is cheaper and approximate).
    #[arg(long)]
    context: Option<usize>,
    /// Also save the output with the grid, score heatmap and tickets drawn over it.
    #[arg(long)]
    overlay: Option<PathBuf>,
    /// After the first run (the warm-up), time this many more and report their median.
    #[arg(long, default_value_t = 0)]
    repeat: usize,
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let Args { input, output, run, keep, budget_ms, gains_only, scorer, patch, seed, band, context, overlay, repeat } = a;
    let model = load_model(run.model.as_deref())?;
    let img = load_image(&input)?;
    let up = run.upscaler(&model).await?;
    let learned = run.learned_scorer(&up)?;
    let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_ref()).with_context(context)?;
    let mut options = UpscaleOptions { keep, budget_ms, gains_only, patch_size: patch, scorer, seed, band, context, ..Default::default() };
    if budget_ms.is_some() {
        // The budget in milliseconds of this device: the cost per patch measured here first.
        let grid = Grid::new(img.width, img.height, patch)?;
        let scores = sparse.score(scorer, &img, &grid, None, seed).await?;
        options.cost = Some(sparse.measure_cost(&img, &grid, &scores, &mut Tiles::new(json)).await?);
    }
    if options.work(img.width, img.height)? == Work::Dense && overlay.is_some() {
        return Err(Error::InvalidArgument("--overlay needs --keep, --budget-ms or --gains-only".into()));
    }
    let start = now_ms();
    let (out, tickets) = options.upscale(&sparse, &img, &mut Tiles::new(json)).await?;
    let ms = now_ms() - start;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = now_ms();
        options.upscale(&sparse, &img, &mut Tiles::hidden()).await?;
        times.push(now_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    write(&output, &imaging::encode_png(&out)?)?;
    if let (Some(path), Some(t)) = (&overlay, &tickets) {
        let drawn = overlay::draw(&out, &t.grid.scaled(up.scale()), &t.scores, &t.selected, OVERLAY_HEAT)?;
        write(path, &imaging::encode_png(&drawn)?)?;
    }
    Ok(json!({
        "command": "upscale", "input": input, "output": output,
        "width": out.width, "height": out.height, "ms": ms, "info": up.info(),
        "median_ms": times.get(times.len() / 2), "times_ms": times,
        "patches": tickets.as_ref().map(|t| t.grid.len()), "selected": tickets.map(|t| t.selected),
        "cost": options.cost,
    }))
}
