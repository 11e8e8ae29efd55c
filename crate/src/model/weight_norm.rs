//! PyTorch's weight normalisation stores a convolution as `weight_g` (one gain per output
//! channel) and `weight_v` (the direction). Inference needs only their product, so it is
//! folded once at load: `W[o] = g[o] * v[o] / ||v[o]||`.

use crate::error::{Error, Result};

pub fn fold(g: &[f32], v: &[f32], out_channels: usize) -> Result<Vec<f32>> {
    if out_channels == 0 || g.len() != out_channels || !v.len().is_multiple_of(out_channels) {
        return Err(Error::model(format!(
            "weight norm: {} gains and {} direction values do not fit {out_channels} output channels",
            g.len(),
            v.len()
        )));
    }
    let per = v.len() / out_channels;
    let mut w = Vec::with_capacity(v.len());
    for (o, row) in v.chunks_exact(per).enumerate() {
        let norm = row.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt();
        let k = if norm > 0.0 { g[o] as f64 / norm } else { 0.0 };
        w.extend(row.iter().map(|x| (*x as f64 * k) as f32));
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_each_output_channel() {
        // Channel 0: v = (3, 4), |v| = 5, g = 10 -> (6, 8). Channel 1: v = (0, 2), g = -1 -> (0, -1).
        let w = fold(&[10.0, -1.0], &[3.0, 4.0, 0.0, 2.0], 2).unwrap();
        assert_eq!(w, vec![6.0, 8.0, 0.0, -1.0]);
        assert!(fold(&[1.0], &[1.0, 2.0, 3.0], 2).is_err());
    }
}
