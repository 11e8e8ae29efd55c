//! Tiled inference equals whole-image inference (within one 8-bit step), for a network
//! with pixel shuffle and one with nearest upsampling, concatenation and additions.

use crate::common;

use ticketsr::model::{ModelFile, espcn};
use ticketsr::{Backend, RgbaImage, Silent, Upscaler};

fn textured(w: usize, h: usize) -> RgbaImage {
    let mut data = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            data.extend([(x * 7 + y * 3) as u8, (x * y) as u8, ((x ^ y) * 13) as u8, 255]);
        }
    }
    RgbaImage::new(w, h, data).unwrap()
}

fn max_difference(model: &ModelFile, img: &RgbaImage, tile: usize) -> u8 {
    let whole = Upscaler::new(model, Backend::cpu()).unwrap().with_tile_size(img.width.max(img.height)).unwrap();
    let tiled = Upscaler::new(model, Backend::cpu()).unwrap().with_tile_size(tile).unwrap();
    assert_eq!(whole.tiles(img.width, img.height).len(), 1);
    assert!(tiled.tiles(img.width, img.height).len() > 4);
    let a = pollster::block_on(whole.upscale(img, &mut Silent)).unwrap();
    let b = pollster::block_on(tiled.upscale(img, &mut Silent)).unwrap();
    a.data.iter().zip(&b.data).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
}

#[test]
fn tiled_equals_whole_for_espcn() {
    assert!(max_difference(&espcn::build(3, 1).unwrap(), &textured(70, 50), 16) <= 1);
}

#[test]
fn tiled_equals_whole_for_rdn() {
    assert!(max_difference(&common::RDN.load(), &textured(61, 45), 24) <= 1);
}

#[test]
fn bicubic_tiles_equal_the_cpu_resize() {
    let img = textured(45, 33);
    let up = Upscaler::new(&ticketsr::model::bicubic(2).unwrap(), Backend::cpu()).unwrap().with_tile_size(16).unwrap();
    let gpu = pollster::block_on(up.upscale(&img, &mut Silent)).unwrap();
    let cpu = ticketsr::imaging::bicubic::resize(&img, 90, 66).unwrap();
    assert!(gpu.data.iter().zip(&cpu.data).all(|(a, b)| a.abs_diff(*b) <= 1));
}

#[test]
fn alpha_is_kept() {
    let mut img = textured(20, 20);
    for px in img.data.chunks_exact_mut(4).take(100) {
        px[3] = 0;
    }
    let up = Upscaler::new(&ticketsr::model::bicubic(2).unwrap(), Backend::cpu()).unwrap();
    let out = pollster::block_on(up.upscale(&img, &mut Silent)).unwrap();
    assert_eq!(out.data[3], 0);
    assert_eq!(out.data[out.data.len() - 1], 255);
}
