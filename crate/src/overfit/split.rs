//! Dy-DCA's split: a big patch whose general-model PSNR is at or below a threshold is hard
//! and is cut 2x2 into small patches for the deep branch; easy big patches stay whole for
//! the shallow branch. Only this bit per big patch travels with the video.

use crate::error::{Error, Result};
use crate::model::{ModelFile, wdsr};

/// Index of each branch among a Dy-DCA pack's models.
pub const DEEP: usize = 0;
pub const SHALLOW: usize = 1;

/// The published default threshold (code), tuned for 1080p game and vlog footage.
pub const DEFAULT_THRESHOLD: f64 = 40.0;

/// One bit per big patch: split (1) when its score is at or below `threshold`.
pub fn map(scores: &[f64], threshold: f64) -> Vec<u8> {
    scores.iter().map(|&s| u8::from(s <= threshold)).collect()
}

/// The threshold that splits the hardest `share` of `scores` (the published 40 dB was set
/// for 1080p footage; a small or hard clip can lie below it entirely, leaving the shallow
/// branch nothing).
pub fn threshold_for_share(scores: &[f64], share: f64) -> Result<f64> {
    if scores.is_empty() || !(0.0..=1.0).contains(&share) || scores.iter().any(|s| s.is_nan()) {
        return Err(Error::InvalidArgument(format!("cannot split a share of {share} of {} scores", scores.len())));
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let k = (share * sorted.len() as f64).round() as usize;
    Ok(if k == 0 { f64::NEG_INFINITY } else { sorted[k - 1] })
}

/// The two branches from one WDSR-B: the deep one is `model` itself, the shallow one keeps
/// its head, first `shallow_blocks` blocks, tail and skip. Started from a general model,
/// both branches begin as sensible upscalers instead of noise.
pub fn branches(model: &ModelFile, shallow_blocks: usize) -> Result<[ModelFile; 2]> {
    if model.info.architecture != "wdsr-b" {
        return Err(Error::InvalidArgument(format!("Dy-DCA's branches are WDSR-B; `{}` is {}", model.info.name, model.info.architecture)));
    }
    let shallow = wdsr::truncate(model, shallow_blocks)?;
    Ok([model.clone(), shallow])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wdsr::WdsrConfig;

    #[test]
    fn splits_at_or_below_the_threshold() {
        assert_eq!(map(&[39.0, 40.0, 40.5, 12.0], 40.0), [1, 1, 0, 1]);
        let scores = [33.0, 30.0, 41.0, 28.0];
        let t = threshold_for_share(&scores, 0.5).unwrap();
        assert_eq!((t, map(&scores, t)), (30.0, vec![0, 1, 0, 1]));
        assert_eq!(map(&scores, threshold_for_share(&scores, 0.0).unwrap()), [0, 0, 0, 0]);
        assert!(threshold_for_share(&scores, 1.5).is_err());
    }

    #[test]
    fn the_shallow_branch_is_the_deep_one_cut_short() {
        let deep = wdsr::build(WdsrConfig { scale: 2, blocks: 4, channels: 8, expansion: 2 }, 3).unwrap();
        let [d, s] = branches(&deep, 2).unwrap();
        assert_eq!(d, deep);
        assert_eq!(s.graph.params.iter().filter(|p| p.name.starts_with("body.")).count(), 2 * 4);
        let head = |m: &ModelFile| m.values[m.graph.params.iter().position(|p| p.name == "head.0.weight").unwrap()].clone();
        assert_eq!(head(&s), head(&deep));
        assert!(branches(&crate::model::espcn::build(2, 0).unwrap(), 2).is_err());
    }
}
