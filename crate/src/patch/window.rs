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

    fn contains(self, o: Cells) -> bool {
        self.c0 <= o.c0 && self.r0 <= o.r0 && self.c1 >= o.c1 && self.r1 >= o.r1
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
/// merged core fits in `max_side` x `max_side` (the tile the device can hold).
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
    let mut groups: Vec<Cells> = selected.iter().map(|&i| Cells::of(grid, i)).collect();
    let mut merged = true;
    while merged {
        merged = false;
        let mut i = 0;
        while i < groups.len() {
            let mut j = i + 1;
            while j < groups.len() {
                let u = groups[i].union(groups[j]);
                if fits(u) && cost(u) <= cost(groups[i]) + cost(groups[j]) {
                    groups[i] = u;
                    groups.swap_remove(j);
                    merged = true;
                    j = i + 1;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }
    let window_of = selected
        .iter()
        .map(|&i| groups.iter().position(|g| g.contains(Cells::of(grid, i))).unwrap_or_default())
        .collect();
    let cores: Vec<Region> = groups.iter().map(|g| g.region(grid)).collect();
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
}
