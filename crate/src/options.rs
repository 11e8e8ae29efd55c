//! The options of the calls both edges make, declared once: serde types with camelCase
//! names for JS (a field they do not declare is refused by the JS edge, clap refuses a
//! misspelt flag), one default each, and in wasm builds the TypeScript declarations of the
//! package generated from them (tsify). The CLI maps its flags onto the same types.
//!
//! What only JS can pass (`onProgress`, `signal`, a reference image) is read by the JS
//! edge itself, which declares those few keys beside these types.

use serde::{Deserialize, Serialize};

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::imaging::RgbaImage;
use crate::patch::score::Scorer;
use crate::patch::select::{CostModel, Selection};
use crate::patch::{self, DEFAULT_PATCH, Grid, SparseUpscaler, TicketRun, Tickets};
use crate::progress::Progress;

/// Creating an upscaler (`Upscaler.create`, `Upscaler.bicubic`) or loading a content pack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct UpscalerOptions {
    /// "auto" (WebGPU or Vulkan when an adapter exists, else the CPU), "gpu" (also
    /// "webgpu") or "cpu".
    #[cfg_attr(target_arch = "wasm32", tsify(type = "\"auto\" | \"gpu\" | \"webgpu\" | \"cpu\""))]
    pub backend: BackendChoice,
    /// Core tile side in input pixels; by default derived from the adapter's buffer limits.
    pub tile_size: Option<usize>,
    /// Run convolutions with burn's own kernels instead of ticketsr's fused ones, on the GPU
    /// and the CPU (slower; for comparing the two).
    pub plain_kernels: bool,
}

/// One upscaling: dense, or the network only on some patches (winning tickets) with
/// bicubic elsewhere, chosen by at most one of `keep`, `selected`, `budgetMs` and
/// `gainsOnly`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct UpscaleOptions {
    /// Run the network only on this share (0..1) of the patches, picked by `scorer`.
    pub keep: Option<f64>,
    /// Run the network exactly on these patches (indices into the `patchSize` grid, e.g.
    /// from `selectPatches`).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint32Array | number[]"))]
    pub selected: Option<Vec<usize>>,
    /// Run the network on as many of the best patches as fit in this many milliseconds,
    /// at the per-frame `cost` that `measurePatchCost` measured.
    pub budget_ms: Option<f64>,
    pub cost: Option<CostModel>,
    /// Run the network only on the patches `scorer` predicts to gain over bicubic, and
    /// keep bicubic where the model would make the image worse (needs the `learned`
    /// scorer, whose scores are predicted gains with their sign).
    pub gains_only: bool,
    /// Patch side in input pixels.
    pub patch_size: usize,
    /// What picks the winning tickets.
    pub scorer: Scorer,
    /// Seed of the "random" scorer.
    pub seed: u64,
    /// How far the network's patches feather into bicubic, in output pixels: 0 is a hard
    /// edge, at most an output patch; by default an eighth of an output patch.
    pub band: Option<usize>,
    /// Input pixels of the image the network sees around its patches; by default its
    /// receptive radius, so the patches equal dense SR. Less is cheaper (the halo is most
    /// of a small patch's cost) and changes the patches' outer pixels a little.
    pub context: Option<usize>,
}

impl Default for UpscaleOptions {
    fn default() -> Self {
        Self {
            keep: None,
            selected: None,
            budget_ms: None,
            cost: None,
            gains_only: false,
            patch_size: DEFAULT_PATCH,
            scorer: Scorer::Gradient,
            seed: 0,
            band: None,
            context: None,
        }
    }
}

/// What an upscaling computes, from [`UpscaleOptions::work`].
#[derive(Clone, Debug, PartialEq)]
pub enum Work<'a> {
    Dense,
    /// Patches the scorer picks.
    Tickets(Tickets),
    /// These patches of the grid.
    Patches(Grid, &'a [usize]),
}

impl UpscaleOptions {
    /// The work these options ask for on a `width` x `height` input.
    pub fn work(&self, width: usize, height: usize) -> Result<Work<'_>> {
        let tickets = |selection| Work::Tickets(Tickets { patch: self.patch_size, scorer: self.scorer, selection, seed: self.seed, band: self.band });
        Ok(match (self.keep, &self.selected, self.budget_ms, self.gains_only) {
            (None, None, None, false) => Work::Dense,
            (Some(k), None, None, false) => tickets(Selection::Keep(k)),
            (None, Some(selected), None, false) => Work::Patches(Grid::new(width, height, self.patch_size)?, selected),
            (None, None, Some(ms), false) => {
                let cost = self.cost.ok_or_else(|| Error::InvalidArgument("`budgetMs` needs the `cost` that measurePatchCost measured".into()))?;
                tickets(Selection::Budget { ms, cost })
            }
            (None, None, None, true) => tickets(Selection::Gains),
            _ => return Err(Error::InvalidArgument("give one of `keep`, `selected`, `budgetMs` and `gainsOnly`".into())),
        })
    }
}

impl UpscaleOptions {
    /// Upscales `lr` as these options ask, densely or patch-sparse on `sparse`'s upscaler;
    /// with the tickets' scores and choice when a scorer picked the patches.
    pub async fn upscale(&self, sparse: &SparseUpscaler<'_>, lr: &RgbaImage, progress: &mut impl Progress) -> Result<(RgbaImage, Option<TicketRun>)> {
        let sparse = &sparse.with_context(self.context)?;
        match self.work(lr.width, lr.height)? {
            Work::Dense => Ok((sparse.upscaler().upscale(lr, progress).await?, None)),
            Work::Tickets(t) => {
                let (image, run) = sparse.upscale_tickets(lr, &t, progress).await?;
                Ok((image, Some(run)))
            }
            Work::Patches(grid, selected) => {
                let band = patch::band(self.band, grid.patch, sparse.upscaler().scale())?;
                Ok((sparse.upscale_patches(lr, &grid, selected, band, progress).await?, None))
            }
        }
    }
}

/// Scoring the patches of an image (`scorePatches`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ScoreOptions {
    /// Patch side in input pixels.
    pub patch_size: usize,
    pub scorer: Scorer,
    /// Seed of the "random" scorer.
    pub seed: u64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        let UpscaleOptions { patch_size, scorer, seed, .. } = UpscaleOptions::default();
        Self { patch_size, scorer, seed }
    }
}

/// Measuring how much of dense SR's gain each scorer's tickets keep (`evaluatePatches`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct EvaluateOptions {
    /// Patch side in input pixels.
    pub patch_size: usize,
    /// Scorers to compare; absent: all, "learned" when the upscaler has its model.
    pub scorers: Option<Vec<Scorer>>,
    /// Keep ratios.
    pub keeps: Vec<f64>,
    /// Seed of the "random" scorer.
    pub seed: u64,
    /// Context around the patches, as in [`UpscaleOptions::context`]: below the
    /// receptive radius every point is run, not composed from dense SR.
    pub context: Option<usize>,
    /// Feathering band, as in [`UpscaleOptions::band`].
    pub band: Option<usize>,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        let UpscaleOptions { patch_size, seed, context, band, .. } = UpscaleOptions::default();
        Self { patch_size, scorers: None, keeps: vec![0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0], seed, context, band }
    }
}

impl EvaluateOptions {
    /// The scorers asked for, or every one `sparse` can run.
    pub fn scorers_for(&self, sparse: &SparseUpscaler<'_>) -> Vec<Scorer> {
        self.scorers.clone().unwrap_or_else(|| Scorer::ALL.into_iter().filter(|s| *s != Scorer::Learned || sparse.has_learned_scorer()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_camel_case_fill_defaults_and_refuse_unknown_fields() {
        let o: UpscaleOptions = serde_json::from_str(r#"{"keep":0.25,"patchSize":16}"#).unwrap();
        assert_eq!((o.keep, o.patch_size, o.scorer, o.seed), (Some(0.25), 16, Scorer::Gradient, 0));
        assert!(matches!(o.work(64, 32).unwrap(), Work::Tickets(Tickets { patch: 16, selection: Selection::Keep(_), .. })));
        assert!(serde_json::from_str::<UpscaleOptions>(r#"{"keeep":0.25}"#).is_err());
        let u: UpscalerOptions = serde_json::from_str(r#"{"backend":"webgpu","tileSize":64}"#).unwrap();
        assert_eq!((u.backend, u.tile_size), (BackendChoice::Gpu, Some(64)));
        assert!(serde_json::from_str::<UpscalerOptions>(r#"{"tilesize":64}"#).is_err());
        assert_eq!(serde_json::from_str::<EvaluateOptions>("{}").unwrap(), EvaluateOptions::default());
        assert_eq!(ScoreOptions::default().scorer, UpscaleOptions::default().scorer);
    }

    #[test]
    fn at_most_one_selection_and_a_budget_needs_its_cost() {
        let both = UpscaleOptions { keep: Some(0.5), budget_ms: Some(10.0), ..Default::default() };
        assert!(both.work(64, 64).is_err());
        let no_cost = UpscaleOptions { budget_ms: Some(10.0), ..Default::default() };
        assert!(no_cost.work(64, 64).unwrap_err().to_string().contains("cost"));
        assert_eq!(UpscaleOptions::default().work(64, 64).unwrap(), Work::Dense);
        let gains = UpscaleOptions { gains_only: true, keep: Some(0.5), ..Default::default() };
        assert!(gains.work(64, 64).unwrap_err().to_string().contains("gainsOnly"));
        let gains: UpscaleOptions = serde_json::from_str(r#"{"gainsOnly":true,"scorer":"learned"}"#).unwrap();
        assert!(matches!(gains.work(64, 64).unwrap(), Work::Tickets(Tickets { selection: Selection::Gains, scorer: Scorer::Learned, .. })));
        let picked = UpscaleOptions { selected: Some(vec![0, 3]), patch_size: 32, ..Default::default() };
        assert!(matches!(picked.work(64, 64).unwrap(), Work::Patches(g, s) if g.len() == 4 && s == [0, 3]));
    }

    #[test]
    fn gains_only_runs_where_the_learned_scorer_predicts_a_gain_and_needs_a_scorer_that_does() {
        let up = crate::Upscaler::new(&crate::model::espcn::build(2, 3).unwrap(), crate::Backend::cpu()).unwrap();
        let pixels = (0..48 * 32 * 4).map(|i| ((i * 37) % 251) as u8).collect();
        let lr = RgbaImage::new(48, 32, pixels).unwrap();
        let options = UpscaleOptions { gains_only: true, patch_size: 16, ..Default::default() };
        let refused = pollster::block_on(options.upscale(&SparseUpscaler::new(&up), &lr, &mut crate::Silent)).unwrap_err();
        assert!(refused.to_string().contains("`gradient` scorer ranks patches but does not predict"), "{refused}");
        let learned = patch::LearnedScorer::new(&patch::learned::build(7).unwrap(), up.device()).unwrap();
        let sparse = SparseUpscaler::new(&up).with_learned_scorer(Some(&learned));
        let options = UpscaleOptions { scorer: Scorer::Learned, ..options };
        let (_, run) = pollster::block_on(options.upscale(&sparse, &lr, &mut crate::Silent)).unwrap();
        let run = run.unwrap();
        let mut gaining: Vec<usize> = (0..run.scores.len()).filter(|&i| run.scores[i] > 0.0).collect();
        let mut selected = run.selected.clone();
        gaining.sort();
        selected.sort();
        assert_eq!(selected, gaining, "{:?}", run.scores);
    }

    #[test]
    fn the_band_option_sets_the_feathering_and_a_band_wider_than_a_patch_is_refused() {
        let up = crate::Upscaler::new(&crate::model::espcn::build(2, 3).unwrap(), crate::Backend::cpu()).unwrap();
        let pixels = (0..48 * 32 * 4).map(|i| ((i * 37) % 251) as u8).collect();
        let lr = RgbaImage::new(48, 32, pixels).unwrap();
        let run = |band| {
            let options = UpscaleOptions { keep: Some(0.5), patch_size: 16, band, ..Default::default() };
            pollster::block_on(options.upscale(&SparseUpscaler::new(&up), &lr, &mut crate::Silent)).map(|(img, _)| img.data)
        };
        let (hard, default, wide) = (run(Some(0)).unwrap(), run(None).unwrap(), run(Some(32)).unwrap());
        assert!(hard != default && default != wide);
        assert!(run(Some(33)).unwrap_err().to_string().contains("wider than an output patch (32 px)"));
        let picked = UpscaleOptions { selected: Some(vec![0]), patch_size: 16, band: Some(1 << 30), ..Default::default() };
        assert!(pollster::block_on(picked.upscale(&SparseUpscaler::new(&up), &lr, &mut crate::Silent)).is_err());
    }
}
