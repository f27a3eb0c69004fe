use thiserror::Error;

/// Errors of a diffusion backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BackendError {
    /// A model file or folder is missing or unreadable.
    #[error("{path}: {message}")]
    Io {
        /// the file or folder
        path: String,
        /// what went wrong
        message: String,
    },
    /// A config file is malformed or holds an unsupported value.
    #[error("{path}: {message}")]
    Config {
        /// the config file
        path: String,
        /// what is wrong
        message: String,
    },
    /// A tensor has the wrong shape.
    #[error("shape error: {0}")]
    Shape(String),
    /// The backend lacks a component (e.g. no VAE encoder: inversion is impossible).
    #[error("this model has no {0}")]
    Unsupported(&'static str),
    /// A prompt cannot be encoded (e.g. an unknown class name).
    #[error("prompt error: {0}")]
    Prompt(String),
    /// The runtime (ONNX Runtime, burn, …) failed.
    #[error("runtime error: {0}")]
    Runtime(String),
    /// A device or precision name is unknown, or the device cannot be used.
    #[error("{0}")]
    Device(String),
    /// The model takes integer timesteps only, and a scheduler asked for a fractional one.
    #[error(
        "this model takes integer timesteps only, and the scheduler asked for timestep {0} \
         (fractional timesteps come from linspace timestep spacing or Karras sigmas in the \
         Euler, Heun and LMS schedulers: choose leading or trailing spacing, or another scheduler)"
    )]
    FractionalTimestep(f64),
    /// The caller cancelled the operation (from a progress callback).
    #[error("cancelled")]
    Cancelled,
}
