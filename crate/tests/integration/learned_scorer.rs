//! The bundled learned patch scorer on a photo it never saw in training: it must rank
//! patches by the SR model's real gain (the oracle) far better than chance.

use crate::common;

use ticketsr::imaging::{self, bicubic};
use ticketsr::model::format;
use ticketsr::patch::{Grid, LearnedScorer, SparseUpscaler, evaluate};
use ticketsr::patch::score::Scorer;
use ticketsr::{Backend, Silent, Upscaler};

fn ranks(xs: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    for (rank, &i) in order.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn spearman(a: &[f32], b: &[f32]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - mean) * (y - mean)).sum();
    let var: f64 = ra.iter().map(|x| (x - mean).powi(2)).sum();
    cov / var
}

#[test]
fn the_bundled_scorer_ranks_patches_like_the_oracle_on_a_held_out_photo() {
    let model = format::from_bytes(&std::fs::read(common::repo().join("web/models/upscalerjs-psnr-small-x2.safetensors")).unwrap()).unwrap();
    let scorer = format::from_bytes(&std::fs::read(common::repo().join("web/models/ticket-scorer-x2.safetensors")).unwrap()).unwrap();
    let up = Upscaler::new(&model, Backend::cpu()).unwrap();
    let hr = imaging::decode(&std::fs::read(common::repo().join("web/media/astronaut-256.png")).unwrap()).unwrap();
    let lr = bicubic::downscale(&hr, 2).unwrap();
    let grid = Grid::new(lr.width, lr.height, 16).unwrap();
    let err = pollster::block_on(SparseUpscaler::new(&up).score(Scorer::Learned, &lr, &grid, None, 0)).unwrap_err();
    assert!(err.to_string().contains("needs its model"), "{err}");

    let loaded = LearnedScorer::new(&scorer, up.device()).unwrap();
    let sparse = SparseUpscaler::new(&up).with_learned_scorer(Some(&loaded));
    let sweep = evaluate::Sweep { patch: 16, scorers: &[Scorer::Learned, Scorer::Oracle, Scorer::Random], keeps: &[], seed: 0, band: None };
    let e = pollster::block_on(evaluate::evaluate(&sparse, &hr, &sweep, &mut Silent)).unwrap();
    let [learned, oracle, random] = [0, 1, 2].map(|i| &e.curves[i].scores);
    let (rho, chance) = (spearman(learned, oracle), spearman(random, oracle));
    println!("rank correlation with the oracle over {} patches: learned {rho:.2}, random {chance:.2}", e.grid.len());
    assert!(rho > 0.3, "learned scorer's rank correlation with the oracle is only {rho:.2}");
    // Gains only: SR where the scorer predicts a gain keeps most of dense SR's.
    let gains = e.curves[0].gains.as_ref().unwrap();
    println!("gains only: {} of {} patches, {:.2} dB (dense {:.2}, bicubic {:.2})", gains.patches, e.grid.len(), gains.psnr, e.dense_psnr, e.bicubic_psnr);
    assert!(gains.patches < e.grid.len() && gains.share_of_gain > 0.8, "{gains:?}");
    // An upscaling model is not a scorer.
    assert!(LearnedScorer::new(&model, up.device()).is_err());
}
