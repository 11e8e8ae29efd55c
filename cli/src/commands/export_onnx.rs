use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::Result;
use ticketsr::model::onnx;

use crate::files::{load_model, write};

/// Write a model as ONNX (opset 17; RGB in [0, 1], `[n, 3, h, w]` with free height
/// and width), for ONNX Runtime and other runtimes: a pruned or overfitted model too.
#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    #[arg(long, short)]
    output: PathBuf,
}

pub fn run(a: Args) -> Result<Value> {
    let m = load_model(Some(&a.model))?;
    let bytes = onnx::to_bytes(&m)?;
    write(&a.output, &bytes)?;
    Ok(json!({ "command": "export-onnx", "output": a.output, "bytes": bytes.len(), "opset": onnx::OPSET, "info": m.info }))
}
