//! Models the project trained itself and bundles: they must beat bicubic on the bundled
//! photo, which none of them saw in training.

mod common;

use ticketsr::imaging::{bicubic, metrics};
use ticketsr::model::format;
use ticketsr::{Backend, Silent, Upscaler};

#[test]
fn the_bundled_espcn_beats_bicubic_on_the_held_out_sample() {
    let model = format::from_bytes(&common::read(common::repo().join("web/models/ticketsr-espcn-x2.safetensors"))).unwrap();
    assert!(model.info.notes.contains("trained by `ticketsr train`"), "{}", model.info.notes);
    let hr = common::image(common::repo().join("web/media/astronaut-256.png"));
    let lr = bicubic::downscale(&hr, 2).unwrap();
    let up = Upscaler::new(&model, Backend::cpu()).unwrap();
    let sr = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
    let base = bicubic::resize(&lr, hr.width, hr.height).unwrap();
    let (m, b) = (metrics::psnr_rgb(&sr, &hr, 2).unwrap(), metrics::psnr_rgb(&base, &hr, 2).unwrap());
    println!("ticketsr ESPCN x2 on the held-out sample: {m:.2} dB, bicubic {b:.2} dB");
    assert!(m >= b + 0.3, "{m:.2} vs bicubic {b:.2}");
}
