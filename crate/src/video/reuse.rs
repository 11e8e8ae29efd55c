//! Temporal reuse: a patch whose low-resolution content has not changed keeps the SR it
//! already has. A patch is compared with the LR content its current SR was made from, not
//! with the previous frame, so a slow change (a slow pan, a fade) trips the threshold once
//! it has added up instead of drifting under it forever.

use crate::error::{Error, Result};
use crate::imaging::RgbaImage;
use crate::patch::{Grid, MIN_PATCH};

/// Side of the cells a patch's difference is measured on: small enough that a small
/// moving object in a still patch counts, large enough to average codec noise away.
const CELL: usize = MIN_PATCH;

/// Per patch of `grid`, how much it changed between `a` and `b`: the largest mean absolute
/// difference (8-bit levels over R, G and B) of any of its 4x4 cells.
pub fn differences(a: &RgbaImage, b: &RgbaImage, grid: &Grid) -> Result<Vec<f32>> {
    grid.check(a)?;
    grid.check(b)?;
    let w = a.width;
    let cell_mean = |x0: usize, y0: usize, x1: usize, y1: usize| {
        let mut sum = 0u32;
        for y in y0..y1 {
            let row = (y * w + x0) * 4..(y * w + x1) * 4;
            for (p, q) in a.data[row.clone()].chunks_exact(4).zip(b.data[row].chunks_exact(4)) {
                sum += (0..3).map(|c| p[c].abs_diff(q[c]) as u32).sum::<u32>();
            }
        }
        sum as f32 / (3 * (x1 - x0) * (y1 - y0)) as f32
    };
    Ok(grid
        .rects()
        .map(|r| {
            let mut worst = 0f32;
            for y in (r.y..r.y + r.height).step_by(CELL) {
                for x in (r.x..r.x + r.width).step_by(CELL) {
                    worst = worst.max(cell_mean(x, y, (x + CELL).min(r.x + r.width), (y + CELL).min(r.y + r.height)));
                }
            }
            worst
        })
        .collect())
}

/// Checks a reuse threshold: a finite number of 8-bit levels, 0 or more.
pub fn check_threshold(t: f32) -> Result<()> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("the reuse threshold must be a number of 8-bit levels, 0 or more, not {t}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_change_counts_in_its_patch_only() {
        let a = RgbaImage::new(32, 16, (0..32 * 16 * 4).map(|i| (i * 7 % 251) as u8).collect()).unwrap();
        let grid = Grid::new(32, 16, 16).unwrap();
        assert_eq!(differences(&a, &a, &grid).unwrap(), vec![0.0, 0.0]);
        // One 4x4 cell of the right patch brightened by 30 levels in R, G and B: the mean
        // over the 256 pixels of the patch would be under 2, the cell's is 30.
        let mut b = a.clone();
        for y in 4..8 {
            for x in 20..24 {
                for c in 0..3 {
                    let v = &mut b.data[(y * 32 + x) * 4 + c];
                    *v = v.saturating_add(30);
                }
            }
        }
        let d = differences(&a, &b, &grid).unwrap();
        assert_eq!(d[0], 0.0);
        assert!(d[1] > 20.0 && d[1] <= 30.0, "{d:?}");
        assert!(differences(&a, &a.crop(16, 16).unwrap(), &grid).is_err());
        assert!(check_threshold(f32::NAN).is_err() && check_threshold(-1.0).is_err() && check_threshold(0.0).is_ok());
    }
}
