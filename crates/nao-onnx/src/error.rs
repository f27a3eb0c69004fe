use std::path::PathBuf;

use nao_backend::BackendError;
use thiserror::Error;

/// Errors of the ONNX backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// Neither [`OnnxOptions::library_path`](crate::OnnxOptions) nor `ORT_DYLIB_PATH` names the
    /// ONNX Runtime library.
    #[error(
        "the ONNX Runtime library is not configured: set ORT_DYLIB_PATH to libonnxruntime \
         (ONNX Runtime >= {}; `cargo xtask setup-ort` downloads one) or pass \
         OnnxOptions::with_library_path",
        crate::REQUIRED_ORT_VERSION
    )]
    LibraryNotConfigured,
    /// The ONNX Runtime library could not be loaded (missing file, not a library, too old).
    #[error(
        "cannot load the ONNX Runtime library {}: {message} (nao-onnx needs ONNX Runtime >= {}; \
         `cargo xtask setup-ort` downloads one)",
        path.display(),
        crate::REQUIRED_ORT_VERSION
    )]
    Library {
        /// The library path that was tried.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file or folder the model needs is missing or unreadable.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A config file is malformed or holds an unsupported value.
    #[error("{}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model's inputs or outputs are not those of a Stable Diffusion component.
    #[error("{}: {message}", path.display())]
    Model {
        /// The `.onnx` file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A tensor given to the backend has the wrong shape for the model.
    #[error("shape error: {0}")]
    Shape(String),
    /// The model lacks the component an operation needs (e.g. no VAE encoder).
    #[error("this model has no {0}")]
    Unsupported(&'static str),
    /// The options are invalid (e.g. zero threads, CUDA without the `cuda` feature).
    #[error("invalid options: {0}")]
    Options(String),
    /// The tokenizer could not be loaded.
    #[error(transparent)]
    Tokenizer(#[from] nao_clip::ClipError),
    /// ONNX Runtime failed while creating a session or running a model.
    #[error("{}: {message}", path.display())]
    Runtime {
        /// The `.onnx` file of the session.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
}

impl From<OnnxError> for BackendError {
    fn from(e: OnnxError) -> Self {
        let text = e.to_string();
        match e {
            OnnxError::Io { path, message } => BackendError::Io {
                path: path.display().to_string(),
                message,
            },
            OnnxError::Config { path, message } | OnnxError::Model { path, message } => {
                BackendError::Config {
                    path: path.display().to_string(),
                    message,
                }
            }
            OnnxError::Shape(message) => BackendError::Shape(message),
            OnnxError::Unsupported(what) => BackendError::Unsupported(what),
            OnnxError::Tokenizer(nao_clip::ClipError::Io { path, source }) => BackendError::Io {
                path: path.display().to_string(),
                message: source.to_string(),
            },
            OnnxError::Tokenizer(_) => BackendError::Config {
                path: "tokenizer".into(),
                message: text,
            },
            _ => BackendError::Runtime(text),
        }
    }
}
