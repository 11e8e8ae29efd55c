//! One error type for the whole library, so the CLI prints it and the JS API turns it into
//! an `Error` without either edge knowing the details.

/// Everything that can go wrong in ticketsr. Every variant carries a message a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file that is corrupt, truncated, or whose header does not match its data.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// A layer type the loader does not know, named so the user can report it.
    #[error("unsupported layer type `{class}` (layer `{layer}`)")]
    UnsupportedLayer { layer: String, class: String },
    /// An image with impossible dimensions or a buffer that does not match them.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// Bytes that no decoder understands.
    #[error("could not decode image: {0}")]
    Decode(String),
    /// The compute device could not be set up or failed while running.
    #[error("backend error: {0}")]
    Backend(String),
    /// A content pack that is corrupt, truncated, of another version, or whose parts disagree.
    #[error("invalid content pack: {0}")]
    InvalidPack(String),
    /// The caller asked to stop; partial results were discarded.
    #[error("aborted")]
    Aborted,
    /// Wrong arguments to a library call, such as an unknown option value.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn model(msg: impl Into<String>) -> Self {
        Error::InvalidModel(msg.into())
    }

    pub(crate) fn image(msg: impl Into<String>) -> Self {
        Error::InvalidImage(msg.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}
