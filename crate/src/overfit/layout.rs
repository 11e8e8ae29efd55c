//! Which model upscales which part of a frame: the one rule fitting (which patches train
//! which model) and playing (which model runs where) share, so they cannot disagree.

use super::Method;
use super::split::{DEEP, SHALLOW};
use crate::error::{Error, Result};
use crate::imaging::Region;
use crate::patch::Grid;

/// Models one layout can name: map entries are bytes.
pub const MAX_MODELS: usize = 256;

/// One model run on one LR region of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub model: usize,
    pub region: Region,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    pub method: Method,
    /// LR side of a patch (Dy-DCA: of a small patch; its big patches are twice as wide).
    pub patch: usize,
    pub width: usize,
    pub height: usize,
}

impl Layout {
    /// Frames must hold whole map cells, so every model sees patches of one size. A map
    /// entry is one byte, so a layout names at most [`MAX_MODELS`] models.
    pub fn new(method: Method, patch: usize, width: usize, height: usize) -> Result<Self> {
        crate::imaging::check_dimensions(width, height)?;
        if !(1..=MAX_MODELS).contains(&method.models()) {
            return Err(Error::InvalidArgument(format!("{} has {} models; a layout holds 1..={MAX_MODELS}", method.name(), method.models())));
        }
        crate::patch::check_side(patch)?;
        let layout = Self { method, patch, width, height };
        let unit = layout.unit();
        if !width.is_multiple_of(unit) || !height.is_multiple_of(unit) {
            return Err(Error::InvalidArgument(format!(
                "a {width}x{height} LR frame is not a whole number of {unit}x{unit} patches ({}); crop it",
                method.name()
            )));
        }
        Ok(layout)
    }

    fn unit(&self) -> usize {
        self.method.cell(self.patch)
    }

    /// The cells one map entry each describes (STDO: patches, Dy-DCA: big patches).
    pub fn grid(&self) -> Result<Grid> {
        Grid::new(self.width, self.height, self.unit())
    }

    /// Map entries per frame (none for a single model).
    pub fn entries(&self) -> Result<usize> {
        Ok(match self.method {
            Method::Single => 0,
            _ => self.grid()?.len(),
        })
    }

    /// How many values a map entry can take.
    pub fn levels(&self) -> usize {
        self.method.models()
    }

    /// The model runs of one frame, given its map.
    pub fn jobs(&self, map: &[u8]) -> Result<Vec<Job>> {
        let grid = self.grid()?;
        if map.len() != self.entries()? {
            return Err(Error::InvalidArgument(format!("a frame's map has {} entries, the layout {}", map.len(), self.entries()?)));
        }
        if let Some(bad) = map.iter().find(|&&m| m as usize >= self.levels()) {
            return Err(Error::InvalidArgument(format!("map entry {bad} names no model (the pack has {})", self.levels())));
        }
        Ok(match self.method {
            Method::Single => grid.rects().map(|region| Job { model: 0, region }).collect(),
            Method::Stdo { .. } => grid.rects().zip(map).map(|(region, &m)| Job { model: m as usize, region }).collect(),
            Method::DyDca { .. } => grid
                .rects()
                .zip(map)
                .flat_map(|(big, &split)| {
                    let p = self.patch;
                    let quads = [(0, 0), (p, 0), (0, p), (p, p)].map(|(dx, dy)| Job {
                        model: DEEP,
                        region: Region { x: big.x + dx, y: big.y + dy, width: p, height: p },
                    });
                    if split == 1 { quads.to_vec() } else { vec![Job { model: SHALLOW, region: big }] }
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pixel_is_covered_once_by_the_right_model() {
        let cover = |layout: Layout, map: &[u8]| {
            let mut hits = vec![0u8; layout.width * layout.height];
            for j in layout.jobs(map).unwrap() {
                for y in j.region.y..j.region.y + j.region.height {
                    for x in j.region.x..j.region.x + j.region.width {
                        hits[y * layout.width + x] += 1;
                    }
                }
            }
            assert!(hits.iter().all(|&h| h == 1));
        };
        let stdo = Layout::new(Method::Stdo { chunks: 3 }, 4, 12, 8).unwrap();
        let map = [0, 2, 1, 1, 0, 2];
        cover(stdo, &map);
        assert_eq!(stdo.jobs(&map).unwrap()[1], Job { model: 2, region: Region { x: 4, y: 0, width: 4, height: 4 } });
        assert!(stdo.jobs(&[0, 3, 1, 1, 0, 2]).is_err());
        let dy = Layout::new(Method::DyDca { threshold: 40.0 }, 4, 16, 8).unwrap();
        cover(dy, &[1, 0]);
        let jobs = dy.jobs(&[1, 0]).unwrap();
        assert_eq!(jobs.len(), 5);
        assert!(jobs[..4].iter().all(|j| j.model == DEEP && j.region.width == 4));
        assert_eq!(jobs[4], Job { model: SHALLOW, region: Region { x: 8, y: 0, width: 8, height: 8 } });
        let single = Layout::new(Method::Single, 4, 8, 8).unwrap();
        cover(single, &[]);
        assert!(Layout::new(Method::DyDca { threshold: 40.0 }, 4, 12, 8).is_err());
        // Map entries are bytes, and the patch side is bounded like any grid's.
        assert!(Layout::new(Method::Stdo { chunks: 256 }, 4, 8, 8).is_ok());
        assert!(Layout::new(Method::Stdo { chunks: 257 }, 4, 8, 8).unwrap_err().to_string().contains("1..=256"));
        assert!(Layout::new(Method::Stdo { chunks: 0 }, 4, 8, 8).is_err());
        assert!(Layout::new(Method::DyDca { threshold: 40.0 }, usize::MAX / 2 + 1, 8, 8).is_err());
        assert!(Layout::new(Method::Single, 4, 0, 8).is_err());
    }
}
