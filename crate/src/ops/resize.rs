//! Integer upsampling on tensors. Bicubic is a fixed depthwise convolution built from the
//! project's bicubic kernel ([`crate::imaging::bicubic::phase_taps`]) followed by a pixel
//! shuffle, so the GPU result equals the CPU resize and tiles reproduce whole images.

use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Tensor, TensorData};

use super::pixel_shuffle::pixel_shuffle;
use crate::imaging::bicubic::phase_taps;

pub fn nearest(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, r, w, r])
        .reshape([n, c, h * r, w * r])
}

pub fn bicubic(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [_, c, _, _] = x.dims();
    let taps = phase_taps(r);
    // Output channel ch*r*r + i*r + j holds phase (i, j) of input channel ch.
    let mut weights = Vec::with_capacity(c * r * r * 25);
    for _ in 0..c {
        for ty in &taps {
            for tx in &taps {
                for a in ty {
                    weights.extend(tx.iter().map(|b| a * b));
                }
            }
        }
    }
    let device = x.device();
    let weight = Tensor::<4>::from_data(TensorData::new(weights, [c * r * r, 1, 5, 5]), &device);
    let padded = x.pad([(2, 2), (2, 2)], PadMode::Edge);
    let phases = conv2d(padded, weight, None, ConvOptions::new([1, 1], [0, 0], [1, 1], c));
    pixel_shuffle(phases, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::bicubic::resize_plane;
    use burn::tensor::Device;

    #[test]
    fn bicubic_equals_the_cpu_resize() {
        let device = Device::flex();
        let (w, h) = (7, 5);
        let plane: Vec<f32> = (0..w * h).map(|i| ((i * 31) % 17) as f32 / 16.0).collect();
        for r in 2..=4 {
            let x = Tensor::<4>::from_data(TensorData::new(plane.clone(), [1, 1, h, w]), &device);
            let gpu = bicubic(x, r).into_data();
            let cpu = resize_plane(&plane, w, h, w * r, h * r);
            for (a, b) in gpu.as_slice::<f32>().unwrap().iter().zip(&cpu) {
                assert!((a - b).abs() < 1e-5, "r={r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn nearest_repeats_pixels() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2., 3., 4.], [1, 1, 2, 2]), &device);
        let out = nearest(x, 2).into_data();
        assert_eq!(
            out.as_slice::<f32>().unwrap(),
            &[1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]
        );
    }
}
