use thiserror::Error;

/// Errors of loading the dataset and training.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// the file
        path: String,
        /// what went wrong
        message: String,
    },
    /// A data file holds something unexpected (bad magic, wrong shape, …).
    #[error("{path}: {message}")]
    Format {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
    /// A configuration value or an argument is out of range.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The model crate refused something (a configuration, weights).
    #[error(transparent)]
    Model(#[from] nao_burn::BurnModelError),
    /// Writing an output failed.
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
    /// The progress callback asked to stop (a trainer stops between steps).
    #[error("cancelled")]
    Cancelled,
}

impl TrainError {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            message: e.to_string(),
        }
    }

    pub(crate) fn format(path: impl AsRef<std::path::Path>, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }
}
