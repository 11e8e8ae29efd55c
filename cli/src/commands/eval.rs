use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::imaging::{self, RgbaImage, bicubic, metrics};
use ticketsr::model;
use ticketsr::pack::evaluate;
use ticketsr::platform::now_ms;
use ticketsr::{Backend, Error, Result, Silent};

use super::play_pack::pack_frames;
use crate::args::RunArgs;
use crate::files::{create_dir, load_image, load_model, load_pack, write};
use crate::progress::Tiles;

/// Treat an image as ground truth: downscale it, upscale with the model and with
/// bicubic, and report PSNR/SSIM of both against it. Given a content pack
/// (`.tsrpack`), report the pack, bicubic and (with --model) a general model on its
/// clip instead.
#[derive(clap::Args)]
pub struct Args {
    hr: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Border ignored by the metrics (default: the scale).
    #[arg(long)]
    shave: Option<usize>,
    /// Also write the LR input, the bicubic and the model output as PNGs here.
    #[arg(long)]
    save_dir: Option<PathBuf>,
}

pub async fn run(a: Args, json: bool) -> Result<(Value, fn(&Value))> {
    if a.hr.extension().is_some_and(|e| e == "tsrpack") {
        return Ok((pack(a).await?, super::overfit::print));
    }
    let Args { hr, run, shave, save_dir } = a;
    let model = load_model(run.model.as_deref())?;
    let s = model.info.scale;
    let hr_img = load_image(&hr)?.crop_to_multiple(s)?;
    let lr = bicubic::downscale(&hr_img, s)?;
    let up = run.upscaler(&model).await?;
    let start = now_ms();
    let sr = up.upscale(&lr, &mut Tiles::new(json)).await?;
    let ms = now_ms() - start;
    let base = run.upscaler(&model::bicubic(s)?).await?.upscale(&lr, &mut Silent).await?;
    let shave = shave.unwrap_or(s);
    let score = |img: &RgbaImage| -> Result<Value> {
        Ok(json!({
            "psnr_rgb": metrics::psnr_rgb(img, &hr_img, shave)?,
            "psnr_y": metrics::psnr_y(img, &hr_img, shave)?,
            "ssim_y": metrics::ssim_y(img, &hr_img, shave)?,
        }))
    };
    if let Some(dir) = &save_dir {
        create_dir(dir)?;
        write(&dir.join("lr.png"), &imaging::encode_png(&lr)?)?;
        write(&dir.join("bicubic.png"), &imaging::encode_png(&base)?)?;
        write(&dir.join("sr.png"), &imaging::encode_png(&sr)?)?;
    }
    let v = json!({
        "command": "eval", "hr": hr, "width": hr_img.width, "height": hr_img.height,
        "scale": s, "shave": shave, "model": score(&sr)?, "bicubic": score(&base)?,
        "ms": ms, "info": up.info(),
    });
    Ok((v, print))
}

/// A content pack on its own clip, next to bicubic and, with --model, a general model.
async fn pack(a: Args) -> Result<Value> {
    let pack = load_pack(&a.hr)?;
    let (lr, hr_frames) = pack_frames(&pack, None)?;
    let hr_frames = hr_frames.ok_or_else(|| Error::InvalidArgument("the pack's HR clip is not at the path it records; use play-pack --hr".into()))?;
    let backend = Backend::acquire(a.run.backend).await?;
    let general = match a.run.model.as_deref() {
        Some(p) => vec![evaluate::dense(&load_model(Some(p))?, &lr, &backend).await?],
        None => vec![],
    };
    let rows = evaluate::rows(&pack, &lr, &hr_frames, &general, &backend).await?;
    Ok(json!({ "command": "eval-pack", "pack": a.hr, "manifest": pack.manifest, "rows": rows, "backend": backend.info }))
}

fn print(v: &Value) {
    println!("{} ({}x{}), x{}, shave {}", v["hr"].as_str().unwrap_or(""), v["width"], v["height"], v["scale"], v["shave"]);
    println!("{:<10} {:>9} {:>9} {:>8}", "", "PSNR RGB", "PSNR Y", "SSIM Y");
    for key in ["bicubic", "model"] {
        let m = &v[key];
        let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        println!("{key:<10} {:>9.3} {:>9.3} {:>8.4}", f("psnr_rgb"), f("psnr_y"), f("ssim_y"));
    }
    println!(
        "model: {} on {} ({}), {:.0} ms",
        v["info"]["model"]["name"].as_str().unwrap_or(""),
        v["info"]["backend"]["adapter"].as_str().unwrap_or(""),
        v["info"]["backend"]["kind"].as_str().unwrap_or(""),
        v["ms"].as_f64().unwrap_or(0.0)
    );
}
