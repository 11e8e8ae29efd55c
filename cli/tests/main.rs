//! The command line, run as scripts run it: one JSON line per command, clear errors. One
//! binary of modules, as the library's integration tests are (docs/ci.md), sharing their
//! fixture paths.

#[path = "../../crate/tests/integration/common.rs"]
mod common;

mod cli;
mod overfit;
