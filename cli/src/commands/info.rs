use std::path::PathBuf;

use serde_json::{Value, json};
use ticketsr::Result;

use crate::files::load_model;

/// Describe a model file.
#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
}

pub fn run(a: Args) -> Result<Value> {
    let m = load_model(Some(&a.model))?;
    let analysis = m.validate()?;
    Ok(json!({
        "command": "info", "info": m.info, "parameters": m.graph.parameter_count(),
        "nodes": m.graph.nodes.len(), "receptive_radius": analysis.receptive_radius,
        "macs_per_input_pixel": analysis.macs_per_input_pixel,
    }))
}
