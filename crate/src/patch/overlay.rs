//! The winning tickets drawn over an image, as the CLI saves it (the page draws the same
//! on a canvas): a heatmap of the scores, the grid, and the selected patches outlined.

use super::Grid;
use crate::error::{Error, Result};
use crate::imaging::RgbaImage;

/// Heatmap colour of a score normalised to 0..1: dark blue through red to yellow.
pub fn heat(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f32, b: f32, u: f32| (a + (b - a) * u).round() as u8;
    if t < 0.5 {
        let u = t * 2.0;
        [lerp(20.0, 220.0, u), lerp(30.0, 40.0, u), lerp(140.0, 60.0, u)]
    } else {
        let u = (t - 0.5) * 2.0;
        [lerp(220.0, 255.0, u), lerp(40.0, 230.0, u), lerp(60.0, 40.0, u)]
    }
}

/// Scores mapped to 0..1 by rank, so one outlier does not flatten the rest of the map.
pub fn normalise(scores: &[f32]) -> Vec<f32> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut t = vec![0.0; scores.len()];
    let last = (scores.len().max(2) - 1) as f32;
    for (rank, &i) in order.iter().enumerate() {
        t[i] = rank as f32 / last;
    }
    t
}

const OUTLINE: [u8; 3] = [0, 255, 120];
const GRID: [u8; 3] = [255, 255, 255];
const GRID_ALPHA: f32 = 0.35;

/// The overlay as a transparent layer the size of `grid` (the LR grid scaled to the
/// output): every patch tinted by its score's rank with `heat_opacity` (0: no heatmap),
/// grid lines, and the `selected` patches outlined two pixels wide.
pub fn layer(grid: &Grid, scores: &[f32], selected: &[usize], heat_opacity: f32) -> Result<RgbaImage> {
    crate::imaging::check_analysis(grid.width, grid.height)?;
    if scores.len() != grid.len() {
        return Err(Error::InvalidArgument(format!("overlay: {} scores for a grid of {} patches", scores.len(), grid.len())));
    }
    let mut out = RgbaImage::filled(grid.width, grid.height, [0, 0, 0, 0])?;
    let t = normalise(scores);
    let alpha = |a: f32| (a.clamp(0.0, 1.0) * 255.0).round() as u8;
    let mut chosen = vec![false; grid.len()];
    for &i in selected.iter().filter(|&&i| i < grid.len()) {
        chosen[i] = true;
    }
    for (i, r) in grid.rects().enumerate() {
        let heat = heat(t[i]);
        for y in r.y..r.y + r.height {
            for x in r.x..r.x + r.width {
                let edge = (x - r.x).min(r.x + r.width - 1 - x).min((y - r.y).min(r.y + r.height - 1 - y));
                let [cr, cg, cb, a] = if chosen[i] && edge < 2 {
                    [OUTLINE[0], OUTLINE[1], OUTLINE[2], 255]
                } else if x == r.x || y == r.y {
                    [GRID[0], GRID[1], GRID[2], alpha(GRID_ALPHA)]
                } else {
                    [heat[0], heat[1], heat[2], alpha(heat_opacity)]
                };
                let o = (y * grid.width + x) * 4;
                out.data[o..o + 4].copy_from_slice(&[cr, cg, cb, a]);
            }
        }
    }
    Ok(out)
}

/// `layer` composited over `img`, which must be the grid's size.
pub fn draw(img: &RgbaImage, grid: &Grid, scores: &[f32], selected: &[usize], heat_opacity: f32) -> Result<RgbaImage> {
    if (grid.width, grid.height) != (img.width, img.height) {
        return Err(Error::InvalidArgument(format!("overlay: a {}x{} grid over a {}x{} image", grid.width, grid.height, img.width, img.height)));
    }
    let top = layer(grid, scores, selected, heat_opacity)?;
    let mut out = img.clone();
    for (px, over) in out.data.chunks_exact_mut(4).zip(top.data.chunks_exact(4)) {
        let a = over[3] as f32 / 255.0;
        for c in 0..3 {
            px[c] = (a * over[c] as f32 + (1.0 - a) * px[c] as f32).round() as u8;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_patches_are_outlined_and_scores_tinted_by_rank() {
        let img = RgbaImage::filled(16, 8, [128, 128, 128, 255]).unwrap();
        let grid = Grid::new(16, 8, 8).unwrap();
        let out = draw(&img, &grid, &[5.0, -1.0], &[0], 0.5).unwrap();
        let px = |x: usize, y: usize| out.data[(y * 16 + x) * 4..(y * 16 + x) * 4 + 3].to_vec();
        assert_eq!(px(0, 4), OUTLINE.to_vec());
        assert_eq!(px(7, 4), OUTLINE.to_vec());
        // Patch 1 is unselected: grid line on its left edge, lowest-rank tint inside.
        assert_ne!(px(8, 4), OUTLINE.to_vec());
        let (low, a) = (heat(0.0), 128.0 / 255.0);
        let want: Vec<u8> = (0..3).map(|c| (a * low[c] as f32 + (1.0 - a) * 128.0).round() as u8).collect();
        assert_eq!(px(12, 4), want);
        // Without the heatmap, the layer is transparent inside unselected patches.
        let bare = layer(&grid, &[5.0, -1.0], &[0], 0.0).unwrap();
        assert_eq!(bare.data[(4 * 16 + 12) * 4 + 3], 0);
        assert_eq!(bare.data[(4 * 16) * 4 + 3], 255);
        assert_eq!(normalise(&[3.0, 1.0, 2.0]), vec![1.0, 0.0, 0.5]);
        assert!(draw(&img, &grid, &[1.0], &[], 0.5).is_err());
    }
}
