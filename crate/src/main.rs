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
    use ticketsr::patch::score::Scorer;
    use ticketsr::patch::select::{Selection, select};
    use ticketsr::patch::{Grid, Tickets, evaluate, learned, overlay};
    use ticketsr::train::data::PatchPairs;
    use ticketsr::train::{Checkpoint, TrainConfig, Trainer, video};
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
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum Arch {
        Espcn,
        Wdsr,
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
        },
        /// Treat an image as ground truth: downscale it, upscale with the model and with
        /// bicubic, and report PSNR/SSIM of both against it.
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
            #[arg(long, default_value_t = 16)]
            batch: usize,
            /// LR patch side.
            #[arg(long, default_value_t = 48)]
            patch: usize,
            #[arg(long, default_value_t = 1e-3)]
            lr: f64,
            #[arg(long, default_value_t = 1e-5)]
            lr_min: f64,
            #[arg(long, default_value_t = 0)]
            seed: u64,
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
        /// Describe a model file.
        Info { model: PathBuf },
    }

    fn read(path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
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
            up = up.with_tile_size(t);
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
            Command::Upscale { input, output, run, keep, budget_ms, scorer, patch, seed, overlay } => {
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
                let start = Instant::now();
                let (out, tickets) = match selection {
                    None if overlay.is_some() => return Err(Error::InvalidArgument("--overlay needs --keep or --budget-ms".into())),
                    None => (up.upscale(&img, &mut bar(json)).await?, None),
                    Some(selection) => {
                        let tickets = Tickets { patch, scorer, selection, seed };
                        let run = up.upscale_tickets(&img, &tickets, &mut bar(json)).await?;
                        (run.image.clone(), Some(run))
                    }
                };
                let ms = start.elapsed().as_secs_f64() * 1e3;
                write(&output, &imaging::encode_png(&out)?)?;
                if let (Some(path), Some(t)) = (&overlay, &tickets) {
                    write(path, &imaging::encode_png(&overlay::draw(&out, &t.grid.scaled(up.scale()), &t.scores, &t.selected, OVERLAY_HEAT)?)?)?;
                }
                Ok(json!({
                    "command": "upscale", "input": input, "output": output,
                    "width": out.width, "height": out.height, "ms": ms, "info": up.info(),
                    "patches": tickets.as_ref().map(|t| t.grid.len()), "selected": tickets.map(|t| t.selected),
                    "cost": cost,
                }))
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
                let m = tfjs::load(&read(&model_json)?, |shard| read(&dir.join(shard)), &opts)?;
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
            Command::Train { images, frame_every, max_frames, init, output, steps, batch, patch, lr, lr_min, seed, backend, checkpoint, every, resume } => {
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
                let files = image_files(&images)?;
                let mut hr = Vec::new();
                for f in &files {
                    if video::is_video(f) {
                        hr.extend(video::frames(f, frame_every, max_frames)?);
                    } else {
                        hr.push(load_image(f)?);
                    }
                }
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
