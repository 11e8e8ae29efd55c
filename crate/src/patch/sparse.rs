//! Patch-sparse execution: the network runs only on the selected patches, gathered with a
//! halo of context into windows (shared by neighbours, see [`window`]) and batches of
//! equal windows; everything else is bicubic. With the default context, the network's
//! receptive radius, the output inside a selected patch equals dense SR. A narrower
//! context (ClassSR and ARM run patches with a few pixels of overlap) is cheaper: the
//! network sees zeros instead of the image past it, which changes the patch's outer
//! pixels a little. Around a patch, the SR its window produced is feathered into the
//! bicubic neighbours over a band, so no seam shows.

use super::learned::LearnedScorer;
use super::score::{self, Reference, Scorer};
use super::select::{CostModel, Selection, select};
use super::{Grid, TicketRun, Tickets, band, window};
use crate::error::{Error, Result};
use crate::graph::Sides;
use crate::imaging::{Region, RgbaImage, bicubic, quantize};
use crate::platform;
use crate::progress::Progress;
use crate::tile;
use crate::upscale::{Upscaler, margins};

/// Cell visits of window planning between two yields to the page (about 10 ms in wasm).
const PLAN_STEP: usize = 1 << 20;

/// The default feathering band in output pixels: an eighth of an output patch. The band
/// is computed by the network too (its windows keep that much more than the patch), so
/// it is kept narrow: wide enough to hide the seam, not a second patch.
pub fn default_band(patch: usize, scale: usize) -> usize {
    (patch * scale / 8).max(1)
}

/// Which SR pixels the output takes, and how much of each: 1 inside a selected patch,
/// falling linearly to 0 over `band` pixels around it (clipped to what its window
/// computed), the nearest selected patch owning each pixel.
pub struct Feather {
    alpha: Vec<f32>,
    /// Position in the selection of the patch a pixel's SR comes from.
    owner: Vec<u32>,
}

/// The output pixels a selected patch may write: its core and the band around it, within
/// its window, in output pixels of an `s`-times upscaler.
fn reach(core: Region, win: Region, s: usize, band: usize) -> (Region, Region) {
    let c = Region { x: core.x * s, y: core.y * s, width: core.width * s, height: core.height * s };
    let (x0, y0) = (c.x.saturating_sub(band).max(win.x * s), c.y.saturating_sub(band).max(win.y * s));
    let (x1, y1) = ((c.x + c.width + band).min((win.x + win.width) * s), (c.y + c.height + band).min((win.y + win.height) * s));
    (c, Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 })
}

impl Feather {
    /// `windows` holds the window of every selected patch, in selection order.
    pub fn new(grid: &Grid, selected: &[usize], windows: &[Region], s: usize, band: usize) -> Self {
        let (ow, oh) = (grid.width * s, grid.height * s);
        let mut f = Feather { alpha: vec![0.0; ow * oh], owner: vec![u32::MAX; ow * oh] };
        for (k, (&i, win)) in selected.iter().zip(windows).enumerate() {
            let (c, ring) = reach(grid.rect(i), *win, s, band);
            for y in ring.y..ring.y + ring.height {
                for x in ring.x..ring.x + ring.width {
                    let dx = c.x.saturating_sub(x).max(x.saturating_sub(c.x + c.width - 1));
                    let dy = c.y.saturating_sub(y).max(y.saturating_sub(c.y + c.height - 1));
                    let d = dx.max(dy);
                    let a = if d == 0 { 1.0 } else { 1.0 - d as f32 / (band + 1) as f32 };
                    let o = y * ow + x;
                    if a > f.alpha[o] {
                        f.alpha[o] = a;
                        f.owner[o] = k as u32;
                    }
                }
            }
        }
        f
    }

    /// Feathering inside the selected patches instead of around them, for a narrow
    /// context: SR is taken only where the patches are, rising from bicubic over `band`
    /// output pixels from every edge that borders an unselected patch. The network then
    /// computes the patches alone (no band around them), and the band covers the pixels
    /// that missed most context.
    pub fn inward(grid: &Grid, selected: &[usize], s: usize, band: usize) -> Self {
        let (ow, oh) = (grid.width * s, grid.height * s);
        let mut f = Feather { alpha: vec![0.0; ow * oh], owner: vec![u32::MAX; ow * oh] };
        let mut chosen = vec![false; grid.len()];
        for &i in selected {
            chosen[i] = true;
        }
        let (cols, rows) = (grid.cols as isize, grid.rows as isize);
        for (k, &i) in selected.iter().enumerate() {
            let r = grid.rect(i);
            let (x0, y0, x1, y1) = (r.x * s, r.y * s, (r.x + r.width) * s, (r.y + r.height) * s);
            let (c, row) = ((i % grid.cols) as isize, (i / grid.cols) as isize);
            // The unselected neighbours (all eight: a corner meets one diagonally).
            let open: Vec<(isize, isize)> = (-1..=1)
                .flat_map(|dr| (-1..=1).map(move |dc| (dc, dr)))
                .filter(|&(dc, dr)| (dc, dr) != (0, 0))
                .filter(|&(dc, dr)| {
                    let (nc, nr) = (c + dc, row + dr);
                    (0..cols).contains(&nc) && (0..rows).contains(&nr) && !chosen[(nr * cols + nc) as usize]
                })
                .collect();
            for y in y0..y1 {
                for x in x0..x1 {
                    // Chebyshev distance to the nearest unselected pixel, 1 when adjacent.
                    let side = |d: isize, p: usize, lo: usize, hi: usize| match d {
                        -1 => p - lo + 1,
                        1 => hi - p,
                        _ => 0,
                    };
                    let d = open.iter().map(|&(dc, dr)| side(dc, x, x0, x1).max(side(dr, y, y0, y1))).min().unwrap_or(usize::MAX);
                    let o = y * ow + x;
                    f.alpha[o] = if d > band { 1.0 } else { d as f32 / (band + 1) as f32 };
                    f.owner[o] = k as u32;
                }
            }
        }
        f
    }

    /// Blends SR planes (`[3, h, w]` in 0..1, full output size) into `base`.
    pub fn blend(&self, base: &mut RgbaImage, sr: &[f32]) {
        let n = self.alpha.len();
        for (o, &a) in self.alpha.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            for ch in 0..3 {
                let px = &mut base.data[o * 4 + ch];
                let v = sr[ch * n + o];
                *px = if a == 1.0 { quantize(v) } else { quantize(a * v + (1.0 - a) * *px as f32 / 255.0) };
            }
        }
    }
}

/// Patch-sparse work on an [`Upscaler`]: scoring (the learned scorer too, when one is
/// given), winning tickets, the windows the network runs on and what they cost. It borrows
/// the upscaler, so it is made per call and costs nothing to make.
#[derive(Clone, Copy)]
pub struct SparseUpscaler<'a> {
    up: &'a Upscaler,
    learned: Option<&'a LearnedScorer>,
    /// LR pixels of context around the patches (at most the receptive radius).
    context: usize,
}

impl<'a> SparseUpscaler<'a> {
    pub fn new(up: &'a Upscaler) -> Self {
        Self { up, learned: None, context: up.halo() }
    }

    /// With `context` LR pixels around the patches instead of the receptive radius
    /// (`None`: the radius, exact). More than the radius is refused: it would only cost.
    pub fn with_context(self, context: Option<usize>) -> Result<Self> {
        let radius = self.up.halo();
        match context {
            None => Ok(Self { context: radius, ..self }),
            Some(c) if c <= radius => Ok(Self { context: c, ..self }),
            Some(c) => Err(Error::InvalidArgument(format!("a context of {c} px is more than the network's receptive radius ({radius} px), which already gives dense SR"))),
        }
    }

    /// LR pixels of context the network sees around the patches.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Whether the output inside the selected patches equals dense SR: the context is the
    /// whole receptive radius.
    pub fn is_exact(&self) -> bool {
        self.context >= self.up.halo()
    }

    /// With the learned scorer that `Scorer::Learned` runs (`None`: that scorer is refused).
    pub fn with_learned_scorer(self, learned: Option<&'a LearnedScorer>) -> Self {
        Self { learned, ..self }
    }

    pub fn upscaler(&self) -> &'a Upscaler {
        self.up
    }

    pub fn has_learned_scorer(&self) -> bool {
        self.learned.is_some()
    }

    /// Scores the patches of `lr` with any scorer, the learned one included.
    pub async fn score(&self, scorer: Scorer, lr: &RgbaImage, grid: &Grid, reference: Option<&Reference<'_>>, seed: u64) -> Result<Vec<f32>> {
        match (scorer, self.learned) {
            (Scorer::Learned, Some(learned)) => learned.scores(lr, grid).await,
            _ => score::score(scorer, lr, grid, reference, self.up.device(), seed).await,
        }
    }

    /// Scores the patches of `lr`, selects the winning tickets and runs the network on
    /// them only. Scorers that need the HR original are refused: they exist to evaluate,
    /// and they can still drive [`SparseUpscaler::upscale_patches`] through [`score::score`].
    pub async fn upscale_tickets(&self, lr: &RgbaImage, tickets: &Tickets, progress: &mut impl Progress) -> Result<(RgbaImage, TicketRun)> {
        self.up.output_size(lr.width, lr.height)?;
        tickets.check()?;
        let grid = Grid::new(lr.width, lr.height, tickets.patch)?;
        let scores = self.score(tickets.scorer, lr, &grid, None, tickets.seed).await?;
        let selected = select(&scores, tickets.selection)?;
        let band = band(tickets.band, tickets.patch, self.up.scale())?;
        let image = self.upscale_patches(lr, &grid, &selected, band, progress).await?;
        Ok((image, TicketRun { grid, scores, selected }))
    }

    /// Measures what patch-sparse execution costs per frame on this device, for the time
    /// budget selector: after a warm-up run (shader compilation), it times the best patch
    /// alone and the best quarter of the patches by `scores`, and fits the line through
    /// them. Neighbouring tickets share windows, so real costs grow slower than the line
    /// and a budget it allows is kept.
    pub async fn measure_cost(&self, lr: &RgbaImage, grid: &Grid, scores: &[f32], progress: &mut impl Progress) -> Result<CostModel> {
        if grid.len() < 2 {
            return Err(Error::InvalidArgument("measuring the cost per patch needs at least two patches".into()));
        }
        let order = select(scores, Selection::Keep(1.0))?;
        let quarter = (grid.len() / 4).max(2);
        let band = default_band(grid.patch, self.up.scale());
        self.upscale_patches(lr, grid, &order[..quarter], band, progress).await?;
        let mut time = async |k: usize| -> Result<f64> {
            let start = platform::now_ms();
            self.upscale_patches(lr, grid, &order[..k], band, progress).await?;
            Ok(platform::now_ms() - start)
        };
        let one = time(1).await?;
        let many = time(quarter).await?;
        CostModel::fit((1, one), (quarter, many))
    }

    /// The windows patch-sparse execution computes for `selected`.
    pub fn plan(&self, grid: &Grid, selected: &[usize]) -> window::Plan {
        window::plan(grid, selected, self.context, self.up.tile_size())
    }

    /// [`SparseUpscaler::plan`] in steps, with `progress` told between them (in the browser: a
    /// yield to the page, and an abort), since a dense selection on a large frame takes
    /// tenths of a second.
    async fn plan_yielding(&self, grid: &Grid, selected: &[usize], progress: &mut impl Progress) -> Result<window::Plan> {
        let mut planner = window::Planner::new(grid, selected, self.context, self.up.tile_size());
        while !planner.advance(PLAN_STEP) {
            progress.checkpoint().await?;
        }
        Ok(planner.finish())
    }

    /// Multiply-accumulates of dense tiled execution (halos shrinking layer by layer).
    pub fn dense_work(&self, width: usize, height: usize) -> u64 {
        let (graph, a) = (self.up.network().graph(), self.up.network().analysis());
        self.up.tiles(width, height).iter().map(|t| a.macs(graph, t.padded.width, t.padded.height, margins(t.padded, t.core))).sum()
    }

    /// Output pixels of a `band` that lie outside the patches: with the exact context, the
    /// band, as far as the halo computed it; with a narrow one none (it is inside them).
    pub(crate) fn band_outside(&self, band: usize) -> usize {
        if self.is_exact() { band.min(self.context * self.up.scale()) } else { 0 }
    }

    /// What each window of `plan` leaves out: its core and the band around it
    /// ([`SparseUpscaler::band_outside`]) are wanted, the rest of its halo only feeds them.
    pub(crate) fn drops(&self, plan: &window::Plan, band: usize) -> Vec<Sides> {
        let b = self.band_outside(band).div_ceil(self.up.scale());
        plan.windows
            .iter()
            .zip(&plan.cores)
            .map(|(w, c)| margins(*w, c.expanded(b, w)))
            .collect()
    }

    /// Multiply-accumulates of patch-sparse execution of `selected`, as a share of dense
    /// SR's: its windows, or dense SR where they would cost more.
    pub fn sparse_work(&self, grid: &Grid, selected: &[usize], band: usize) -> f64 {
        let plan = self.plan(grid, selected);
        self.plan_work(&plan, &self.drops(&plan, band), grid.width, grid.height)
    }

    /// [`SparseUpscaler::sparse_work`] of a plan already made, over a `width` x `height` input.
    pub(crate) fn plan_work(&self, plan: &window::Plan, drops: &[Sides], width: usize, height: usize) -> f64 {
        let (graph, a) = (self.up.network().graph(), self.up.network().analysis());
        let sparse: u64 = plan.windows.iter().zip(drops).map(|(w, d)| a.macs(graph, w.width, w.height, *d)).sum();
        let dense = self.dense_work(width, height);
        sparse.min(dense) as f64 / dense.max(1) as f64
    }

    /// Upscales `lr` with the network on the `selected` patches of `grid` and bicubic
    /// elsewhere. `band` (output pixels) is clipped to what the halo computed.
    pub async fn upscale_patches(&self, lr: &RgbaImage, grid: &Grid, selected: &[usize], band: usize, progress: &mut impl Progress) -> Result<RgbaImage> {
        let (ow, oh) = self.up.output_size(lr.width, lr.height)?;
        self.upscale_patches_onto(lr, grid, selected, band, bicubic::resize(lr, ow, oh)?, progress).await
    }

    /// [`SparseUpscaler::upscale_patches`] over a `base` of the output size instead of bicubic:
    /// the selected patches (and their feathered bands) are written into it, the rest of
    /// it is kept. Video reuses earlier frames' SR this way, and packs compose several
    /// models' patches.
    pub async fn upscale_patches_onto(
        &self,
        lr: &RgbaImage,
        grid: &Grid,
        selected: &[usize],
        band: usize,
        base: RgbaImage,
        progress: &mut impl Progress,
    ) -> Result<RgbaImage> {
        let (ow, oh) = self.up.output_size(lr.width, lr.height)?;
        grid.check(lr)?;
        let selected = &grid.selection(selected)?;
        if (base.width, base.height) != (ow, oh) {
            return Err(Error::InvalidArgument(format!("the base is {}x{}, the output {ow}x{oh}", base.width, base.height)));
        }
        let s = self.up.scale();
        let mut out = base;
        if selected.is_empty() {
            return Ok(out);
        }
        let plan = self.plan_yielding(grid, selected, progress).await?;
        let drops = self.drops(&plan, band);
        // Exact context: SR feathers out over a band its windows compute. Narrow: inside.
        let around = self.band_outside(band);
        let feather = if self.is_exact() { Feather::new(grid, selected, &plan.per_patch(), s, around) } else { Feather::inward(grid, selected, s, band) };
        if self.plan_work(&plan, &drops, grid.width, grid.height) >= 1.0 {
            // Scattered tickets whose windows would cost more than the whole image: dense SR
            // is cheaper and equal inside the patches (with more context in the band).
            let dense = self.up.upscale(lr, progress).await?;
            feather.blend(&mut out, &dense.planes(dense.full()));
            return Ok(out);
        }
        let bpp = tile::peak_bytes_per_pixel(self.up.network().analysis());

        // Batches of equal-sized windows, each as large as one tensor may be: every run
        // of the network costs a fixed overhead, so windows that differ only in what they
        // may drop share a run that drops what all of them may.
        let key = |w: usize| (plan.windows[w].width, plan.windows[w].height);
        let mut order: Vec<usize> = (0..plan.windows.len()).collect();
        order.sort_by_key(|&w| (key(w), w));
        let mut batches: Vec<&[usize]> = Vec::new();
        for same in order.chunk_by(|&a, &b| key(a) == key(b)) {
            let w = plan.windows[same[0]];
            let per_batch = ((self.up.max_tensor_bytes() / (bpp * (w.width * w.height) as u64).max(1)) as usize).max(1);
            batches.extend(same.chunks(per_batch));
        }
        // The selected patches of each window, so writing them back is linear.
        let mut patches_of = vec![Vec::new(); plan.windows.len()];
        for (k, &w) in plan.window_of.iter().enumerate() {
            patches_of[w].push(k);
        }
        let mut sr = vec![0f32; 3 * ow * oh];
        for (b, batch) in batches.iter().enumerate() {
            let (sw, sh) = key(batch[0]);
            let drop: Sides = std::array::from_fn(|k| batch.iter().map(|&w| drops[w][k]).min().unwrap_or(0));
            let mut input = Vec::with_capacity(batch.len() * 3 * sw * sh);
            for &w in *batch {
                input.extend(lr.planes(plan.windows[w]));
            }
            let planes = self.up.run_batch(input, batch.len(), sh, sw, drop).await?;
            // Each output covers its window less `drop`, in output pixels.
            let (ww, wh) = ((sw - drop[0] - drop[2]) * s, (sh - drop[1] - drop[3]) * s);
            for (n, &w) in batch.iter().enumerate() {
                let out_win = &planes[n * 3 * ww * wh..(n + 1) * 3 * ww * wh];
                let win = plan.windows[w];
                let (x0, y0) = ((win.x + drop[0]) * s, (win.y + drop[1]) * s);
                for &k in &patches_of[w] {
                    let (_, ring) = reach(grid.rect(selected[k]), win, s, around);
                    for y in ring.y..ring.y + ring.height {
                        for x in ring.x..ring.x + ring.width {
                            let o = y * ow + x;
                            if feather.owner[o] != k as u32 {
                                continue;
                            }
                            let src = (y - y0) * ww + (x - x0);
                            for ch in 0..3 {
                                sr[ch * ow * oh + o] = out_win[ch * ww * wh + src];
                            }
                        }
                    }
                }
            }
            progress.tile_done(b + 1, batches.len()).await?;
        }
        feather.blend(&mut out, &sr);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Interpolation};
    use crate::model::{ModelFile, ModelInfo, espcn};
    use crate::{Backend, Silent};

    fn textured(w: usize, h: usize) -> RgbaImage {
        crate::imaging::test_pattern(w, h, 0)
    }

    /// Aborts at the first checkpoint: planning a large dense selection stops there.
    struct AbortAtCheckpoint(usize);
    impl Progress for AbortAtCheckpoint {
        async fn tile_done(&mut self, _: usize, _: usize) -> Result<()> {
            Ok(())
        }
        async fn checkpoint(&mut self) -> Result<()> {
            self.0 += 1;
            Err(Error::Aborted)
        }
    }

    #[test]
    fn planning_stops_at_a_checkpoint_when_aborted() {
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        // Every 4 px patch of 2048x2048: over a million cell visits, so at least one checkpoint.
        let lr = textured(2048, 2048);
        let grid = Grid::new(2048, 2048, 4).unwrap();
        let all: Vec<usize> = (0..grid.len()).collect();
        let mut progress = AbortAtCheckpoint(0);
        let result = pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &all, 0, &mut progress));
        assert!(matches!(result, Err(Error::Aborted)), "{:?}", result.map(|i| i.width));
        assert_eq!(progress.0, 1);
    }

    #[test]
    fn the_measured_cost_is_a_line_through_two_timed_runs() {
        let up = Upscaler::new(&espcn::build(2, 1).unwrap(), Backend::cpu()).unwrap();
        let lr = textured(64, 64);
        let grid = Grid::new(64, 64, 8).unwrap();
        let scores: Vec<f32> = (0..grid.len()).map(|i| (i * 37 % 64) as f32).collect();
        let cost = pollster::block_on(SparseUpscaler::new(&up).measure_cost(&lr, &grid, &scores, &mut Silent)).unwrap();
        assert!(cost.fixed_ms >= 0.0 && cost.per_patch_ms > 0.0 && cost.ms(16).is_finite(), "{cost:?}");
        let one = Grid::new(8, 8, 8).unwrap();
        assert!(pollster::block_on(SparseUpscaler::new(&up).measure_cost(&textured(8, 8), &one, &[1.0], &mut Silent)).is_err());
    }

    #[test]
    fn selected_patches_equal_dense_sr_and_the_rest_is_bicubic() {
        let model = espcn::build(2, 5).unwrap();
        let up = Upscaler::new(&model, Backend::cpu()).unwrap();
        let lr = textured(37, 29);
        let grid = Grid::new(37, 29, 8).unwrap();
        let dense = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
        let base = bicubic::resize(&lr, 74, 58).unwrap();
        let selected = [0, 3, 4, 7, grid.len() - 1]; // corners, edges, the narrow last patch
        let band = 4;
        let sparse = pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &selected, band, &mut Silent)).unwrap();
        let big = grid.scaled(2);
        for (i, r) in big.rects().enumerate() {
            for y in r.y..r.y + r.height {
                for x in r.x..r.x + r.width {
                    let o = (y * 74 + x) * 4;
                    let (got, sr, bic) = (&sparse.data[o..o + 4], &dense.data[o..o + 4], &base.data[o..o + 4]);
                    if selected.contains(&i) {
                        assert!(got.iter().zip(sr).all(|(a, b)| a.abs_diff(*b) <= 1), "patch {i} ({x},{y}): {got:?} vs dense {sr:?}");
                    } else {
                        // Outside the band around selected patches, exactly bicubic.
                        let near = selected.iter().any(|&j| {
                            let c = big.rect(j);
                            x + band >= c.x && x < c.x + c.width + band && y + band >= c.y && y < c.y + c.height + band
                        });
                        if !near {
                            assert_eq!(got, bic, "patch {i} ({x},{y})");
                        }
                    }
                }
            }
        }
        // All patches selected is dense SR; none is bicubic.
        let all: Vec<usize> = (0..grid.len()).collect();
        let full = pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &all, band, &mut Silent)).unwrap();
        assert!(full.data.iter().zip(&dense.data).all(|(a, b)| a.abs_diff(*b) <= 1));
        assert_eq!(pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &[], band, &mut Silent)).unwrap(), base);
        assert!(pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &[999], band, &mut Silent)).is_err());
    }

    #[test]
    fn a_narrower_context_costs_less_and_stays_near_dense_sr_inside_the_patch() {
        let up = Upscaler::new(&espcn::build(2, 5).unwrap(), Backend::cpu()).unwrap();
        let r = up.halo();
        let lr = textured(48, 48);
        let grid = Grid::new(48, 48, 16).unwrap();
        let run = |context| {
            let sparse = SparseUpscaler::new(&up).with_context(context).unwrap();
            let out = pollster::block_on(sparse.upscale_patches(&lr, &grid, &[4], 0, &mut Silent)).unwrap();
            (out, sparse.sparse_work(&grid, &[4], 0))
        };
        let ((exact, exact_work), (narrow, narrow_work)) = (run(None), run(Some(1)));
        assert!(narrow_work < exact_work, "{narrow_work} vs {exact_work}");
        // The centre patch, 32x32 output pixels: it differs from dense SR only within the
        // receptive radius, less the context, of its edges.
        let m = 2 * (r - 1);
        assert!(m < 16, "espcn's radius is {r}");
        let patch = |img: &RgbaImage, m: usize| img.crop_at(32 + m, 32 + m, 32 - 2 * m, 32 - 2 * m).unwrap();
        assert!(patch(&narrow, 0) != patch(&exact, 0));
        assert!(patch(&narrow, m).data.iter().zip(&patch(&exact, m).data).all(|(a, b)| a.abs_diff(*b) <= 1));
        assert!(SparseUpscaler::new(&up).with_context(Some(r + 1)).err().unwrap().to_string().contains("receptive radius"));
        assert!(SparseUpscaler::new(&up).is_exact() && !SparseUpscaler::new(&up).with_context(Some(r - 1)).unwrap().is_exact());
    }

    #[test]
    fn inward_feathering_rises_from_unselected_edges_only() {
        // 3x3 patches of 8 LR px, x2: the centre and its right neighbour selected.
        let grid = Grid::new(24, 24, 8).unwrap();
        let f = Feather::inward(&grid, &[4, 5], 2, 3);
        let at = |x: usize, y: usize| f.alpha[y * 48 + x];
        assert_eq!((at(16, 24), at(17, 24), at(19, 24), at(20, 24)), (0.25, 0.5, 1.0, 1.0));
        // The edge the two patches share does not dip; the image border does not feather.
        assert_eq!((at(31, 24), at(32, 24), at(47, 24)), (1.0, 1.0, 1.0));
        // Corners meet unselected diagonal neighbours; unselected patches keep bicubic.
        assert_eq!((at(16, 16), at(40, 16), at(8, 8)), (0.25, 0.25, 0.0));
        assert_eq!((f.owner[24 * 48 + 20], f.owner[24 * 48 + 40]), (0, 1));
    }

    /// A network with a receptive radius of 3 whose output stays in range: three identity
    /// 3x3 convolutions, then nearest-neighbour x2.
    fn identity_then_nearest() -> ModelFile {
        let mut b = GraphBuilder::new();
        let mut x = b.input();
        for i in 0..3 {
            x = b.conv(&format!("c{i}"), x, 3, 3, 3, true);
        }
        let y = b.upsample("up", x, 2, Interpolation::Nearest);
        let graph = b.finish(y);
        let identity: Vec<f32> = (0..81).map(|k| if k % 9 == 4 && k / 27 == (k / 9) % 3 { 1.0 } else { 0.0 }).collect();
        let values = (0..3).flat_map(|_| [identity.clone(), vec![0.0; 3]]).collect();
        let info = ModelInfo { name: "identity-nearest".into(), scale: 2, ..Default::default() };
        ModelFile::new(info, graph, values).unwrap()
    }

    #[test]
    fn the_band_blends_between_sr_and_bicubic() {
        let up = Upscaler::new(&identity_then_nearest(), Backend::cpu()).unwrap();
        let lr = textured(32, 16);
        let grid = Grid::new(32, 16, 16).unwrap();
        let dense = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
        let base = bicubic::resize(&lr, 64, 32).unwrap();
        let sparse = pollster::block_on(SparseUpscaler::new(&up).upscale_patches(&lr, &grid, &[0], 8, &mut Silent)).unwrap();
        // Columns 32..40 of the right patch move from SR towards bicubic as they leave patch 0.
        let px = |img: &RgbaImage, x: usize| img.data[(10 * 64 + x) * 4] as f32;
        for (x, a) in [(32, 8.0 / 9.0), (36, 4.0 / 9.0), (40, 0.0)] {
            let want = a * px(&dense, x) + (1.0 - a) * px(&base, x);
            assert!((px(&sparse, x) - want).abs() <= 1.0, "x={x}: {} vs {want} (dense {}, bicubic {})", px(&sparse, x), px(&dense, x), px(&base, x));
        }
    }
}
