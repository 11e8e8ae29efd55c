//! How long work reports progress and is cancelled: the library's calls take any
//! [`Progress`], the CLI draws bars with it, the JS edge calls `onProgress`, yields to the
//! page and honours an `AbortSignal`.

use crate::error::Result;

/// Told after every tile; returning an error (usually [`crate::Error::Aborted`]) stops the run.
/// Asynchronous so a browser can yield to its event loop and repaint between tiles.
pub trait Progress {
    fn tile_done(&mut self, done: usize, total: usize) -> impl std::future::Future<Output = Result<()>>;

    /// Between steps of long work that is not tiles (planning): a chance to yield and to
    /// stop, nothing to report.
    fn checkpoint(&mut self) -> impl std::future::Future<Output = Result<()>> {
        async { Ok(()) }
    }
}

/// No reporting, never cancels.
pub struct Silent;

impl Progress for Silent {
    async fn tile_done(&mut self, _: usize, _: usize) -> Result<()> {
        Ok(())
    }
}
