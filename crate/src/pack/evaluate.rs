//! How well a pack reconstructs its clip, next to bicubic and general models run densely on
//! the same LR frames: PSNR on the training and the held-out frames, parameters and
//! milliseconds per frame. What `ticketsr overfit` and `ticketsr eval PACK` report.

use serde::Serialize;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, metrics};
use crate::model::{self, ModelFile};
use crate::pack::Pack;
use crate::pack::play::Player;
use crate::platform::now_ms;
use crate::progress::Silent;
use crate::upscale::Upscaler;

/// A model run densely on every frame, with the milliseconds per frame it took.
pub struct Dense {
    pub model: ModelFile,
    pub frames: Vec<RgbaImage>,
    pub ms_per_frame: f64,
}

/// Runs `model` on every frame.
pub async fn dense(model: &ModelFile, frames: &[RgbaImage], backend: &Backend) -> Result<Dense> {
    let up = Upscaler::new(model, backend.clone())?;
    let start = now_ms();
    let mut out = Vec::with_capacity(frames.len());
    for f in frames {
        out.push(up.upscale(f, &mut Silent).await?);
    }
    Ok(Dense { model: model.clone(), frames: out, ms_per_frame: (now_ms() - start) / frames.len().max(1) as f64 })
}

/// Every frame of a pack, played; and the milliseconds per frame.
pub async fn play(pack: &Pack, lr: &[RgbaImage], backend: &Backend) -> Result<(Vec<RgbaImage>, f64)> {
    if lr.len() != pack.maps.len() {
        return Err(Error::InvalidPack(format!("the video has {} frames, the maps {}", lr.len(), pack.maps.len())));
    }
    let player = Player::new(pack, backend)?;
    let start = now_ms();
    let mut out = Vec::with_capacity(lr.len());
    for (f, map) in lr.iter().zip(&pack.maps) {
        out.push(player.frame(f, map).await?);
    }
    Ok((out, (now_ms() - start) / lr.len().max(1) as f64))
}

/// PSNR on the frames trained on and on the held-out ones (`None` where there are none).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SplitPsnr {
    pub train: Option<f64>,
    pub held_out: Option<f64>,
}

/// PSNR of `outputs` against `hr`, apart on the frames in `held_out` and the others.
pub fn split_psnr(outputs: &[RgbaImage], hr: &[RgbaImage], held_out: &[usize], shave: usize) -> Result<SplitPsnr> {
    if outputs.len() != hr.len() {
        return Err(Error::InvalidArgument(format!("{} outputs for {} HR frames", outputs.len(), hr.len())));
    }
    let part = |held: bool| -> Result<Option<f64>> {
        let idx: Vec<usize> = (0..hr.len()).filter(|i| held_out.contains(i) == held).collect();
        if idx.is_empty() {
            return Ok(None);
        }
        let pick = |v: &[RgbaImage]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        Ok(Some(metrics::clip_psnr(&pick(outputs), &pick(hr), shave)?))
    };
    Ok(SplitPsnr { train: part(false)?, held_out: part(true)? })
}

/// One line of a pack's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub psnr: SplitPsnr,
    pub parameters: usize,
    pub ms_per_frame: f64,
}

/// Bicubic, the general models' dense outputs already made, and the pack, on a clip.
pub async fn rows(pack: &Pack, lr: &[RgbaImage], hr: &[RgbaImage], general: &[Dense], backend: &Backend) -> Result<Vec<Row>> {
    let m = &pack.manifest;
    let bicubic = dense(&model::bicubic(m.scale)?, lr, backend).await?;
    let mut rows = Vec::new();
    for d in std::iter::once(&bicubic).chain(general) {
        rows.push(Row {
            name: d.model.info.name.clone(),
            psnr: split_psnr(&d.frames, hr, &m.held_out, m.scale)?,
            parameters: d.model.graph.parameter_count(),
            ms_per_frame: d.ms_per_frame,
        });
    }
    let (out, ms) = play(pack, lr, backend).await?;
    rows.push(Row {
        name: format!("pack {}", m.method.name()),
        psnr: split_psnr(&out, hr, &m.held_out, m.scale)?,
        parameters: pack.models.iter().map(|x| x.graph.parameter_count()).sum(),
        ms_per_frame: ms,
    });
    Ok(rows)
}
