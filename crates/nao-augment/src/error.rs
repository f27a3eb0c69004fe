//! The error type of the crate.

use thiserror::Error;

/// Why making or reading a dataset failed. Every message names the file, folder, field or
/// option concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AugmentError {
    /// A file could not be read or written (a path refused, the disk full, an interruption).
    #[error(transparent)]
    Fs(#[from] nao_fs::FsError),
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] nao_npy::NpyError),
    /// Bad input: a spec value out of range, a missing class folder, an unreadable image, an
    /// output folder holding another dataset, a damaged manifest.
    #[error("{0}")]
    Input(String),
    /// A computation failed (the model, a centroid, a measure).
    #[error("{what}: {message}")]
    Compute {
        /// What was being computed.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
    /// The progress callback asked to stop; every file written so far is whole, and a rerun
    /// resumes.
    #[error("cancelled")]
    Cancelled,
}

impl AugmentError {
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
pub type Result<T, E = AugmentError> = std::result::Result<T, E>;
