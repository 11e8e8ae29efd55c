//! Tiled inference planning. An image is cut into core tiles that cover it exactly once;
//! each is run with a halo of at least the network's receptive radius, so its core equals
//! whole-image inference. The tile size follows the device: every tensor of a tile must
//! fit in one storage buffer binding (WebGPU's default limit is 128 MiB).

use crate::error::{Error, Result};
use crate::graph::Analysis;
use crate::imaging::Region;

/// One tile: the pixels it produces (`core`) and the pixels it reads (`padded`), in the
/// input image's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    let tile = tile.max(1);
    let mut tiles = Vec::new();
    for y in (0..height).step_by(tile) {
        for x in (0..width).step_by(tile) {
            let core = Region { x, y, width: tile.min(width - x), height: tile.min(height - y) };
            let (x0, y0) = (x.saturating_sub(halo), y.saturating_sub(halo));
            let (x1, y1) = ((x + core.width + halo).min(width), (y + core.height + halo).min(height));
            tiles.push(Tile { core, padded: Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
        }
    }
    tiles
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
