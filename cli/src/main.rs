//! The `ticketsr` command line: upscale, evaluate, train, prune, overfit, convert and inspect
//! models natively, on Vulkan (lavapipe included) or the CPU. Every command takes `--json`
//! and then prints one line of machine-readable results, for scripts. This file only
//! dispatches: each command lives in `commands/`, and what it computes in the library.

mod args;
mod commands;
mod files;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use ticketsr::Result;

use commands::*;

#[derive(Parser)]
#[command(name = "ticketsr", version, about = "Super-resolution with sparse networks and winning-ticket patches")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print one line of JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    Upscale(upscale::Args),
    Video(video::Args),
    Eval(eval::Args),
    Tickets(tickets::Args),
    Frontier(frontier::Args),
    Convert(convert::Args),
    Build(build::Args),
    Train(train::Args),
    TrainScorer(train_scorer::Args),
    Overfit(overfit::Args),
    PlayPack(play_pack::Args),
    Prune(prune::Args),
    Info(info::Args),
    ExportOnnx(export_onnx::Args),
}

/// Runs a command; its results as JSON, and how to print them as text.
async fn execute(command: Command, json: bool) -> Result<(serde_json::Value, fn(&serde_json::Value))> {
    Ok(match command {
        Command::Upscale(a) => (upscale::run(a, json).await?, print_pretty),
        Command::Video(a) => (video::run(a).await?, video::print),
        Command::Eval(a) => eval::run(a, json).await?,
        Command::Tickets(a) => (tickets::run(a, json).await?, tickets::print),
        Command::Frontier(a) => (frontier::run(a, json).await?, frontier::print),
        Command::Convert(a) => (convert::run(a)?, print_pretty),
        Command::Build(a) => (build::run(a)?, print_pretty),
        Command::Train(a) => (train::run(a, json).await?, print_pretty),
        Command::TrainScorer(a) => (train_scorer::run(a, json).await?, print_pretty),
        Command::Overfit(a) => (overfit::run(a, json).await?, overfit::print),
        Command::PlayPack(a) => (play_pack::run(a).await?, play_pack::print),
        Command::Prune(a) => (prune::run(a, json).await?, prune::print),
        Command::Info(a) => (info::run(a)?, print_pretty),
        Command::ExportOnnx(a) => (export_onnx::run(a)?, print_pretty),
    })
}

/// Commands without a table of their own print their JSON, indented.
fn print_pretty(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(_) => println!("{v}"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match pollster::block_on(execute(cli.command, json)) {
        Ok((v, print)) => {
            if json {
                println!("{v}")
            } else {
                print(&v)
            }
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
