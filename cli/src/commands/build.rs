use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::model::{espcn, format, wdsr};
use ticketsr::{Error, Result};

use crate::files::{read, write};

/// The architectures `build` knows (the library has a builder for each).
#[derive(Clone, Copy, clap::ValueEnum)]
enum Arch {
    Espcn,
    Wdsr,
}

/// Build an architecture from the research (random weights unless --weights is given).
#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(a: Args) -> Result<Value> {
    let Args { arch, scale, blocks, channels, expansion, seed, weights, output } = a;
    let mut m = match arch {
        Arch::Espcn => espcn::build(scale, seed)?,
        Arch::Wdsr => wdsr::build(wdsr::WdsrConfig { scale, blocks, channels, expansion }, seed)?,
    };
    if let Some(w) = &weights {
        m.values = format::values_from_state_dict(&m.graph, &read(w)?).map_err(|e| match e {
            Error::InvalidModel(msg) => Error::InvalidModel(format!("{}: {msg}", w.display())),
            e => e,
        })?;
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
