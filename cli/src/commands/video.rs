use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::imaging::{RgbaImage, bicubic, metrics};
use ticketsr::patch::SparseUpscaler;
use ticketsr::patch::score::Scorer;
use ticketsr::platform::now_ms;
use ticketsr::train::video;
use ticketsr::video::{FrameOptions, Stream};
use ticketsr::{Error, Result, Silent};

use crate::args::RunArgs;
use crate::files::load_model;

/// Play a clip as the page does, frame by frame: treat its frames as the originals,
/// downscale them, and report for dense SR, tickets, temporal reuse and both the
/// milliseconds per frame, the patches computed and reused, and PSNR against the
/// originals and against dense SR.
#[derive(clap::Args)]
pub struct Args {
    clip: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Frames to play from the start of the clip.
    #[arg(long, default_value_t = 30)]
    max_frames: usize,
    /// Keep ratio of the ticket modes.
    #[arg(long, default_value_t = 0.25)]
    keep: f64,
    /// Reuse thresholds in 8-bit levels, comma-separated: a reuse row and a tickets +
    /// reuse row for each.
    #[arg(long, value_delimiter = ',', default_values_t = [FrameOptions::DEFAULT_REUSE])]
    reuse: Vec<f32>,
    /// Patch side in LR pixels.
    #[arg(long, default_value_t = 16)]
    patch: usize,
    /// Scorer of the ticket modes: gradient, laplacian, contrast, learned or random.
    #[arg(long, default_value_t = FrameOptions::default().scorer)]
    scorer: Scorer,
}

pub async fn run(a: Args) -> Result<Value> {
    let Args { clip, run, max_frames, keep, reuse, patch, scorer } = a;
    let up = run.upscaler(&load_model(run.model.as_deref())?).await?;
    let learned = run.learned_scorer(&up)?;
    let sparse = SparseUpscaler::new(&up).with_learned_scorer(learned.as_ref());
    let s = up.scale();
    let hr = video::frames(&clip, 1, max_frames)?.iter().map(|f| f.crop_to_multiple(s)).collect::<Result<Vec<_>>>()?;
    let lr = hr.iter().map(|f| bicubic::downscale(f, s)).collect::<Result<Vec<_>>>()?;
    if lr.is_empty() {
        return Err(Error::InvalidArgument(format!("{} has no frames", clip.display())));
    }
    let base = FrameOptions { patch_size: patch, scorer, ..Default::default() };
    let mut modes = vec![("dense".to_string(), base), (format!("keep {keep}"), FrameOptions { keep: Some(keep), ..base })];
    for &t in &reuse {
        modes.push((format!("reuse {t}"), FrameOptions { reuse: Some(t), ..base }));
        modes.push((format!("keep {keep} + reuse {t}"), FrameOptions { keep: Some(keep), reuse: Some(t), ..base }));
    }
    let bicubic_frames = lr.iter().map(|f| bicubic::resize(f, f.width * s, f.height * s)).collect::<Result<Vec<_>>>()?;
    // The warm-up (first allocations, and shader compilation on a GPU) stays out of the timings.
    up.upscale(&lr[0], &mut Silent).await?;
    let mut dense: Option<Vec<RgbaImage>> = None;
    let mut rows = Vec::new();
    for (name, options) in modes {
        let mut stream = Stream::new();
        let (mut outs, mut times) = (Vec::with_capacity(lr.len()), Vec::with_capacity(lr.len()));
        let mut shares = [0f64; 4];
        for f in &lr {
            let start = now_ms();
            let (out, r) = stream.next(&sparse, f, &options, &mut Silent).await?;
            times.push(now_ms() - start);
            let n = r.patches as f64;
            for (sum, v) in shares.iter_mut().zip([r.computed as f64 / n, r.reused as f64 / n, r.interpolated as f64 / n, r.work]) {
                *sum += v / lr.len() as f64;
            }
            outs.push(out);
        }
        let mean_ms = times.iter().sum::<f64>() / times.len() as f64;
        times.sort_by(f64::total_cmp);
        let vs_dense = dense.as_ref().map(|d| metrics::clip_psnr(&outs, d, s)).transpose()?;
        rows.push(json!({
            "mode": name, "options": { "keep": options.keep, "reuse": options.reuse },
            "median_ms": times[times.len() / 2], "mean_ms": mean_ms,
            "computed": shares[0], "reused": shares[1], "interpolated": shares[2], "work": shares[3],
            "psnr": metrics::clip_psnr(&outs, &hr, s)?, "psnr_vs_dense": vs_dense,
        }));
        dense.get_or_insert(outs);
    }
    Ok(json!({
        "command": "video", "clip": clip, "frames": lr.len(), "width": lr[0].width, "height": lr[0].height,
        "scale": s, "patch": patch, "bicubic_psnr": metrics::clip_psnr(&bicubic_frames, &hr, s)?, "rows": rows, "info": up.info(),
    }))
}

pub fn print(v: &Value) {
    println!(
        "{}: {} frames of {}x{} LR, x{}, {} px patches, bicubic {:.3} dB, {} on {}",
        v["clip"].as_str().unwrap_or(""),
        v["frames"],
        v["width"],
        v["height"],
        v["scale"],
        v["patch"],
        v["bicubic_psnr"].as_f64().unwrap_or(f64::NAN),
        v["info"]["model"]["name"].as_str().unwrap_or(""),
        v["info"]["backend"]["adapter"].as_str().unwrap_or("")
    );
    println!("{:<24} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>10}", "mode", "median ms", "computed", "reused", "bicubic", "work", "PSNR dB", "vs dense");
    for row in v["rows"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        let d = row["psnr_vs_dense"].as_f64().map_or("-".into(), |x| format!("{x:.2}"));
        println!(
            "{:<24} {:>9.1} {:>8.0}% {:>8.0}% {:>8.0}% {:>7.2} {:>9.3} {:>10}",
            row["mode"].as_str().unwrap_or(""),
            f("median_ms"),
            f("computed") * 100.0,
            f("reused") * 100.0,
            f("interpolated") * 100.0,
            f("work"),
            f("psnr"),
            d
        );
    }
}
