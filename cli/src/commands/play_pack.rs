use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use ticketsr::imaging::{self, RgbaImage};
use ticketsr::model;
use ticketsr::pack::{Pack, Source, evaluate};
use ticketsr::train::video;
use ticketsr::{Backend, BackendChoice, Error, Result};

use crate::files::{create_dir, load_pack, write};

/// Reconstruct the HR frames of a content pack and, where the HR clip is at hand (its
/// recorded source or --hr), report PSNR on the training and the held-out frames.
#[derive(clap::Args)]
pub struct Args {
    pack: PathBuf,
    /// The HR clip, if not at the path the pack records.
    #[arg(long)]
    hr: Option<PathBuf>,
    /// Write every reconstructed frame here as PNG.
    #[arg(long)]
    save_dir: Option<PathBuf>,
    /// Where to run: auto (the GPU, Vulkan, when available, else the CPU), gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

/// The HR frames a pack was made from.
fn source_frames(source: &Source, path: &Path) -> Result<Vec<RgbaImage>> {
    let [x, y, w, h] = source.crop;
    video::frames(path, source.frame_every, source.max_frames)?.iter().map(|f| f.crop_at(x, y, w, h)).collect()
}

/// A pack's decoded LR frames and, when its HR clip is found, the HR frames.
pub fn pack_frames(pack: &Pack, hr: Option<&Path>) -> Result<(Vec<RgbaImage>, Option<Vec<RgbaImage>>)> {
    let lr = video::decode(&pack.video, pack.manifest.frames)?;
    if lr.len() != pack.manifest.frames {
        return Err(Error::InvalidPack(format!("its video has {} frames, the manifest {}", lr.len(), pack.manifest.frames)));
    }
    let hr = match (&pack.manifest.source, hr) {
        (Some(src), Some(path)) => Some(source_frames(src, path)?),
        (Some(src), None) if Path::new(&src.path).exists() => Some(source_frames(src, Path::new(&src.path))?),
        (None, Some(_)) => {
            return Err(Error::InvalidPack("the pack records no source crop to match the HR clip with".into()));
        }
        _ => None,
    };
    Ok((lr, hr))
}

pub async fn run(a: Args) -> Result<Value> {
    let Args { pack: path, hr, save_dir, backend } = a;
    let pack = load_pack(&path)?;
    let (lr, hr_frames) = pack_frames(&pack, hr.as_deref())?;
    let backend = Backend::acquire(backend).await?;
    let (out, ms) = evaluate::play(&pack, &lr, &backend).await?;
    let first = out.first().ok_or_else(|| Error::InvalidPack("the pack has no frames".into()))?;
    if let Some(dir) = &save_dir {
        create_dir(dir)?;
        for (i, f) in out.iter().enumerate() {
            write(&dir.join(format!("frame-{i:04}.png")), &imaging::encode_png(f)?)?;
        }
    }
    let s = pack.manifest.scale;
    let quality = match &hr_frames {
        Some(hr) => {
            let base = evaluate::dense(&model::bicubic(s)?, &lr, &backend).await?;
            let held = &pack.manifest.held_out;
            json!({ "pack": evaluate::split_psnr(&out, hr, held, s)?, "bicubic": evaluate::split_psnr(&base.frames, hr, held, s)? })
        }
        None => Value::Null,
    };
    Ok(json!({
        "command": "play-pack", "pack": path, "frames": out.len(), "width": first.width, "height": first.height,
        "ms_per_frame": ms, "psnr": quality, "manifest": pack.manifest, "backend": backend.info,
    }))
}

pub fn print(v: &Value) {
    let m = &v["manifest"];
    println!(
        "{}: {} x{}, {} frames of {}x{}, {:.0} ms per frame",
        v["pack"].as_str().unwrap_or(""),
        m["method"]["kind"].as_str().unwrap_or(""),
        m["scale"],
        v["frames"],
        v["width"],
        v["height"],
        v["ms_per_frame"].as_f64().unwrap_or(f64::NAN)
    );
    for key in ["bicubic", "pack"] {
        let p = &v["psnr"][key];
        let f = |k: &str| p[k].as_f64().map_or("-".into(), |x| format!("{x:.3} dB"));
        if !p.is_null() {
            println!("{key:<8} training frames {}, held-out frames {}", f("train"), f("held_out"));
        }
    }
}
