use std::path::PathBuf;

use nao_backend::BackendError;
use thiserror::Error;

/// Errors of loading or running a Stable Diffusion diffusers folder.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SdError {
    /// A file or folder is missing or unreadable.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A config file is malformed or holds a value outside the Stable Diffusion 1.x/2.x family.
    #[error("{}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// The field, its value and what is wrong.
        message: String,
    },
    /// A weights file does not hold what its config describes (a tensor missing, unexpected, of
    /// the wrong shape or dtype), or is not a valid safetensors file.
    #[error("{}: {message}", path.display())]
    Weights {
        /// The safetensors file (or the component folder, when choosing among files).
        path: PathBuf,
        /// The tensor and what is wrong.
        message: String,
    },
    /// A tensor given to the model has the wrong shape.
    #[error("shape error: {0}")]
    Shape(String),
    /// The model lacks the component an operation needs.
    #[error("this model has no {0}")]
    Unsupported(&'static str),
    /// The precision cannot be used on the device.
    #[error("{0}")]
    Device(String),
    /// The tokenizer could not be loaded.
    #[error(transparent)]
    Tokenizer(#[from] nao_clip::ClipError),
    /// burn failed while computing.
    #[error("runtime error: {0}")]
    Runtime(String),
    /// Writing a model folder ([`RandomModel::write`](crate::RandomModel::write)) failed.
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
}

impl SdError {
    pub(crate) fn config(path: &std::path::Path, message: impl Into<String>) -> Self {
        SdError::Config {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn weights(path: &std::path::Path, message: impl Into<String>) -> Self {
        SdError::Weights {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        SdError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

impl From<SdError> for BackendError {
    fn from(e: SdError) -> Self {
        let text = e.to_string();
        match e {
            SdError::Io { path, message } => BackendError::Io {
                path: path.display().to_string(),
                message,
            },
            SdError::Config { path, message } | SdError::Weights { path, message } => {
                BackendError::Config {
                    path: path.display().to_string(),
                    message,
                }
            }
            SdError::Shape(m) => BackendError::Shape(m),
            SdError::Unsupported(what) => BackendError::Unsupported(what),
            SdError::Device(m) => BackendError::Device(m),
            SdError::Tokenizer(nao_clip::ClipError::Io { path, source }) => BackendError::Io {
                path: path.display().to_string(),
                message: source.to_string(),
            },
            SdError::Tokenizer(_) => BackendError::Config {
                path: "tokenizer".into(),
                message: text,
            },
            SdError::Runtime(m) => BackendError::Runtime(m),
            SdError::Output(nao_fs::FsError::Interrupted) => BackendError::Cancelled,
            SdError::Output(_) => BackendError::Runtime(text),
        }
    }
}
