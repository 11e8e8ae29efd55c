//! Quality metrics as the SR literature reports them: PSNR on RGB or on luma (BT.601 Y,
//! MATLAB's `rgb2ycbcr` scale) with a border of `shave` pixels ignored, and SSIM
//! (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03) on luma.

use super::RgbaImage;
use crate::error::{Error, Result};

fn check_pair(a: &RgbaImage, b: &RgbaImage, shave: usize) -> Result<()> {
    super::check_analysis(a.width, a.height)?;
    if (a.width, a.height) != (b.width, b.height) {
        return Err(Error::image(format!(
            "cannot compare a {}x{} image with a {}x{} one",
            a.width, a.height, b.width, b.height
        )));
    }
    if a.width <= 2 * shave || a.height <= 2 * shave {
        return Err(Error::image(format!("a {}x{} image has nothing left after shaving {shave} pixels", a.width, a.height)));
    }
    Ok(())
}

/// Pixels of the image minus a border, as (x, y) coordinates.
fn interior(img: &RgbaImage, shave: usize) -> impl Iterator<Item = usize> + '_ {
    (shave..img.height - shave).flat_map(move |y| (shave..img.width - shave).map(move |x| y * img.width + x))
}

/// PSNR in dB from a mean squared error on the 0..255 scale.
pub fn psnr_from_mse(mse: f64) -> f64 {
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

/// PSNR over the R, G and B channels.
pub fn psnr_rgb(a: &RgbaImage, b: &RgbaImage, shave: usize) -> Result<f64> {
    Ok(psnr_from_mse(mse_rgb(a, b, shave)?))
}

/// Mean squared error over R, G and B on the 0..255 scale: what a clip's PSNR pools over
/// frames (the research's `-10 log10(mean MSE)`).
pub fn mse_rgb(a: &RgbaImage, b: &RgbaImage, shave: usize) -> Result<f64> {
    check_pair(a, b, shave)?;
    let (mut sum, mut n) = (0f64, 0usize);
    for i in interior(a, shave) {
        for c in 0..3 {
            let d = a.data[i * 4 + c] as f64 - b.data[i * 4 + c] as f64;
            sum += d * d;
        }
        n += 3;
    }
    Ok(sum / n as f64)
}

/// PSNR of a clip: the MSE pooled over all its frames, as the overfitting research reports
/// it (a frame's PSNR averaged would weigh easy frames more).
pub fn clip_psnr(outputs: &[RgbaImage], hr: &[RgbaImage], shave: usize) -> Result<f64> {
    if outputs.is_empty() || outputs.len() != hr.len() {
        return Err(Error::image(format!("{} frames to compare with {}", outputs.len(), hr.len())));
    }
    let mut sum = 0.0;
    for (a, b) in outputs.iter().zip(hr) {
        sum += mse_rgb(a, b, shave)?;
    }
    Ok(psnr_from_mse(sum / outputs.len() as f64))
}

/// BT.601 luma on the 16..235 scale, unrounded.
pub fn luma(img: &RgbaImage) -> Vec<f64> {
    img.data
        .chunks_exact(4)
        .map(|p| 16.0 + (65.481 * p[0] as f64 + 128.553 * p[1] as f64 + 24.966 * p[2] as f64) / 255.0)
        .collect()
}

/// PSNR on luma.
pub fn psnr_y(a: &RgbaImage, b: &RgbaImage, shave: usize) -> Result<f64> {
    check_pair(a, b, shave)?;
    let (ya, yb) = (luma(a), luma(b));
    let (mut sum, mut n) = (0f64, 0usize);
    for i in interior(a, shave) {
        let d = ya[i] - yb[i];
        sum += d * d;
        n += 1;
    }
    Ok(psnr_from_mse(sum / n as f64))
}

/// SSIM on luma, after shaving the border.
pub fn ssim_y(a: &RgbaImage, b: &RgbaImage, shave: usize) -> Result<f64> {
    check_pair(a, b, shave)?;
    let (w, h) = (a.width - 2 * shave, a.height - 2 * shave);
    let crop = |plane: Vec<f64>| -> Vec<f64> { interior(a, shave).map(|i| plane[i]).collect() };
    ssim_plane(&crop(luma(a)), &crop(luma(b)), w, h)
}

fn gaussian_window() -> [f64; 11] {
    let mut g = [0f64; 11];
    for (i, v) in g.iter_mut().enumerate() {
        let d = i as f64 - 5.0;
        *v = (-d * d / (2.0 * 1.5 * 1.5)).exp();
    }
    let s: f64 = g.iter().sum();
    g.map(|v| v / s)
}

/// Separable Gaussian filter keeping only positions where the window fits ("valid").
fn filter_valid(p: &[f64], w: usize, h: usize) -> Vec<f64> {
    let g = gaussian_window();
    let (vw, vh) = (w - 10, h - 10);
    let mut rows = vec![0f64; vw * h];
    for y in 0..h {
        for x in 0..vw {
            rows[y * vw + x] = (0..11).map(|k| g[k] * p[y * w + x + k]).sum();
        }
    }
    let mut out = vec![0f64; vw * vh];
    for y in 0..vh {
        for x in 0..vw {
            out[y * vw + x] = (0..11).map(|k| g[k] * rows[(y + k) * vw + x]).sum();
        }
    }
    out
}

/// Mean SSIM of two planes on the 0..255 scale.
pub fn ssim_plane(x: &[f64], y: &[f64], w: usize, h: usize) -> Result<f64> {
    if w < 11 || h < 11 {
        return Err(Error::image(format!("SSIM needs at least 11x11 pixels, got {w}x{h}")));
    }
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let prod = |f: fn(f64, f64) -> f64| -> Vec<f64> { x.iter().zip(y).map(|(&a, &b)| f(a, b)).collect() };
    let mx = filter_valid(x, w, h);
    let my = filter_valid(y, w, h);
    let mxx = filter_valid(&prod(|a, _| a * a), w, h);
    let myy = filter_valid(&prod(|_, b| b * b), w, h);
    let mxy = filter_valid(&prod(|a, b| a * b), w, h);
    let n = mx.len();
    let total: f64 = (0..n)
        .map(|i| {
            let (ux, uy) = (mx[i], my[i]);
            let (vx, vy, cxy) = (mxx[i] - ux * ux, myy[i] - uy * uy, mxy[i] - ux * uy);
            ((2.0 * ux * uy + c1) * (2.0 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        })
        .sum();
    Ok(total / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> RgbaImage {
        let mut img = RgbaImage::filled(w, h, [0, 0, 0, 255]).unwrap();
        for y in 0..h {
            for x in 0..w {
                let v = f(x, y);
                img.data[(y * w + x) * 4..(y * w + x) * 4 + 3].fill(v);
            }
        }
        img
    }

    #[test]
    fn psnr_matches_hand_computed_values() {
        let a = gray(8, 8, |_, _| 100);
        let b = gray(8, 8, |_, _| 101);
        // Every value off by one: MSE 1, PSNR 10 log10(255^2) = 48.1308 dB.
        assert!((psnr_rgb(&a, &b, 0).unwrap() - 48.130_803_608_679_1).abs() < 1e-9);
        // Off by 2 only on the border, which the shave removes: identical interiors.
        let c = gray(8, 8, |x, y| if x == 0 || y == 0 || x == 7 || y == 7 { 102 } else { 100 });
        assert_eq!(psnr_rgb(&a, &c, 1).unwrap(), f64::INFINITY);
        // Gray R=G=B=v has luma 16 + 219 v / 255: one step of v is 219/255 of a step of Y.
        let d = (219.0f64 / 255.0).powi(2);
        assert!((psnr_y(&a, &b, 0).unwrap() - 10.0 * (255.0f64 * 255.0 / d).log10()).abs() < 1e-6);
    }

    #[test]
    fn ssim_matches_hand_computed_values() {
        // Constant planes: variances vanish, SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1).
        let x = vec![100.0; 16 * 16];
        let y = vec![110.0; 16 * 16];
        let s = ssim_plane(&x, &y, 16, 16).unwrap();
        assert!((s - 0.995_476_444_091_506_6).abs() < 1e-9, "{s}");
        // Identical textured planes score exactly 1; a negated texture scores below 0.
        let t: Vec<f64> = (0..256).map(|i| ((i * 7919) % 255) as f64).collect();
        assert!((ssim_plane(&t, &t, 16, 16).unwrap() - 1.0).abs() < 1e-12);
        let neg: Vec<f64> = t.iter().map(|v| 255.0 - v).collect();
        assert!(ssim_plane(&t, &neg, 16, 16).unwrap() < 0.0);
        assert!(ssim_plane(&t, &t, 10, 25).is_err());
    }

    #[test]
    fn mismatched_sizes_are_errors() {
        let a = gray(8, 8, |_, _| 0);
        let b = gray(8, 9, |_, _| 0);
        assert!(psnr_rgb(&a, &b, 0).is_err());
        assert!(psnr_rgb(&a, &a, 4).is_err());
    }
}
