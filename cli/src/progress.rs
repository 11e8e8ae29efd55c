//! Progress on the terminal (hidden under `--json`): tiles of an upscaling, steps of a
//! training with its running figures.

use indicatif::{ProgressBar, ProgressStyle};
use ticketsr::{Progress, Result};

/// Tiles done, as the library's [`Progress`] reports them.
pub struct Tiles(Option<ProgressBar>);

impl Tiles {
    pub fn new(json: bool) -> Self {
        if json {
            return Self(None);
        }
        let bar = ProgressBar::new(1);
        if let Ok(style) = ProgressStyle::with_template("{spinner} tiles {pos}/{len} [{bar:30}] {elapsed} eta {eta}") {
            bar.set_style(style);
        }
        Self(Some(bar))
    }

    pub fn hidden() -> Self {
        Self(None)
    }
}

impl Progress for Tiles {
    async fn tile_done(&mut self, done: usize, total: usize) -> Result<()> {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        Ok(())
    }
}

/// A bar over `steps` training steps (or images), with a message for the running figures.
pub fn steps(json: bool, steps: usize) -> ProgressBar {
    let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(steps as u64) };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} eta {eta} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// A running average over about the last 50 values (`avg` starts as NaN).
pub fn running(avg: f64, x: f64) -> f64 {
    if avg.is_nan() { x } else { avg + 0.02 * (x - avg) }
}
