use thiserror::Error;

/// Errors of the embedded burn model: loading, data, training.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BurnModelError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// the file
        path: String,
        /// what went wrong
        message: String,
    },
    /// A data or weight file holds something unexpected (bad magic, wrong shape, …).
    #[error("{path}: {message}")]
    Format {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
    /// A prompt names no known class.
    #[error("unknown prompt {prompt:?}: the embedded model knows the classes {known} (or \"\" for no class)")]
    UnknownPrompt {
        /// the prompt as given
        prompt: String,
        /// the known class names, comma separated
        known: String,
    },
    /// A tensor or argument has the wrong shape or value.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The device or runtime failed while computing.
    #[error("runtime error: {0}")]
    Runtime(String),
    /// Writing an output failed.
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
}

impl BurnModelError {
    pub(crate) fn format(path: impl AsRef<std::path::Path>, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }
}

impl From<BurnModelError> for nao_backend::BackendError {
    fn from(e: BurnModelError) -> Self {
        match e {
            BurnModelError::Io { path, message } => Self::Io { path, message },
            BurnModelError::Format { path, message } => Self::Config { path, message },
            e @ BurnModelError::UnknownPrompt { .. } => Self::Prompt(e.to_string()),
            BurnModelError::Invalid(m) => Self::Shape(m),
            e => Self::Runtime(e.to_string()),
        }
    }
}
