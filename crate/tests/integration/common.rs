//! Paths and loaders shared by the native integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use ticketsr::model::{ModelFile, format, tfjs};
use ticketsr::{RgbaImage, imaging};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn read(path: impl Into<PathBuf>) -> Vec<u8> {
    let path = path.into();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn image(path: impl Into<PathBuf>) -> RgbaImage {
    imaging::decode(&read(path)).unwrap()
}

/// A model bundled in `web/models/`, converted from an UpscalerJS npm package that
/// `scripts/setup.sh` installs into tests/node_modules, with the package's fixture and
/// reference output.
pub struct Bundled {
    pub file: &'static str,
    pub package: &'static str,
    pub model_json: &'static str,
    pub reference: &'static str,
    pub source: &'static str,
}

/// The demo's default: idealo-style RDN trained for PSNR (esrgan-legacy `psnr-small`).
pub const PSNR_SMALL: Bundled = Bundled {
    file: "upscalerjs-psnr-small-x2",
    package: "esrgan-legacy",
    model_json: "models/psnr-small/model.json",
    reference: "assets/samples/psnr-small/result.png",
    source: "npm @upscalerjs/esrgan-legacy@1.0.0 (models/psnr-small/model.json), by Kevin Scott",
};

/// The fast choice: UpscalerJS's small default RDN.
pub const RDN: Bundled = Bundled {
    file: "upscalerjs-rdn-x2",
    package: "default-model",
    model_json: "models/model.json",
    reference: "assets/samples/2x/result.png",
    source: "npm @upscalerjs/default-model@1.0.0 (models/model.json), by Kevin Scott",
};

impl Bundled {
    pub fn package_dir(&self) -> PathBuf {
        let dir = repo().join("tests/node_modules/@upscalerjs").join(self.package);
        assert!(dir.exists(), "{} is missing: run scripts/setup.sh (npm ci in tests/)", dir.display());
        dir
    }

    /// The options it was converted with (web/models/README.md).
    pub fn options(&self) -> tfjs::TfjsOptions {
        tfjs::TfjsOptions { input_range: 255.0, name: self.file.into(), source: self.source.into(), licence: "MIT".into() }
    }

    pub fn convert(&self) -> ModelFile {
        let json = self.package_dir().join(self.model_json);
        let dir = json.parent().unwrap().to_path_buf();
        tfjs::load(&read(&json), |shard, _| Ok(read(dir.join(shard))), &self.options()).unwrap()
    }

    pub fn path(&self) -> PathBuf {
        repo().join("web/models").join(format!("{}.safetensors", self.file))
    }

    pub fn load(&self) -> ModelFile {
        format::from_bytes(&read(self.path())).unwrap()
    }

    pub fn fixture(&self) -> RgbaImage {
        image(self.package_dir().join("assets/fixture.png"))
    }

    pub fn reference(&self) -> RgbaImage {
        image(self.package_dir().join(self.reference))
    }
}
