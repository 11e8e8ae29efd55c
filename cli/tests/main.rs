//! The command line, run as scripts run it: one JSON line per command, clear errors. One
//! binary of modules, as the library's integration tests are (docs/ci.md), sharing their
//! fixture paths.

#[path = "../../crate/tests/integration/common.rs"]
mod common;

mod cli;
mod overfit;

use std::process::Command;

/// Runs the CLI: whether it succeeded, its last stdout line as JSON, its stderr.
fn ticketsr(args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ticketsr")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("null");
    let json = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.success(), json, String::from_utf8_lossy(&out.stderr).into_owned())
}
