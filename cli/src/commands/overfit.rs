use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::overfit::{Method, MethodKind, fit, split};
use ticketsr::pack::make::{self, Request};
use ticketsr::platform::now_ms;
use ticketsr::{Backend, BackendChoice, Result};

use crate::args::{Schedule, choice};
use crate::files::{general_model_path, load_model, write};
use crate::progress::{self, running};

/// Overfit small models to one clip (STDO chunks, Dy-DCA branches or a single model)
/// and write a content pack: the LR video, the models and the per-frame maps.
#[derive(clap::Args)]
pub struct Args {
    /// The HR clip (a video ffmpeg decodes).
    clip: PathBuf,
    #[arg(long, short)]
    output: PathBuf,
    /// single, stdo or dydca (the library's names); the flags below feed one of them.
    #[arg(long, value_parser = choice::<MethodKind>, default_value = "stdo")]
    method: MethodKind,
    /// STDO: how many quantile chunks (one model each).
    #[arg(long, default_value_t = 2)]
    chunks: usize,
    /// Dy-DCA: split big patches whose general-model PSNR is at or below this (dB).
    #[arg(long, default_value_t = split::DEFAULT_THRESHOLD)]
    threshold: f64,
    /// Dy-DCA: instead of --threshold, split this share (0..1) of the big patches, the
    /// hardest, choosing the threshold on the training frames.
    #[arg(long, conflicts_with = "threshold")]
    split_share: Option<f64>,
    #[arg(long, default_value_t = 2)]
    scale: usize,
    /// LR patch side (Dy-DCA: of a small patch; big ones are twice as wide).
    #[arg(long, default_value_t = 32)]
    patch: usize,
    /// Use the central WxH pixels of every HR frame (e.g. 256x256).
    #[arg(long, value_parser = parse_size)]
    crop: Option<(usize, usize)>,
    /// Take every Nth frame of the clip...
    #[arg(long, default_value_t = 1)]
    frame_every: usize,
    /// ...and at most this many.
    #[arg(long, default_value_t = 30)]
    max_frames: usize,
    /// Hold out the last frame of every N (not trained on, reported apart); 0: none.
    #[arg(long, default_value_t = 10)]
    holdout: usize,
    /// The general model that scores patches (default: the bundled WDSR-B at --scale).
    #[arg(long)]
    general: Option<PathBuf>,
    /// The model every overfitted model starts from (default: the general model;
    /// Dy-DCA needs a WDSR-B).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Dy-DCA: blocks of the shallow branch (the first blocks of the deep one).
    #[arg(long, default_value_t = 2)]
    shallow_blocks: usize,
    /// Passes over each model's own patches.
    #[arg(long, default_value_t = 50)]
    epochs: usize,
    #[command(flatten)]
    schedule: Schedule,
    /// x264 quality of the LR video (0 best, 51 worst).
    #[arg(long, default_value_t = 18)]
    crf: u8,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

/// `WxH` as two numbers.
fn parse_size(s: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not a size like 256x256");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    Ok((w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?))
}

pub async fn run(a: Args, json: bool) -> Result<Value> {
    let start = now_ms();
    let Schedule { batch, lr, lr_min, seed } = a.schedule;
    let method = match a.method {
        MethodKind::Single => Method::Single,
        MethodKind::Stdo => Method::Stdo { chunks: a.chunks },
        MethodKind::DyDca => Method::DyDca { threshold: a.threshold },
    };
    let general = load_model(Some(&a.general.unwrap_or_else(|| general_model_path(a.scale))))?;
    let init = match &a.init {
        Some(p) => load_model(Some(p))?,
        None => general.clone(),
    };
    let request = Request {
        method,
        split_share: a.split_share,
        scale: a.scale,
        patch: a.patch,
        crop: a.crop,
        frame_every: a.frame_every,
        max_frames: a.max_frames,
        holdout: a.holdout,
        shallow_blocks: a.shallow_blocks,
        fit: fit::FitConfig { epochs: a.epochs, batch, lr, lr_min, seed },
        crf: a.crf,
    };
    let backend = Backend::acquire(a.backend).await?;
    let bar = progress::steps(json, 0);
    let (mut loss, mut psnr) = (f64::NAN, f64::NAN);
    let done = make::overfit(&a.clip, &request, &general, &init, &backend, |m, r, total| {
        (loss, psnr) = (running(loss, r.loss), running(psnr, r.psnr));
        bar.set_length(total as u64);
        bar.inc(1);
        bar.set_message(format!("model {m}: loss {loss:.4} psnr {psnr:.2} dB"));
    })
    .await?;
    bar.finish_and_clear();
    let bytes = done.pack.to_bytes()?;
    write(&a.output, &bytes)?;
    Ok(json!({
        "command": "overfit", "output": a.output, "bytes": bytes.len(), "video_bytes": done.pack.video.len(),
        "manifest": done.pack.manifest, "patches": done.patches, "steps": done.steps, "train_minutes": done.train_minutes,
        "minutes": (now_ms() - start) / 60e3, "rows": done.rows, "backend": backend.info,
    }))
}

/// The table of `overfit` and of `eval PACK`: each row's PSNR, size and speed.
pub fn print(v: &Value) {
    let m = &v["manifest"];
    println!(
        "{} x{}, {} frames of {}x{} LR ({} held out)",
        m["method"]["kind"].as_str().unwrap_or(""),
        m["scale"],
        m["frames"],
        m["width"],
        m["height"],
        m["held_out"].as_array().map_or(0, Vec::len)
    );
    println!("{:<34} {:>10} {:>10} {:>10} {:>9}", "", "train dB", "held dB", "params", "ms/frame");
    for row in v["rows"].as_array().into_iter().flatten() {
        let f = |k: &str| row["psnr"][k].as_f64().map_or("-".into(), |x| format!("{x:.3}"));
        println!(
            "{:<34} {:>10} {:>10} {:>10} {:>9.0}",
            row["name"].as_str().unwrap_or(""),
            f("train"),
            f("held_out"),
            row["parameters"],
            row["ms_per_frame"].as_f64().unwrap_or(f64::NAN)
        );
    }
    if let Some(out) = v["output"].as_str() {
        println!("wrote {out} ({} bytes, video {}), {:.1} min", v["bytes"], v["video_bytes"], v["minutes"].as_f64().unwrap_or(0.0));
    }
}
