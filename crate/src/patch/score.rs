//! Patch scorers: how much a patch is expected to gain from the network. Higher is more
//! worth running. The LR-only scorers run on the backend in use (the GPU in the browser);
//! the ones that need the HR original measure on the CPU.

use std::fmt;
use std::str::FromStr;

use burn::tensor::module::conv2d;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use super::Grid;
use crate::error::{Error, Result};
use crate::graph::ops::conv_options;
use crate::imaging::{Region, RgbaImage, metrics};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Scorer {
    /// Mean Sobel gradient energy of the LR luma: edges and texture.
    Gradient,
    /// Variance of the LR luma's Laplacian: fine detail, blind to smooth ramps.
    Laplacian,
    /// Standard deviation of the LR luma: local contrast.
    Contrast,
    /// The measured reduction of squared error of the SR model over bicubic, in 8-bit
    /// levels² per pixel (needs the HR original): the patches it ranks first add the most
    /// to the image's PSNR.
    Oracle,
    /// STDO's label: the general model's PSNR against HR, lowest first (needs HR).
    Stdo,
    /// The control: uniform random scores from a seed.
    Random,
    /// A tiny network's prediction of the SR model's gain, from the LR image (see
    /// [`super::learned`]); needs its model loaded into the upscaler.
    Learned,
}

impl Scorer {
    pub const ALL: [Scorer; 7] =
        [Scorer::Gradient, Scorer::Laplacian, Scorer::Contrast, Scorer::Learned, Scorer::Oracle, Scorer::Stdo, Scorer::Random];

    pub fn name(self) -> &'static str {
        match self {
            Scorer::Gradient => "gradient",
            Scorer::Laplacian => "laplacian",
            Scorer::Contrast => "contrast",
            Scorer::Oracle => "oracle",
            Scorer::Stdo => "stdo",
            Scorer::Random => "random",
            Scorer::Learned => "learned",
        }
    }

    /// Whether the score is SR's gain over bicubic, measured (the oracle, in levels²) or
    /// predicted (the learned scorer, see [`super::learned::target`]), so that its sign
    /// says whether the network helps ([`super::select::Selection::Gains`]).
    /// The LR statistics only rank patches: every patch scores at least zero.
    pub fn predicts_gain(self) -> bool {
        matches!(self, Scorer::Learned | Scorer::Oracle)
    }

    /// Whether the scorer measures against an HR original.
    pub fn needs_reference(self) -> bool {
        matches!(self, Scorer::Oracle | Scorer::Stdo)
    }
}

impl fmt::Display for Scorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scorer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Scorer::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<_> = Scorer::ALL.iter().map(|k| k.name()).collect();
            Error::InvalidArgument(format!("unknown scorer `{s}` (expected one of {})", names.join(", ")))
        })
    }
}

/// What the HR-based scorers compare: the HR original and the dense SR and bicubic
/// upscalings of its LR image, all the same size.
pub struct Reference<'a> {
    pub hr: &'a RgbaImage,
    pub sr: &'a RgbaImage,
    pub bicubic: &'a RgbaImage,
}

/// Scores every patch of `grid` over `lr`. `seed` drives the random control.
pub async fn score(scorer: Scorer, lr: &RgbaImage, grid: &Grid, reference: Option<&Reference<'_>>, device: &Device, seed: u64) -> Result<Vec<f32>> {
    grid.check(lr)?;
    match scorer {
        Scorer::Gradient | Scorer::Laplacian | Scorer::Contrast => lr_statistic(scorer, lr, grid, device).await,
        Scorer::Oracle | Scorer::Stdo => {
            let r = reference.ok_or_else(|| Error::InvalidArgument(format!("the {scorer} scorer needs the HR original")))?;
            measured(scorer, r, grid)
        }
        Scorer::Random => {
            let mut rng = StdRng::seed_from_u64(seed);
            Ok((0..grid.len()).map(|_| rng.random::<f32>()).collect())
        }
        Scorer::Learned => Err(Error::InvalidArgument("the learned scorer needs its model: load one into the upscaler".into())),
    }
}

/// Per-pixel maps on the device, then per-patch means of them in one reduction:
/// channels are luma Y, Y², Sobel energy, Laplacian L and L² (luma in 0..255).
async fn lr_statistic(scorer: Scorer, lr: &RgbaImage, grid: &Grid, device: &Device) -> Result<Vec<f32>> {
    let (w, h) = (lr.width, lr.height);
    let luma: Vec<f32> = metrics::luma(lr).into_iter().map(|v| v as f32).collect();
    let y = Tensor::<4>::from_data(TensorData::new(luma, [1, 1, h, w]), device);
    #[rustfmt::skip]
    let kernels = vec![
        -1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0, // Sobel x
        -1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0, // Sobel y
        0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0,   // Laplacian
    ];
    let weight = Tensor::<4>::from_data(TensorData::new(kernels, [3, 1, 3, 3]), device);
    let d = conv2d(y.clone().pad([(1, 1), (1, 1)], PadMode::Edge), weight, None, conv_options([0, 0]));
    let gx = d.clone().narrow(1, 0, 1);
    let gy = d.clone().narrow(1, 1, 1);
    let lap = d.narrow(1, 2, 1);
    let maps = Tensor::cat(vec![y.clone(), y.square(), gx.square() + gy.square(), lap.clone(), lap.square()], 1);
    let means = patch_means(maps, grid).await?;
    let n = grid.len();
    let m = |c: usize, i: usize| means[c * n + i] as f64;
    Ok((0..n)
        .map(|i| {
            (match scorer {
                Scorer::Gradient => m(2, i),
                Scorer::Laplacian => (m(4, i) - m(3, i) * m(3, i)).max(0.0),
                _ => (m(1, i) - m(0, i) * m(0, i)).max(0.0).sqrt(),
            }) as f32
        })
        .collect())
}

/// Mean of each channel of `[1, c, h, w]` over every patch: `c * patches` values,
/// channel-major. Zero padding to whole patches, then dividing by the true area, keeps
/// the narrower last row and column exact.
pub(crate) async fn patch_means(maps: Tensor<4>, grid: &Grid) -> Result<Vec<f32>> {
    let [_, c, h, w] = maps.dims();
    let p = grid.patch;
    let padded = maps.pad([(0, grid.rows * p - h), (0, grid.cols * p - w)], PadMode::Constant(0.0));
    let sums = padded.reshape([c, grid.rows, p, grid.cols, p]).sum_dim(4).sum_dim(2);
    let data = sums.into_data_async().await.map_err(|e| Error::Backend(format!("reading patch scores failed: {e:?}")))?;
    let sums = data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))?;
    let n = grid.len();
    Ok(sums
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let r = grid.rect(k % n);
            s / (r.width * r.height) as f32
        })
        .collect())
}

/// Mean squared error of `a` against `b` over RGB in region `r`, in 8-bit levels squared.
fn patch_mse(a: &RgbaImage, b: &RgbaImage, r: Region) -> f64 {
    let mut sum = 0.0;
    for y in r.y..r.y + r.height {
        let row = (y * a.width + r.x) * 4..(y * a.width + r.x + r.width) * 4;
        for (pa, pb) in a.data[row.clone()].chunks_exact(4).zip(b.data[row].chunks_exact(4)) {
            sum += (0..3).map(|c| (pa[c] as f64 - pb[c] as f64).powi(2)).sum::<f64>();
        }
    }
    sum / (3 * r.width * r.height) as f64
}

/// The squared error `sr` removes from `bicubic` in region `r` against `hr`, in 8-bit
/// levels² per pixel: the oracle's score, and the learned scorer's training target
/// ([`super::learned::target`] of it).
pub(crate) fn squared_error_removed(sr: &RgbaImage, bicubic: &RgbaImage, hr: &RgbaImage, r: Region) -> f64 {
    patch_mse(bicubic, hr, r) - patch_mse(sr, hr, r)
}

/// `grid` in output pixels, once `out` and `hr` are checked to be its upscaled size.
fn output_grid(out: &RgbaImage, hr: &RgbaImage, grid: &Grid) -> Result<Grid> {
    let s = hr.width / grid.width.max(1);
    if s == 0 || (out.width, out.height) != (hr.width, hr.height) || (hr.width, hr.height) != (grid.width * s, grid.height * s) {
        return Err(Error::InvalidArgument(format!(
            "images are {}x{} and {}x{}, the grid covers {}x{}",
            out.width, out.height, hr.width, hr.height, grid.width, grid.height
        )));
    }
    Ok(grid.scaled(s))
}

/// Per-patch PSNR of the dense SR and bicubic outputs against HR, in output pixels. An
/// exact patch counts as 100 dB so gains stay finite.
pub fn patch_psnr(out: &RgbaImage, hr: &RgbaImage, grid: &Grid) -> Result<Vec<f64>> {
    Ok(output_grid(out, hr, grid)?.rects().map(|r| metrics::psnr_from_mse(patch_mse(out, hr, r)).min(100.0)).collect())
}

/// Per patch, the PSNR gain in dB of `out` over `base`, both against `hr`.
pub fn patch_gains(out: &RgbaImage, base: &RgbaImage, hr: &RgbaImage, grid: &Grid) -> Result<Vec<f32>> {
    let (a, b) = (patch_psnr(out, hr, grid)?, patch_psnr(base, hr, grid)?);
    Ok(a.iter().zip(&b).map(|(x, y)| (x - y) as f32).collect())
}

/// The oracle ranks by the squared error SR removes, not by the patch's gain in dB: the
/// image's PSNR follows its total squared error, so the patches that remove the most of it
/// are the best tickets. A flat patch whose dB gain is large on a tiny error adds almost
/// nothing to the image. On the photos of docs/winning-tickets.md, at keep 25%, ranking by
/// dB kept 0.71 of dense SR's gain and ranking by squared error keeps 0.86.
fn measured(scorer: Scorer, r: &Reference<'_>, grid: &Grid) -> Result<Vec<f32>> {
    if scorer == Scorer::Stdo {
        return Ok(patch_psnr(r.sr, r.hr, grid)?.iter().map(|p| -*p as f32).collect());
    }
    output_grid(r.bicubic, r.hr, grid)?;
    Ok(output_grid(r.sr, r.hr, grid)?
        .rects().map(|b| squared_error_removed(r.sr, r.bicubic, r.hr, b) as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> RgbaImage {
        let data = (0..w * h).flat_map(|i| {
            let v = f(i % w, i / w);
            [v, v, v, 255]
        });
        RgbaImage::new(w, h, data.collect()).unwrap()
    }

    fn run(scorer: Scorer, img: &RgbaImage, grid: &Grid) -> Vec<f32> {
        pollster::block_on(score(scorer, img, grid, None, &Device::flex(), 7)).unwrap()
    }

    #[test]
    fn lr_scorers_rank_texture_above_flat_and_match_hand_values() {
        // Two patch columns of flat grey, then stripes 0,0,255,255; 23 wide so the last
        // column of 4-px patches is 3 wide.
        let img = image(23, 8, |x, _| if x < 8 { 100 } else if (x / 2) % 2 == 0 { 0 } else { 255 });
        let grid = Grid::new(23, 8, 4).unwrap();
        assert_eq!((grid.cols, grid.rows), (6, 2));
        let [contrast, gradient, laplacian] = [Scorer::Contrast, Scorer::Gradient, Scorer::Laplacian].map(|k| run(k, &img, &grid));
        assert!(contrast[0].abs() < 0.05 && gradient[0].abs() < 1e-3 && laplacian[0].abs() < 1e-3, "{contrast:?} {gradient:?} {laplacian:?}");
        // BT.601 luma maps 0 and 255 to 16 and 235: two of each, standard deviation 109.5.
        assert!((contrast[3] - 109.5).abs() < 0.01, "{contrast:?}");
        // The narrow last patch (16, 16, 235) is averaged over its own 3x4 pixels.
        assert!((contrast[5] - 10658f32.sqrt()).abs() < 0.01, "{contrast:?}");
        assert!(gradient[3] > 1000.0 && gradient[9] > 1000.0, "{gradient:?}");
        // Inside the stripes the Laplacian is +-219 with mean 0: variance 219^2.
        assert!((laplacian[3] / 47961.0 - 1.0).abs() < 1e-4, "{laplacian:?}");
    }

    #[test]
    fn random_is_seeded_and_measured_scorers_need_hr() {
        let img = image(16, 16, |x, y| (x * y) as u8);
        let grid = Grid::new(16, 16, 4).unwrap();
        assert_eq!(run(Scorer::Random, &img, &grid), run(Scorer::Random, &img, &grid));
        let err = pollster::block_on(score(Scorer::Oracle, &img, &grid, None, &Device::flex(), 0)).unwrap_err();
        assert!(err.to_string().contains("needs the HR original"));
        assert!("sobel".parse::<Scorer>().unwrap_err().to_string().contains("gradient, laplacian"));
    }

    #[test]
    fn oracle_is_the_squared_error_sr_removes() {
        let lr = image(8, 4, |_, _| 0);
        let grid = Grid::new(8, 4, 4).unwrap();
        let hr = image(16, 8, |_, _| 100);
        // SR is off by 1 everywhere; bicubic off by 10 in the left patch, by 1 in the right.
        let sr = image(16, 8, |_, _| 101);
        let bicubic = image(16, 8, |x, _| if x < 8 { 110 } else { 101 });
        let r = Reference { hr: &hr, sr: &sr, bicubic: &bicubic };
        let gain = pollster::block_on(score(Scorer::Oracle, &lr, &grid, Some(&r), &Device::flex(), 0)).unwrap();
        assert!((gain[0] - 99.0).abs() < 1e-4 && gain[1].abs() < 1e-6, "{gain:?}");
        let stdo = pollster::block_on(score(Scorer::Stdo, &lr, &grid, Some(&r), &Device::flex(), 0)).unwrap();
        assert!((stdo[0] + 48.1308).abs() < 1e-3, "{stdo:?}");
        // A flat patch: bicubic off by 2, SR exact. 100 dB against 42 dB in PSNR, but it
        // removes 4 levels² of error where the left patch of the first pair removed 99.
        let flat = image(16, 8, |x, _| if x < 8 { 100 } else { 102 });
        let r = Reference { hr: &hr, sr: &hr, bicubic: &flat };
        let gain = pollster::block_on(score(Scorer::Oracle, &lr, &grid, Some(&r), &Device::flex(), 0)).unwrap();
        assert!(gain[0].abs() < 1e-6 && (gain[1] - 4.0).abs() < 1e-4, "{gain:?}");
    }
}
