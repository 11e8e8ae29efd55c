//! A video upscaled frame by frame. Each frame is dense SR, or winning tickets (the
//! network on the best-scoring share of the patches, bicubic elsewhere), with or without
//! temporal reuse (see [`super::reuse`]): patches whose LR content has not changed keep
//! their SR, and the network runs only on the changed ones, so a still background costs
//! nothing after the first frame. With tickets and reuse together, `keep` bounds the
//! patches computed per frame and a still scene fills in with SR over a few frames.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic};
use crate::patch::score::Scorer;
use crate::patch::select::{Selection, select};
use crate::patch::{DEFAULT_PATCH, Grid, SparseUpscaler, sparse};
use crate::progress::Progress;

use super::reuse;

/// How to upscale a frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FrameOptions {
    /// Patch side in LR pixels, for tickets and for reuse.
    pub patch_size: usize,
    /// Run the network on at most this share (0..1) of the patches per frame, the best
    /// scoring of those that need it; the rest is bicubic. `None` or 1: no limit.
    pub keep: Option<f64>,
    /// What ranks the patches when `keep` limits them (LR-only scorers).
    pub scorer: Scorer,
    /// Reuse a patch's SR while no 4x4 cell of its LR content differs by more than this
    /// mean absolute difference (8-bit levels) from what that SR was made from. `None`:
    /// every frame is computed afresh.
    pub reuse: Option<f32>,
}

impl Default for FrameOptions {
    fn default() -> Self {
        Self { patch_size: DEFAULT_PATCH, keep: None, scorer: Scorer::Laplacian, reuse: None }
    }
}

impl FrameOptions {
    /// Default reuse threshold: above the frame-to-frame noise of the H.264 and VP9 clips
    /// measured here (see docs/video.md), far below a moving edge.
    pub const DEFAULT_REUSE: f32 = 6.0;

    fn check(&self) -> Result<()> {
        if let Some(k) = self.keep
            && !(0.0..=1.0).contains(&k)
        {
            return Err(Error::InvalidArgument(format!("keep ratio {k} is outside 0..1")));
        }
        if self.scorer.needs_reference() {
            return Err(Error::InvalidArgument(format!("the {:?} scorer needs the HR original, which a video does not have", self.scorer)));
        }
        self.reuse.map_or(Ok(()), reuse::check_threshold)
    }

    fn limited(&self) -> bool {
        self.keep.is_some_and(|k| k < 1.0)
    }
}

/// What one frame cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct FrameReport {
    pub patches: usize,
    /// Patches the network ran on.
    pub computed: usize,
    /// Patches that kept the SR of an earlier frame.
    pub reused: usize,
    /// Patches that needed SR but got bicubic this frame (over the `keep` limit).
    pub interpolated: usize,
    /// The network's multiply-accumulates as a share of dense SR's (halos included).
    pub work: f64,
}

/// The frame-to-frame state of one video: what each patch's SR was made from.
#[derive(Default)]
pub struct Stream {
    last: Option<Last>,
}

struct Last {
    grid: Grid,
    scale: usize,
    /// The LR content each patch's SR in `output` was made from, where `fresh`.
    source: RgbaImage,
    /// Whether a patch of `output` holds SR (not bicubic).
    fresh: Vec<bool>,
    output: RgbaImage,
}

impl Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets earlier frames (after a seek or a cut): the next frame is computed afresh.
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// Upscales the next frame. A frame of another size, or another patch size or
    /// scale, starts afresh.
    pub async fn next(&mut self, sparse: &SparseUpscaler<'_>, lr: &RgbaImage, options: &FrameOptions, progress: &mut impl Progress) -> Result<(RgbaImage, FrameReport)> {
        options.check()?;
        let up = sparse.upscaler();
        let (ow, oh) = up.output_size(lr.width, lr.height)?;
        let (grid, s) = (Grid::new(lr.width, lr.height, options.patch_size)?, up.scale());
        let n = grid.len();
        let last = self.last.take().filter(|l| l.grid == grid && l.scale == s);
        if !options.limited() && options.reuse.is_none() {
            let out = up.upscale(lr, progress).await?;
            self.last = Some(Last { grid, scale: s, source: lr.clone(), fresh: vec![true; n], output: out.clone() });
            return Ok((out, FrameReport { patches: n, computed: n, reused: 0, interpolated: 0, work: 1.0 }));
        }
        let stale: Vec<bool> = match (&last, options.reuse) {
            (Some(l), Some(t)) => reuse::differences(&l.source, lr, &grid)?.iter().zip(&l.fresh).map(|(&d, &f)| !f || d > t).collect(),
            _ => vec![true; n],
        };
        let wanted = stale.iter().filter(|&&x| x).count();
        let budget = options.keep.map_or(n, |k| (k * n as f64).round() as usize);
        let selected: Vec<usize> = if budget >= wanted {
            (0..n).filter(|&i| stale[i]).collect()
        } else {
            // The best-scoring stale patches; the others cannot win.
            let mut scores = sparse.score(options.scorer, lr, &grid, None, 0).await?;
            for (score, _) in scores.iter_mut().zip(&stale).filter(|(_, x)| !**x) {
                *score = f32::NEG_INFINITY;
            }
            select(&scores, Selection::Keep(budget as f64 / n as f64))?
        };
        // Reused patches keep their SR exactly: before (the base) and after the new
        // patches' feathered bands, which are computed with cut-off context and only
        // blend well into bicubic.
        let big = grid.scaled(s);
        let keep_reused = |img: &mut RgbaImage| {
            if let Some(l) = &last {
                for i in (0..n).filter(|&i| !stale[i]) {
                    img.copy_region(&l.output, big.rect(i));
                }
            }
        };
        let mut base = bicubic::resize(lr, ow, oh)?;
        keep_reused(&mut base);
        let band = sparse::default_band(grid.patch, s);
        let mut out = sparse.upscale_patches_onto(lr, &grid, &selected, band, base, progress).await?;
        keep_reused(&mut out);
        let report = FrameReport {
            patches: n,
            computed: selected.len(),
            reused: n - wanted,
            interpolated: wanted - selected.len(),
            work: sparse.sparse_work(&grid, &selected, band),
        };
        let (mut source, mut fresh) = last.map_or_else(|| (lr.clone(), vec![false; n]), |l| (l.source, l.fresh));
        for i in (0..n).filter(|&i| stale[i]) {
            fresh[i] = false;
        }
        for &i in &selected {
            source.copy_region(lr, grid.rect(i));
            fresh[i] = true;
        }
        self.last = Some(Last { grid, scale: s, source, fresh, output: out.clone() });
        Ok((out, report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;
    use crate::imaging::test_pattern as frame;
    use crate::{Backend, Silent, Upscaler};


    fn worst(a: &RgbaImage, b: &RgbaImage, r: crate::imaging::Region) -> u8 {
        let (ca, cb) = (a.crop_at(r.x, r.y, r.width, r.height).unwrap(), b.crop_at(r.x, r.y, r.width, r.height).unwrap());
        ca.data.iter().zip(&cb.data).map(|(p, q)| p.abs_diff(*q)).max().unwrap()
    }

    fn next(stream: &mut Stream, up: &Upscaler, lr: &RgbaImage, o: &FrameOptions) -> (RgbaImage, FrameReport) {
        pollster::block_on(stream.next(&SparseUpscaler::new(up), lr, o, &mut Silent)).unwrap()
    }

    #[test]
    fn reuse_recomputes_only_the_patches_that_changed() {
        let up = Upscaler::new(&espcn::build(2, 3).unwrap(), Backend::cpu()).unwrap();
        let options = FrameOptions { patch_size: 16, reuse: Some(FrameOptions::DEFAULT_REUSE), ..Default::default() };
        let mut stream = Stream::new();
        let a = frame(64, 48, 0);
        let dense_a = pollster::block_on(up.upscale(&a, &mut Silent)).unwrap();
        let (first, r) = next(&mut stream, &up, &a, &options);
        assert_eq!((r.patches, r.computed, r.reused), (12, 12, 0));
        assert!(worst(&first, &dense_a, first.full()) <= 1);
        // The same frame again: nothing runs, the output stays.
        let (again, r) = next(&mut stream, &up, &a, &options);
        assert_eq!((r.computed, r.reused, r.interpolated), (0, 12, 0));
        assert_eq!(r.work, 0.0);
        assert_eq!(again, first);
        // Patch 5 (col 1, row 1) changes: it alone is recomputed, as dense SR of the new frame.
        let mut b = a.clone();
        let grid = Grid::new(64, 48, 16).unwrap();
        b.copy_region(&frame(64, 48, 5), grid.rect(5));
        let dense_b = pollster::block_on(up.upscale(&b, &mut Silent)).unwrap();
        let (out, r) = next(&mut stream, &up, &b, &options);
        assert_eq!((r.computed, r.reused), (1, 11));
        assert!(r.work > 0.0 && r.work < 0.5, "{r:?}");
        let big = grid.scaled(2);
        assert!(worst(&out, &dense_b, big.rect(5)) <= 1);
        // Every other patch, neighbours included, keeps the first frame's SR exactly.
        for i in (0..12).filter(|&i| i != 5) {
            assert_eq!(worst(&out, &first, big.rect(i)), 0, "patch {i}");
        }
        // Another size starts afresh.
        let (_, r) = next(&mut stream, &up, &frame(32, 32, 0), &options);
        assert_eq!((r.computed, r.reused), (4, 0));
    }

    #[test]
    fn a_still_scene_fills_in_with_sr_within_the_keep_limit() {
        let up = Upscaler::new(&espcn::build(2, 4).unwrap(), Backend::cpu()).unwrap();
        let options = FrameOptions { patch_size: 16, keep: Some(0.25), reuse: Some(2.0), ..Default::default() };
        let mut stream = Stream::new();
        let a = frame(64, 64, 0);
        let mut computed = Vec::new();
        let mut out = None;
        for _ in 0..5 {
            let (o, r) = next(&mut stream, &up, &a, &options);
            assert_eq!(r.computed + r.reused + r.interpolated, 16);
            computed.push(r.computed);
            out = Some(o);
        }
        assert_eq!(computed, vec![4, 4, 4, 4, 0]);
        let dense = pollster::block_on(up.upscale(&a, &mut Silent)).unwrap();
        let out = out.unwrap();
        assert!(worst(&out, &dense, out.full()) <= 2, "differs from dense by {}", worst(&out, &dense, out.full()));
        // Without reuse, every frame is tickets afresh: the same four patches each time.
        let plain = FrameOptions { reuse: None, ..options };
        let (o1, r1) = next(&mut stream, &up, &a, &plain);
        let (o2, r2) = next(&mut stream, &up, &a, &plain);
        assert_eq!((r1.computed, r1.interpolated, r2.computed), (4, 12, 4));
        assert_eq!(o1, o2);
        assert_ne!(o1, out);
    }

    #[test]
    fn bad_options_are_errors() {
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        let mut stream = Stream::new();
        let a = frame(16, 16, 0);
        for bad in [
            FrameOptions { keep: Some(1.5), ..Default::default() },
            FrameOptions { reuse: Some(f32::NAN), ..Default::default() },
            FrameOptions { scorer: Scorer::Oracle, keep: Some(0.5), ..Default::default() },
            FrameOptions { patch_size: 2, ..Default::default() },
        ] {
            assert!(pollster::block_on(stream.next(&SparseUpscaler::new(&up), &a, &bad, &mut Silent)).is_err(), "{bad:?}");
        }
    }
}
