//! Deterministic random weights for freshly built architectures (trained weights replace them).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::graph::Graph;

/// He-uniform for convolution weights (fan-in from the shape), zero biases, 0.25 PReLU slopes.
pub fn random_values(graph: &Graph, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    graph
        .params
        .iter()
        .map(|p| {
            if p.name.ends_with(".alpha") {
                vec![0.25; p.len()]
            } else if p.shape.len() == 4 {
                let fan_in = (p.shape[1] * p.shape[2] * p.shape[3]) as f32;
                let bound = (6.0 / fan_in).sqrt();
                (0..p.len()).map(|_| rng.random_range(-bound..bound)).collect()
            } else {
                vec![0.0; p.len()]
            }
        })
        .collect()
}
