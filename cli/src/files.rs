//! Files the commands read and write, with the path in every error, and the bundled models
//! they default to.

use std::path::{Path, PathBuf};

use ticketsr::imaging::{self, RgbaImage};
use ticketsr::model::format;
use ticketsr::pack::Pack;
use ticketsr::train::video;
use ticketsr::{Error, ModelFile, Result};

/// The bundled default: UpscalerJS's x2 RDN, converted (see web/models/README.md).
const DEFAULT_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models/upscalerjs-psnr-small-x2.safetensors");
/// The bundled learned patch scorer, trained on the default model's gains.
pub const DEFAULT_SCORER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models/ticket-scorer-x2.safetensors");

/// The bundled general WDSR-B at a scale, the default scorer and start of overfitting.
pub fn general_model_path(scale: usize) -> PathBuf {
    PathBuf::from(format!("{}/../web/models/ticketsr-wdsr-b-x{scale}.safetensors", env!("CARGO_MANIFEST_DIR")))
}

/// Reading and writing a whole file, the path in the error: the library's own.
pub use ticketsr::platform::{read_file as read, write_file as write};

/// At most `limit` bytes of a regular file: a shard named in a model.json may be a
/// device or a fifo (`/dev/zero` never ends) or far larger than the model needs.
pub fn read_at_most(path: &Path, limit: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |e| Error::io(format!("reading {}", path.display()), e);
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(Error::InvalidArgument(format!("{} is not a regular file", path.display())));
    }
    let mut bytes = Vec::new();
    file.take(limit as u64).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}

/// The model at `path`, or the bundled default.
pub fn load_model(path: Option<&Path>) -> Result<ModelFile> {
    format::load(path.unwrap_or(Path::new(DEFAULT_MODEL)))
}

pub fn load_image(path: &Path) -> Result<RgbaImage> {
    imaging::decode(&read(path)?).map_err(|e| match e {
        Error::Decode(m) => Error::Decode(format!("{}: {m}", path.display())),
        e => e,
    })
}

pub fn load_pack(path: &Path) -> Result<Pack> {
    Pack::from_bytes(&read(path)?).map_err(|e| Error::InvalidPack(format!("{}: {e}", path.display())))
}

/// Image files among `paths`, a folder standing for the images in it (sorted).
pub fn image_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "webp" | "bmp"))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidArgument("no training images found".into()));
    }
    Ok(out)
}

/// HR images and video frames for training.
pub fn load_hr(paths: &[PathBuf], frame_every: usize, max_frames: usize) -> Result<Vec<RgbaImage>> {
    let mut hr = Vec::new();
    for f in &image_files(paths)? {
        if video::is_video(f) {
            hr.extend(video::frames(f, frame_every, max_frames)?);
        } else {
            hr.push(load_image(f)?);
        }
    }
    Ok(hr)
}

/// A file's name without its extension, for names of files written beside it.
pub fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into())
}
