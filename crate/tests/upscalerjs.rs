//! The TF.js loader reproduces UpscalerJS's own shipped reference: its fixture upscaled x2
//! matches its `samples/2x/result.png`, on the CPU backend and on Vulkan (lavapipe here).

mod common;

use common::*;
use ticketsr::imaging::metrics::psnr_rgb;
use ticketsr::{Backend, BackendKind, Silent, Upscaler};

#[test]
fn bundled_model_is_the_conversion_of_the_npm_package() {
    assert_eq!(bundled_model(), convert_upscalerjs());
}

fn reference_psnr(backend: Backend) -> f64 {
    let model = convert_upscalerjs();
    let fixture = image(upscalerjs().join("assets/fixture.png"));
    let reference = image(upscalerjs().join("assets/samples/2x/result.png"));
    let up = Upscaler::new(&model, backend).unwrap();
    let out = pollster::block_on(up.upscale(&fixture, &mut Silent)).unwrap();
    assert_eq!((out.width, out.height), (reference.width, reference.height));
    let p = psnr_rgb(&out, &reference, 0).unwrap();
    println!("{}: PSNR against UpscalerJS's result.png = {p:.2} dB", up.info().backend.adapter);
    p
}

#[test]
fn reproduces_the_reference_on_the_cpu() {
    assert!(reference_psnr(Backend::cpu()) >= 40.0);
}

#[test]
fn reproduces_the_reference_on_vulkan() {
    let backend = pollster::block_on(Backend::gpu()).expect("a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)");
    assert_eq!(backend.info.kind, BackendKind::Vulkan);
    assert!(reference_psnr(backend) >= 40.0);
}
