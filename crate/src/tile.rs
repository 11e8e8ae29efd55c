//! Tiled inference planning. An image is cut into core tiles that cover it exactly once;
//! each is run with a halo of at least the network's receptive radius, so its core equals
//! whole-image inference. The tile size follows the device: every tensor of a tile must
//! fit in one storage buffer binding (WebGPU's default limit is 128 MiB).

use crate::error::{Error, Result};
use crate::graph::Analysis;
use crate::imaging::Region;

/// One tile: the pixels it produces (`core`) and the pixels it reads (`padded`), in the
/// input image's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Tile {
    pub core: Region,
    pub padded: Region,
}

/// Largest tile side considered: larger tiles hardly add GPU throughput but make
/// progress coarse and the first result late.
pub const MAX_TILE: usize = 512;
const MIN_TILE: usize = 16;

/// Bytes per input pixel of the largest tensor any node creates. Convolutions add no
/// unfolded copy of their input: burn's wgpu backend convolves directly when autotune is
/// off (`ConvStrategy::Direct`) and Flex unfolds tile by tile, so the largest activation is
/// the bound. (Counting a whole-tensor im2col cut psnr-small's tiles to 16-32 px, where its
/// 39 px halo made dense SR compute 12-34x the image.)
pub fn peak_bytes_per_pixel(analysis: &Analysis) -> u64 {
    analysis.shapes.iter().map(|shape| shape.channels as u64 * (shape.scale * shape.scale) as u64 * 4).max().unwrap_or(4)
}

/// Whether every tensor of a `tile`-side core tile with its halo stays under
/// `max_tensor_bytes` (and the arithmetic saying so does not overflow).
pub fn fits(analysis: &Analysis, tile: usize, max_tensor_bytes: u64) -> bool {
    let side = tile.checked_add(analysis.receptive_radius.saturating_mul(2)).map(|s| s as u64);
    side.and_then(|s| s.checked_mul(s)).and_then(|px| px.checked_mul(peak_bytes_per_pixel(analysis))).is_some_and(|b| b <= max_tensor_bytes)
}

/// A caller's tile side, refused unless it is at least one pixel and its tensors fit the
/// device: a larger one would reach the GPU as a binding over its limit.
pub fn check_tile(analysis: &Analysis, tile: usize, max_tensor_bytes: u64) -> Result<usize> {
    if tile == 0 || !fits(analysis, tile, max_tensor_bytes) {
        return Err(Error::InvalidArgument(format!(
            "tile side {tile}: a tile must be at least 1 pixel, and with this model's halo of {} its tensors must fit in {max_tensor_bytes} bytes",
            analysis.receptive_radius
        )));
    }
    Ok(tile)
}

/// The largest core tile side whose padded tile keeps every tensor under `max_tensor_bytes`.
pub fn tile_size(analysis: &Analysis, max_tensor_bytes: u64) -> Result<usize> {
    let fits = |t: usize| fits(analysis, t, max_tensor_bytes);
    if !fits(MIN_TILE) {
        return Err(Error::Backend(format!(
            "this model needs more than {max_tensor_bytes} bytes per tensor even for a {MIN_TILE}x{MIN_TILE} tile"
        )));
    }
    let mut t = MIN_TILE;
    while t * 2 <= MAX_TILE && fits(t * 2) {
        t *= 2;
    }
    // Refine between t and 2t in steps of 16.
    while t + 16 <= MAX_TILE && fits(t + 16) {
        t += 16;
    }
    Ok(t)
}

/// Cuts a `width x height` image into tiles of at most `tile x tile` core pixels, each
/// read with `halo` extra pixels on every side (clipped at the image border, where the
/// network's own zero padding then matches whole-image inference).
pub fn plan(width: usize, height: usize, tile: usize, halo: usize) -> Vec<Tile> {
    plan_within(Region { x: 0, y: 0, width, height }, width, height, tile, halo)
}

/// [`plan`] for the pixels of `region` only: tiles whose cores cover it exactly once,
/// their halos read from the whole `width x height` image around it, so that each core
/// equals the same pixels of whole-image inference.
pub fn plan_within(region: Region, width: usize, height: usize, tile: usize, halo: usize) -> Vec<Tile> {
    let tile = tile.max(1);
    let image = Region { x: 0, y: 0, width, height };
    let (right, bottom) = ((region.x + region.width).min(width), (region.y + region.height).min(height));
    let mut tiles = Vec::new();
    for y in (region.y..bottom).step_by(tile) {
        for x in (region.x..right).step_by(tile) {
            let core = Region { x, y, width: tile.min(right - x), height: tile.min(bottom - y) };
            tiles.push(Tile { core, padded: core.expanded(halo, &image) });
        }
    }
    tiles
}

/// Most parts an image is split into for parallel runs: one per thread of a large machine.
pub const MAX_PARTS: usize = 64;

/// Cuts a `width x height` image into `parts` bands of whole rows, as even as rows allow,
/// for as many threads (each its own instance of the module, e.g. one per Web Worker): each
/// band is upscaled on its own from its rows and `halo` rows around them
/// ([`crate::Upscaler::upscale_region`]), and the bands' outputs stacked are whole-image SR.
pub fn bands(width: usize, height: usize, parts: usize, halo: usize) -> Result<Vec<Tile>> {
    crate::imaging::check_dimensions(width, height)?;
    if !(1..=MAX_PARTS).contains(&parts) {
        return Err(Error::InvalidArgument(format!("an image is split into 1 to {MAX_PARTS} parts, not {parts}")));
    }
    let image = Region { x: 0, y: 0, width, height };
    let parts = parts.min(height);
    Ok((0..parts)
        .map(|i| {
            let (y0, y1) = (i * height / parts, (i + 1) * height / parts);
            let core = Region { x: 0, y: y0, width, height: y1 - y0 };
            Tile { core, padded: core.expanded(halo, &image) }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;

    #[test]
    fn covers_every_pixel_exactly_once() {
        let (w, h) = (37, 23);
        let tiles = plan(w, h, 8, 3);
        let mut seen = vec![0; w * h];
        for t in &tiles {
            for y in t.core.y..t.core.y + t.core.height {
                for x in t.core.x..t.core.x + t.core.width {
                    seen[y * w + x] += 1;
                }
            }
            assert!(t.padded.x <= t.core.x && t.padded.x + t.padded.width >= t.core.x + t.core.width);
            assert!(t.core.x - t.padded.x == 3 || t.padded.x == 0);
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert_eq!(tiles.len(), 5 * 3);
    }

    #[test]
    fn bands_stack_to_the_image_and_read_their_halo() {
        let bands = bands(20, 10, 3, 2).unwrap();
        assert_eq!(bands.iter().map(|t| (t.core.y, t.core.height)).collect::<Vec<_>>(), [(0, 3), (3, 3), (6, 4)]);
        assert_eq!(bands.iter().map(|t| (t.padded.y, t.padded.height)).collect::<Vec<_>>(), [(0, 5), (1, 7), (4, 6)]);
        assert!(bands.iter().all(|t| t.core.width == 20 && t.padded.width == 20));
        // More parts than rows: one row each. Absurd counts and images are refused.
        assert_eq!(self::bands(5, 2, 4, 0).unwrap().len(), 2);
        assert!(self::bands(5, 2, 0, 0).is_err() && self::bands(5, 2, MAX_PARTS + 1, 0).is_err());
        assert!(self::bands(0, 2, 2, 0).is_err());
        // Tiles within a region cover it once, their halos reaching outside it.
        let r = Region { x: 3, y: 4, width: 9, height: 5 };
        let tiles = plan_within(r, 20, 10, 4, 2);
        assert_eq!(tiles.iter().map(|t| t.core.width * t.core.height).sum::<usize>(), 45);
        assert!(tiles.iter().all(|t| t.core.x >= 3 && t.core.x + t.core.width <= 12 && t.core.y >= 4 && t.core.y + t.core.height <= 9));
        assert_eq!((tiles[0].padded.x, tiles[0].padded.y), (1, 2));
    }

    #[test]
    fn tile_size_follows_the_device_limit() {
        let g = espcn::graph(2).unwrap();
        let a = g.analyze().unwrap();
        // conv1's 64 channels are the largest activation: 256 bytes per pixel.
        assert_eq!(peak_bytes_per_pixel(&a), 64 * 4);
        let big = tile_size(&a, 128 << 20).unwrap();
        let small = tile_size(&a, 4 << 20).unwrap();
        assert!(big >= 128 && small < big, "{small} {big}");
        let side = (small + 2 * a.receptive_radius) as u64;
        assert!(side * side * 256 <= 4 << 20);
        assert!(tile_size(&a, 1000).is_err());
        // A caller's tile: at least a pixel, within the device's tensors, no overflow.
        assert_eq!(check_tile(&a, big, 128 << 20).unwrap(), big);
        assert!(check_tile(&a, 0, 128 << 20).is_err());
        assert!(check_tile(&a, 4096, 128 << 20).unwrap_err().to_string().contains("134217728 bytes"));
        assert!(check_tile(&a, usize::MAX, u64::MAX).is_err());
    }
}
