//! The LR windows patch-sparse execution computes. Every selected patch needs a halo of the
//! network's receptive radius around it, and for deep networks the halo dwarfs the patch
//! (psnr-small: 39 px around a 32 px patch is 12x its area). Selected patches cluster on
//! texture, so neighbours share one window whenever that computes fewer pixels than
//! separate windows would: their halos overlap instead of being paid twice.

use super::Grid;
use crate::imaging::Region;

/// Which windows to compute, and which window each selected patch takes its SR from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub windows: Vec<Region>,
    /// The patches each window is for: the core its halo surrounds.
    pub cores: Vec<Region>,
    /// For each selected patch (in selection order), its index in `windows`.
    pub window_of: Vec<usize>,
}

impl Plan {
    /// The window of every selected patch, in selection order.
    pub fn per_patch(&self) -> Vec<Region> {
        self.window_of.iter().map(|&w| self.windows[w]).collect()
    }

    /// LR pixels the network computes.
    pub fn pixels(&self) -> usize {
        self.windows.iter().map(|w| w.width * w.height).sum()
    }
}

/// A rectangle of grid cells, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cells {
    c0: usize,
    r0: usize,
    c1: usize,
    r1: usize,
}

impl Cells {
    fn of(grid: &Grid, i: usize) -> Self {
        let (c, r) = (i % grid.cols, i / grid.cols);
        Cells { c0: c, r0: r, c1: c, r1: r }
    }

    fn union(self, o: Cells) -> Cells {
        Cells { c0: self.c0.min(o.c0), r0: self.r0.min(o.r0), c1: self.c1.max(o.c1), r1: self.r1.max(o.r1) }
    }

    /// The image pixels these cells cover.
    fn region(self, grid: &Grid) -> Region {
        let (a, b) = (grid.rect(self.r0 * grid.cols + self.c0), grid.rect(self.r1 * grid.cols + self.c1));
        Region { x: a.x, y: a.y, width: b.x + b.width - a.x, height: b.y + b.height - a.y }
    }
}

/// The window computed for `core`: `halo` more on every side, or the whole image where it
/// is smaller, shifted inside the image so the core keeps at least `halo` of context on
/// every side that is not the image border. Windows of equal cores have equal sizes, so
/// they batch together.
pub fn window(core: Region, halo: usize, image: (usize, usize)) -> Region {
    let side = ((core.width + 2 * halo).min(image.0), (core.height + 2 * halo).min(image.1));
    let start = |p: usize, s: usize, n: usize| p.saturating_sub(halo).min(n - s);
    Region { x: start(core.x, side.0, image.0), y: start(core.y, side.1, image.1), width: side.0, height: side.1 }
}

/// Grid cells [`Planner`] visits per cell of the grid at most (a dense selection of 4 px
/// patches with the default model's 39 px halo visits about 4).
pub const PLAN_CELLS_PER_CELL: usize = 128;

/// Groups the `selected` patches of `grid` into windows with a `halo`: two groups merge
/// when one window over both costs no more pixels than their two windows, as long as the
/// merged core fits in `max_side` x `max_side` (the tile the device can hold), until no two
/// groups would. [`Planner`] does the same in steps.
pub fn plan(grid: &Grid, selected: &[usize], halo: usize, max_side: usize) -> Plan {
    let mut planner = Planner::new(grid, selected, halo, max_side);
    while !planner.advance(usize::MAX) {}
    planner.finish()
}

/// [`plan`] in steps of bounded work, so that a caller on a page's thread can yield (and
/// abort) between them.
///
/// Linear: windows of cores more than twice the halo apart do not overlap, so merging them
/// never saves pixels (except what the image border clips, which is left). So a group
/// looks for a partner only among the selected cells within that reach of it, nearest
/// first (a neighbour is usually found in the first ring), and is looked at again only
/// after it grew, or after a merge around it covered it; and all of it visits at most
/// [`PLAN_CELLS_PER_CELL`] cells per grid cell.
pub struct Planner<'g> {
    grid: &'g Grid,
    halo: usize,
    max_side: usize,
    /// Cells apart within which two cores' windows can overlap.
    reach: usize,
    groups: Vec<Option<Cells>>,
    /// Which group each patch was merged into, followed to the group that holds it now.
    parent: Vec<usize>,
    /// The patch (index into the selection) at each grid cell, if selected.
    owner: Vec<usize>,
    /// The look that last compared with each group: each is compared once per look.
    seen: Vec<usize>,
    work: Vec<usize>,
    look: usize,
    /// Cell visits left; at none the groups stay as they are (a valid plan, merged less).
    budget: usize,
}

impl<'g> Planner<'g> {
    pub fn new(grid: &'g Grid, selected: &[usize], halo: usize, max_side: usize) -> Self {
        let mut owner = vec![usize::MAX; grid.len()];
        for (k, &i) in selected.iter().enumerate() {
            owner[i] = k;
        }
        Planner {
            grid,
            halo,
            max_side,
            reach: ((2 * halo).div_ceil(grid.patch) + 1).min(grid.cols.max(grid.rows)),
            groups: selected.iter().map(|&i| Some(Cells::of(grid, i))).collect(),
            parent: (0..selected.len()).collect(),
            owner,
            seen: vec![usize::MAX; selected.len()],
            work: (0..selected.len()).rev().collect(),
            look: 0,
            budget: PLAN_CELLS_PER_CELL * grid.len(),
        }
    }

    fn cost(&self, c: Cells) -> usize {
        let w = window(c.region(self.grid), self.halo, (self.grid.width, self.grid.height));
        w.width * w.height
    }

    fn fits(&self, c: Cells) -> bool {
        let r = c.region(self.grid);
        r.width.max(r.height) <= self.max_side.max(self.grid.patch)
    }

    fn find(&mut self, mut g: usize) -> usize {
        while self.parent[g] != g {
            self.parent[g] = self.parent[self.parent[g]];
            g = self.parent[g];
        }
        g
    }

    /// Plans on for about `visits` cell visits (finishing the look under way); true once
    /// the plan is complete.
    pub fn advance(&mut self, visits: usize) -> bool {
        let stop = self.budget.saturating_sub(visits);
        while self.budget > stop {
            let Some(i) = self.work.pop() else { return true };
            self.look_from(i);
        }
        self.budget == 0 || self.work.is_empty()
    }

    /// Group `i` looks for a partner and merges with the first that pays.
    fn look_from(&mut self, i: usize) {
        let Some(a) = self.groups[i] else { return };
        let grid = self.grid;
        self.look += 1;
        let mut partner = None;
        'search: for d in 1..=self.reach {
            if a.c0 < d && a.r0 < d && a.c1 + d >= grid.cols && a.r1 + d >= grid.rows {
                break; // no cell of the grid is this far from `a`
            }
            // The ring of cells at distance d around `a`, inside the grid.
            let (c0, r0) = (a.c0.saturating_sub(d), a.r0.saturating_sub(d));
            let (c1, r1) = ((a.c1 + d).min(grid.cols - 1), (a.r1 + d).min(grid.rows - 1));
            for r in r0..=r1 {
                let edge = r + d == a.r0 || r == a.r1 + d;
                let step = if edge { 1 } else { (c1 - c0).max(1) };
                for c in (c0..=c1).step_by(step) {
                    if self.budget == 0 {
                        break 'search;
                    }
                    self.budget -= 1;
                    if !edge && c + d != a.c0 && c != a.c1 + d {
                        continue;
                    }
                    let k = self.owner[r * grid.cols + c];
                    if k == usize::MAX {
                        continue;
                    }
                    let j = self.find(k);
                    if j == i || self.seen[j] == self.look {
                        continue;
                    }
                    self.seen[j] = self.look;
                    let Some(b) = self.groups[j] else { continue };
                    let u = a.union(b);
                    if self.fits(u) && self.cost(u) <= self.cost(a) + self.cost(b) {
                        partner = Some((j, b, u));
                        break 'search;
                    }
                }
            }
        }
        let Some((j, b, u)) = partner else { return };
        if u == b {
            // Inside its partner: the partner is unchanged, and looks (or looked) as it is.
            self.groups[i] = None;
            self.parent[i] = j;
            return;
        }
        self.groups[j] = None;
        self.groups[i] = Some(u);
        self.parent[j] = i;
        // Groups the merged core now covers, outside both parts: their window lies within
        // the new one, so they look again (and merge into it). Row by row, the columns of
        // neither part: a merge costs the rows of the core and the cells it added.
        for r in u.r0..=u.r1 {
            let mut parts: Vec<(usize, usize)> = [a, b].iter().filter(|x| (x.r0..=x.r1).contains(&r)).map(|x| (x.c0, x.c1)).collect();
            parts.sort_unstable();
            let mut c = u.c0;
            for (from, to) in parts.into_iter().chain([(u.c1 + 1, u.c1 + 1)]) {
                for c in c..from.max(c) {
                    self.budget = self.budget.saturating_sub(1);
                    let k = self.owner[r * grid.cols + c];
                    if k != usize::MAX {
                        let g = self.find(k);
                        if g != i {
                            self.work.push(g);
                        }
                    }
                }
                c = c.max(to + 1);
            }
        }
        self.work.push(i);
    }

    /// The plan as it stands.
    pub fn finish(mut self) -> Plan {
        let mut index = vec![usize::MAX; self.groups.len()];
        let mut cores = Vec::new();
        for (g, c) in self.groups.iter().enumerate() {
            if let Some(c) = c {
                index[g] = cores.len();
                cores.push(c.region(self.grid));
            }
        }
        let window_of = (0..self.parent.len()).map(|k| index[self.find(k)]).collect();
        let image = (self.grid.width, self.grid.height);
        Plan { windows: cores.iter().map(|&c| window(c, self.halo, image)).collect(), cores, window_of }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_keep_the_halo_inside_the_image() {
        let img = (50, 40);
        for core in [Region { x: 0, y: 0, width: 8, height: 8 }, Region { x: 48, y: 32, width: 2, height: 8 }, Region { x: 24, y: 16, width: 8, height: 8 }] {
            let w = window(core, 5, img);
            assert!(w.x + w.width <= img.0 && w.y + w.height <= img.1);
            // Context on each side is at least the halo, unless that side is the image border.
            assert!(core.x - w.x >= 5 || w.x == 0);
            assert!(w.x + w.width - (core.x + core.width) >= 5 || w.x + w.width == img.0);
            assert!(core.y - w.y >= 5 || w.y == 0);
            assert!(w.y + w.height - (core.y + core.height) >= 5 || w.y + w.height == img.1);
        }
    }

    #[test]
    fn neighbours_share_a_window_and_distant_patches_do_not() {
        // 20x10 patches of 8 px, halo 8: a lone patch computes 24x24.
        let grid = Grid::new(160, 80, 8).unwrap();
        let lone = plan(&grid, &[22], 8, 512);
        assert_eq!(lone.windows, vec![Region { x: 8, y: 0, width: 24, height: 24 }]);
        // Two side by side: one 32x24 window (768 px) instead of two (1152).
        let pair = plan(&grid, &[22, 23], 8, 512);
        assert_eq!((pair.windows.len(), pair.window_of.clone(), pair.pixels()), (1, vec![0, 0], 32 * 24));
        // Far apart (columns 2 and 15): merging would compute far more, so they stay apart.
        let far = plan(&grid, &[22, 35], 8, 512);
        assert_eq!((far.windows.len(), far.pixels()), (2, 2 * 24 * 24));
        // The cap on the merged core holds even when merging would save pixels.
        let capped = plan(&grid, &[22, 23, 24, 25], 8, 16);
        assert!(capped.windows.iter().all(|w| w.width <= 16 + 16));
        // Every selected patch lies inside its window with the halo (or the border) around it.
        for (sel, p) in [(vec![22], &lone), (vec![22, 23], &pair), (vec![22, 35], &far), (vec![22, 23, 24, 25], &capped)] {
            for (k, &i) in sel.iter().enumerate() {
                let (r, w) = (grid.rect(i), p.windows[p.window_of[k]]);
                assert!(r.x >= w.x + 8 || w.x == 0);
                assert!(r.x + r.width + 8 <= w.x + w.width || w.x + w.width == 160);
                assert!(r.y >= w.y + 8 || w.y == 0);
                assert!(r.y + r.height + 8 <= w.y + w.height || w.y + w.height == 80);
            }
        }
    }

    #[test]
    fn planning_in_small_steps_plans_the_same() {
        let grid = Grid::new(200, 120, 8).unwrap();
        let selected: Vec<usize> = (0..grid.len()).filter(|i| i % 3 != 0 && i % 7 != 2).collect();
        let mut planner = Planner::new(&grid, &selected, 12, 64);
        let mut steps = 1;
        while !planner.advance(50) {
            steps += 1;
        }
        assert!(steps > 10, "{steps} steps");
        assert_eq!(planner.finish(), plan(&grid, &selected, 12, 64));
    }

    #[test]
    fn a_dense_selection_merges_into_windows_of_the_tile_side() {
        // Every 4 px patch of 1024x1024 with the default model's 39 px halo: the windows
        // are four 512 px cores, not a million overlapping ones.
        let grid = Grid::new(1024, 1024, 4).unwrap();
        let all: Vec<usize> = (0..grid.len()).collect();
        let p = plan(&grid, &all, 39, 512);
        assert_eq!(p.cores.len(), 4, "{:?}", p.cores);
        assert!(p.cores.iter().all(|c| c.width == 512 && c.height == 512));
    }

    proptest::proptest! {
        /// Any selection of any grid: every selected patch lies in its window with the halo
        /// around it (or the image border), and no window is larger than the cap allows.
        #[test]
        fn every_selected_patch_gets_a_window_with_its_halo(
            (w, h, p) in (8usize..200, 8usize..200, 4usize..40),
            picks in proptest::collection::vec(proptest::num::usize::ANY, 0..60),
            halo in 0usize..20, max_side in 8usize..128,
        ) {
            let grid = Grid::new(w, h, p).unwrap();
            let selected = grid.selection(&picks.iter().take(grid.len()).map(|i| i % grid.len()).collect::<Vec<_>>()).unwrap();
            let plan = plan(&grid, &selected, halo, max_side);
            proptest::prop_assert_eq!(plan.window_of.len(), selected.len());
            for (k, &i) in selected.iter().enumerate() {
                let (r, win) = (grid.rect(i), plan.windows[plan.window_of[k]]);
                proptest::prop_assert!(win.x + win.width <= w && win.y + win.height <= h);
                proptest::prop_assert!(r.x >= win.x + halo || win.x == 0);
                proptest::prop_assert!(r.x + r.width + halo <= win.x + win.width || win.x + win.width == w);
                proptest::prop_assert!(r.y >= win.y + halo || win.y == 0);
                proptest::prop_assert!(r.y + r.height + halo <= win.y + win.height || win.y + win.height == h);
            }
            for core in &plan.cores {
                proptest::prop_assert!(core.width.max(core.height) <= max_side.max(p));
            }
        }
    }
}
