//! Making a pack: the whole of overfitting one clip, from its HR frames to a content pack
//! and its report. Crop so that whole map cells tile the LR frame, make the LR video as a
//! client gets it (bicubic, then H.264, decoded again for training), score every patch
//! with the general model, draw the maps, overfit one model per training set, and measure
//! the pack next to bicubic and the general model. Natively only: it runs ffmpeg.

use std::path::Path;

use super::evaluate::{self, Row};
use super::{Manifest, Pack, Source};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::imaging::bicubic;
use crate::model::ModelFile;
use crate::overfit::{Layout, Method, fit, split};
use crate::platform::now_ms;
use crate::train::{StepReport, video};

/// What to make of a clip.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub method: Method,
    /// Dy-DCA: split this share of the big patches (the hardest), choosing the threshold on
    /// the training frames, instead of the method's threshold.
    pub split_share: Option<f64>,
    pub scale: usize,
    /// LR patch side (Dy-DCA: of a small patch).
    pub patch: usize,
    /// The central HR width and height of every frame to use (default: all of it).
    pub crop: Option<(usize, usize)>,
    pub frame_every: usize,
    pub max_frames: usize,
    /// Hold out the last frame of every this many (not trained on, reported apart); 0: none.
    pub holdout: usize,
    /// Dy-DCA: blocks of the shallow branch.
    pub shallow_blocks: usize,
    pub fit: fit::FitConfig,
    /// x264 quality of the LR video.
    pub crf: u8,
}

/// A pack, with its report and what its training took.
pub struct Overfitted {
    pub pack: Pack,
    /// Bicubic, the general model and the pack, as [`evaluate::rows`] measures them.
    pub rows: Vec<Row>,
    /// Training patches and optimizer steps of each model.
    pub patches: Vec<usize>,
    pub steps: Vec<usize>,
    pub train_minutes: f64,
}

/// Overfits models that start from `init` to the clip at `clip`, scored by `general`.
/// `on_step(model, report, total_steps)` follows the training.
pub async fn overfit(
    clip: &Path,
    request: &Request,
    general: &ModelFile,
    init: &ModelFile,
    backend: &Backend,
    mut on_step: impl FnMut(usize, &StepReport, usize),
) -> Result<Overfitted> {
    let Request { method, scale, patch, frame_every, max_frames, holdout, fit: config, crf, .. } = *request;
    if general.info.scale != scale {
        return Err(Error::InvalidArgument(format!("the general model `{}` is x{}, not x{scale}", general.info.name, general.info.scale)));
    }
    let inits = match method {
        Method::DyDca { .. } => split::branches(init, request.shallow_blocks)?.to_vec(),
        m => vec![init.clone(); m.models()],
    };
    // HR frames, cropped so that whole map cells tile the LR frame.
    let frames = video::frames(clip, frame_every, max_frames)?;
    let first = frames.first().ok_or_else(|| Error::InvalidArgument(format!("{} has no frames", clip.display())))?;
    let (fw, fh) = (first.width, first.height);
    let (cw, ch) = request.crop.unwrap_or((fw, fh));
    let unit = scale * method.cell(patch);
    let (cw, ch) = (cw.min(fw) / unit * unit, ch.min(fh) / unit * unit);
    let (cx, cy) = ((fw - cw) / 2, (fh - ch) / 2);
    let hr = frames.iter().map(|f| f.crop_at(cx, cy, cw, ch)).collect::<Result<Vec<_>>>()?;
    let layout = Layout::new(method, patch, cw / scale, ch / scale)?;
    // The LR video as the client gets it: bicubic, then H.264; training sees it decoded.
    let fps = video::frame_rate(clip)? / frame_every.max(1) as f64;
    let lr_clean = hr.iter().map(|f| bicubic::downscale(f, scale)).collect::<Result<Vec<_>>>()?;
    let mp4 = video::encode(&lr_clean, video::Encoding { fps, crf })?;
    let lr = video::decode(&mp4, lr_clean.len())?;
    let held: Vec<bool> = (0..hr.len()).map(|i| holdout > 0 && i % holdout == holdout - 1).collect();
    let clip_frames = fit::Clip { lr: &lr, hr: &hr, held_out: &held };
    let general_out = evaluate::dense(general, &lr, backend).await?;
    let scores = fit::scores(&layout, &clip_frames, &general_out.frames, scale)?;
    let method = match (method, request.split_share) {
        (Method::DyDca { .. }, Some(share)) => Method::DyDca { threshold: split::threshold_for_share(&fit::training_scores(&scores, &held), share)? },
        (m, _) => m,
    };
    let layout = Layout { method, ..layout };
    let (maps, bounds) = fit::maps(method, &scores, &held)?;
    let halos = inits.iter().map(|m| Ok(m.graph.analyze()?.receptive_radius)).collect::<Result<Vec<_>>>()?;
    let sets = fit::training_sets(&layout, &clip_frames, &maps, scale, &halos)?;
    let patches: Vec<usize> = sets.iter().map(Vec::len).collect();
    let total: usize = patches.iter().map(|&n| config.steps(n)).sum();
    let start = now_ms();
    let fitted = fit::fit(sets, &inits, config, &backend.device, |m, r| on_step(m, r, total)).await?;
    let train_minutes = (now_ms() - start) / 60e3;
    let steps: Vec<usize> = fitted.iter().map(|f| f.steps).collect();
    let fit::FitConfig { epochs, batch, lr: rate, lr_min, seed } = config;
    let manifest = Manifest {
        method,
        scale,
        patch,
        width: layout.width,
        height: layout.height,
        frames: hr.len(),
        fps,
        held_out: (0..hr.len()).filter(|&i| held[i]).collect(),
        bounds,
        source: Some(Source { path: clip.display().to_string(), crop: [cx, cy, cw, ch], frame_every, max_frames }),
        notes: format!(
            "`ticketsr overfit` from `{}` (general model `{}`), {epochs} epochs per model over its own patches (batch {batch}, \
             Adam lr {rate:e} cosine to {lr_min:e}, L1, seed {seed}), patches per model {patches:?}, steps {steps:?}, \
             {train_minutes:.1} min on {}; LR video x264 crf {crf}",
            init.info.name, general.info.name, backend.info.adapter
        ),
    };
    let pack = Pack { manifest, models: fitted.into_iter().map(|f| f.model).collect(), maps, video: mp4 };
    let rows = evaluate::rows(&pack, &lr, &hr, std::slice::from_ref(&general_out), backend).await?;
    Ok(Overfitted { pack, rows, patches, steps, train_minutes })
}
