//! The error type of the `nao` command.

use std::path::PathBuf;

use thiserror::Error;

/// Why a command failed. Every message names the file or option concerned.
#[derive(Debug, Error)]
pub enum CliError {
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] nao_npy::NpyError),
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
    /// A file or folder could not be created, written or renamed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done ("create the folder", "write", …).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
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

    /// An I/O error on `path` while doing `action`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
