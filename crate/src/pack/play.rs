//! Playing a pack: every patch upscaled by the model its map names, with that model's
//! receptive radius of context around it (shared windows, cropped execution: the patch
//! sparse path of [`crate::patch`]), so a patch comes out exactly as the model would upscale
//! the whole frame there, without seams, and as it was trained (see
//! [`crate::overfit::fit::Sample`]).

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::imaging::RgbaImage;
use crate::overfit::Layout;
use crate::patch::{Grid, SparseUpscaler};
use crate::progress::Silent;
use crate::upscale::Upscaler;

use super::Pack;

pub struct Player {
    layout: Layout,
    scale: usize,
    upscalers: Vec<Upscaler>,
}

impl Player {
    pub fn new(pack: &Pack, backend: &Backend) -> Result<Self> {
        let layout = pack.validate()?;
        let upscalers = pack.models.iter().map(|m| Upscaler::new(m, backend.clone())).collect::<Result<Vec<_>>>()?;
        Ok(Self { layout, scale: pack.manifest.scale, upscalers })
    }

    /// The HR frame of one LR frame and its map.
    pub async fn frame(&self, lr: &RgbaImage, map: &[u8]) -> Result<RgbaImage> {
        if (lr.width, lr.height) != (self.layout.width, self.layout.height) {
            return Err(Error::InvalidArgument(format!(
                "the pack's frames are {}x{}, this one is {}x{}",
                self.layout.width, self.layout.height, lr.width, lr.height
            )));
        }
        let s = self.scale;
        let mut out = RgbaImage::filled(lr.width * s, lr.height * s, [0, 0, 0, 255])?;
        let mut jobs = self.layout.jobs(map)?;
        jobs.sort_by_key(|j| (j.model, j.region.width));
        for group in jobs.chunk_by(|a, b| (a.model, a.region.width) == (b.model, b.region.width)) {
            // Patches of one model and size are the tickets of a grid of that size, written
            // into the frame with no band, so each model writes exactly its own patches.
            let grid = Grid::new(lr.width, lr.height, group[0].region.width)?;
            let selected: Vec<usize> = group.iter().map(|j| j.region.y / grid.patch * grid.cols + j.region.x / grid.patch).collect();
            out = SparseUpscaler::new(&self.upscalers[group[0].model]).upscale_patches_onto(lr, &grid, &selected, 0, out, &mut Silent).await?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overfit::Method;
    use crate::pack::tests::tiny;

    #[test]
    fn each_patch_is_upscaled_by_the_model_its_map_names() {
        let pack = tiny(Method::Stdo { chunks: 3 });
        let lr = RgbaImage::new(16, 8, (0..16 * 8 * 4).map(|i| if i % 4 == 3 { 255 } else { (i * 37 % 251) as u8 }).collect()).unwrap();
        let player = Player::new(&pack, &Backend::cpu()).unwrap();
        let out = pollster::block_on(player.frame(&lr, &pack.maps[0])).unwrap();
        assert_eq!((out.width, out.height), (32, 16));
        // Every patch is what the model its map names makes of the whole frame there.
        let grid = pack.validate().unwrap().grid().unwrap();
        let dense: Vec<RgbaImage> = pack
            .models
            .iter()
            .map(|m| pollster::block_on(Upscaler::new(m, Backend::cpu()).unwrap().upscale(&lr, &mut Silent)).unwrap())
            .collect();
        for (i, r) in grid.rects().enumerate() {
            let crop = |img: &RgbaImage| img.crop_at(r.x * 2, r.y * 2, r.width * 2, r.height * 2).unwrap();
            let (got, want) = (crop(&out), crop(&dense[pack.maps[0][i] as usize]));
            let worst = got.data.iter().zip(&want.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
            assert!(worst <= 1, "patch {i} differs by {worst}");
        }
        // A different map changes the frame: the models differ.
        let other: Vec<u8> = pack.maps[0].iter().map(|m| (m + 1) % 3).collect();
        assert_ne!(pollster::block_on(player.frame(&lr, &other)).unwrap(), out);
        assert!(pollster::block_on(player.frame(&lr.crop(8, 8).unwrap(), &pack.maps[0])).is_err());
    }
}
