//! Paths and loaders shared by the native integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use ticketsr::model::{ModelFile, format, tfjs};
use ticketsr::{RgbaImage, imaging};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The npm package whose model, fixture and reference output the tests reproduce
/// (installed by `scripts/setup.sh` into tests/node_modules).
pub fn upscalerjs() -> PathBuf {
    let dir = repo().join("tests/node_modules/@upscalerjs/default-model");
    assert!(dir.exists(), "{} is missing: run scripts/setup.sh (npm ci in tests/)", dir.display());
    dir
}

pub fn read(path: impl Into<PathBuf>) -> Vec<u8> {
    let path = path.into();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn image(path: impl Into<PathBuf>) -> RgbaImage {
    imaging::decode(&read(path)).unwrap()
}

/// The options the bundled model was converted with (web/models/README.md).
pub fn upscalerjs_options() -> tfjs::TfjsOptions {
    tfjs::TfjsOptions {
        input_range: 255.0,
        name: "upscalerjs-rdn-x2".into(),
        source: "npm @upscalerjs/default-model@1.0.0 (models/model.json), by Kevin Scott".into(),
        licence: "MIT".into(),
    }
}

pub fn convert_upscalerjs() -> ModelFile {
    let dir = upscalerjs().join("models");
    tfjs::load(&read(dir.join("model.json")), |shard| Ok(read(dir.join(shard))), &upscalerjs_options()).unwrap()
}

pub fn bundled_model() -> ModelFile {
    format::from_bytes(&read(repo().join("web/models/upscalerjs-rdn-x2.safetensors"))).unwrap()
}
