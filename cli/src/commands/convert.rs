use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use ticketsr::Result;
use ticketsr::model::{format, tfjs};

use crate::files::{read, read_at_most, write};

/// Convert a TF.js layers model (model.json beside its shards) to a ticketsr model file.
#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(a: Args) -> Result<Value> {
    let Args { model_json, output, name, input_range, source, licence } = a;
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
