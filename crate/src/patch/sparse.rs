//! Patch-sparse execution: the network runs only on the selected patches, gathered with a
//! halo of its receptive radius into batches; everything else is bicubic. Inside a
//! selected patch the output equals dense SR. Around it, the SR its halo produced is
//! feathered into the bicubic neighbours over a band, so no seam shows.

use super::Grid;
use crate::error::{Error, Result};
use crate::imaging::{Region, RgbaImage, bicubic, quantize};
use crate::tile;
use crate::upscale::{Progress, Upscaler};

/// The LR window a patch is computed in: `side` pixels (or the whole image, if smaller),
/// shifted inside the image so the patch keeps at least `halo` pixels of context on every
/// side that is not the image border. Same-sized windows batch together.
fn window(patch: Region, halo: usize, side: (usize, usize), image: (usize, usize)) -> Region {
    let start = |p: usize, s: usize, n: usize| p.saturating_sub(halo).min(n - s);
    Region { x: start(patch.x, side.0, image.0), y: start(patch.y, side.1, image.1), width: side.0, height: side.1 }
}

/// The default feathering band in output pixels: a quarter of an output patch.
pub fn default_band(patch: usize, scale: usize) -> usize {
    patch * scale / 4
}

/// Which SR pixels the output takes, and how much of each: 1 inside a selected patch,
/// falling linearly to 0 over `band` pixels around it (clipped to what its window
/// computed), the nearest selected patch owning each pixel.
pub struct Feather {
    alpha: Vec<f32>,
    /// Position in the selection of the patch a pixel's SR comes from.
    owner: Vec<u32>,
}

/// The LR windows of the selected patches, all the same size, for a network of `halo`.
pub fn windows(grid: &Grid, selected: &[usize], halo: usize) -> Vec<Region> {
    let side = ((grid.patch + 2 * halo).min(grid.width), (grid.patch + 2 * halo).min(grid.height));
    selected.iter().map(|&i| window(grid.rect(i), halo, side, (grid.width, grid.height))).collect()
}

/// The output pixels a selected patch may write: its core and the band around it, within
/// its window, in output pixels of an `s`-times upscaler.
fn reach(core: Region, win: Region, s: usize, band: usize) -> (Region, Region) {
    let c = Region { x: core.x * s, y: core.y * s, width: core.width * s, height: core.height * s };
    let (x0, y0) = (c.x.saturating_sub(band).max(win.x * s), c.y.saturating_sub(band).max(win.y * s));
    let (x1, y1) = ((c.x + c.width + band).min((win.x + win.width) * s), (c.y + c.height + band).min((win.y + win.height) * s));
    (c, Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 })
}

impl Feather {
    pub fn new(grid: &Grid, selected: &[usize], windows: &[Region], s: usize, band: usize) -> Self {
        let (ow, oh) = (grid.width * s, grid.height * s);
        let mut f = Feather { alpha: vec![0.0; ow * oh], owner: vec![u32::MAX; ow * oh] };
        for (k, (&i, win)) in selected.iter().zip(windows).enumerate() {
            let (c, ring) = reach(grid.rect(i), *win, s, band);
            for y in ring.y..ring.y + ring.height {
                for x in ring.x..ring.x + ring.width {
                    let dx = c.x.saturating_sub(x).max(x.saturating_sub(c.x + c.width - 1));
                    let dy = c.y.saturating_sub(y).max(y.saturating_sub(c.y + c.height - 1));
                    let d = dx.max(dy);
                    let a = if d == 0 { 1.0 } else { 1.0 - d as f32 / (band + 1) as f32 };
                    let o = y * ow + x;
                    if a > f.alpha[o] {
                        f.alpha[o] = a;
                        f.owner[o] = k as u32;
                    }
                }
            }
        }
        f
    }

    /// Blends SR planes (`[3, h, w]` in 0..1, full output size) into `base`.
    pub fn blend(&self, base: &mut RgbaImage, sr: &[f32]) {
        let n = self.alpha.len();
        for (o, &a) in self.alpha.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            for ch in 0..3 {
                let px = &mut base.data[o * 4 + ch];
                let v = sr[ch * n + o];
                *px = if a == 1.0 { quantize(v) } else { quantize(a * v + (1.0 - a) * *px as f32 / 255.0) };
            }
        }
    }
}

impl Upscaler {
    /// Upscales `lr` with the network on the `selected` patches of `grid` and bicubic
    /// elsewhere. `band` (output pixels) is clipped to what the halo computed.
    pub async fn upscale_patches(&self, lr: &RgbaImage, grid: &Grid, selected: &[usize], band: usize, progress: &mut impl Progress) -> Result<RgbaImage> {
        let (ow, oh) = self.output_size(lr.width, lr.height)?;
        if (grid.width, grid.height) != (lr.width, lr.height) {
            return Err(Error::InvalidArgument(format!("grid is {}x{}, image {}x{}", grid.width, grid.height, lr.width, lr.height)));
        }
        if let Some(&bad) = selected.iter().find(|&&i| i >= grid.len()) {
            return Err(Error::InvalidArgument(format!("patch {bad} is not in a grid of {} patches", grid.len())));
        }
        let s = self.scale();
        let mut out = bicubic::resize(lr, ow, oh)?;
        if selected.is_empty() {
            return Ok(out);
        }
        let halo = self.network().analysis().receptive_radius;
        let band = band.min(halo * s);
        let wins = windows(grid, selected, halo);
        let feather = Feather::new(grid, selected, &wins, s, band);
        let (sw, sh) = (wins[0].width, wins[0].height);
        let bytes = tile::peak_bytes_per_pixel(self.network().graph(), self.network().analysis()) * (sw * sh) as u64;
        let per_batch = ((self.info().backend.max_tensor_bytes / bytes.max(1)) as usize).max(1);

        let mut sr = vec![0f32; 3 * ow * oh];
        let batches: Vec<usize> = (0..selected.len()).step_by(per_batch).collect();
        for (b, &first) in batches.iter().enumerate() {
            let last = (first + per_batch).min(selected.len());
            let mut input = Vec::with_capacity((last - first) * 3 * sw * sh);
            for w in &wins[first..last] {
                input.extend(lr.planes(*w));
            }
            let planes = self.run_batch(input, last - first, sh, sw).await?;
            let (ww, wh) = (sw * s, sh * s);
            for k in first..last {
                let out_win = &planes[(k - first) * 3 * ww * wh..(k - first + 1) * 3 * ww * wh];
                let win = wins[k];
                let (_, ring) = reach(grid.rect(selected[k]), win, s, band);
                for y in ring.y..ring.y + ring.height {
                    for x in ring.x..ring.x + ring.width {
                        let o = y * ow + x;
                        if feather.owner[o] != k as u32 {
                            continue;
                        }
                        let src = (y - win.y * s) * ww + (x - win.x * s);
                        for ch in 0..3 {
                            sr[ch * ow * oh + o] = out_win[ch * ww * wh + src];
                        }
                    }
                }
            }
            progress.tile_done(b + 1, batches.len()).await?;
        }
        feather.blend(&mut out, &sr);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Interpolation};
    use crate::model::{ModelFile, ModelInfo, espcn};
    use crate::{Backend, Silent};

    fn textured(w: usize, h: usize) -> RgbaImage {
        let data = (0..w * h).flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [((x * 37 + y * 11) % 256) as u8, ((x * y) % 251) as u8, ((x ^ y) * 9 % 256) as u8, 255]
        });
        RgbaImage::new(w, h, data.collect()).unwrap()
    }

    #[test]
    fn windows_keep_the_halo_inside_the_image() {
        let img = (50, 40);
        for patch in [Region { x: 0, y: 0, width: 8, height: 8 }, Region { x: 48, y: 32, width: 2, height: 8 }, Region { x: 24, y: 16, width: 8, height: 8 }] {
            let w = window(patch, 5, (18, 18), img);
            assert!(w.x + w.width <= img.0 && w.y + w.height <= img.1);
            // Context on each side is at least the halo, unless that side is the image border.
            assert!(patch.x - w.x >= 5 || w.x == 0);
            assert!(w.x + w.width - (patch.x + patch.width) >= 5 || w.x + w.width == img.0);
            assert!(patch.y - w.y >= 5 || w.y == 0);
            assert!(w.y + w.height - (patch.y + patch.height) >= 5 || w.y + w.height == img.1);
        }
    }

    #[test]
    fn selected_patches_equal_dense_sr_and_the_rest_is_bicubic() {
        let model = espcn::build(2, 5).unwrap();
        let up = Upscaler::new(&model, Backend::cpu()).unwrap();
        let lr = textured(37, 29);
        let grid = Grid::new(37, 29, 8).unwrap();
        let dense = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
        let base = bicubic::resize(&lr, 74, 58).unwrap();
        let selected = [0, 3, 4, 7, grid.len() - 1]; // corners, edges, the narrow last patch
        let band = 4;
        let sparse = pollster::block_on(up.upscale_patches(&lr, &grid, &selected, band, &mut Silent)).unwrap();
        let big = grid.scaled(2);
        for (i, r) in big.rects().enumerate() {
            for y in r.y..r.y + r.height {
                for x in r.x..r.x + r.width {
                    let o = (y * 74 + x) * 4;
                    let (got, sr, bic) = (&sparse.data[o..o + 4], &dense.data[o..o + 4], &base.data[o..o + 4]);
                    if selected.contains(&i) {
                        assert!(got.iter().zip(sr).all(|(a, b)| a.abs_diff(*b) <= 1), "patch {i} ({x},{y}): {got:?} vs dense {sr:?}");
                    } else {
                        // Outside the band around selected patches, exactly bicubic.
                        let near = selected.iter().any(|&j| {
                            let c = big.rect(j);
                            x + band >= c.x && x < c.x + c.width + band && y + band >= c.y && y < c.y + c.height + band
                        });
                        if !near {
                            assert_eq!(got, bic, "patch {i} ({x},{y})");
                        }
                    }
                }
            }
        }
        // All patches selected is dense SR; none is bicubic.
        let all: Vec<usize> = (0..grid.len()).collect();
        let full = pollster::block_on(up.upscale_patches(&lr, &grid, &all, band, &mut Silent)).unwrap();
        assert!(full.data.iter().zip(&dense.data).all(|(a, b)| a.abs_diff(*b) <= 1));
        assert_eq!(pollster::block_on(up.upscale_patches(&lr, &grid, &[], band, &mut Silent)).unwrap(), base);
        assert!(pollster::block_on(up.upscale_patches(&lr, &grid, &[999], band, &mut Silent)).is_err());
    }

    /// A network with a receptive radius of 3 whose output stays in range: three identity
    /// 3x3 convolutions, then nearest-neighbour x2.
    fn identity_then_nearest() -> ModelFile {
        let mut b = GraphBuilder::new();
        let mut x = b.input();
        for i in 0..3 {
            x = b.conv(&format!("c{i}"), x, 3, 3, 3, true);
        }
        let y = b.upsample("up", x, 2, Interpolation::Nearest);
        let graph = b.finish(y);
        let identity: Vec<f32> = (0..81).map(|k| if k % 9 == 4 && k / 27 == (k / 9) % 3 { 1.0 } else { 0.0 }).collect();
        let values = (0..3).flat_map(|_| [identity.clone(), vec![0.0; 3]]).collect();
        let info = ModelInfo { name: "identity-nearest".into(), scale: 2, ..Default::default() };
        ModelFile::new(info, graph, values).unwrap()
    }

    #[test]
    fn the_band_blends_between_sr_and_bicubic() {
        let up = Upscaler::new(&identity_then_nearest(), Backend::cpu()).unwrap();
        let lr = textured(32, 16);
        let grid = Grid::new(32, 16, 16).unwrap();
        let dense = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
        let base = bicubic::resize(&lr, 64, 32).unwrap();
        let sparse = pollster::block_on(up.upscale_patches(&lr, &grid, &[0], 8, &mut Silent)).unwrap();
        // Columns 32..40 of the right patch move from SR towards bicubic as they leave patch 0.
        let px = |img: &RgbaImage, x: usize| img.data[(10 * 64 + x) * 4] as f32;
        for (x, a) in [(32, 8.0 / 9.0), (36, 4.0 / 9.0), (40, 0.0)] {
            let want = a * px(&dense, x) + (1.0 - a) * px(&base, x);
            assert!((px(&sparse, x) - want).abs() <= 1.0, "x={x}: {} vs {want} (dense {}, bicubic {})", px(&sparse, x), px(&dense, x), px(&base, x));
        }
    }
}
