//! The LR windows patch-sparse execution computes. Every selected patch needs a halo of the
//! network's receptive radius around it, and for deep networks the halo dwarfs the patch
//! (psnr-small: 39 px around a 32 px patch is 12x its area). Selected patches cluster on
//! texture, so neighbours share one window whenever that computes fewer pixels than
//! separate windows would: their halos overlap instead of being paid twice.

use std::collections::HashMap;

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

/// Groups the `selected` patches of `grid` into windows with a `halo`: two groups merge
/// when one window over both costs no more pixels than their two windows, as long as the
/// merged core fits in `max_side` x `max_side` (the tile the device can hold), until no two
/// groups would.
///
/// Near-linear: groups further apart than a merged core may span never merge, so each is
/// compared only with the groups in its own and the eight neighbouring buckets of that
/// span, and a group is compared again only after it grew.
pub fn plan(grid: &Grid, selected: &[usize], halo: usize, max_side: usize) -> Plan {
    let image = (grid.width, grid.height);
    let cost = |c: Cells| {
        let w = window(c.region(grid), halo, image);
        w.width * w.height
    };
    let fits = |c: Cells| {
        let r = c.region(grid);
        r.width.max(r.height) <= max_side.max(grid.patch)
    };
    // Cells a merged core spans at most (the last row and column may be narrower: one more).
    let span = max_side.max(grid.patch) / grid.patch + 1;
    let key = |c: Cells| (c.c0 / span, c.r0 / span);
    let mut groups: Vec<Option<Cells>> = selected.iter().map(|&i| Some(Cells::of(grid, i))).collect();
    // Which group each patch was merged into, followed to the group that holds it now.
    let mut parent: Vec<usize> = (0..selected.len()).collect();
    let mut buckets: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (g, c) in groups.iter().enumerate() {
        if let Some(c) = c {
            buckets.entry(key(*c)).or_default().push(g);
        }
    }
    let mut work: Vec<usize> = (0..groups.len()).rev().collect();
    while let Some(i) = work.pop() {
        let Some(a) = groups[i] else { continue };
        let (bx, by) = key(a);
        let mut partner = None;
        'search: for x in bx.saturating_sub(1)..=bx + 1 {
            for y in by.saturating_sub(1)..=by + 1 {
                for &j in buckets.get(&(x, y)).map(Vec::as_slice).unwrap_or_default() {
                    let Some(b) = groups[j].filter(|_| j != i) else { continue };
                    let u = a.union(b);
                    if fits(u) && cost(u) <= cost(a) + cost(b) {
                        partner = Some((j, b, u));
                        break 'search;
                    }
                }
            }
        }
        if let Some((j, b, u)) = partner {
            for (g, c) in [(j, b), (i, a)] {
                if let Some(bucket) = buckets.get_mut(&key(c)) {
                    bucket.retain(|&x| x != g);
                }
            }
            groups[j] = None;
            groups[i] = Some(u);
            parent[j] = i;
            buckets.entry(key(u)).or_default().push(i);
            work.push(i);
        }
    }
    let mut index = vec![usize::MAX; groups.len()];
    let mut cores = Vec::new();
    for (g, c) in groups.iter().enumerate() {
        if let Some(c) = c {
            index[g] = cores.len();
            cores.push(c.region(grid));
        }
    }
    let window_of = (0..selected.len())
        .map(|k| {
            let mut g = k;
            while parent[g] != g {
                g = parent[g];
            }
            // Shorten the chain for the patches after this one.
            let mut h = k;
            while parent[h] != g {
                let next = parent[h];
                parent[h] = g;
                h = next;
            }
            index[g]
        })
        .collect();
    Plan { windows: cores.iter().map(|&c| window(c, halo, image)).collect(), cores, window_of }
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
