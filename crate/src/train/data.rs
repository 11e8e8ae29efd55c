//! Training pairs: HR images and their LR versions made with the project's one bicubic
//! convention, from which batches of aligned patch pairs are cut at random.

use rand::Rng;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::imaging::{Region, RgbaImage, bicubic};

pub struct PatchPairs {
    scale: usize,
    pairs: Vec<(RgbaImage, RgbaImage)>,
}

impl PatchPairs {
    /// Makes the LR side of every HR image (sides first cropped to multiples of `scale`).
    pub fn from_hr(images: &[RgbaImage], scale: usize) -> Result<Self> {
        if images.is_empty() {
            return Err(Error::InvalidArgument("no training images".into()));
        }
        let pairs = images
            .iter()
            .map(|img| {
                let hr = img.crop_to_multiple(scale)?;
                Ok((bicubic::downscale(&hr, scale)?, hr))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { scale, pairs })
    }

    /// Pairs of LR images and their `scale` times larger targets, made elsewhere (a
    /// teacher's output, for distillation).
    pub fn from_pairs(scale: usize, pairs: Vec<(RgbaImage, RgbaImage)>) -> Result<Self> {
        if pairs.is_empty() {
            return Err(Error::InvalidArgument("no training images".into()));
        }
        if let Some((lr, hr)) = pairs.iter().find(|(lr, hr)| lr.width.checked_mul(scale) != Some(hr.width) || lr.height.checked_mul(scale) != Some(hr.height)) {
            return Err(Error::InvalidArgument(format!("a {}x{} target is not {scale} times its {}x{} input", hr.width, hr.height, lr.width, lr.height)));
        }
        Ok(Self { scale, pairs })
    }

    /// The LR side of every pair.
    pub fn inputs(&self) -> impl Iterator<Item = &RgbaImage> {
        self.pairs.iter().map(|(lr, _)| lr)
    }

    pub fn scale(&self) -> usize {
        self.scale
    }

    /// `n` random aligned pairs of `patch`-sided LR patches and their HR patches, as planar
    /// RGB in 0..1: `[n, 3, p, p]` and `[n, 3, p*s, p*s]`.
    pub fn batch(&self, rng: &mut StdRng, n: usize, patch: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let s = self.scale;
        let usable: Vec<_> = self.pairs.iter().filter(|(lr, _)| lr.width >= patch && lr.height >= patch).collect();
        if usable.is_empty() {
            return Err(Error::InvalidArgument(format!("no training image has room for a {patch}x{patch} LR patch")));
        }
        let (mut lr_out, mut hr_out) = (Vec::with_capacity(n * 3 * patch * patch), Vec::with_capacity(n * 3 * patch * patch * s * s));
        for _ in 0..n {
            let (lr, hr) = usable[rng.random_range(0..usable.len())];
            let (x, y) = (rng.random_range(0..=lr.width - patch), rng.random_range(0..=lr.height - patch));
            lr_out.extend(lr.planes(Region { x, y, width: patch, height: patch }));
            hr_out.extend(hr.planes(Region { x: x * s, y: y * s, width: patch * s, height: patch * s }));
        }
        Ok((lr_out, hr_out))
    }
}
