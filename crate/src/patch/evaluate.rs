//! The research claim, measured: with the user's image as HR, how much of dense SR's PSNR
//! gain over bicubic do the winning tickets of each scorer keep at each keep ratio?

use serde::Serialize;

use super::score::{Reference, Scorer};
use super::select::{Selection, select};
use super::{Grid, SparseUpscaler, sparse};
use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic, metrics};
use crate::progress::Progress;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct CurvePoint {
    pub keep: f64,
    pub patches: usize,
    pub psnr: f64,
    /// `(psnr - bicubic) / (dense - bicubic)`: 1 is all of dense SR's gain, 0 none.
    pub share_of_gain: f64,
    /// Multiply-accumulates of patch-sparse execution (its windows, capped by dense SR's)
    /// over dense tiled execution's: what the keep ratio saves, halos included.
    pub work: f64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct Curve {
    pub scorer: Scorer,
    /// Every patch's score (row-major over `Evaluation::grid`).
    pub scores: Vec<f32>,
    pub points: Vec<CurvePoint>,
    /// The "gains only" selection ([`Selection::Gains`]; its `keep` is the share it kept),
    /// for scorers that predict the gain.
    pub gains: Option<CurvePoint>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct Evaluation {
    pub grid: Grid,
    pub bicubic_psnr: f64,
    pub dense_psnr: f64,
    pub curves: Vec<Curve>,
}

/// What [`evaluate`] measures: patches of `patch` LR pixels, each scorer at each keep
/// ratio (and gains only), feathered over `band` output pixels ([`super::band`]).
#[derive(Clone, Copy, Debug)]
pub struct Sweep<'a> {
    pub patch: usize,
    pub scorers: &'a [Scorer],
    pub keeps: &'a [f64],
    /// Seed of the random control.
    pub seed: u64,
    pub band: Option<usize>,
}

/// Downscales `hr` with the project's convention, runs dense SR once, then for every scorer
/// and keep ratio (and gains only, for scorers that predict the gain) measures what
/// patch-sparse SR outputs. With the exact context it composes it: dense SR inside the
/// selected patches (which patch-sparse execution equals, tested in `sparse`), feathered
/// into bicubic over the same band. The band takes dense SR where sparse execution takes
/// its halo's SR, which differs only where the halo lacks context. Composing instead of
/// re-running keeps a table over many photos affordable on a CPU. With a narrower context
/// the output differs from dense SR, so it runs patch-sparse execution for every point.
/// PSNR is on RGB with a border of `scale` shaved.
pub async fn evaluate(sparse: &SparseUpscaler<'_>, hr: &RgbaImage, sweep: &Sweep<'_>, progress: &mut impl Progress) -> Result<Evaluation> {
    let &Sweep { patch, scorers, keeps, seed, band } = sweep;
    let up = sparse.upscaler();
    let s = up.scale();
    let hr = hr.crop_to_multiple(s)?;
    let lr = bicubic::downscale(&hr, s)?;
    let grid = Grid::new(lr.width, lr.height, patch)?;
    let dense = up.upscale(&lr, progress).await?;
    let base = bicubic::resize(&lr, hr.width, hr.height)?;
    let psnr = |img: &RgbaImage| metrics::psnr_rgb(img, &hr, s);
    let (dense_psnr, bicubic_psnr) = (psnr(&dense)?, psnr(&base)?);
    if !(dense_psnr - bicubic_psnr).is_finite() {
        return Err(Error::InvalidArgument("the image is reproduced exactly; there is no gain to share".into()));
    }
    let reference = Reference { hr: &hr, sr: &dense, bicubic: &base };
    let band = super::band(band, patch, s)?;
    let dense_planes = dense.planes(dense.full());
    let mut curves = Vec::with_capacity(scorers.len());
    for &scorer in scorers {
        let scores = sparse.score(scorer, &lr, &grid, Some(&reference), seed).await?;
        let selections = keeps.iter().map(|&k| Selection::Keep(k)).chain(scorer.predicts_gain().then_some(Selection::Gains));
        let mut points = Vec::with_capacity(keeps.len() + 1);
        for selection in selections {
            let selected = select(&scores, selection)?;
            let plan = sparse.plan(&grid, &selected);
            let work = sparse.plan_work(&plan, &sparse.drops(&plan, band), grid.width, grid.height);
            let out = if sparse.is_exact() {
                let mut out = base.clone();
                sparse::Feather::new(&grid, &selected, &plan.per_patch(), s, sparse.band_outside(band)).blend(&mut out, &dense_planes);
                out
            } else {
                sparse.upscale_patches(&lr, &grid, &selected, band, progress).await?
            };
            let p = psnr(&out)?;
            points.push(CurvePoint {
                keep: match selection {
                    Selection::Keep(k) => k,
                    _ => selected.len() as f64 / grid.len() as f64,
                },
                patches: selected.len(),
                psnr: p,
                share_of_gain: (p - bicubic_psnr) / (dense_psnr - bicubic_psnr),
                work,
            });
        }
        let gains = if scorer.predicts_gain() { points.pop() } else { None };
        curves.push(Curve { scorer, scores, points, gains });
    }
    Ok(Evaluation { grid, bicubic_psnr, dense_psnr, curves })
}

/// One scorer at one keep ratio (or gains only) over many images.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub scorer: Scorer,
    /// The keep ratio; for the gains-only selection, the mean share it kept.
    pub keep: f64,
    /// The row is the gains-only selection ([`Selection::Gains`]), not a keep ratio.
    pub gains_only: bool,
    pub images: usize,
    /// PSNR over bicubic, dB: mean and standard deviation over all images, and the worst.
    pub mean_gain_db: f64,
    pub sd_gain_db: f64,
    pub worst_gain_db: f64,
    /// Share of dense SR's gain, over the `share_images` where dense SR gains at least
    /// `min_gain_db` (where it gains nothing or loses, a share is meaningless).
    pub mean_share: f64,
    pub sd_share: f64,
    pub share_images: usize,
    /// Mean network work relative to dense (see [`CurvePoint::work`]).
    pub mean_work: f64,
    /// Images on which this scorer's tickets beat the random control's PSNR at this keep
    /// ratio (when random was evaluated).
    pub beats_random: Option<usize>,
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt())
}

/// Which point of a curve a summary row is about.
#[derive(Clone, Copy)]
enum Pick {
    Keep(usize),
    Gains,
}

impl Pick {
    fn on(self, curve: &Curve) -> Option<&CurvePoint> {
        match self {
            Pick::Keep(k) => curve.points.get(k),
            Pick::Gains => curve.gains.as_ref(),
        }
    }
}

/// Rows per scorer and keep ratio, then its gains-only row, over evaluations made with the
/// same scorers and ratios.
pub fn summarise(evals: &[Evaluation], min_gain_db: f64) -> Vec<SummaryRow> {
    let Some(first) = evals.first() else { return vec![] };
    let random = first.curves.iter().position(|c| c.scorer == Scorer::Random);
    let mut rows = Vec::new();
    for (si, curve) in first.curves.iter().enumerate() {
        let picks = (0..curve.points.len()).map(Pick::Keep).chain(curve.gains.is_some().then_some(Pick::Gains));
        for pick in picks {
            // Evaluations made otherwise (a curve without this point) are left out.
            let at = |e: &'_ Evaluation| e.curves.get(si).and_then(|c| pick.on(c)).map(|p| p.psnr);
            let seen: Vec<(&Evaluation, &CurvePoint)> = evals.iter().filter_map(|e| Some((e, e.curves.get(si).and_then(|c| pick.on(c))?))).collect();
            let gains: Vec<f64> = seen.iter().map(|(e, p)| p.psnr - e.bicubic_psnr).collect();
            let shares: Vec<f64> = seen.iter().filter(|(e, _)| e.dense_psnr - e.bicubic_psnr >= min_gain_db).map(|(_, p)| p.share_of_gain).collect();
            let works: Vec<f64> = seen.iter().map(|(_, p)| p.work).collect();
            let keeps: Vec<f64> = seen.iter().map(|(_, p)| p.keep).collect();
            let ((mean_gain_db, sd_gain_db), (mean_share, sd_share)) = (mean_sd(&gains), mean_sd(&shares));
            let beats_random = match (pick, random) {
                (Pick::Keep(k), Some(r)) if r != si => {
                    Some(evals.iter().filter(|e| matches!((at(e), e.curves.get(r).and_then(|c| c.points.get(k))), (Some(a), Some(b)) if a > b.psnr)).count())
                }
                _ => None,
            };
            rows.push(SummaryRow {
                scorer: curve.scorer,
                keep: mean_sd(&keeps).0,
                gains_only: matches!(pick, Pick::Gains),
                images: seen.len(),
                mean_gain_db,
                sd_gain_db,
                worst_gain_db: gains.iter().copied().fold(f64::INFINITY, f64::min),
                mean_share,
                sd_share,
                share_images: shares.len(),
                mean_work: mean_sd(&works).0,
                beats_random,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;
    use crate::{Backend, Silent, Upscaler};

    #[test]
    fn keeping_nothing_is_bicubic_and_everything_is_dense() {
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        let data = (0..48 * 40).flat_map(|i| [(i * 13 % 256) as u8, (i / 48 * 5) as u8, (i % 48 * 5) as u8, 255]);
        let hr = RgbaImage::new(48, 40, data.collect()).unwrap();
        let sweep = Sweep { patch: 8, scorers: &[Scorer::Gradient, Scorer::Oracle], keeps: &[0.0, 0.5, 1.0], seed: 3, band: None };
        let e = pollster::block_on(evaluate(&SparseUpscaler::new(&up), &hr, &sweep, &mut Silent)).unwrap();
        assert_eq!(e.grid.len(), 3 * 3);
        for curve in &e.curves {
            let p = &curve.points;
            assert_eq!((p[0].patches, p[1].patches, p[2].patches), (0, 5, 9));
            assert!(p[0].share_of_gain.abs() < 1e-9 && (p[2].share_of_gain - 1.0).abs() < 1e-9, "{curve:?}");
            // All patches share one window, the whole image: dense SR's work, no more.
            assert!(p[0].work == 0.0 && (p[2].work - 1.0).abs() < 1e-9 && p[1].work <= 1.0, "{curve:?}");
            assert_eq!(curve.scores.len(), 9);
        }
        // Only the scorers that predict the gain have a gains-only point; the oracle's keeps
        // exactly the patches that gain, so it is at least dense SR and at least bicubic.
        let gains = e.curves[1].gains.as_ref().unwrap();
        assert!(e.curves[0].gains.is_none() && gains.psnr >= e.dense_psnr.max(e.bicubic_psnr) - 1e-9, "{gains:?}");
        // The oracle keeps the patches with the largest gain, so at half it keeps the most.
        let half = |s: usize| e.curves[s].points[1].psnr;
        assert!(half(1) >= half(0), "oracle {} < gradient {}", half(1), half(0));
    }

    fn point(keep: f64, psnr: f64, share_of_gain: f64) -> CurvePoint {
        CurvePoint { keep, patches: 0, psnr, share_of_gain, work: keep }
    }

    #[test]
    fn the_summary_shares_only_where_sr_gains_and_counts_wins_over_random() {
        let grid = Grid::new(8, 8, 4).unwrap();
        let eval = |bicubic: f64, dense: f64, ours: f64, random: f64| Evaluation {
            grid,
            bicubic_psnr: bicubic,
            dense_psnr: dense,
            curves: vec![
                Curve { scorer: Scorer::Gradient, scores: vec![], points: vec![point(0.5, ours, (ours - bicubic) / (dense - bicubic))], gains: None },
                Curve { scorer: Scorer::Random, scores: vec![], points: vec![point(0.5, random, (random - bicubic) / (dense - bicubic))], gains: None },
                Curve { scorer: Scorer::Oracle, scores: vec![], points: vec![], gains: Some(point(0.4, bicubic.max(dense), 0.0)) },
            ],
        };
        // Two images where SR gains 2 dB, one where it loses 1 dB.
        let rows = summarise(&[eval(30.0, 32.0, 31.5, 31.0), eval(20.0, 22.0, 21.0, 21.5), eval(25.0, 24.0, 24.9, 24.5)], 0.1);
        let g = &rows[0];
        assert_eq!((g.scorer, g.images, g.share_images, g.beats_random), (Scorer::Gradient, 3, 2, Some(2)));
        assert!((g.mean_share - 0.625).abs() < 1e-12 && (g.sd_share - 0.125).abs() < 1e-12, "{g:?}");
        assert!((g.mean_gain_db - (1.5 + 1.0 - 0.1) / 3.0).abs() < 1e-12 && (g.worst_gain_db + 0.1).abs() < 1e-12, "{g:?}");
        assert_eq!(rows[1].beats_random, None);
        // The gains-only row: never below bicubic here, and not compared with random.
        let o = &rows[2];
        assert!(o.gains_only && !g.gains_only && o.beats_random.is_none() && (o.keep - 0.4).abs() < 1e-12, "{o:?}");
        assert!(o.worst_gain_db.abs() < 1e-12 && (o.mean_gain_db - 4.0 / 3.0).abs() < 1e-12, "{o:?}");
    }
}
