//! The error type of the crate.

use thiserror::Error;

/// Why a sweep failed. Every message names the option, class, file or value concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Bad input: a setting out of its bounds (named as the command line names it), a class
    /// without enough real images, an image that cannot be read.
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

impl SweepError {
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
pub type Result<T, E = SweepError> = std::result::Result<T, E>;
