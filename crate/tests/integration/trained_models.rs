//! Models the project trained itself and bundles (the general models of the overfitting
//! research): they must beat bicubic on the bundled photo, which none of them saw in
//! training.

use crate::common;

use ticketsr::imaging::{bicubic, metrics};
use ticketsr::model::format;
use ticketsr::{Backend, Silent, Upscaler};

#[test]
fn the_bundled_general_models_beat_bicubic_on_the_held_out_sample() {
    let hr = common::image(common::repo().join("web/media/astronaut-256.png"));
    for (file, margin) in [("ticketsr-espcn-x2", 0.3), ("ticketsr-wdsr-b-x2", 0.5), ("ticketsr-wdsr-b-x4", 0.5), ("ticketsr-espcn-x4", 0.1)] {
        let model = format::from_bytes(&common::read(common::repo().join(format!("web/models/{file}.safetensors")))).unwrap();
        assert!(model.info.notes.contains("trained by `ticketsr train`"), "{}", model.info.notes);
        let s = model.info.scale;
        let lr = bicubic::downscale(&hr, s).unwrap();
        let up = Upscaler::new(&model, Backend::cpu()).unwrap();
        let sr = pollster::block_on(up.upscale(&lr, &mut Silent)).unwrap();
        let base = bicubic::resize(&lr, hr.width, hr.height).unwrap();
        let (m, b) = (metrics::psnr_rgb(&sr, &hr, s).unwrap(), metrics::psnr_rgb(&base, &hr, s).unwrap());
        println!("{file} on the held-out sample: {m:.2} dB, bicubic {b:.2} dB");
        assert!(m >= b + margin, "{file}: {m:.2} vs bicubic {b:.2}");
    }
}
