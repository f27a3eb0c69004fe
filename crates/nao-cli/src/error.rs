//! The error type of the `nao` command.

use thiserror::Error;

/// Why a command failed. Every message names the file or option concerned.
#[derive(Debug, Error)]
pub enum CliError {
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] nao_npy::NpyError),
    /// An output could not be written (a path refused, two outputs colliding, the disk full,
    /// an interruption).
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
    /// Making, merging or evaluating a dataset failed (`nao_augment`'s message names the file
    /// or option).
    #[error(transparent)]
    Augment(#[from] nao_augment::AugmentError),
    /// Bad input: a wrong shape, a NaN, an all-zero seed, a bad option value, ….
    #[error("{0}")]
    Input(String),
    /// A library computation failed.
    #[error("{what}: {message}")]
    Compute {
        /// What was being computed.
        what: &'static str,
        /// The library's message.
        message: String,
    },
    /// Writing the report to standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
}

impl CliError {
    /// An input error with the given message.
    pub fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }

    /// Wrap a library error.
    pub fn compute(what: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Compute {
            what,
            message: err.to_string(),
        }
    }
}
