//! Depth to space, PyTorch's `PixelShuffle`: `out[c, h*r+i, w*r+j] = in[c*r*r + i*r + j, h, w]`.

use burn::tensor::Tensor;

pub fn pixel_shuffle(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let c_out = c / (r * r);
    x.reshape([n, c_out, r, r, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([n, c_out, h * r, w * r])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn follows_the_formula() {
        let device = Device::flex();
        let (c, r, h, w) = (2, 3, 2, 4);
        let values: Vec<f32> = (0..c * r * r * h * w).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, c * r * r, h, w]), &device);
        let out = pixel_shuffle(x, r).into_data();
        assert_eq!(out.shape().to_vec(), vec![1, c, h * r, w * r]);
        let out = out.as_slice::<f32>().unwrap();
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    for i in 0..r {
                        for j in 0..r {
                            let src = values[((ch * r * r + i * r + j) * h + y) * w + xx];
                            let dst = out[(ch * h * r + y * r + i) * w * r + xx * r + j];
                            assert_eq!(src, dst, "c={ch} h={y} w={xx} i={i} j={j}");
                        }
                    }
                }
            }
        }
    }
}
