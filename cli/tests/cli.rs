//! The command line, as a script would use it: one JSON line per command, clear errors.

use std::process::Command;

use crate::{common, ticketsr};

#[test]
fn eval_reports_model_and_bicubic_on_a_real_photo() {
    let photo = common::repo().join("web/media/astronaut-256.png");
    let (ok, v, err) = ticketsr(&["eval", photo.to_str().unwrap(), "--backend", "cpu", "--json"]);
    assert!(ok, "{err}");
    let model = v["model"]["psnr_rgb"].as_f64().unwrap();
    let bicubic = v["bicubic"]["psnr_rgb"].as_f64().unwrap();
    println!("astronaut-256 x2: {} {model:.2} dB, bicubic {bicubic:.2} dB", v["info"]["model"]["name"]);
    assert!(model >= bicubic + 0.5 && bicubic > 25.0);
    let ssim = v["model"]["ssim_y"].as_f64().unwrap();
    assert!(ssim > 0.9 && ssim < 1.0);
}

#[test]
fn info_and_convert_describe_the_model() {
    let (ok, v, _) = ticketsr(&["info", common::PSNR_SMALL.path().to_str().unwrap(), "--json"]);
    assert!(ok);
    assert_eq!(v["info"]["scale"], 2);
    assert_eq!(v["parameters"].as_u64().unwrap(), 2_619_635);

    let dir = std::env::temp_dir().join(format!("ticketsr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("m.safetensors");
    let json = common::RDN.package_dir().join(common::RDN.model_json);
    let (ok, v, err) = ticketsr(&["convert", json.to_str().unwrap(), "-o", out.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    assert_eq!(v["info"]["scale"], 2);
    assert!(out.exists());
}

#[test]
fn export_onnx_writes_the_model_and_refuses_a_corrupt_one() {
    let dir = std::env::temp_dir().join(format!("ticketsr-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("rdn.onnx");
    let model = common::repo().join("web/models/upscalerjs-rdn-x2.safetensors");
    let (ok, v, err) = ticketsr(&["export-onnx", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(v["bytes"].as_u64().unwrap(), bytes.len() as u64);
    // 222,075 float parameters, and little else.
    assert!(bytes.len() > 222_075 * 4 && bytes.len() < 222_075 * 4 + 64_000, "{} bytes", bytes.len());
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, b"not a model").unwrap();
    let (ok, v, _) = ticketsr(&["export-onnx", bad.to_str().unwrap(), "-o", dir.join("x.onnx").to_str().unwrap(), "--json"]);
    assert!(!ok && v["error"].is_string(), "{v}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("ticketsr-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let corrupt = dir.join("corrupt.safetensors");
    let mut bytes = common::read(common::RDN.path());
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, &bytes).unwrap();
    let not_image = dir.join("notes.png");
    std::fs::write(&not_image, b"plain text, not a picture").unwrap();
    let photo = common::repo().join("web/media/astronaut-256.png");

    let (ok, v, err) = ticketsr(&["info", corrupt.to_str().unwrap(), "--json"]);
    assert!(!ok);
    assert!(err.contains("invalid model") && err.contains("corrupt"), "{err}");
    assert!(v["error"].as_str().unwrap().contains("invalid model"));

    let (ok, _, err) = ticketsr(&["upscale", photo.to_str().unwrap(), "-o", "/dev/null", "--model", corrupt.to_str().unwrap(), "--json"]);
    assert!(!ok);
    assert!(err.contains("invalid model"), "{err}");

    let (ok, _, err) = ticketsr(&["upscale", not_image.to_str().unwrap(), "-o", "/dev/null", "--backend", "cpu", "--json"]);
    assert!(!ok);
    assert!(err.contains("could not decode image"), "{err}");
}

#[test]
fn train_writes_a_model_and_a_checkpoint_it_can_resume() {
    let dir = std::env::temp_dir().join(format!("ticketsr-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let photo = common::repo().join("web/media/astronaut-256.png");
    let (ok, _, err) = ticketsr(&["build", "espcn", "--scale", "2", "-o", &path("init.safetensors"), "--json"]);
    assert!(ok, "{err}");
    let train =
        ["train", photo.to_str().unwrap(), "--init", &path("init.safetensors"), "--steps", "6", "--batch", "2", "--patch", "16", "--backend", "cpu", "--json"];
    let (ok, v, err) = ticketsr(&[&train[..], &["-o", &path("a.safetensors"), "--checkpoint", &path("ckpt"), "--every", "3"]].concat());
    assert!(ok, "{err}");
    assert_eq!((v["steps"].as_u64(), v["images"].as_u64()), (Some(6), Some(1)));
    assert!(v["loss"].as_f64().unwrap().is_finite());
    let (ok, info, _) = ticketsr(&["info", &path("a.safetensors"), "--json"]);
    assert!(ok);
    assert!(info["info"]["notes"].as_str().unwrap().contains("trained by `ticketsr train` on 1 images or frames (6 steps"));
    // The checkpoint holds the finished run; resuming it has nothing left to do and writes
    // the same weights.
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("ckpt/state.json")).unwrap()).unwrap();
    assert_eq!(state["step"], 6);
    let (ok, _, err) = ticketsr(&["train", photo.to_str().unwrap(), "--resume", &path("ckpt"), "-o", &path("b.safetensors"), "--backend", "cpu", "--json"]);
    assert!(ok, "{err}");
    let load = |name: &str| ticketsr::model::format::from_bytes(&std::fs::read(dir.join(name)).unwrap()).unwrap();
    assert_eq!(load("a.safetensors").values, load("b.safetensors").values);
    assert_ne!(load("a.safetensors").values, load("init.safetensors").values);
    // Neither --init nor --resume is a clear error.
    let (ok, v, _) = ticketsr(&["train", photo.to_str().unwrap(), "-o", &path("c.safetensors"), "--json"]);
    assert!(!ok && v["error"].as_str().unwrap().contains("--init"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn prune_zeroes_the_asked_share_and_the_model_still_upscales() {
    let dir = std::env::temp_dir().join(format!("ticketsr-prune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = common::repo().join("web/models/ticketsr-espcn-x2.safetensors");
    let photo = common::repo().join("web/media/astronaut-256.png");
    let mut psnr = vec![];
    for (method, want) in [(&["--method", "magnitude"][..], 0.5), (&["--scope", "per-layer"], 0.5), (&["--method", "two-of-four"], 0.49)] {
        let out = dir.join(format!("{}.safetensors", method[1]));
        let (ok, v, err) = ticketsr(&[&["prune", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--json"], method].concat());
        assert!(ok, "{err}");
        let after = &v["after"];
        let s = 1.0 - after["nonzero"].as_f64().unwrap() / after["parameters"].as_f64().unwrap();
        assert!((s - want).abs() < 0.02, "{method:?}: {s}");
        // Stored compactly: the file shrinks with the zeros (4-byte values, a bit each for the mask).
        let bytes = std::fs::metadata(&out).unwrap().len() as f64;
        assert!(bytes < v["before"]["bytes"].as_f64().unwrap() * 0.6, "{method:?}: {bytes} bytes");
        let (ok, e, err) = ticketsr(&["eval", photo.to_str().unwrap(), "--model", out.to_str().unwrap(), "--backend", "cpu", "--json"]);
        assert!(ok, "{err}");
        psnr.push(e["model"]["psnr_rgb"].as_f64().unwrap());
    }
    let (ok, dense, _) = ticketsr(&["eval", photo.to_str().unwrap(), "--model", model.to_str().unwrap(), "--backend", "cpu", "--json"]);
    assert!(ok);
    println!("ESPCN x2 dense {:.2} dB; pruned 50% global/per-layer/2:4 {psnr:.2?}", dense["model"]["psnr_rgb"].as_f64().unwrap());
    // Pruning without fine-tuning costs quality: the outputs differ from dense.
    assert!(psnr.iter().all(|p| *p < dense["model"]["psnr_rgb"].as_f64().unwrap()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn channel_pruning_gives_a_smaller_model_that_fine_tuning_recovers() {
    let dir = std::env::temp_dir().join(format!("ticketsr-channel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = common::repo().join("web/models/ticketsr-espcn-x2.safetensors");
    let photo = common::repo().join("web/media/astronaut-256.png");
    let eval = |m: &std::path::Path| {
        let (ok, e, err) = ticketsr(&["eval", photo.to_str().unwrap(), "--model", m.to_str().unwrap(), "--backend", "cpu", "--json"]);
        assert!(ok, "{err}");
        e["model"]["psnr_rgb"].as_f64().unwrap()
    };
    let (plain, tuned) = (dir.join("plain.safetensors"), dir.join("tuned.safetensors"));
    let args = ["prune", model.to_str().unwrap(), "--method", "channel", "--sparsity", "0.5", "--budget", "per-layer", "--json"];
    let (ok, v, err) = ticketsr(&[&args[..], &["-o", plain.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let (before, after) = (&v["before"], &v["after"]);
    // Half of every hidden layer of ESPCN (64, 64, 32 channels) goes; the 12 before the shuffle stay.
    let kept: u64 = after["layers"].as_array().unwrap().iter().map(|l| l["channels"].as_u64().unwrap()).sum();
    assert_eq!(kept, 80 + 12);
    assert!(after["macsPerOutputPixel"].as_f64().unwrap() < before["macsPerOutputPixel"].as_f64().unwrap() * 0.4);
    let (ok, _, err) = ticketsr(
        &[
            &args[..],
            &["-o", tuned.to_str().unwrap(), "--fine-tune", "30", "--batch", "4", "--patch", "24", "--data", photo.to_str().unwrap(), "--backend", "cpu"],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    let (p, t) = (eval(&plain), eval(&tuned));
    println!("ESPCN x2 50% channels: {p:.2} dB, after 30 steps of fine-tuning {t:.2} dB");
    assert!(t > p + 0.5);
    // Training flags without data are refused with a message, not run.
    let (ok, _, err) = ticketsr(&[&args[..], &["-o", tuned.to_str().unwrap(), "--fine-tune", "5"]].concat());
    assert!(!ok && err.contains("--data"), "{err}");
    // By reconstruction on the photo's LR (a different crop set from the evaluation's HR),
    // then distilled: the same channels go, and the output stays near the dense model's.
    let (calibrated, distilled) = (dir.join("calibrated.safetensors"), dir.join("distilled.safetensors"));
    let lr = dir.join("lr.png");
    std::fs::write(&lr, ticketsr::imaging::encode_png(&ticketsr::imaging::bicubic::downscale(&common::image(&photo), 2).unwrap()).unwrap()).unwrap();
    let recon = [&args[..], &["--criterion", "reconstruction", "--calibrate", lr.to_str().unwrap(), "--backend", "cpu"]].concat();
    let (ok, v, err) = ticketsr(&[&recon[..], &["-o", calibrated.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let kept: u64 = v["after"]["layers"].as_array().unwrap().iter().map(|l| l["channels"].as_u64().unwrap()).sum();
    assert_eq!(kept, 80 + 12);
    let train = ["--fine-tune", "3", "--batch", "4", "--patch", "24", "--lr", "1e-4", "--distill", "--data", photo.to_str().unwrap()];
    let (ok, _, err) = ticketsr(&[&recon[..], &["-o", distilled.to_str().unwrap()], &train[..]].concat());
    assert!(ok, "{err}");
    let (dense, c, d) = (eval(&model), eval(&calibrated), eval(&distilled));
    println!("ESPCN x2 50% channels by reconstruction: {c:.2} dB, distilled 3 steps {d:.2} dB (dense {dense:.2}, L1 {p:.2})");
    assert!(c > p + 10.0 && c > dense - 1.5 && d > dense - 1.5, "{c} {d}");
    // Calibration without the criterion that reads it, or the criterion without images, is refused.
    let (ok, _, err) = ticketsr(&[&args[..], &["-o", tuned.to_str().unwrap(), "--calibrate", lr.to_str().unwrap()]].concat());
    assert!(!ok && err.contains("--calibrate"), "{err}");
    let (ok, _, err) = ticketsr(&[&args[..], &["-o", tuned.to_str().unwrap(), "--criterion", "reconstruction"]].concat());
    assert!(!ok && err.contains("--calibrate"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn frontier_places_dense_pruned_and_ticket_runs_and_draws_the_front() {
    let dir = std::env::temp_dir().join(format!("ticketsr-frontier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = common::repo().join("web/models/ticketsr-espcn-x2.safetensors");
    let photo = common::repo().join("web/media/astronaut-256.png");
    // Video frames count as originals too: two of the bundled clip's.
    let clip = common::repo().join("web/media/carphone-176.webm");
    let svg = dir.join("frontier.svg");
    let args = ["frontier", photo.to_str().unwrap(), clip.to_str().unwrap(), "--max-frames", "2", "--models", model.to_str().unwrap(), "--sparsity", "0.5"];
    let rest = ["--keep", "0.25", "--calibrate", photo.to_str().unwrap(), "--crop", "96", "--repeat", "1", "--backend", "cpu", "--svg", svg.to_str().unwrap(), "--json"];
    let (ok, v, err) = ticketsr(&[&args[..], &rest[..]].concat());
    assert!(ok, "{err}");
    assert!(v["title"].as_str().unwrap().starts_with("3 photos or frames x2"), "{}", v["title"]);
    let labels: Vec<&str> = v["points"].as_array().unwrap().iter().map(|p| p["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["bicubic", "ticketsr-espcn-x2", "ticketsr-espcn-x2 keep 25%", "ticketsr-espcn-x2 -50% ch", "ticketsr-espcn-x2 -50% ch keep 25%"]);
    assert!(v["points"].as_array().unwrap().iter().any(|p| p["point"]["on_front"] == true));
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg") && drawn.contains("Pareto front"));
    let (ok, _, err) = ticketsr(&["frontier", photo.to_str().unwrap(), "--models", model.to_str().unwrap(), "--backend", "cpu"]);
    assert!(!ok && err.contains("--calibrate"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_misspelt_option_or_choice_is_an_error_in_every_command() {
    let photo = common::repo().join("web/media/astronaut-256.png");
    let photo = photo.to_str().unwrap();
    let model = common::PSNR_SMALL.path();
    let model = model.to_str().unwrap();
    for args in [
        &["upscale", photo, "-o", "/dev/null", "--keeep", "0.25"][..],
        &["upscale", photo, "-o", "/dev/null", "--scorer", "gradiant"],
        &["upscale", photo, "-o", "/dev/null", "--backend", "tpu"],
        &["eval", photo, "--shaved", "2"],
        &["tickets", photo, "--scorers", "gradient,oracel"],
        &["prune", model, "-o", "/dev/null", "--criterion", "l3"],
        &["prune", model, "-o", "/dev/null", "--budget", "per_layer"],
        &["prune", model, "-o", "/dev/null", "--method", "global"],
        &["prune", model, "-o", "/dev/null", "--scope", "layer"],
        &["overfit", photo, "-o", "/dev/null", "--method", "dy-dca"],
        &["overfit", photo, "-o", "/dev/null", "--crop", "256by256"],
        &["info", model, "--verbose"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ticketsr")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error:") && (err.contains("unexpected argument") || err.contains("invalid value")), "{args:?}: {err}");
    }
}

#[test]
fn gains_only_runs_where_the_learned_scorer_predicts_a_gain() {
    let photo = common::repo().join("web/media/astronaut-256.png");
    let model = common::repo().join("web/models/ticketsr-espcn-x2.safetensors");
    let out = std::env::temp_dir().join(format!("ticketsr-gains-{}.png", std::process::id()));
    let args =
        ["upscale", photo.to_str().unwrap(), "-o", out.to_str().unwrap(), "--model", model.to_str().unwrap(), "--gains-only", "--backend", "cpu", "--json"];
    let (ok, _, err) = ticketsr(&args);
    assert!(!ok && err.contains("does not predict SR's gain"), "{err}");
    let (ok, v, err) = ticketsr(&[&args[..], &["--scorer", "learned"]].concat());
    assert!(ok, "{err}");
    let (selected, patches) = (v["selected"].as_array().unwrap().len(), v["patches"].as_u64().unwrap() as usize);
    assert!(selected <= patches && v["width"] == 512, "{v}");
    std::fs::remove_file(&out).ok();
}
