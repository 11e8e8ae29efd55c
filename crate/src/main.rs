//! The `ticketsr` command line: upscale, evaluate, convert and inspect models natively, on
//! Vulkan (lavapipe included) or the CPU. Every command takes `--json` and then prints one
//! line of machine-readable results, for scripts.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::Instant;

    use clap::{Parser, Subcommand, ValueEnum};
    use indicatif::{ProgressBar, ProgressStyle};
    use serde_json::json;
    use ticketsr::imaging::{self, bicubic, metrics};
    use ticketsr::model::{self, espcn, format, tfjs, wdsr};
    use ticketsr::overfit::{self, Layout, Method, fit};
    use ticketsr::pack::{Manifest, Pack, Source, play::Player};
    use ticketsr::patch::score::Scorer;
    use ticketsr::patch::select::{Selection, select};
    use ticketsr::patch::{Grid, Tickets, evaluate, learned, overlay};
    use ticketsr::train::data::PatchPairs;
    use ticketsr::train::{Checkpoint, TrainConfig, Trainer, video};
    use ticketsr::video::{FrameOptions, Stream};
    use ticketsr::{Backend, BackendChoice, Error, ModelFile, Progress, Result, Upscaler};

    /// The bundled default: UpscalerJS's x2 RDN, converted (see web/models/README.md).
    const DEFAULT_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models/upscalerjs-psnr-small-x2.safetensors");
    /// The bundled learned patch scorer, trained on the default model's gains.
    const DEFAULT_SCORER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models/ticket-scorer-x2.safetensors");

    #[derive(Parser)]
    #[command(name = "ticketsr", version, about = "Super-resolution with sparse networks and winning-ticket patches")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
        /// Print one line of JSON instead of text.
        #[arg(long, global = true)]
        json: bool,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum BackendArg {
        Auto,
        Gpu,
        Cpu,
    }

    impl From<BackendArg> for BackendChoice {
        fn from(b: BackendArg) -> Self {
            match b {
                BackendArg::Auto => BackendChoice::Auto,
                BackendArg::Gpu => BackendChoice::Gpu,
                BackendArg::Cpu => BackendChoice::Cpu,
            }
        }
    }

    #[derive(clap::Args)]
    struct RunArgs {
        /// Model file (ticketsr safetensors); defaults to the bundled UpscalerJS psnr-small x2 RDN.
        #[arg(long, short)]
        model: Option<PathBuf>,
        /// Where to run: the GPU (Vulkan) when available, else the CPU.
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendArg,
        /// Tile side in input pixels (default: derived from the device's buffer limits).
        #[arg(long)]
        tile: Option<usize>,
        /// The learned patch scorer's model (default: the bundled one, when present).
        #[arg(long)]
        scorer_model: Option<PathBuf>,
        /// On the GPU, run convolutions with burn's own kernels instead of the fused one
        /// (to compare the two).
        #[arg(long)]
        plain_kernels: bool,
    }

    /// Batches and the learning-rate schedule of a training run.
    #[derive(clap::Args)]
    struct Schedule {
        #[arg(long, default_value_t = 16)]
        batch: usize,
        /// Adam's learning rate at the first step, decayed along a cosine...
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// ...to this at the last.
        #[arg(long, default_value_t = 1e-5)]
        lr_min: f64,
        /// Seeds the order of patches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum Arch {
        Espcn,
        Wdsr,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum PruneArg {
        /// Zero the smallest weights of the whole network.
        Global,
        /// Zero the smallest share of every layer.
        PerLayer,
        /// Keep 2 of every 4 consecutive input channels of each filter tap.
        TwoOfFour,
        /// Remove whole channels (coupled ones together): a smaller dense network.
        Channel,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum CriterionArg {
        /// Mean absolute weight of the filter (Chase).
        L1,
        /// Root mean square of the filter.
        L2,
        /// Column-subset leverage of the layer's filter matrix (CHEX).
        Leverage,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum BudgetArg {
        Global,
        PerLayer,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum MethodArg {
        Single,
        Stdo,
        Dydca,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Upscale an image with a model.
        Upscale {
            input: PathBuf,
            #[arg(long, short)]
            output: PathBuf,
            #[command(flatten)]
            run: RunArgs,
            /// Run the network only on this share of the patches (winning tickets); the rest
            /// is bicubic. Dense when absent.
            #[arg(long, conflicts_with = "budget_ms")]
            keep: Option<f64>,
            /// Run the network on as many of the best patches as fit in this many
            /// milliseconds, at a cost per patch measured on this image and device first.
            #[arg(long)]
            budget_ms: Option<f64>,
            /// Scorer that picks the tickets: gradient, laplacian, contrast, learned or random.
            #[arg(long, default_value = "gradient")]
            scorer: String,
            /// Patch side in input pixels.
            #[arg(long, default_value_t = ticketsr::patch::DEFAULT_PATCH)]
            patch: usize,
            #[arg(long, default_value_t = 0)]
            seed: u64,
            /// Also save the output with the grid, score heatmap and tickets drawn over it.
            #[arg(long)]
            overlay: Option<PathBuf>,
            /// After the first run (the warm-up), time this many more and report their median.
            #[arg(long, default_value_t = 0)]
            repeat: usize,
        },
        /// Play a clip as the page does, frame by frame: treat its frames as the originals,
        /// downscale them, and report for dense SR, tickets, temporal reuse and both the
        /// milliseconds per frame, the patches computed and reused, and PSNR against the
        /// originals and against dense SR.
        Video {
            clip: PathBuf,
            #[command(flatten)]
            run: RunArgs,
            /// Frames to play from the start of the clip.
            #[arg(long, default_value_t = 30)]
            max_frames: usize,
            /// Keep ratio of the ticket modes.
            #[arg(long, default_value_t = 0.25)]
            keep: f64,
            /// Reuse thresholds in 8-bit levels, comma-separated: a reuse row and a tickets +
            /// reuse row for each.
            #[arg(long, value_delimiter = ',', default_values_t = [FrameOptions::DEFAULT_REUSE])]
            reuse: Vec<f32>,
            /// Patch side in LR pixels.
            #[arg(long, default_value_t = 16)]
            patch: usize,
            /// Scorer of the ticket modes: gradient, laplacian, contrast, learned or random.
            #[arg(long, default_value = "laplacian")]
            scorer: String,
        },
        /// Treat an image as ground truth: downscale it, upscale with the model and with
        /// bicubic, and report PSNR/SSIM of both against it. Given a content pack
        /// (`.tsrpack`), report the pack, bicubic and (with --model) a general model on its
        /// clip instead.
        Eval {
            hr: PathBuf,
            #[command(flatten)]
            run: RunArgs,
            /// Border ignored by the metrics (default: the scale).
            #[arg(long)]
            shave: Option<usize>,
            /// Also write the LR input, the bicubic and the model output as PNGs here.
            #[arg(long)]
            save_dir: Option<PathBuf>,
        },
        /// Winning-ticket patches: treat each image as HR, and report how much of dense SR's
        /// PSNR gain over bicubic each scorer's patches keep at each keep ratio. A folder
        /// stands for the images in it.
        Tickets {
            #[arg(required = true)]
            images: Vec<PathBuf>,
            #[command(flatten)]
            run: RunArgs,
            /// Patch side in LR pixels.
            #[arg(long, default_value_t = ticketsr::patch::DEFAULT_PATCH)]
            patch: usize,
            /// Keep ratios, comma-separated.
            #[arg(long, value_delimiter = ',', default_value = "0.1,0.25,0.5")]
            keep: Vec<f64>,
            /// Scorers, comma-separated: gradient, laplacian, contrast, learned, oracle, stdo, random.
            #[arg(long, value_delimiter = ',', default_value = "gradient,laplacian,contrast,learned,oracle,stdo,random")]
            scorers: Vec<String>,
            /// Seed of the random control.
            #[arg(long, default_value_t = 0)]
            seed: u64,
            /// Use only the central N x N pixels of each image (keeps big photos affordable).
            #[arg(long)]
            crop: Option<usize>,
            /// Save tickets.json (curves and summary) and, per image, an overlay of the first
            /// scorer's tickets here.
            #[arg(long)]
            save_dir: Option<PathBuf>,
            /// Keep ratio the saved overlays show.
            #[arg(long, default_value_t = 0.25)]
            overlay_keep: f64,
        },
        /// Convert a TF.js layers model (model.json beside its shards) to a ticketsr model file.
        Convert {
            model_json: PathBuf,
            #[arg(long, short)]
            output: PathBuf,
            #[arg(long)]
            name: Option<String>,
            /// The pixel range the network was trained on (UpscalerJS models: 255).
            #[arg(long, default_value_t = 255.0)]
            input_range: f32,
            #[arg(long, default_value = "unknown")]
            source: String,
            #[arg(long, default_value = "unknown")]
            licence: String,
        },
        /// Build an architecture from the research (random weights unless --weights is given).
        Build {
            #[arg(value_enum)]
            arch: Arch,
            #[arg(long, default_value_t = 2)]
            scale: usize,
            /// WDSR-B residual blocks.
            #[arg(long, default_value_t = 16)]
            blocks: usize,
            /// WDSR-B feature channels.
            #[arg(long, default_value_t = 32)]
            channels: usize,
            /// WDSR-B width multiplier inside blocks.
            #[arg(long, default_value_t = 4)]
            expansion: usize,
            #[arg(long, default_value_t = 0)]
            seed: u64,
            /// A PyTorch state dict saved as safetensors (weight-norm pairs are folded).
            #[arg(long)]
            weights: Option<PathBuf>,
            #[arg(long, short)]
            output: PathBuf,
        },
        /// Train a model (from `build` or pretrained weights) on images: L1 loss, Adam,
        /// cosine decay, random patch pairs made with the project's bicubic convention.
        Train {
            /// HR training images or videos (decoded by ffmpeg); a folder takes every image
            /// in it.
            #[arg(required = true)]
            images: Vec<PathBuf>,
            /// From videos, take every Nth frame...
            #[arg(long, default_value_t = 1)]
            frame_every: usize,
            /// ...and at most this many frames per video.
            #[arg(long, default_value_t = 100)]
            max_frames: usize,
            /// The model to start from (`ticketsr build ...` for random weights).
            #[arg(long)]
            init: Option<PathBuf>,
            #[arg(long, short)]
            output: PathBuf,
            #[arg(long, default_value_t = 1000)]
            steps: usize,
            /// LR patch side.
            #[arg(long, default_value_t = 48)]
            patch: usize,
            #[command(flatten)]
            schedule: Schedule,
            /// Where to run: the GPU (Vulkan) when available, else the CPU.
            #[arg(long, value_enum, default_value = "auto")]
            backend: BackendArg,
            /// Save a checkpoint (model, optimizer state, step) in this folder...
            #[arg(long)]
            checkpoint: Option<PathBuf>,
            /// ...every this many steps, and at the end.
            #[arg(long, default_value_t = 100)]
            every: usize,
            /// Continue the run saved in this checkpoint folder (its settings win).
            #[arg(long, conflicts_with = "init")]
            resume: Option<PathBuf>,
        },
        /// Train the learned patch scorer: measure the SR model's gain over bicubic on every
        /// patch of these HR images (the oracle), and fit a tiny network to predict it from
        /// the LR patch.
        TrainScorer {
            #[arg(required = true)]
            images: Vec<PathBuf>,
            #[command(flatten)]
            run: RunArgs,
            /// Patch side in LR pixels.
            #[arg(long, default_value_t = 16)]
            patch: usize,
            /// Use only the central N x N pixels of each image.
            #[arg(long)]
            crop: Option<usize>,
            #[arg(long, default_value_t = 3000)]
            steps: usize,
            #[arg(long, default_value_t = 64)]
            batch: usize,
            #[arg(long, default_value_t = 2e-3)]
            lr: f64,
            #[arg(long, default_value_t = 0)]
            seed: u64,
            #[arg(long, short)]
            output: PathBuf,
        },
        /// Overfit small models to one clip (STDO chunks, Dy-DCA branches or a single model)
        /// and write a content pack: the LR video, the models and the per-frame maps.
        Overfit {
            /// The HR clip (a video ffmpeg decodes).
            clip: PathBuf,
            #[arg(long, short)]
            output: PathBuf,
            #[arg(long, value_enum, default_value = "stdo")]
            method: MethodArg,
            /// STDO: how many quantile chunks (one model each).
            #[arg(long, default_value_t = 2)]
            chunks: usize,
            /// Dy-DCA: split big patches whose general-model PSNR is at or below this (dB).
            #[arg(long, default_value_t = ticketsr::overfit::split::DEFAULT_THRESHOLD)]
            threshold: f64,
            /// Dy-DCA: instead of --threshold, split this share (0..1) of the big patches, the
            /// hardest, choosing the threshold on the training frames.
            #[arg(long, conflicts_with = "threshold")]
            split_share: Option<f64>,
            #[arg(long, default_value_t = 2)]
            scale: usize,
            /// LR patch side (Dy-DCA: of a small patch; big ones are twice as wide).
            #[arg(long, default_value_t = 32)]
            patch: usize,
            /// Use the central WxH pixels of every HR frame (e.g. 256x256).
            #[arg(long)]
            crop: Option<String>,
            /// Take every Nth frame of the clip...
            #[arg(long, default_value_t = 1)]
            frame_every: usize,
            /// ...and at most this many.
            #[arg(long, default_value_t = 30)]
            max_frames: usize,
            /// Hold out the last frame of every N (not trained on, reported apart); 0: none.
            #[arg(long, default_value_t = 10)]
            holdout: usize,
            /// The general model that scores patches (default: the bundled WDSR-B at --scale).
            #[arg(long)]
            general: Option<PathBuf>,
            /// The model every overfitted model starts from (default: the general model;
            /// Dy-DCA needs a WDSR-B).
            #[arg(long)]
            init: Option<PathBuf>,
            /// Dy-DCA: blocks of the shallow branch (the first blocks of the deep one).
            #[arg(long, default_value_t = 2)]
            shallow_blocks: usize,
            /// Passes over each model's own patches.
            #[arg(long, default_value_t = 50)]
            epochs: usize,
            #[command(flatten)]
            schedule: Schedule,
            /// x264 quality of the LR video (0 best, 51 worst).
            #[arg(long, default_value_t = 18)]
            crf: u8,
            #[arg(long, value_enum, default_value = "auto")]
            backend: BackendArg,
        },
        /// Reconstruct the HR frames of a content pack and, where the HR clip is at hand (its
        /// recorded source or --hr), report PSNR on the training and the held-out frames.
        PlayPack {
            pack: PathBuf,
            /// The HR clip, if not at the path the pack records.
            #[arg(long)]
            hr: Option<PathBuf>,
            /// Write every reconstructed frame here as PNG.
            #[arg(long)]
            save_dir: Option<PathBuf>,
            #[arg(long, value_enum, default_value = "auto")]
            backend: BackendArg,
        },
        /// Prune a model: zero its smallest weights (the file shrinks with sparsity) or remove
        /// whole channels (a smaller, faster dense network); optionally train it back.
        Prune {
            model: PathBuf,
            #[arg(long, short)]
            output: PathBuf,
            #[arg(long, value_enum, default_value = "global")]
            method: PruneArg,
            /// Share of the weights (global, per-layer) or of the channels (channel) to remove.
            #[arg(long, default_value_t = 0.5)]
            sparsity: f64,
            /// Channel: how channels are scored.
            #[arg(long, value_enum, default_value = "l1")]
            criterion: CriterionArg,
            /// Channel: rank all channels together, or take the same share from every layer.
            #[arg(long, value_enum, default_value = "global")]
            budget: BudgetArg,
            /// Channel: share of every layer's channels that always stays.
            #[arg(long, default_value_t = ticketsr::prune::channel::default_floor())]
            floor: f64,
            /// Channel: every layer keeps a multiple of this many channels (the nearest).
            #[arg(long, default_value_t = ticketsr::prune::channel::default_multiple())]
            multiple: usize,
            /// Steps of recovery training on --data (pruned weights stay zero); with
            /// --lottery or --gradual, the steps of each training.
            #[arg(long, default_value_t = 0)]
            fine_tune: usize,
            /// HR images, folders or videos to train on.
            #[arg(long, num_args = 1..)]
            data: Vec<PathBuf>,
            /// Global magnitude: find a lottery ticket in this many rounds of train, prune,
            /// rewind (then train the ticket once more).
            #[arg(long, conflicts_with = "gradual")]
            lottery: Option<usize>,
            /// Channel: prune gradually while training (Chase's cubic schedule), every N steps.
            #[arg(long)]
            gradual: Option<usize>,
            #[arg(long, default_value_t = 1)]
            frame_every: usize,
            #[arg(long, default_value_t = 100)]
            max_frames: usize,
            /// LR patch side for training.
            #[arg(long, default_value_t = 32)]
            patch: usize,
            #[command(flatten)]
            schedule: Schedule,
            #[arg(long, value_enum, default_value = "auto")]
            backend: BackendArg,
        },
        /// Describe a model file.
        Info { model: PathBuf },
        /// Write a model as ONNX (opset 17; RGB in [0, 1], `[n, 3, h, w]` with free height
        /// and width), for ONNX Runtime and other runtimes: a pruned or overfitted model too.
        ExportOnnx {
            model: PathBuf,
            #[arg(long, short)]
            output: PathBuf,
        },
    }

    fn read(path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
    }

    /// At most `limit` bytes of a regular file: a shard named in a model.json may be a
    /// device or a fifo (`/dev/zero` never ends) or far larger than the model needs.
    fn read_at_most(path: &Path, limit: usize) -> Result<Vec<u8>> {
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

    fn write(path: &Path, bytes: &[u8]) -> Result<()> {
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    fn load_model(path: Option<&Path>) -> Result<ModelFile> {
        let path = path.unwrap_or(Path::new(DEFAULT_MODEL));
        format::from_bytes(&read(path)?).map_err(|e| match e {
            Error::InvalidModel(m) => Error::InvalidModel(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// Image files among `paths`, a folder standing for the images in it (sorted).
    /// HR images and video frames for training.
    fn load_hr(paths: &[PathBuf], frame_every: usize, max_frames: usize) -> Result<Vec<imaging::RgbaImage>> {
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

    fn image_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for p in paths {
            if p.is_dir() {
                let entries = std::fs::read_dir(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "webp" | "bmp")))
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

    /// A checkpoint folder: `model.safetensors`, `optimizer.burnpack`, `state.json`.
    fn save_checkpoint(dir: &Path, c: &Checkpoint) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        write(&dir.join("model.safetensors"), &format::to_bytes(&c.model)?)?;
        write(&dir.join("optimizer.burnpack"), &c.optimizer)?;
        let state = json!({ "step": c.step, "config": c.config });
        write(&dir.join("state.json"), state.to_string().as_bytes())
    }

    fn load_checkpoint(dir: &Path) -> Result<Checkpoint> {
        let state: serde_json::Value = serde_json::from_slice(&read(&dir.join("state.json"))?)
            .map_err(|e| Error::InvalidModel(format!("{}: {e}", dir.join("state.json").display())))?;
        let config: TrainConfig = serde_json::from_value(state["config"].clone())
            .map_err(|e| Error::InvalidModel(format!("{}: config: {e}", dir.display())))?;
        let step = state["step"].as_u64().ok_or_else(|| Error::InvalidModel(format!("{}: no step", dir.display())))? as usize;
        Ok(Checkpoint { model: load_model(Some(&dir.join("model.safetensors")))?, optimizer: read(&dir.join("optimizer.burnpack"))?, step, config })
    }

    /// The bundled general WDSR-B at a scale, the default scorer and start of overfitting.
    fn general_model_path(scale: usize) -> PathBuf {
        PathBuf::from(format!("{}/../web/models/ticketsr-wdsr-b-x{scale}.safetensors", env!("CARGO_MANIFEST_DIR")))
    }

    /// `WxH` as two numbers.
    fn parse_size(s: &str) -> Result<(usize, usize)> {
        let bad = || Error::InvalidArgument(format!("`{s}` is not a size like 256x256"));
        let (w, h) = s.split_once('x').ok_or_else(bad)?;
        Ok((w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?))
    }

    /// The HR frames a pack was made from.
    fn source_frames(source: &Source, path: &Path) -> Result<Vec<imaging::RgbaImage>> {
        let [x, y, w, h] = source.crop;
        video::frames(path, source.frame_every, source.max_frames)?.iter().map(|f| f.crop_at(x, y, w, h)).collect()
    }

    /// A model run densely on every frame, with the milliseconds per frame it took.
    struct Dense {
        model: ModelFile,
        frames: Vec<imaging::RgbaImage>,
        ms_per_frame: f64,
    }

    async fn dense_all(model: &ModelFile, frames: &[imaging::RgbaImage], backend: &Backend) -> Result<Dense> {
        let up = Upscaler::new(model, backend.clone())?;
        let start = Instant::now();
        let mut out = Vec::with_capacity(frames.len());
        for f in frames {
            out.push(up.upscale(f, &mut ticketsr::Silent).await?);
        }
        Ok(Dense { model: model.clone(), frames: out, ms_per_frame: start.elapsed().as_secs_f64() * 1e3 / frames.len().max(1) as f64 })
    }

    /// Every frame of a pack, played; and the milliseconds per frame.
    async fn play_all(pack: &Pack, lr: &[imaging::RgbaImage], backend: &Backend) -> Result<(Vec<imaging::RgbaImage>, f64)> {
        if lr.len() != pack.maps.len() {
            return Err(Error::InvalidPack(format!("the video has {} frames, the maps {}", lr.len(), pack.maps.len())));
        }
        let player = Player::new(pack, backend)?;
        let start = Instant::now();
        let mut out = Vec::with_capacity(lr.len());
        for (f, map) in lr.iter().zip(&pack.maps) {
            out.push(player.frame(f, map).await?);
        }
        Ok((out, start.elapsed().as_secs_f64() * 1e3 / lr.len() as f64))
    }

    /// PSNR of `outputs` on the training frames and on the held-out ones (null when none).
    fn split_psnr(outputs: &[imaging::RgbaImage], hr: &[imaging::RgbaImage], held_out: &[usize], shave: usize) -> Result<serde_json::Value> {
        let part = |held: bool| -> Result<Option<f64>> {
            let idx: Vec<usize> = (0..hr.len()).filter(|i| held_out.contains(i) == held).collect();
            if idx.is_empty() {
                return Ok(None);
            }
            let pick = |v: &[imaging::RgbaImage]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
            Ok(Some(metrics::clip_psnr(&pick(outputs), &pick(hr), shave)?))
        };
        Ok(json!({ "train": part(false)?, "held_out": part(true)? }))
    }

    /// Bicubic, the general models' dense outputs already made, and the pack on a clip: PSNR
    /// on training and held-out frames, parameters, milliseconds per frame.
    async fn pack_rows(pack: &Pack, lr: &[imaging::RgbaImage], hr: &[imaging::RgbaImage], general: &[Dense], backend: &Backend) -> Result<Vec<serde_json::Value>> {
        let m = &pack.manifest;
        let bicubic = dense_all(&model::bicubic(m.scale)?, lr, backend).await?;
        let mut rows = Vec::new();
        for d in std::iter::once(&bicubic).chain(general) {
            rows.push(json!({
                "name": d.model.info.name, "psnr": split_psnr(&d.frames, hr, &m.held_out, m.scale)?,
                "parameters": d.model.graph.parameter_count(), "ms_per_frame": d.ms_per_frame,
            }));
        }
        let (out, ms) = play_all(pack, lr, backend).await?;
        rows.push(json!({
            "name": format!("pack {}", m.method.name()), "psnr": split_psnr(&out, hr, &m.held_out, m.scale)?,
            "parameters": pack.models.iter().map(|x| x.graph.parameter_count()).sum::<usize>(), "ms_per_frame": ms,
        }));
        Ok(rows)
    }

    fn load_pack(path: &Path) -> Result<Pack> {
        Pack::from_bytes(&read(path)?).map_err(|e| Error::InvalidPack(format!("{}: {e}", path.display())))
    }

    /// A pack's decoded LR frames and, when its HR clip is found, the HR frames.
    fn pack_frames(pack: &Pack, hr: Option<&Path>) -> Result<(Vec<imaging::RgbaImage>, Option<Vec<imaging::RgbaImage>>)> {
        let lr = video::decode(&pack.video, pack.manifest.frames)?;
        if lr.len() != pack.manifest.frames {
            return Err(Error::InvalidPack(format!("its video has {} frames, the manifest {}", lr.len(), pack.manifest.frames)));
        }
        let hr = match (&pack.manifest.source, hr) {
            (Some(src), Some(path)) => Some(source_frames(src, path)?),
            (Some(src), None) if Path::new(&src.path).exists() => Some(source_frames(src, Path::new(&src.path))?),
            (None, Some(_)) => return Err(Error::InvalidPack("the pack records no source crop to match the HR clip with".into())),
            _ => None,
        };
        Ok((lr, hr))
    }

    /// Opacity of the score heatmap in saved overlays.
    const OVERLAY_HEAT: f32 = 0.35;

    /// A progress bar over training steps, with a message for the running figures.
    fn step_bar(json: bool, steps: usize) -> ProgressBar {
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(steps as u64) };
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} eta {eta} {msg}") {
            bar.set_style(style);
        }
        bar
    }

    /// A running average over about the last 50 values (`avg` starts as NaN).
    fn running(avg: f64, x: f64) -> f64 {
        if avg.is_nan() { x } else { avg + 0.02 * (x - avg) }
    }

    fn stem(path: &Path) -> String {
        path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into())
    }

    fn load_image(path: &Path) -> Result<imaging::RgbaImage> {
        imaging::decode(&read(path)?).map_err(|e| match e {
            Error::Decode(m) => Error::Decode(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    struct Bar(Option<ProgressBar>);

    impl Progress for Bar {
        async fn tile_done(&mut self, done: usize, total: usize) -> Result<()> {
            if let Some(bar) = &self.0 {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            Ok(())
        }
    }

    fn bar(json: bool) -> Bar {
        if json {
            return Bar(None);
        }
        let bar = ProgressBar::new(1);
        if let Ok(style) = ProgressStyle::with_template("{spinner} tiles {pos}/{len} [{bar:30}] {elapsed} eta {eta}") {
            bar.set_style(style);
        }
        Bar(Some(bar))
    }

    async fn upscaler(model: &ModelFile, run: &RunArgs) -> Result<Upscaler> {
        let backend = Backend::acquire(run.backend.into()).await?;
        let mut up = Upscaler::new(model, backend)?;
        if let Some(t) = run.tile {
            up = up.with_tile_size(t)?;
        }
        if run.plain_kernels {
            up = up.without_fused_kernels();
        }
        match &run.scorer_model {
            Some(path) => up.with_learned_scorer(&load_model(Some(path))?),
            None if Path::new(DEFAULT_SCORER).exists() => up.with_learned_scorer(&load_model(Some(Path::new(DEFAULT_SCORER)))?),
            None => Ok(up),
        }
    }

    async fn execute(cli: Cli) -> Result<serde_json::Value> {
        let json = cli.json;
        match cli.command {
            Command::Upscale { input, output, run, keep, budget_ms, scorer, patch, seed, overlay, repeat } => {
                let model = load_model(run.model.as_deref())?;
                let img = load_image(&input)?;
                let up = upscaler(&model, &run).await?;
                let scorer: Scorer = scorer.parse()?;
                let mut cost = None;
                let selection = match (keep, budget_ms) {
                    (Some(k), _) => Some(Selection::Keep(k)),
                    (None, Some(ms)) => {
                        let grid = Grid::new(img.width, img.height, patch)?;
                        let scores = up.score(scorer, &img, &grid, None, seed).await?;
                        let c = up.measure_cost(&img, &grid, &scores, &mut bar(json)).await?;
                        cost = Some(c);
                        Some(Selection::Budget { ms, cost: c })
                    }
                    (None, None) => None,
                };
                if selection.is_none() && overlay.is_some() {
                    return Err(Error::InvalidArgument("--overlay needs --keep or --budget-ms".into()));
                }
                let once = async |progress: &mut Bar| match selection {
                    None => Ok::<_, Error>((up.upscale(&img, progress).await?, None)),
                    Some(selection) => {
                        let run = up.upscale_tickets(&img, &Tickets { patch, scorer, selection, seed }, progress).await?;
                        Ok((run.image.clone(), Some(run)))
                    }
                };
                let start = Instant::now();
                let (out, tickets) = once(&mut bar(json)).await?;
                let ms = start.elapsed().as_secs_f64() * 1e3;
                let mut times = Vec::with_capacity(repeat);
                for _ in 0..repeat {
                    let start = Instant::now();
                    once(&mut Bar(None)).await?;
                    times.push(start.elapsed().as_secs_f64() * 1e3);
                }
                times.sort_by(f64::total_cmp);
                write(&output, &imaging::encode_png(&out)?)?;
                if let (Some(path), Some(t)) = (&overlay, &tickets) {
                    write(path, &imaging::encode_png(&overlay::draw(&out, &t.grid.scaled(up.scale()), &t.scores, &t.selected, OVERLAY_HEAT)?)?)?;
                }
                Ok(json!({
                    "command": "upscale", "input": input, "output": output,
                    "width": out.width, "height": out.height, "ms": ms, "info": up.info(),
                    "median_ms": times.get(times.len() / 2), "times_ms": times,
                    "patches": tickets.as_ref().map(|t| t.grid.len()), "selected": tickets.map(|t| t.selected),
                    "cost": cost,
                }))
            }
            Command::Video { clip, run, max_frames, keep, reuse, patch, scorer } => {
                let up = upscaler(&load_model(run.model.as_deref())?, &run).await?;
                let s = up.scale();
                let hr = video::frames(&clip, 1, max_frames)?.iter().map(|f| f.crop_to_multiple(s)).collect::<Result<Vec<_>>>()?;
                let lr = hr.iter().map(|f| bicubic::downscale(f, s)).collect::<Result<Vec<_>>>()?;
                let base = FrameOptions { patch_size: patch, scorer: scorer.parse()?, ..Default::default() };
                let mut modes = vec![("dense".to_string(), base), (format!("keep {keep}"), FrameOptions { keep: Some(keep), ..base })];
                for &t in &reuse {
                    modes.push((format!("reuse {t}"), FrameOptions { reuse: Some(t), ..base }));
                    modes.push((format!("keep {keep} + reuse {t}"), FrameOptions { keep: Some(keep), reuse: Some(t), ..base }));
                }
                let bicubic_frames = lr.iter().map(|f| bicubic::resize(f, f.width * s, f.height * s)).collect::<Result<Vec<_>>>()?;
                // The warm-up (first allocations, and shader compilation on a GPU) stays out of the timings.
                up.upscale(&lr[0], &mut ticketsr::Silent).await?;
                let mut dense: Option<Vec<imaging::RgbaImage>> = None;
                let mut rows = Vec::new();
                for (name, options) in modes {
                    let mut stream = Stream::new();
                    let (mut outs, mut times) = (Vec::with_capacity(lr.len()), Vec::with_capacity(lr.len()));
                    let mut shares = [0f64; 4];
                    for f in &lr {
                        let start = Instant::now();
                        let (out, r) = stream.next(&up, f, &options, &mut ticketsr::Silent).await?;
                        times.push(start.elapsed().as_secs_f64() * 1e3);
                        let n = r.patches as f64;
                        for (sum, v) in shares.iter_mut().zip([r.computed as f64 / n, r.reused as f64 / n, r.interpolated as f64 / n, r.work]) {
                            *sum += v / lr.len() as f64;
                        }
                        outs.push(out);
                    }
                    let mean_ms = times.iter().sum::<f64>() / times.len() as f64;
                    times.sort_by(f64::total_cmp);
                    let vs_dense = dense.as_ref().map(|d| metrics::clip_psnr(&outs, d, s)).transpose()?;
                    rows.push(json!({
                        "mode": name, "options": { "keep": options.keep, "reuse": options.reuse },
                        "median_ms": times[times.len() / 2], "mean_ms": mean_ms,
                        "computed": shares[0], "reused": shares[1], "interpolated": shares[2], "work": shares[3],
                        "psnr": metrics::clip_psnr(&outs, &hr, s)?, "psnr_vs_dense": vs_dense,
                    }));
                    dense.get_or_insert(outs);
                }
                Ok(json!({
                    "command": "video", "clip": clip, "frames": lr.len(), "width": lr[0].width, "height": lr[0].height,
                    "scale": s, "patch": patch, "bicubic_psnr": metrics::clip_psnr(&bicubic_frames, &hr, s)?, "rows": rows, "info": up.info(),
                }))
            }
            Command::Eval { hr, run, .. } if hr.extension().is_some_and(|e| e == "tsrpack") => {
                let pack = load_pack(&hr)?;
                let (lr, hr_frames) = pack_frames(&pack, None)?;
                let hr_frames = hr_frames.ok_or_else(|| Error::InvalidArgument("the pack's HR clip is not at the path it records; use play-pack --hr".into()))?;
                let backend = Backend::acquire(run.backend.into()).await?;
                let general = match run.model.as_deref() {
                    Some(p) => vec![dense_all(&load_model(Some(p))?, &lr, &backend).await?],
                    None => vec![],
                };
                let rows = pack_rows(&pack, &lr, &hr_frames, &general, &backend).await?;
                Ok(json!({ "command": "eval-pack", "pack": hr, "manifest": pack.manifest, "rows": rows, "backend": backend.info }))
            }
            Command::Eval { hr, run, shave, save_dir } => {
                let model = load_model(run.model.as_deref())?;
                let s = model.info.scale;
                let hr_img = load_image(&hr)?.crop_to_multiple(s)?;
                let lr = bicubic::downscale(&hr_img, s)?;
                let up = upscaler(&model, &run).await?;
                let start = Instant::now();
                let sr = up.upscale(&lr, &mut bar(json)).await?;
                let ms = start.elapsed().as_secs_f64() * 1e3;
                let base = upscaler(&model::bicubic(s)?, &run).await?.upscale(&lr, &mut ticketsr::Silent).await?;
                let shave = shave.unwrap_or(s);
                let score = |img: &imaging::RgbaImage| -> Result<serde_json::Value> {
                    Ok(json!({
                        "psnr_rgb": metrics::psnr_rgb(img, &hr_img, shave)?,
                        "psnr_y": metrics::psnr_y(img, &hr_img, shave)?,
                        "ssim_y": metrics::ssim_y(img, &hr_img, shave)?,
                    }))
                };
                if let Some(dir) = &save_dir {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                    write(&dir.join("lr.png"), &imaging::encode_png(&lr)?)?;
                    write(&dir.join("bicubic.png"), &imaging::encode_png(&base)?)?;
                    write(&dir.join("sr.png"), &imaging::encode_png(&sr)?)?;
                }
                Ok(json!({
                    "command": "eval", "hr": hr, "width": hr_img.width, "height": hr_img.height,
                    "scale": s, "shave": shave, "model": score(&sr)?, "bicubic": score(&base)?,
                    "ms": ms, "info": up.info(),
                }))
            }
            Command::Convert { model_json, output, name, input_range, source, licence } => {
                let dir = model_json.parent().map(Path::to_path_buf).unwrap_or_default();
                let name = name.unwrap_or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into()));
                let opts = tfjs::TfjsOptions { input_range, name, source, licence };
                let m = tfjs::load(&read(&model_json)?, |shard, limit| read_at_most(&dir.join(shard), limit), &opts)?;
                let bytes = format::to_bytes(&m)?;
                write(&output, &bytes)?;
                Ok(json!({
                    "command": "convert", "output": output, "bytes": bytes.len(),
                    "parameters": m.graph.parameter_count(), "info": m.info,
                }))
            }
            Command::Build { arch, scale, blocks, channels, expansion, seed, weights, output } => {
                let mut m = match arch {
                    Arch::Espcn => espcn::build(scale, seed)?,
                    Arch::Wdsr => wdsr::build(wdsr::WdsrConfig { scale, blocks, channels, expansion }, seed)?,
                };
                if let Some(w) = &weights {
                    let bytes = read(w)?;
                    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| Error::InvalidModel(format!("{}: {e}", w.display())))?;
                    m.values = format::values_for(&m.graph, &st, &Default::default())?;
                    m.info.source = format!("weights from {}", w.display());
                    m.info.licence = "see the weights' source".into();
                }
                let bytes = format::to_bytes(&m)?;
                write(&output, &bytes)?;
                Ok(json!({
                    "command": "build", "output": output, "bytes": bytes.len(),
                    "parameters": m.graph.parameter_count(), "info": m.info,
                }))
            }
            Command::Tickets { images, run, patch, keep, scorers, seed, crop, save_dir, overlay_keep } => {
                let images = image_files(&images)?;
                let scorers = scorers.iter().map(|s| s.parse()).collect::<Result<Vec<Scorer>>>()?;
                if let Some(dir) = &save_dir {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                }
                let model = load_model(run.model.as_deref())?;
                let up = upscaler(&model, &run).await?;
                let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(images.len() as u64) };
                let (mut evals, mut per_image) = (Vec::with_capacity(images.len()), Vec::with_capacity(images.len()));
                let s = up.scale();
                for path in &images {
                    let mut hr = load_image(path)?;
                    if let Some(n) = crop {
                        hr = hr.crop_centre(n.min(hr.width), n.min(hr.height))?;
                    }
                    let e = evaluate::evaluate(&up, &hr, patch, &scorers, &keep, seed, &mut ticketsr::Silent).await?;
                    let mut overlay = None;
                    if let Some(dir) = &save_dir {
                        // The first scorer's tickets at `overlay_keep`, over the bicubic upscaling.
                        let lr = bicubic::downscale(&hr.crop_to_multiple(s)?, s)?;
                        let base = bicubic::resize(&lr, lr.width * s, lr.height * s)?;
                        let scores = &e.curves[0].scores;
                        let selected = select(scores, Selection::Keep(overlay_keep))?;
                        let file = dir.join(format!("{}-{}-keep{}.png", stem(path), e.curves[0].scorer, (overlay_keep * 100.0).round()));
                        write(&file, &imaging::encode_png(&overlay::draw(&base, &e.grid.scaled(s), scores, &selected, OVERLAY_HEAT)?)?)?;
                        overlay = Some(file);
                    }
                    per_image.push(json!({ "image": path, "evaluation": e, "overlay": overlay }));
                    evals.push(e);
                    bar.inc(1);
                }
                bar.finish_and_clear();
                const MIN_GAIN_DB: f64 = 0.1;
                let summary = evaluate::summarise(&evals, MIN_GAIN_DB);
                let result = json!({ "command": "tickets", "patch": patch, "images": per_image, "summary": summary, "info": up.info() });
                if let Some(dir) = &save_dir {
                    let curves = serde_json::to_vec_pretty(&result).map_err(|e| Error::InvalidArgument(e.to_string()))?;
                    write(&dir.join("tickets.json"), &curves)?;
                }
                Ok(result)
            }
            Command::Train { images, frame_every, max_frames, init, output, steps, patch, schedule, backend, checkpoint, every, resume } => {
                let Schedule { batch, lr, lr_min, seed } = schedule;
                let backend = Backend::acquire(backend.into()).await?;
                let mut trainer = match (&resume, &init) {
                    (Some(dir), _) => Trainer::resume(&load_checkpoint(dir)?, &backend.device)?,
                    (None, Some(path)) => {
                        let config = TrainConfig { steps, batch, patch, lr, lr_min, seed };
                        Trainer::new(&load_model(Some(path))?, &backend.device, config)?
                    }
                    (None, None) => return Err(Error::InvalidArgument("give --init MODEL (e.g. from `ticketsr build`) or --resume DIR".into())),
                };
                let config = trainer.config();
                let hr = load_hr(&images, frame_every, max_frames)?;
                let scale = trainer.scale();
                let data = PatchPairs::from_hr(&hr, scale)?;
                let bar = step_bar(json, config.steps);
                bar.set_position(trainer.step_index() as u64);
                let start = Instant::now();
                let (mut loss, mut psnr) = (f64::NAN, f64::NAN);
                while !trainer.is_done() {
                    let r = trainer.step(&data).await?;
                    (loss, psnr) = (running(loss, r.loss), running(psnr, r.psnr));
                    bar.set_position(r.step as u64);
                    bar.set_message(format!("loss {loss:.4} psnr {psnr:.2} dB lr {:.1e}", r.lr));
                    if let Some(dir) = &checkpoint
                        && (r.step % every.max(1) == 0 || trainer.is_done()) {
                            save_checkpoint(dir, &trainer.checkpoint().await?)?;
                        }
                }
                bar.finish_and_clear();
                let minutes = start.elapsed().as_secs_f64() / 60.0;
                let mut model = trainer.model().await?;
                model.info.notes = format!(
                    "trained by `ticketsr train` on {} images or frames ({} steps, batch {}, LR patch {}, Adam lr {:e} cosine to {:e}, L1, seed {}), \
                     {:.1} min on {}; final running loss {loss:.4}, batch PSNR {psnr:.2} dB. {}",
                    hr.len(), config.steps, config.batch, config.patch, config.lr, config.lr_min, config.seed,
                    minutes, backend.info.adapter, model.info.notes
                );
                write(&output, &format::to_bytes(&model)?)?;
                Ok(json!({
                    "command": "train", "output": output, "images": hr.len(), "steps": config.steps,
                    "loss": loss, "psnr": psnr, "minutes": minutes, "backend": backend.info, "parameters": model.graph.parameter_count(),
                }))
            }
            Command::Overfit {
                clip, output, method, chunks, threshold, split_share, scale, patch, crop, frame_every, max_frames, holdout, general, init,
                shallow_blocks, epochs, schedule, crf, backend,
            } => {
                let Schedule { batch, lr, lr_min, seed } = schedule;
                let start = Instant::now();
                let method = match method {
                    MethodArg::Single => Method::Single,
                    MethodArg::Stdo => Method::Stdo { chunks },
                    MethodArg::Dydca => Method::DyDca { threshold },
                };
                let general_path = general.unwrap_or_else(|| general_model_path(scale));
                let general = load_model(Some(&general_path))?;
                if general.info.scale != scale {
                    return Err(Error::InvalidArgument(format!("the general model `{}` is x{}, not x{scale}", general.info.name, general.info.scale)));
                }
                let init = match &init {
                    Some(p) => load_model(Some(p))?,
                    None => general.clone(),
                };
                let inits = match method {
                    Method::DyDca { .. } => overfit::split::branches(&init, shallow_blocks)?.to_vec(),
                    m => vec![init.clone(); m.models()],
                };
                // HR frames, cropped so that whole map cells tile the LR frame.
                let frames = video::frames(&clip, frame_every, max_frames)?;
                let (fw, fh) = (frames[0].width, frames[0].height);
                let (cw, ch) = match &crop { Some(c) => parse_size(c)?, None => (fw, fh) };
                let unit = scale * method.cell(patch);
                let (cw, ch) = (cw.min(fw) / unit * unit, ch.min(fh) / unit * unit);
                let (cx, cy) = ((fw - cw) / 2, (fh - ch) / 2);
                let hr = frames.iter().map(|f| f.crop_at(cx, cy, cw, ch)).collect::<Result<Vec<_>>>()?;
                let layout = Layout::new(method, patch, cw / scale, ch / scale)?;
                // The LR video as the client gets it: bicubic, then H.264; training sees it decoded.
                let fps = video::frame_rate(&clip)? / frame_every.max(1) as f64;
                let lr_clean = hr.iter().map(|f| bicubic::downscale(f, scale)).collect::<Result<Vec<_>>>()?;
                let mp4 = video::encode(&lr_clean, video::Encoding { fps, crf })?;
                let lr_frames = video::decode(&mp4, lr_clean.len())?;
                let held: Vec<bool> = (0..hr.len()).map(|i| holdout > 0 && i % holdout == holdout - 1).collect();
                let clip_frames = fit::Clip { lr: &lr_frames, hr: &hr, held_out: &held };
                let backend = Backend::acquire(backend.into()).await?;
                let general_out = dense_all(&general, &lr_frames, &backend).await?;
                let scores = fit::scores(&layout, &clip_frames, &general_out.frames, scale)?;
                let method = match (method, split_share) {
                    (Method::DyDca { .. }, Some(share)) => {
                        Method::DyDca { threshold: overfit::split::threshold_for_share(&fit::training_scores(&scores, &held), share)? }
                    }
                    (m, _) => m,
                };
                let layout = Layout { method, ..layout };
                let (maps, bounds) = fit::maps(method, &scores, &held)?;
                let halos = inits.iter().map(|m| Ok(m.graph.analyze()?.receptive_radius)).collect::<Result<Vec<_>>>()?;
                let sets = fit::training_sets(&layout, &clip_frames, &maps, scale, &halos)?;
                let patches: Vec<usize> = sets.iter().map(Vec::len).collect();
                let config = fit::FitConfig { epochs, batch, lr, lr_min, seed };
                let total: usize = patches.iter().map(|&n| config.steps(n)).sum();
                let bar = step_bar(json, total);
                let train_start = Instant::now();
                let (mut loss, mut psnr) = (f64::NAN, f64::NAN);
                let fitted = fit::fit(sets, &inits, config, &backend.device, |m, r| {
                    (loss, psnr) = (running(loss, r.loss), running(psnr, r.psnr));
                    bar.inc(1);
                    bar.set_message(format!("model {m}: loss {loss:.4} psnr {psnr:.2} dB"));
                })
                .await?;
                bar.finish_and_clear();
                let train_minutes = train_start.elapsed().as_secs_f64() / 60.0;
                let steps: Vec<usize> = fitted.iter().map(|f| f.steps).collect();
                let held_out: Vec<usize> = (0..hr.len()).filter(|&i| held[i]).collect();
                let manifest = Manifest {
                    method, scale, patch, width: layout.width, height: layout.height, frames: hr.len(), fps, held_out, bounds,
                    source: Some(Source { path: clip.display().to_string(), crop: [cx, cy, cw, ch], frame_every, max_frames }),
                    notes: format!(
                        "`ticketsr overfit` from `{}` (general model `{}`), {} epochs per model over its own patches (batch {batch}, \
                         Adam lr {lr:e} cosine to {lr_min:e}, L1, seed {seed}), patches per model {patches:?}, steps {steps:?}, \
                         {train_minutes:.1} min on {}; LR video x264 crf {crf}",
                        init.info.name, general.info.name, epochs, backend.info.adapter
                    ),
                };
                let pack = Pack { manifest, models: fitted.into_iter().map(|f| f.model).collect(), maps, video: mp4 };
                let bytes = pack.to_bytes()?;
                write(&output, &bytes)?;
                let rows = pack_rows(&pack, &lr_frames, &hr, std::slice::from_ref(&general_out), &backend).await?;
                Ok(json!({
                    "command": "overfit", "output": output, "bytes": bytes.len(), "video_bytes": pack.video.len(),
                    "manifest": pack.manifest, "patches": patches, "steps": steps, "train_minutes": train_minutes,
                    "minutes": start.elapsed().as_secs_f64() / 60.0, "rows": rows, "backend": backend.info,
                }))
            }
            Command::PlayPack { pack: path, hr, save_dir, backend } => {
                let pack = load_pack(&path)?;
                let (lr, hr_frames) = pack_frames(&pack, hr.as_deref())?;
                let backend = Backend::acquire(backend.into()).await?;
                let (out, ms) = play_all(&pack, &lr, &backend).await?;
                if let Some(dir) = &save_dir {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                    for (i, f) in out.iter().enumerate() {
                        write(&dir.join(format!("frame-{i:04}.png")), &imaging::encode_png(f)?)?;
                    }
                }
                let s = pack.manifest.scale;
                let quality = match &hr_frames {
                    Some(hr) => {
                        let base = dense_all(&model::bicubic(s)?, &lr, &backend).await?;
                        json!({ "pack": split_psnr(&out, hr, &pack.manifest.held_out, s)?, "bicubic": split_psnr(&base.frames, hr, &pack.manifest.held_out, s)? })
                    }
                    None => serde_json::Value::Null,
                };
                Ok(json!({
                    "command": "play-pack", "pack": path, "frames": out.len(), "width": out[0].width, "height": out[0].height,
                    "ms_per_frame": ms, "psnr": quality, "manifest": pack.manifest, "backend": backend.info,
                }))
            }
            Command::TrainScorer { images, run, patch, crop, steps, batch, lr, seed, output } => {
                let model = load_model(run.model.as_deref())?;
                let up = upscaler(&model, &run).await?;
                let files = image_files(&images)?;
                let mut hr = Vec::with_capacity(files.len());
                for f in &files {
                    let img = load_image(f)?;
                    hr.push(match crop {
                        Some(n) => img.crop_centre(n.min(img.width), n.min(img.height))?,
                        None => img,
                    });
                }
                let samples = learned::GainSamples::measure(&up, &hr, patch).await?;
                let config = TrainConfig { steps, batch, patch, lr, lr_min: lr / 100.0, seed };
                let bar = step_bar(json, steps);
                let mut mse = f64::NAN;
                let start = Instant::now();
                let mut scorer = learned::train(&samples, config, up.device(), |r| {
                    mse = running(mse, r.loss);
                    bar.set_position(r.step as u64);
                    bar.set_message(format!("mse {mse:.3} dB^2"));
                })
                .await?;
                bar.finish_and_clear();
                let names: Vec<String> = files.iter().map(|f| stem(f)).collect();
                scorer.info.notes = format!(
                    "predicts {}'s PSNR gain over bicubic (dB) per {patch}x{patch} LR patch; trained by `ticketsr train-scorer` on {} patches of {} ({steps} steps, batch {batch}, Adam lr {lr:e}, seed {seed}), {:.1} min; final running MSE {mse:.3} dB^2",
                    model.info.name, samples.len(), names.join(", "), start.elapsed().as_secs_f64() / 60.0
                );
                write(&output, &format::to_bytes(&scorer)?)?;
                Ok(json!({ "command": "train-scorer", "output": output, "patches": samples.len(), "mse": mse, "notes": scorer.info.notes }))
            }
            Command::Prune {
                model, output, method, sparsity, criterion, budget, floor, multiple, fine_tune, data, lottery, gradual, frame_every, max_frames,
                patch, schedule, backend,
            } => {
                use ticketsr::prune::channel::{Budget, ChannelConfig, Criterion};
                use ticketsr::prune::{self, magnitude::Scope, recover};
                let m = load_model(Some(&model))?;
                let channels = ChannelConfig {
                    sparsity,
                    criterion: match criterion {
                        CriterionArg::L1 => Criterion::L1,
                        CriterionArg::L2 => Criterion::L2,
                        CriterionArg::Leverage => Criterion::Leverage,
                    },
                    budget: match budget {
                        BudgetArg::Global => Budget::Global,
                        BudgetArg::PerLayer => Budget::PerLayer,
                    },
                    floor,
                    multiple,
                };
                let pass = match method {
                    PruneArg::Global => prune::Method::Magnitude { sparsity, scope: Scope::Global },
                    PruneArg::PerLayer => prune::Method::Magnitude { sparsity, scope: Scope::PerLayer },
                    PruneArg::TwoOfFour => prune::Method::TwoOfFour,
                    PruneArg::Channel => prune::Method::Channel(channels),
                };
                if lottery.is_some() && !matches!(method, PruneArg::Global) || gradual.is_some() && !matches!(method, PruneArg::Channel) {
                    return Err(Error::InvalidArgument("--lottery goes with --method global, --gradual with --method channel".into()));
                }
                let trains = fine_tune > 0 || lottery.is_some() || gradual.is_some();
                if trains && (fine_tune == 0 || data.is_empty()) {
                    return Err(Error::InvalidArgument("training needs --fine-tune STEPS and --data IMAGES|VIDEO".into()));
                }
                let start = Instant::now();
                let pruned = if !trains {
                    pass.apply(&m)?
                } else {
                    let Schedule { batch, lr, lr_min, seed } = schedule;
                    let config = TrainConfig { steps: fine_tune, batch, patch, lr, lr_min, seed };
                    let device = Backend::acquire(backend.into()).await?.device;
                    let pairs = PatchPairs::from_hr(&load_hr(&data, frame_every, max_frames)?, m.info.scale)?;
                    let trainings = lottery.map_or(1, |r| r + 1);
                    let bar = step_bar(json, fine_tune * trainings);
                    let (mut done, mut psnr) = (0, f64::NAN);
                    let mut on_step = |phase: &str, r: ticketsr::train::StepReport| {
                        done += 1;
                        psnr = running(psnr, r.psnr);
                        bar.set_position(done as u64);
                        bar.set_message(format!("{phase}: psnr {psnr:.2} dB"));
                    };
                    let how = recover::Recovery { data: &pairs, config, device: &device };
                    let out = match (lottery, gradual) {
                        (Some(rounds), _) => recover::lottery(&m, sparsity, rounds, how, &mut on_step).await?,
                        (_, Some(every)) => recover::gradual_channels(&m, &channels, every, how, &mut on_step).await?,
                        _ => recover::fine_tune(&pass.apply(&m)?, how, &mut on_step).await?,
                    };
                    bar.finish_and_clear();
                    out
                };
                let file = format::to_bytes(&pruned)?;
                write(&output, &file)?;
                let before = prune::summary(&m, &m, format::to_bytes(&m)?.len())?;
                Ok(json!({
                    "command": "prune", "output": output, "before": before, "after": prune::summary(&m, &pruned, file.len())?,
                    "minutes": start.elapsed().as_secs_f64() / 60.0, "notes": pruned.info.notes,
                }))
            }
            Command::ExportOnnx { model, output } => {
                let m = load_model(Some(&model))?;
                let bytes = model::onnx::to_bytes(&m)?;
                write(&output, &bytes)?;
                Ok(json!({ "command": "export-onnx", "output": output, "bytes": bytes.len(), "opset": model::onnx::OPSET, "info": m.info }))
            }
            Command::Info { model } => {
                let m = load_model(Some(&model))?;
                let a = m.validate()?;
                Ok(json!({
                    "command": "info", "info": m.info, "parameters": m.graph.parameter_count(),
                    "nodes": m.graph.nodes.len(), "receptive_radius": a.receptive_radius,
                    "macs_per_input_pixel": a.macs_per_input_pixel,
                }))
            }
        }
    }

    fn print_text(v: &serde_json::Value) {
        match v["command"].as_str() {
            Some("prune") => {
                let (b, a) = (&v["before"], &v["after"]);
                println!("{:<22} {:>12} {:>12}", "", "before", "after");
                for key in ["parameters", "nonzero", "macsPerOutputPixel", "bytes"] {
                    println!("{key:<22} {:>12} {:>12}", b[key], a[key]);
                }
                for l in a["layers"].as_array().into_iter().flatten() {
                    println!("  {:<20} channels {:>4} of {:<4} nonzero {:>7} of {}", l["name"].as_str().unwrap_or(""), l["channels"], l["channelsBefore"], l["nonzero"], l["weights"]);
                }
                println!("wrote {}", v["output"].as_str().unwrap_or(""));
            }
            Some("eval") => {
                println!("{} ({}x{}), x{}, shave {}", v["hr"].as_str().unwrap_or(""), v["width"], v["height"], v["scale"], v["shave"]);
                println!("{:<10} {:>9} {:>9} {:>8}", "", "PSNR RGB", "PSNR Y", "SSIM Y");
                for key in ["bicubic", "model"] {
                    let m = &v[key];
                    let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
                    println!("{key:<10} {:>9.3} {:>9.3} {:>8.4}", f("psnr_rgb"), f("psnr_y"), f("ssim_y"));
                }
                println!("model: {} on {} ({}), {:.0} ms",
                    v["info"]["model"]["name"].as_str().unwrap_or(""),
                    v["info"]["backend"]["adapter"].as_str().unwrap_or(""),
                    v["info"]["backend"]["kind"].as_str().unwrap_or(""),
                    v["ms"].as_f64().unwrap_or(0.0));
            }
            Some("overfit") | Some("eval-pack") => {
                let m = &v["manifest"];
                println!("{} x{}, {} frames of {}x{} LR ({} held out)",
                    m["method"]["kind"].as_str().unwrap_or(""), m["scale"], m["frames"], m["width"], m["height"],
                    m["held_out"].as_array().map_or(0, Vec::len));
                println!("{:<34} {:>10} {:>10} {:>10} {:>9}", "", "train dB", "held dB", "params", "ms/frame");
                for row in v["rows"].as_array().into_iter().flatten() {
                    let f = |k: &str| row["psnr"][k].as_f64().map_or("-".into(), |x| format!("{x:.3}"));
                    println!("{:<34} {:>10} {:>10} {:>10} {:>9.0}", row["name"].as_str().unwrap_or(""), f("train"), f("held_out"),
                        row["parameters"], row["ms_per_frame"].as_f64().unwrap_or(f64::NAN));
                }
                if let Some(out) = v["output"].as_str() {
                    println!("wrote {out} ({} bytes, video {}), {:.1} min", v["bytes"], v["video_bytes"], v["minutes"].as_f64().unwrap_or(0.0));
                }
            }
            Some("video") => {
                println!("{}: {} frames of {}x{} LR, x{}, {} px patches, bicubic {:.3} dB, {} on {}",
                    v["clip"].as_str().unwrap_or(""), v["frames"], v["width"], v["height"], v["scale"], v["patch"],
                    v["bicubic_psnr"].as_f64().unwrap_or(f64::NAN), v["info"]["model"]["name"].as_str().unwrap_or(""),
                    v["info"]["backend"]["adapter"].as_str().unwrap_or(""));
                println!("{:<24} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>10}", "mode", "median ms", "computed", "reused", "bicubic", "work", "PSNR dB", "vs dense");
                for row in v["rows"].as_array().into_iter().flatten() {
                    let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
                    let d = row["psnr_vs_dense"].as_f64().map_or("-".into(), |x| format!("{x:.2}"));
                    println!("{:<24} {:>9.1} {:>8.0}% {:>8.0}% {:>8.0}% {:>7.2} {:>9.3} {:>10}", row["mode"].as_str().unwrap_or(""),
                        f("median_ms"), f("computed") * 100.0, f("reused") * 100.0, f("interpolated") * 100.0, f("work"), f("psnr"), d);
                }
            }
            Some("play-pack") => {
                let m = &v["manifest"];
                println!("{}: {} x{}, {} frames of {}x{}, {:.0} ms per frame",
                    v["pack"].as_str().unwrap_or(""), m["method"]["kind"].as_str().unwrap_or(""), m["scale"], v["frames"],
                    v["width"], v["height"], v["ms_per_frame"].as_f64().unwrap_or(f64::NAN));
                for key in ["bicubic", "pack"] {
                    let p = &v["psnr"][key];
                    let f = |k: &str| p[k].as_f64().map_or("-".into(), |x| format!("{x:.3} dB"));
                    if !p.is_null() {
                        println!("{key:<8} training frames {}, held-out frames {}", f("train"), f("held_out"));
                    }
                }
            }
            Some("tickets") => {
                for img in v["images"].as_array().into_iter().flatten() {
                    let e = &img["evaluation"];
                    println!("{}: dense {:.2} dB, bicubic {:.2} dB, {} patches of {} px",
                        img["image"].as_str().unwrap_or(""), e["dense_psnr"].as_f64().unwrap_or(f64::NAN),
                        e["bicubic_psnr"].as_f64().unwrap_or(f64::NAN),
                        e["grid"]["cols"].as_u64().unwrap_or(0) * e["grid"]["rows"].as_u64().unwrap_or(0), v["patch"]);
                }
                println!("{:<10} {:>5}  {:>16}  {:>22}  {:>5}  {:>11}", "scorer", "keep", "dB over bicubic", "share of dense gain", "work", "beats random");
                for row in v["summary"].as_array().into_iter().flatten() {
                    let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
                    let wins = row["beats_random"].as_u64().map(|n| format!("{n}/{}", row["images"])).unwrap_or_default();
                    println!("{:<10} {:>4.0}%  {:>7.3} ± {:<6.3}  {:>6.3} ± {:<5.3} (n={})  {:>5.2}  {:>11}", row["scorer"].as_str().unwrap_or(""),
                        f("keep") * 100.0, f("mean_gain_db"), f("sd_gain_db"), f("mean_share"), f("sd_share"), row["share_images"], f("mean_work"), wins);
                }
                println!("model: {} on {}", v["info"]["model"]["name"].as_str().unwrap_or(""), v["info"]["backend"]["adapter"].as_str().unwrap_or(""));
            }
            _ => match serde_json::to_string_pretty(v) {
                Ok(s) => println!("{s}"),
                Err(_) => println!("{v}"),
            },
        }
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let json = cli.json;
        match pollster::block_on(execute(cli)) {
            Ok(v) => {
                if json { println!("{v}") } else { print_text(&v) }
                ExitCode::SUCCESS
            }
            Err(e) => {
                if json {
                    println!("{}", json!({ "error": e.to_string() }));
                }
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
