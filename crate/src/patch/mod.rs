//! Winning-ticket patches: cut the LR image into a grid, score every patch, keep the few
//! where the network adds most over interpolation, run the network only there and
//! interpolate the rest (RESEARCH.md section 3, the data-level lottery ticket).

pub mod score;
pub mod evaluate;
pub mod select;
pub mod sparse;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::imaging::Region;

/// A grid of square patches over an image, in its own pixels. The last row and column
/// are narrower when the side is not a multiple of the patch, so every pixel lies in
/// exactly one patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub patch: usize,
    pub cols: usize,
    pub rows: usize,
}

/// Smallest patch side: below this a patch is mostly halo.
pub const MIN_PATCH: usize = 4;

impl Grid {
    pub fn new(width: usize, height: usize, patch: usize) -> Result<Self> {
        crate::imaging::check_dimensions(width, height)?;
        if patch < MIN_PATCH {
            return Err(Error::InvalidArgument(format!("patch side {patch} is below the minimum of {MIN_PATCH}")));
        }
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
        assert!(Grid::new(0, 10, 8).is_err());
    }
}
