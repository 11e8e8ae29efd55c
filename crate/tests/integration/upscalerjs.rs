//! The TF.js loader reproduces UpscalerJS's own shipped references: each package's fixture
//! upscaled x2 matches its sample result, on the CPU backend and on Vulkan (lavapipe here).
//! The small RDN is the reference; psnr-small checks uint8-quantized weights too.

use crate::common::*;
use ticketsr::imaging::metrics::psnr_rgb;
use ticketsr::{Backend, BackendKind, Silent, Upscaler};

#[test]
fn bundled_models_are_the_conversions_of_the_npm_packages() {
    for bundled in [RDN, PSNR_SMALL] {
        let converted = bundled.convert();
        assert_eq!(bundled.load(), converted, "{}", bundled.file);
        if bundled.file == PSNR_SMALL.file {
            // Every weight kept its uint8 grid, so the file is a quarter of the float size.
            assert_eq!(converted.grids.len(), converted.graph.params.len());
            let floats: usize = converted.values.iter().map(Vec::len).sum();
            assert!(std::fs::metadata(bundled.path()).unwrap().len() < (floats + 100_000) as u64);
        }
    }
}

fn reference_psnr(bundled: &Bundled, backend: Backend) -> f64 {
    let reference = bundled.reference();
    let up = Upscaler::new(&bundled.load(), backend).unwrap();
    let out = pollster::block_on(up.upscale(&bundled.fixture(), &mut Silent)).unwrap();
    assert_eq!((out.width, out.height), (reference.width, reference.height));
    let p = psnr_rgb(&out, &reference, 0).unwrap();
    println!("{} on {}: PSNR against UpscalerJS's {} = {p:.2} dB", bundled.file, up.info().backend.adapter, bundled.reference);
    p
}

fn vulkan() -> Backend {
    let backend = pollster::block_on(Backend::gpu()).expect("a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)");
    assert_eq!(backend.info.kind, BackendKind::Vulkan);
    backend
}

#[test]
fn reproduces_the_reference_on_the_cpu() {
    assert!(reference_psnr(&RDN, Backend::cpu()) >= 40.0);
}

#[test]
fn reproduces_the_reference_on_vulkan() {
    assert!(reference_psnr(&RDN, vulkan()) >= 40.0);
}

/// One backend is enough for the big model: the graph ops are the ones checked above.
#[test]
fn reproduces_the_psnr_small_reference_on_the_cpu() {
    assert!(reference_psnr(&PSNR_SMALL, Backend::cpu()) >= 40.0);
}

/// UpscalerJS's ESRGAN x4 (`gans`): its custom layers are `tf.mul(x, 0.2)` and TensorFlow's
/// depth to space, which the loader maps onto `affine` and `depth_to_space`; the converted
/// model reproduces the package's own sample. Not bundled: it shows a TF.js model no test
/// was tuned on loads through the same path.
#[test]
fn reproduces_the_esrgan_gans_reference() {
    let dir = RDN.package_dir().with_file_name("esrgan-legacy");
    let json = dir.join("models/gans/model.json");
    let opts = ticketsr::model::tfjs::TfjsOptions { input_range: 1.0, name: "gans".into(), source: "npm @upscalerjs/esrgan-legacy@1.0.0".into(), licence: "MIT".into() };
    let model = ticketsr::model::tfjs::load(&read(&json), |shard, _| Ok(read(json.with_file_name(shard))), &opts).unwrap();
    let reference = image(dir.join("assets/samples/gans/result.png"));
    let start = std::time::Instant::now();
    let up = Upscaler::new(&model, vulkan()).unwrap();
    let out = pollster::block_on(up.upscale(&image(dir.join("assets/fixture.png")), &mut Silent)).unwrap();
    let p = psnr_rgb(&out, &reference, 0).unwrap();
    println!("gans x{}: {} MACs per pixel, PSNR against UpscalerJS's sample = {p:.2} dB in {:?}", model.info.scale, model.validate().unwrap().macs_per_input_pixel, start.elapsed());
    assert!(p >= 40.0);
}
