//! The error type of the crate.

use thiserror::Error;

/// Why a walk failed. Every message names the keyframe, file or option concerned (options by
/// their `nao walk` names, which the fields of [`WalkSpec`](crate::WalkSpec) document).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WalkError {
    /// A file could not be read or written (a path refused, the disk full, an interruption).
    #[error(transparent)]
    Fs(#[from] nao_fs::FsError),
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] nao_npy::NpyError),
    /// Bad input: a spec value out of range, a keyframe that does not fit the model, an
    /// unreadable image, a work folder that is not a walk's.
    #[error("{0}")]
    Input(String),
    /// A computation failed (the model, a path, an encoder).
    #[error("{what}: {message}")]
    Compute {
        /// What was being computed.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
    /// The progress callback asked to stop. Every frame cached so far is whole, so the same
    /// walk resumes from the work folder.
    #[error("cancelled")]
    Cancelled,
}

impl WalkError {
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
pub type Result<T, E = WalkError> = std::result::Result<T, E>;
