//! The research claim, measured: with the user's image as HR, how much of dense SR's PSNR
//! gain over bicubic do the winning tickets of each scorer keep at each keep ratio?

use serde::Serialize;

use super::score::{self, Reference, Scorer};
use super::select::{Selection, select};
use super::{Grid, sparse};
use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic, metrics};
use crate::upscale::{Silent, Upscaler};

#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    pub keep: f64,
    pub patches: usize,
    pub psnr: f64,
    /// `(psnr - bicubic) / (dense - bicubic)`: 1 is all of dense SR's gain, 0 none.
    pub share_of_gain: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Curve {
    pub scorer: Scorer,
    pub points: Vec<CurvePoint>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub grid: Grid,
    pub bicubic_psnr: f64,
    pub dense_psnr: f64,
    pub curves: Vec<Curve>,
}

/// Downscales `hr` with the project's convention, runs dense SR once, then for every scorer
/// and keep ratio composes what patch-sparse SR outputs: dense SR inside the selected
/// patches (which patch-sparse execution equals, tested in `sparse`), feathered into
/// bicubic over the same band. The band takes dense SR where sparse execution takes its
/// halo's SR, which differs only where the halo lacks context. Composing instead of
/// re-running keeps a table over many photos affordable on a CPU.
/// PSNR is on RGB with a border of `scale` shaved.
pub async fn evaluate(up: &Upscaler, hr: &RgbaImage, patch: usize, scorers: &[Scorer], keeps: &[f64], seed: u64) -> Result<Evaluation> {
    let s = up.scale();
    let hr = hr.crop_to_multiple(s)?;
    let lr = bicubic::downscale(&hr, s)?;
    let grid = Grid::new(lr.width, lr.height, patch)?;
    let dense = up.upscale(&lr, &mut Silent).await?;
    let base = bicubic::resize(&lr, hr.width, hr.height)?;
    let psnr = |img: &RgbaImage| metrics::psnr_rgb(img, &hr, s);
    let (dense_psnr, bicubic_psnr) = (psnr(&dense)?, psnr(&base)?);
    if !(dense_psnr - bicubic_psnr).is_finite() {
        return Err(Error::InvalidArgument("the image is reproduced exactly; there is no gain to share".into()));
    }
    let reference = Reference { hr: &hr, sr: &dense, bicubic: &base };
    let band = sparse::default_band(patch, s).min(up.info().halo * s);
    let dense_planes = dense.planes(dense.full());
    let mut curves = Vec::with_capacity(scorers.len());
    for &scorer in scorers {
        let scores = score::score(scorer, &lr, &grid, Some(&reference), up.device(), seed).await?;
        let mut points = Vec::with_capacity(keeps.len());
        for &keep in keeps {
            let selected = select(&scores, Selection::Keep(keep))?;
            let windows = sparse::windows(&grid, &selected, up.info().halo);
            let mut out = base.clone();
            sparse::Feather::new(&grid, &selected, &windows, s, band).blend(&mut out, &dense_planes);
            let p = psnr(&out)?;
            points.push(CurvePoint { keep, patches: selected.len(), psnr: p, share_of_gain: (p - bicubic_psnr) / (dense_psnr - bicubic_psnr) });
        }
        curves.push(Curve { scorer, points });
    }
    Ok(Evaluation { grid, bicubic_psnr, dense_psnr, curves })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::model::espcn;

    #[test]
    fn keeping_nothing_is_bicubic_and_everything_is_dense() {
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        let data = (0..48 * 40).flat_map(|i| [(i * 13 % 256) as u8, (i / 48 * 5) as u8, (i % 48 * 5) as u8, 255]);
        let hr = RgbaImage::new(48, 40, data.collect()).unwrap();
        let e = pollster::block_on(evaluate(&up, &hr, 8, &[Scorer::Gradient, Scorer::Oracle], &[0.0, 0.5, 1.0], 3)).unwrap();
        assert_eq!(e.grid.len(), 3 * 3);
        for curve in &e.curves {
            let p = &curve.points;
            assert_eq!((p[0].patches, p[1].patches, p[2].patches), (0, 5, 9));
            assert!(p[0].share_of_gain.abs() < 1e-9 && (p[2].share_of_gain - 1.0).abs() < 1e-9, "{curve:?}");
        }
        // The oracle keeps the patches with the largest gain, so at half it keeps the most.
        let half = |s: usize| e.curves[s].points[1].psnr;
        assert!(half(1) >= half(0), "oracle {} < gradient {}", half(1), half(0));
    }
}
