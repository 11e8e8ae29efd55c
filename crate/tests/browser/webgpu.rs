//! The library in headless Chromium on WebGPU (SwiftShader here): the UpscalerJS reference,
//! tiling within the adapter's limits on a 4000x3000 photo, winning-ticket patches equal to
//! dense SR, and bad input through the JS API.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_png::PngDecoder;

use ticketsr::imaging::metrics::psnr_rgb;
use ticketsr::model::{espcn, format};
use ticketsr::{Backend, BackendChoice, BackendKind, RgbaImage, Silent, Upscaler};

wasm_bindgen_test_configure!(run_in_browser);

const MODEL: &[u8] = include_bytes!("../../../web/models/upscalerjs-rdn-x2.safetensors");
const FIXTURE: &[u8] = include_bytes!("../../../tests/node_modules/@upscalerjs/default-model/assets/fixture.png");
const RESULT: &[u8] = include_bytes!("../../../tests/node_modules/@upscalerjs/default-model/assets/samples/2x/result.png");

/// Decodes a PNG fixture to RGBA (an alpha channel added where it has none).
fn decode(bytes: &[u8]) -> RgbaImage {
    let options = DecoderOptions::default().png_set_strip_to_8bit(true).png_set_add_alpha_channel(true);
    let mut decoder = PngDecoder::new_with_options(std::io::Cursor::new(bytes), options);
    let rgba = decoder.decode_raw().unwrap();
    assert_eq!(decoder.colorspace(), Some(ColorSpace::RGBA), "fixture colour type");
    let (width, height) = decoder.dimensions().unwrap();
    RgbaImage::new(width, height, rgba).unwrap()
}

async fn webgpu() -> Backend {
    let backend = Backend::acquire(BackendChoice::Gpu).await.unwrap();
    assert_eq!(backend.info.kind, BackendKind::WebGpu);
    backend
}

fn now() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn reproduces_the_upscalerjs_reference_on_webgpu() {
    let backend = webgpu().await;
    let adapter = backend.info.adapter.clone();
    let up = Upscaler::new(&format::from_bytes(MODEL).unwrap(), backend).unwrap();
    let fixture = decode(FIXTURE);
    let reference = decode(RESULT);
    let cold = now();
    let out = up.upscale(&fixture, &mut Silent).await.unwrap();
    let cold = now() - cold;
    let warm = now();
    let again = up.upscale(&fixture, &mut Silent).await.unwrap();
    let warm = now() - warm;
    let p = psnr_rgb(&out, &reference, 0).unwrap();
    console_log!("WebGPU ({adapter}): PSNR vs result.png {p:.2} dB; 128x128 fixture first run {cold:.0} ms, warm {warm:.0} ms");
    assert!(p >= 40.0);
    assert_eq!(out, again);
}

/// The wasm CPU path runs ticketsr's simd128 convolution (`cpu::conv`): it reproduces
/// UpscalerJS's own output and matches burn's convolution on the same weights.
#[wasm_bindgen_test]
async fn reproduces_the_upscalerjs_reference_on_the_wasm_cpu() {
    let model = format::from_bytes(MODEL).unwrap();
    let fixture = decode(FIXTURE);
    let ours = Upscaler::new(&model, Backend::cpu()).unwrap();
    let burns = Upscaler::new(&model, Backend::cpu()).unwrap().without_fused_kernels();
    let t = now();
    let out = ours.upscale(&fixture, &mut Silent).await.unwrap();
    let ours_ms = now() - t;
    let t = now();
    let plain = burns.upscale(&fixture, &mut Silent).await.unwrap();
    let plain_ms = now() - t;
    let p = psnr_rgb(&out, &decode(RESULT), 0).unwrap();
    let worst = out.data.iter().zip(&plain.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    console_log!("wasm CPU: PSNR vs result.png {p:.2} dB, worst difference from burn's convolution {worst}; {ours_ms:.0} ms, burn's {plain_ms:.0} ms");
    assert!(p >= 40.0);
    assert!(worst <= 1);
}

#[wasm_bindgen_test]
async fn tiled_equals_whole_on_webgpu() {
    let model = espcn::build(2, 3).unwrap();
    let data: Vec<u8> = (0..40 * 30).flat_map(|i| [(i * 7) as u8, (i / 3) as u8, (i * 31) as u8, 255]).collect();
    let img = RgbaImage::new(40, 30, data).unwrap();
    let whole = Upscaler::new(&model, webgpu().await).unwrap().with_tile_size(64).unwrap();
    let tiled = Upscaler::new(&model, webgpu().await).unwrap().with_tile_size(16).unwrap();
    let a = whole.upscale(&img, &mut Silent).await.unwrap();
    let b = tiled.upscale(&img, &mut Silent).await.unwrap();
    assert!(a.data.iter().zip(&b.data).all(|(x, y)| x.abs_diff(*y) <= 1));
}

#[wasm_bindgen_test]
async fn a_4000x3000_photo_fits_the_adapter_limits() {
    let (w, h) = (4000, 3000);
    // A horizontal ramp: bicubic reproduces linear ramps exactly away from the borders.
    let ramp = |x: usize| (x * 255 / (w - 1)) as u8;
    let mut data = Vec::with_capacity(w * h * 4);
    for _ in 0..h {
        for x in 0..w {
            data.extend([ramp(x), 128, 255 - ramp(x), 255]);
        }
    }
    let img = RgbaImage::new(w, h, data).unwrap();
    let backend = webgpu().await;
    let limit = backend.info.max_tensor_bytes;
    let up = Upscaler::new(&ticketsr::model::bicubic(2).unwrap(), backend).unwrap();
    let tiles = up.tiles(w, h).len();
    let start = now();
    let out = up.upscale(&img, &mut Silent).await.unwrap();
    console_log!("4000x3000 x2 bicubic on WebGPU: {tiles} tiles of {} px (tensor limit {limit} bytes), {:.0} ms", up.info().tile, now() - start);
    assert!(tiles > 1);
    assert_eq!((out.width, out.height), (8000, 6000));
    for (x, y) in [(4000, 3000), (123, 4567), (7777, 100)] {
        let px = &out.data[(y * 8000 + x) * 4..(y * 8000 + x) * 4 + 4];
        let want = ((x as f64 + 0.5) / 2.0 - 0.5) * 255.0 / (w - 1) as f64;
        assert!((px[0] as f64 - want).abs() <= 1.5, "({x},{y}): {px:?} vs {want}");
        assert_eq!(px[1], 128);
        assert_eq!(px[3], 255);
    }
}

#[wasm_bindgen_test]
async fn winning_ticket_patches_equal_dense_sr_on_webgpu() {
    use ticketsr::patch::{Grid, SparseUpscaler, sparse};
    let model = espcn::build(2, 5).unwrap();
    let data: Vec<u8> = (0..45 * 38).flat_map(|i| [(i * 13) as u8, (i / 5) as u8, (i * 29) as u8, 255]).collect();
    let img = RgbaImage::new(45, 38, data).unwrap();
    let up = Upscaler::new(&model, webgpu().await).unwrap();
    let dense = up.upscale(&img, &mut Silent).await.unwrap();
    let grid = Grid::new(45, 38, 8).unwrap();
    // A corner, a neighbouring pair that shares a window, the narrow last column and row.
    let selected = [0, 8, 9, grid.cols - 1, grid.len() - 1];
    let out = SparseUpscaler::new(&up).upscale_patches(&img, &grid, &selected, sparse::default_band(8, 2), &mut Silent).await.unwrap();
    let big = grid.scaled(2);
    for &i in &selected {
        let r = big.rect(i);
        for y in r.y..r.y + r.height {
            for x in r.x..r.x + r.width {
                let o = (y * 90 + x) * 4;
                assert!(out.data[o..o + 3].iter().zip(&dense.data[o..o + 3]).all(|(a, b)| a.abs_diff(*b) <= 1), "patch {i} at ({x},{y})");
            }
        }
    }
}

#[wasm_bindgen_test]
async fn the_learned_scorer_runs_on_webgpu_as_on_the_cpu() {
    use ticketsr::patch::score::Scorer;
    use ticketsr::patch::{Grid, LearnedScorer, SparseUpscaler};
    let scorer = format::from_bytes(include_bytes!("../../../web/models/ticket-scorer-x2.safetensors")).unwrap();
    let model = espcn::build(2, 1).unwrap();
    let img = decode(FIXTURE);
    let grid = Grid::new(img.width, img.height, 16).unwrap();
    let (gpu, cpu) = (Upscaler::new(&model, webgpu().await).unwrap(), Upscaler::new(&model, Backend::cpu()).unwrap());
    let (gpu_scorer, cpu_scorer) = (LearnedScorer::new(&scorer, gpu.device()).unwrap(), LearnedScorer::new(&scorer, cpu.device()).unwrap());
    let a = SparseUpscaler::new(&gpu).with_learned_scorer(Some(&gpu_scorer)).score(Scorer::Learned, &img, &grid, None, 0).await.unwrap();
    let b = SparseUpscaler::new(&cpu).with_learned_scorer(Some(&cpu_scorer)).score(Scorer::Learned, &img, &grid, None, 0).await.unwrap();
    assert_eq!(a.len(), grid.len());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-3), "{a:?} vs {b:?}");
}

fn message(e: JsValue) -> String {
    e.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default()
}

#[wasm_bindgen_test]
async fn bad_input_through_the_js_api_is_an_error() {
    use ticketsr::wasm::Upscaler as JsUpscaler;
    let garbage = Uint8Array::from(&b"definitely not a model"[..]);
    let err = JsUpscaler::create(garbage, JsValue::UNDEFINED).await.err().unwrap();
    assert!(message(err).contains("invalid model"));

    let truncated = Uint8Array::from(&MODEL[..MODEL.len() - 100]);
    let err = JsUpscaler::create(truncated, JsValue::UNDEFINED).await.err().unwrap();
    assert!(message(err).contains("corrupt"));

    let options = Object::new();
    Reflect::set(&options, &"backend".into(), &"quantum".into()).unwrap();
    let err = JsUpscaler::create(Uint8Array::from(MODEL), options.into()).await.err().unwrap();
    assert!(message(err).contains("quantum"));

    let up = JsUpscaler::bicubic(2, JsValue::UNDEFINED).await.unwrap();
    for (w, h, len) in [(0, 0, 0), (20000, 20000, 4), (4, 4, 7)] {
        let img = Object::new();
        Reflect::set(&img, &"width".into(), &JsValue::from(w)).unwrap();
        Reflect::set(&img, &"height".into(), &JsValue::from(h)).unwrap();
        Reflect::set(&img, &"data".into(), &Uint8Array::new_with_length(len)).unwrap();
        let err = wasm_bindgen_futures::JsFuture::from(up.upscale(img.into(), JsValue::UNDEFINED)).await.err().unwrap();
        assert!(message(err).contains("invalid image"), "{w}x{h}");
    }

    // Winning-ticket calls refuse what they cannot do, with the reason.
    let img = Object::new();
    Reflect::set(&img, &"width".into(), &JsValue::from(16)).unwrap();
    Reflect::set(&img, &"height".into(), &JsValue::from(16)).unwrap();
    Reflect::set(&img, &"data".into(), &Uint8Array::new_with_length(16 * 16 * 4)).unwrap();
    let options = |pairs: &[(&str, JsValue)]| {
        let o = Object::new();
        for (k, v) in pairs {
            Reflect::set(&o, &(*k).into(), v).unwrap();
        }
        JsValue::from(o)
    };
    let selected = js_sys::Array::of1(&JsValue::from(99));
    for (opts, want) in [
        (options(&[("keep", JsValue::from(0.5)), ("selected", selected.clone().into())]), "give one of"),
        (options(&[("budgetMs", JsValue::from(100))]), "needs the `cost`"),
        (options(&[("selected", selected.into()), ("patchSize", JsValue::from(8))]), "not in a grid of 4"),
        (options(&[("keep", JsValue::from(0.5)), ("scorer", "sobel".into())]), "sobel"),
        (options(&[("keep", JsValue::from(0.5)), ("scorer", "oracle".into())]), "needs the HR original"),
        (options(&[("keep", JsValue::from(1.5))]), "outside 0..1"),
    ] {
        let err = wasm_bindgen_futures::JsFuture::from(up.upscale(img.clone().into(), opts)).await.err().unwrap();
        assert!(message(err).contains(want), "{want}");
    }
    let err = up.load_scorer(Uint8Array::from(&b"not a scorer"[..])).err().unwrap();
    assert!(message(err).contains("invalid model"));
    let scores = js_sys::Array::of2(&JsValue::from(1.0), &JsValue::from(f64::NAN));
    let err = ticketsr::wasm::select_patches(scores.into(), options(&[("keep", JsValue::from(0.5))])).err().unwrap();
    assert!(message(err).contains("NaN"));

    up.dispose();
    let img = Object::new();
    let err = wasm_bindgen_futures::JsFuture::from(up.upscale(img.into(), JsValue::UNDEFINED)).await.err().unwrap();
    assert!(message(err).contains("disposed"));
}

/// A content pack made natively loads through the JS API, and its frames come out of the
/// WebGPU player as out of the CPU one; a corrupt pack is an Error, not a panic.
#[wasm_bindgen_test]
async fn a_content_pack_plays_on_webgpu_as_on_the_cpu() {
    use ticketsr::model::wdsr::{self, WdsrConfig};
    use ticketsr::overfit::Method;
    use ticketsr::pack::{Manifest, Pack, play::Player};
    let model = |seed| wdsr::build(WdsrConfig { scale: 2, blocks: 2, channels: 8, expansion: 2 }, seed).unwrap();
    let manifest = Manifest {
        method: Method::Stdo { chunks: 2 },
        scale: 2,
        patch: 8,
        width: 32,
        height: 16,
        frames: 2,
        fps: 25.0,
        held_out: vec![],
        bounds: vec![30.0],
        source: None,
        notes: String::new(),
    };
    let maps = vec![vec![0, 1, 1, 0, 1, 0, 0, 1], vec![1; 8]];
    let pack = Pack { manifest, models: vec![model(1), model(2)], maps, video: vec![1, 2, 3] };
    let bytes = pack.to_bytes().unwrap();
    let lr = decode(FIXTURE).crop(32, 16).unwrap();
    let cpu = Player::new(&pack, &Backend::cpu()).unwrap().frame(&lr, &pack.maps[0]).await.unwrap();

    let js = ticketsr::wasm::ContentPack::load(Uint8Array::from(bytes.as_slice()), JsValue::UNDEFINED).await.unwrap();
    assert_eq!(js.video().to_vec(), [1, 2, 3]);
    let frames = Reflect::get(&js.manifest().unwrap(), &"frames".into()).unwrap();
    assert_eq!(frames.as_f64(), Some(2.0));
    let image = Object::new();
    Reflect::set(&image, &"width".into(), &JsValue::from(32)).unwrap();
    Reflect::set(&image, &"height".into(), &JsValue::from(16)).unwrap();
    Reflect::set(&image, &"data".into(), &Uint8Array::from(lr.data.as_slice())).unwrap();
    let out: web_sys::ImageData = wasm_bindgen_futures::JsFuture::from(js.upscale_frame(0, image.clone().into())).await.unwrap().unchecked_into();
    let gpu = RgbaImage::new(out.width() as usize, out.height() as usize, out.data().0).unwrap();
    let worst = gpu.data.iter().zip(&cpu.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "WebGPU and CPU frames differ by {worst}");
    let err = wasm_bindgen_futures::JsFuture::from(js.upscale_frame(2, image.into())).await.err().unwrap();
    assert!(message(err).contains("not in a pack of 2 frames"));
    let err = ticketsr::wasm::ContentPack::load(Uint8Array::from(&bytes[..bytes.len() / 2]), JsValue::UNDEFINED).await.err().unwrap();
    assert!(message(err).contains("invalid content pack"));
}

/// A video stream through the JS API on WebGPU: the first frame computes every patch, the
/// same frame again reuses them all, and the frames equal the CPU stream's; a second frame
/// while one is in flight and a disposed model are Errors.
#[wasm_bindgen_test]
async fn a_video_stream_reuses_patches_on_webgpu_as_on_the_cpu() {
    use ticketsr::video::{FrameOptions, Stream};
    let model = espcn::build(2, 3).unwrap();
    let gpu_options = Object::new();
    Reflect::set(&gpu_options, &"backend".into(), &"webgpu".into()).unwrap();
    let up = ticketsr::wasm::Upscaler::create(Uint8Array::from(format::to_bytes(&model).unwrap().as_slice()), gpu_options.into()).await.unwrap();
    let stream = up.stream().unwrap();
    let lr = decode(FIXTURE).crop(64, 48).unwrap();
    let image = Object::new();
    Reflect::set(&image, &"width".into(), &JsValue::from(64)).unwrap();
    Reflect::set(&image, &"height".into(), &JsValue::from(48)).unwrap();
    Reflect::set(&image, &"data".into(), &Uint8Array::from(lr.data.as_slice())).unwrap();
    let options = Object::new();
    Reflect::set(&options, &"reuse".into(), &JsValue::from(6.0)).unwrap();
    Reflect::set(&options, &"patchSize".into(), &JsValue::from(16)).unwrap();
    let next = || wasm_bindgen_futures::JsFuture::from(stream.next(image.clone().into(), options.clone().into()));
    let number = |v: &JsValue, k: &str| Reflect::get(v, &k.into()).unwrap().as_f64().unwrap();
    let pixels = |v: &JsValue| {
        let out: web_sys::ImageData = Reflect::get(v, &"image".into()).unwrap().unchecked_into();
        RgbaImage::new(out.width() as usize, out.height() as usize, out.data().0).unwrap()
    };

    let cpu_up = Upscaler::new(&model, Backend::cpu()).unwrap();
    let mut cpu = Stream::new();
    let cpu_options = FrameOptions { patch_size: 16, reuse: Some(6.0), ..Default::default() };
    for (round, (computed, reused)) in [(12.0, 0.0), (0.0, 12.0)].into_iter().enumerate() {
        let first = next();
        let err = next().await.err().unwrap();
        assert!(message(err).contains("still in flight"), "round {round}");
        let frame = first.await.unwrap();
        assert_eq!((number(&frame, "computed"), number(&frame, "reused"), number(&frame, "patches")), (computed, reused, 12.0));
        let (want, report) = cpu.next(&ticketsr::patch::SparseUpscaler::new(&cpu_up), &lr, &cpu_options, &mut Silent).await.unwrap();
        assert_eq!(report.computed as f64, computed);
        let got = pixels(&frame);
        let worst = got.data.iter().zip(&want.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "round {round}: WebGPU and CPU frames differ by {worst}");
    }
    up.dispose();
    assert!(message(next().await.err().unwrap()).contains("disposed"));
}

/// A video frame through the network on the GPU without the CPU: the browser copies an
/// ImageBitmap to a texture, `GpuFrames` makes it the input tensor, the network runs and
/// the output is drawn into a texture; read back here (the test's only readback), it
/// equals the ordinary path. Drawing into a canvas instead is what `gpuCanvas` adds; this
/// headless Chromium on SwiftShader loses the device on any WebGPU canvas presentation,
/// even a plain-JS clear (docs/video.md), so that step is not exercised here.
#[wasm_bindgen_test]
async fn a_video_frame_goes_through_the_network_on_the_gpu_without_the_cpu() {
    use burn::tensor::wgpu::wgpu;
    use ticketsr::video::gpu::GpuFrames;
    use wasm_bindgen_futures::JsFuture;
    let backend = webgpu().await;
    let model = espcn::build(2, 5).unwrap();
    let lr = decode(FIXTURE).crop(40, 24).unwrap();
    let up = Upscaler::new(&model, backend.clone()).unwrap();
    let want = up.upscale(&lr, &mut Silent).await.unwrap();

    let mut frames = GpuFrames::new(&backend).unwrap();
    let setup = frames.setup().clone();
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&lr.data), 40, 24).unwrap();
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(web_sys::window().unwrap().create_image_bitmap_with_image_data(&data).unwrap()).await.unwrap().unchecked_into();
    let input = frames.texture(40, 24, wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::RENDER_ATTACHMENT);
    setup.queue.copy_external_image_to_texture(
        &wgpu::CopyExternalImageSourceInfo { source: wgpu::ExternalImageSource::ImageBitmap(bitmap), origin: wgpu::Origin2d::ZERO, flip_y: false },
        wgpu::CopyExternalImageDestInfo {
            texture: &input,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
            color_space: wgpu::PredefinedColorSpace::Srgb,
            premultiplied_alpha: false,
        },
        input.size(),
    );
    let sr = up.upscale_tensor(frames.tensor_of(&input).unwrap()).unwrap();
    let output = frames.texture(80, 48, wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC);
    frames.draw(sr, &output.create_view(&Default::default()), wgpu::TextureFormat::Rgba8Unorm).unwrap();

    let buffer = setup.device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 512 * 48,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = setup.device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        output.as_image_copy(),
        wgpu::TexelCopyBufferInfo { buffer: &buffer, layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(512), rows_per_image: None } },
        output.size(),
    );
    setup.queue.submit([encoder.finish()]);
    let mapped = js_sys::Promise::new(&mut |resolve, _| {
        buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            r.unwrap();
            resolve.call0(&JsValue::NULL).unwrap();
        });
    });
    JsFuture::from(mapped).await.unwrap();
    let rows: Vec<u8> = buffer.slice(..).get_mapped_range().unwrap().chunks(512).flat_map(|r| r[..80 * 4].to_vec()).collect();
    let got = RgbaImage::new(80, 48, rows).unwrap();
    let worst = got.data.iter().zip(&want.data).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "the frame upscaled on the GPU differs from the ordinary path by {worst}");

    let cpu = ticketsr::wasm::Upscaler::create(Uint8Array::from(format::to_bytes(&model).unwrap().as_slice()), {
        let o = Object::new();
        Reflect::set(&o, &"backend".into(), &"cpu".into()).unwrap();
        o.into()
    })
    .await
    .unwrap();
    let canvas = web_sys::window().unwrap().document().unwrap().create_element("canvas").unwrap();
    assert!(message(cpu.gpu_canvas(canvas.into()).err().unwrap()).contains("GPU backend"));
}

/// The fused convolution kernel (conv + bias + activation in one pass) gives burn's plain
/// path's output on the browser's WebGPU, in floats before 8-bit rounding: on the same
/// weights UpscalerJS runs and on ESPCN (tanh, so no fused activation), whole and cropped,
/// two images at once.
#[wasm_bindgen_test]
async fn the_fused_convolution_equals_the_plain_path_on_webgpu() {
    use burn::tensor::{Tensor, TensorData};
    use ticketsr::gpu::conv::FusedConvs;
    let backend = webgpu().await;
    let setup = backend.wgpu.clone().unwrap();
    let (h, w) = (18, 21);
    let pixels: Vec<f32> = (0..2 * 3 * h * w).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect();
    for model in [format::from_bytes(MODEL).unwrap(), espcn::build(2, 5).unwrap()] {
        let net = model.network(&backend.device).unwrap();
        let fused = FusedConvs::new(&setup, &model.graph, &model.values).unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [2, 3, h, w]), &backend.device);
        for drop in [[0; 4], [3, 1, 0, 2]] {
            let plain = net.forward_cropped(x.clone(), drop).unwrap().into_data_async().await.unwrap().try_to_vec::<f32>().unwrap();
            let fast = net.forward_cropped_fused(x.clone(), drop, &fused).unwrap().into_data_async().await.unwrap().try_to_vec::<f32>().unwrap();
            assert_eq!(plain.len(), fast.len());
            let worst = plain.iter().zip(&fast).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            console_log!("{} {drop:?}: max |fused - plain| = {worst:e}", model.info.name);
            assert!(worst < 1e-4, "{} {drop:?}: fused differs from plain by {worst}", model.info.name);
        }
    }
}
