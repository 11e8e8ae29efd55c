//! Winning-ticket patches: cut the LR image into a grid, score every patch, keep the few
//! where the network adds most over interpolation, run the network only there and
//! interpolate the rest (RESEARCH.md section 3, the data-level lottery ticket).

pub mod evaluate;
pub mod learned;
pub mod overlay;
pub mod score;
pub mod select;
pub mod sparse;
pub mod window;

pub use learned::LearnedScorer;
pub use sparse::SparseUpscaler;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::imaging::{Region, RgbaImage};
use score::Scorer;
use select::Selection;

/// How patch-sparse upscaling picks its winning tickets from the LR image alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tickets {
    /// Patch side in LR pixels.
    pub patch: usize,
    pub scorer: Scorer,
    pub selection: Selection,
    /// Seed of the random control.
    pub seed: u64,
    /// Feathering into bicubic around the patches, in output pixels (see [`band`]).
    pub band: Option<usize>,
}

impl Tickets {
    /// Fails when the selection cannot mean anything with this scorer: only a scorer that
    /// predicts the gain, with its sign, can say where SR gains.
    pub fn check(&self) -> Result<()> {
        if self.selection == Selection::Gains && !self.scorer.predicts_gain() {
            return Err(Error::InvalidArgument(format!(
                "the `{}` scorer ranks patches but does not predict SR's gain over bicubic; keeping only gains needs the `learned` scorer (or `oracle`)",
                self.scorer
            )));
        }
        Ok(())
    }
}

/// The feathering band around SR patches, in output pixels: the one asked for, at most an
/// output patch wide (0: a hard edge), or [`sparse::default_band`].
pub fn band(asked: Option<usize>, patch: usize, scale: usize) -> Result<usize> {
    match asked {
        None => Ok(sparse::default_band(patch, scale)),
        Some(b) if b <= patch.saturating_mul(scale) => Ok(b),
        Some(b) => Err(Error::InvalidArgument(format!("a band of {b} px is wider than an output patch ({} px)", patch.saturating_mul(scale)))),
    }
}

/// How a patch-sparse result was chosen, for showing which patches won.
#[derive(Clone, Debug)]
pub struct TicketRun {
    pub grid: Grid,
    pub scores: Vec<f32>,
    /// Selected patches, highest score first.
    pub selected: Vec<usize>,
}

/// A grid of square patches over an image, in its own pixels. The last row and column
/// are narrower when the side is not a multiple of the patch, so every pixel lies in
/// exactly one patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub patch: usize,
    pub cols: usize,
    pub rows: usize,
}

/// Smallest patch side: below this a patch is mostly halo.
pub const MIN_PATCH: usize = 4;

/// Largest patch side: scoring and evaluation pad every patch to the full side, and the
/// network's windows grow with it; past this a "patch" is a tile, which tiled dense
/// upscaling already does better.
pub const MAX_PATCH: usize = 512;

/// Default patch side in LR pixels: fine enough to follow texture, coarse enough that the
/// small networks' halos do not dominate (shared windows take care of the rest).
pub const DEFAULT_PATCH: usize = 32;

/// Fails unless `patch` is a patch side grids and layouts accept.
pub fn check_side(patch: usize) -> Result<()> {
    if !(MIN_PATCH..=MAX_PATCH).contains(&patch) {
        return Err(Error::InvalidArgument(format!("patch side {patch} is outside {MIN_PATCH}..={MAX_PATCH}")));
    }
    Ok(())
}

impl Grid {
    pub fn new(width: usize, height: usize, patch: usize) -> Result<Self> {
        crate::imaging::check_analysis(width, height)?;
        check_side(patch)?;
        Ok(Self { width, height, patch, cols: width.div_ceil(patch), rows: height.div_ceil(patch) })
    }

    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Patch `i` (row-major) as a region of the image.
    pub fn rect(&self, i: usize) -> Region {
        let (x, y) = ((i % self.cols) * self.patch, (i / self.cols) * self.patch);
        Region { x, y, width: self.patch.min(self.width - x), height: self.patch.min(self.height - y) }
    }

    pub fn rects(&self) -> impl Iterator<Item = Region> + '_ {
        (0..self.len()).map(|i| self.rect(i))
    }

    /// Fails unless the grid was cut for `img`.
    pub fn check(&self, img: &RgbaImage) -> Result<()> {
        if (self.width, self.height) != (img.width, img.height) {
            return Err(Error::InvalidArgument(format!("grid is {}x{}, image {}x{}", self.width, self.height, img.width, img.height)));
        }
        Ok(())
    }

    /// `selected` as a selection of this grid: every index names a patch, each patch
    /// once (first occurrence kept, so the order still ranks them). A caller's list longer
    /// than the grid is refused before anything is built from it.
    pub fn selection(&self, selected: &[usize]) -> Result<Vec<usize>> {
        if selected.len() > self.len() {
            return Err(Error::InvalidArgument(format!("{} patches selected in a grid of {}", selected.len(), self.len())));
        }
        let mut seen = vec![false; self.len()];
        let mut out = Vec::with_capacity(selected.len());
        for &i in selected {
            match seen.get_mut(i) {
                None => return Err(Error::InvalidArgument(format!("patch {i} is not in a grid of {} patches", self.len()))),
                Some(true) => {}
                Some(s) => {
                    *s = true;
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    /// The same grid in the output image of an `s`-times upscaler.
    pub fn scaled(&self, s: usize) -> Grid {
        Grid { width: self.width * s, height: self.height * s, patch: self.patch * s, cols: self.cols, rows: self.rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pixel_is_in_exactly_one_patch() {
        for (w, h, p) in [(64, 64, 16), (70, 33, 16), (5, 9, 4), (100, 7, 32)] {
            let g = Grid::new(w, h, p).unwrap();
            let mut hits = vec![0u8; w * h];
            for r in g.rects() {
                assert!(r.width > 0 && r.height > 0 && r.width <= p && r.height <= p);
                for y in r.y..r.y + r.height {
                    for x in r.x..r.x + r.width {
                        hits[y * w + x] += 1;
                    }
                }
            }
            assert!(hits.iter().all(|&n| n == 1), "{w}x{h} / {p}");
        }
        assert!(Grid::new(10, 10, 2).is_err());
        assert!(Grid::new(10, 10, MAX_PATCH + 1).unwrap_err().to_string().contains("outside 4..=512"));
        assert!(Grid::new(10, 10, usize::MAX).is_err());
    }

    #[test]
    fn a_selection_names_each_patch_once() {
        let g = Grid::new(16, 8, 4).unwrap();
        assert_eq!(g.selection(&[5, 1, 5, 7, 1]).unwrap(), [5, 1, 7]);
        assert!(g.selection(&[8]).unwrap_err().to_string().contains("patch 8 is not in a grid of 8"));
        assert!(g.selection(&[0; 9]).unwrap_err().to_string().contains("9 patches selected"));
        assert!(Grid::new(0, 10, 8).is_err());
    }
}
