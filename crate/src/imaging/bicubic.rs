//! The project's one bicubic convention, used to make every LR image and every bicubic
//! baseline, on the CPU here and on the GPU in [`crate::graph::ops::Upsample`]:
//!
//! - Keys' cubic kernel with a = -0.5 (MATLAB's `imresize`, the SR field's convention);
//! - pixel-centre alignment: output pixel `o` samples input position `(o + 0.5) / s - 0.5`;
//! - when shrinking, the kernel is stretched by `1 / s` (antialiasing, as MATLAB does);
//! - edges replicate the border pixel (MATLAB mirrors; replication is what a GPU tile can
//!   reproduce exactly, and the two differ only in the outermost two pixels).

use super::{RgbaImage, check_dimensions, quantize};
use crate::error::Result;

/// Keys' cubic convolution kernel with a = -0.5.
pub fn cubic(x: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        1.5 * x * x * x - 2.5 * x * x + 1.0
    } else if x < 2.0 {
        -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0
    } else {
        0.0
    }
}

/// The input pixels and weights that make one output pixel along one axis.
#[derive(Clone, Debug)]
struct Contribution {
    first: usize,
    weights: Vec<f32>,
}

fn contributions(in_len: usize, out_len: usize) -> Vec<Contribution> {
    let scale = out_len as f64 / in_len as f64;
    let stretch = if scale < 1.0 { 1.0 / scale } else { 1.0 };
    let half = 2.0 * stretch;
    (0..out_len)
        .map(|o| {
            let u = (o as f64 + 0.5) / scale - 0.5;
            let lo = (u - half).floor() as i64;
            let hi = (u + half).ceil() as i64;
            // Replicated edges: taps beyond the border land on the border pixel. Clamped
            // indices are monotonic, so the taps fill one short run starting at `first`.
            let clamp = |i: i64| i.clamp(0, in_len as i64 - 1) as usize;
            let first = clamp(lo);
            let mut weights = vec![0f64; clamp(hi) - first + 1];
            for i in lo..=hi {
                weights[clamp(i) - first] += cubic((u - i as f64) / stretch) / stretch;
            }
            let sum: f64 = weights.iter().sum();
            Contribution { first, weights: weights.iter().map(|w| (w / sum) as f32).collect() }
        })
        .collect()
}

/// Resizes one plane (row-major `w x h`) to `nw x nh`, separably: rows, then columns.
pub fn resize_plane(src: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    let cx = contributions(w, nw);
    let cy = contributions(h, nh);
    let mut tmp = vec![0f32; nw * h];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for (x, c) in cx.iter().enumerate() {
            tmp[y * nw + x] = c.weights.iter().enumerate().map(|(k, wt)| wt * row[c.first + k]).sum();
        }
    }
    let mut out = vec![0f32; nw * nh];
    for (y, c) in cy.iter().enumerate() {
        for (k, wt) in c.weights.iter().enumerate() {
            let row = &tmp[(c.first + k) * nw..(c.first + k + 1) * nw];
            for (o, v) in out[y * nw..(y + 1) * nw].iter_mut().zip(row) {
                *o += wt * v;
            }
        }
    }
    out
}

/// Resizes an RGBA image (all four channels) and rounds to 8 bits.
pub fn resize(img: &RgbaImage, nw: usize, nh: usize) -> Result<RgbaImage> {
    check_dimensions(nw, nh)?;
    let mut out = RgbaImage::filled(nw, nh, [0, 0, 0, 255])?;
    for c in 0..4 {
        let plane = resize_plane(&img.channel(c, img.full()), img.width, img.height, nw, nh);
        for (px, v) in out.data.chunks_exact_mut(4).zip(plane) {
            px[c] = quantize(v);
        }
    }
    Ok(out)
}

/// Makes the low-resolution version of `hr` for a network of scale `s`: the one convention
/// every evaluation uses. `hr` must have sides divisible by `s` (see `crop_to_multiple`).
pub fn downscale(hr: &RgbaImage, s: usize) -> Result<RgbaImage> {
    resize(hr, hr.width / s, hr.height / s)
}

/// For an integer upscale by `factor`, the 5 weights (input offsets -2..=2 around the
/// pixel `o / factor`) that make output phase `o % factor`. The GPU path builds its
/// convolution from these, so CPU and GPU bicubic agree away from any rounding.
pub fn phase_taps(factor: usize) -> Vec<[f32; 5]> {
    (0..factor)
        .map(|p| {
            let d = (p as f64 + 0.5) / factor as f64 - 0.5;
            let mut taps = [0f32; 5];
            for (t, tap) in taps.iter_mut().enumerate() {
                *tap = cubic(d - (t as f64 - 2.0)) as f32;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_hand_computed_values() {
        // 1.5|x|^3 - 2.5|x|^2 + 1 and -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2, evaluated by hand.
        assert_eq!(cubic(0.0), 1.0);
        assert_eq!(cubic(0.25), 0.8671875);
        assert_eq!(cubic(0.75), 0.2265625);
        assert_eq!(cubic(1.25), -0.0703125);
        assert_eq!(cubic(-1.75), -0.0234375);
        assert_eq!(cubic(2.0), 0.0);
    }

    #[test]
    fn upscale_x2_of_a_step_gives_known_values() {
        // Row 0 0 1 1 upscaled x2: output 3 sits at input 1.25, so it reads inputs 0..=3 at
        // distances 1.25, 0.25, 0.75, 1.75: 0*(-0.0703125) + 0*0.8671875 + 1*0.2265625 + 1*(-0.0234375).
        let out = resize_plane(&[0.0, 0.0, 1.0, 1.0], 4, 1, 8, 1);
        assert!((out[3] - 0.203125).abs() < 1e-6, "{out:?}");
        // Output 4 sits at 1.75: 0*(-0.0234375) + 0*0.2265625 + 1*0.8671875 + 1*(-0.0703125).
        assert!((out[4] - 0.796875).abs() < 1e-6, "{out:?}");
        // Edges replicate: the first outputs see only zeros, the last only ones.
        assert_eq!(out[0], 0.0);
        assert!((out[7] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn downscale_x2_is_antialiased() {
        // Shrinking by 2 stretches the kernel: output 0 sits at input 0.5 and reads inputs -3..=4
        // (clamped) with weights cubic(d / 2) / 2 at d = 0.5, 1.5, 2.5, 3.5 either side.
        let w = [cubic(0.25) / 2.0, cubic(0.75) / 2.0, cubic(1.25) / 2.0, cubic(1.75) / 2.0];
        assert!(((w.iter().sum::<f64>() * 2.0) - 1.0).abs() < 1e-12);
        let input: Vec<f32> = (0..16).map(|i| if i == 7 { 1.0 } else { 0.0 }).collect();
        let out = resize_plane(&input, 16, 1, 8, 1);
        // Output 3 sits at 6.5: input 7 is 0.5 away -> weight cubic(0.25)/2.
        assert!((out[3] as f64 - w[0]).abs() < 1e-6, "{out:?}");
        // Output 4 sits at 8.5: input 7 is 1.5 away -> cubic(0.75)/2.
        assert!((out[4] as f64 - w[1]).abs() < 1e-6, "{out:?}");
        // Output 2 sits at 4.5: input 7 is 2.5 away -> cubic(1.25)/2, negative lobe.
        assert!((out[2] as f64 - w[2]).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn constant_images_stay_constant_and_phase_taps_sum_to_one() {
        let plane = vec![0.3f32; 35];
        for (nw, nh) in [(14, 10), (2, 3), (7, 5)] {
            for v in resize_plane(&plane, 7, 5, nw, nh) {
                assert!((v - 0.3).abs() < 1e-6);
            }
        }
        for f in 2..=4 {
            for taps in phase_taps(f) {
                assert!((taps.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn phase_taps_agree_with_the_general_resize() {
        let input: Vec<f32> = (0..9).map(|i| ((i * 37) % 11) as f32 / 10.0).collect();
        for f in 2..=4 {
            let out = resize_plane(&input, 9, 1, 9 * f, 1);
            let taps = phase_taps(f);
            for o in 2 * f..7 * f {
                let h = o / f;
                let want: f32 = (0..5).map(|t| taps[o % f][t] * input[h + t - 2]).sum();
                assert!((out[o] - want).abs() < 1e-5, "f={f} o={o}");
            }
        }
    }
}
