//! Choosing the winning tickets from patch scores: a share of the patches, every patch
//! above a score, every patch predicted to gain, or as many as a time budget pays for.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What it costs to run the network on `k` patches of one frame: `fixedMs + k * perPatchMs`.
/// Measured on the device in use (see [`CostModel::fit`]), so a budget means milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct CostModel {
    pub fixed_ms: f64,
    pub per_patch_ms: f64,
}

impl CostModel {
    /// The line through two timed runs of `k1 < k2` patches.
    pub fn fit((k1, ms1): (usize, f64), (k2, ms2): (usize, f64)) -> Result<Self> {
        if k2 <= k1 {
            return Err(Error::InvalidArgument(format!("need two different patch counts, got {k1} and {k2}")));
        }
        let per_patch_ms = ((ms2 - ms1) / (k2 - k1) as f64).max(1e-6);
        Ok(Self { fixed_ms: (ms1 - per_patch_ms * k1 as f64).max(0.0), per_patch_ms })
    }

    pub fn ms(&self, k: usize) -> f64 {
        if k == 0 { 0.0 } else { self.fixed_ms + self.per_patch_ms * k as f64 }
    }

    /// The most patches whose predicted time stays within `budget_ms`.
    pub fn affordable(&self, budget_ms: f64, patches: usize) -> usize {
        if budget_ms < self.ms(1) {
            return 0;
        }
        (((budget_ms - self.fixed_ms) / self.per_patch_ms).floor() as usize).min(patches)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Selection {
    /// This share of the patches (0..=1), highest scores first.
    Keep(f64),
    /// Every patch scoring at least this.
    Threshold(f64),
    /// As many patches as fit in this many milliseconds per frame.
    Budget { ms: f64, cost: CostModel },
    /// Every patch whose score is above zero. With a scorer that predicts SR's gain over
    /// bicubic with its sign (see [`super::score::Scorer::predicts_gain`]) these are the patches
    /// where the network is expected to help: elsewhere bicubic is kept, so the result is
    /// not worse than interpolation where the model would hurt.
    Gains,
}

/// Indices of the selected patches, highest score first (ties: lower index first).
pub fn select(scores: &[f32], selection: Selection) -> Result<Vec<usize>> {
    if scores.iter().any(|s| s.is_nan()) {
        return Err(Error::InvalidArgument("a patch score is NaN".into()));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let k = match selection {
        Selection::Keep(r) if (0.0..=1.0).contains(&r) => (r * scores.len() as f64).round() as usize,
        Selection::Keep(r) => return Err(Error::InvalidArgument(format!("keep ratio {r} is outside 0..1"))),
        Selection::Threshold(t) => scores.iter().filter(|&&s| s as f64 >= t).count(),
        Selection::Budget { ms, cost } => cost.affordable(ms, scores.len()),
        Selection::Gains => scores.iter().filter(|&&s| s > 0.0).count(),
    };
    order.truncate(k);
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_and_threshold_take_the_highest_scores() {
        let scores = [0.1, 0.9, 0.5, 0.9, 0.0];
        assert_eq!(select(&scores, Selection::Keep(0.4)).unwrap(), vec![1, 3]);
        assert_eq!(select(&scores, Selection::Keep(1.0)).unwrap().len(), 5);
        assert!(select(&scores, Selection::Keep(0.0)).unwrap().is_empty());
        assert_eq!(select(&scores, Selection::Threshold(0.5)).unwrap(), vec![1, 3, 2]);
        assert!(select(&scores, Selection::Keep(1.5)).is_err());
        assert!(select(&[f32::NAN], Selection::Keep(1.0)).is_err());
        // Gains: strictly above zero, highest first; no predicted gain, no patch.
        assert_eq!(select(&[0.3, -0.2, 0.0, 1.5], Selection::Gains).unwrap(), vec![3, 0]);
        assert!(select(&[-0.1, -2.0], Selection::Gains).unwrap().is_empty());
    }

    #[test]
    fn the_budget_selector_stays_within_its_budget() {
        // A synthetic device: 3 ms to launch, 0.7 ms per patch.
        let truth = |k: usize| if k == 0 { 0.0 } else { 3.0 + 0.7 * k as f64 };
        let cost = CostModel::fit((4, truth(4)), (40, truth(40))).unwrap();
        assert!((cost.fixed_ms - 3.0).abs() < 1e-9 && (cost.per_patch_ms - 0.7).abs() < 1e-9);
        let scores: Vec<f32> = (0..100).map(|i| ((i * 37) % 100) as f32).collect();
        for budget in [0.0, 2.9, 3.7, 10.0, 33.3, 50.0, 73.0, 500.0] {
            let k = select(&scores, Selection::Budget { ms: budget, cost }).unwrap().len();
            assert!(truth(k) <= budget + 1e-9, "budget {budget}: {k} patches take {}", truth(k));
            // And it does not leave a whole patch of budget unused.
            assert!(k == 100 || truth(k + 1) > budget - 1e-9, "budget {budget}: only {k}");
        }
        assert!(CostModel::fit((5, 1.0), (5, 2.0)).is_err());
    }
}
