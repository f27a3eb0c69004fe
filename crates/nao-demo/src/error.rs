//! The error type of the crate.

use thiserror::Error;

/// Why the demo failed. Every message names the setting (as `nao demo` names it), class or
/// value concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A setting out of its bounds, named as the command line names it (`--groups 0`, …).
    #[error("{0}")]
    Input(String),
    /// A computation failed (the model, a centroid, the classifier, a picture).
    #[error("{what}: {message}")]
    Compute {
        /// What was being computed.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl DemoError {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }

    pub(crate) fn compute(what: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Compute {
            what,
            message: err.to_string(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = DemoError> = std::result::Result<T, E>;
