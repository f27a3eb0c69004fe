//! The error type of the crate.

use thiserror::Error;

/// Why refining seeds failed. Every message names the option, input or value concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SelectError {
    /// A configuration value out of range (named as its command-line option).
    #[error("{0}")]
    Config(String),
    /// Inputs that do not fit: no real images, seeds or images of the wrong shape, an encoder
    /// whose input size does not fit the model's images, a non-finite value.
    #[error("{0}")]
    Input(String),
    /// Seeds of a latent size the model cannot take (the embedded model's is fixed; Stable
    /// Diffusion's sides must be multiples of its VAE factor).
    #[error("{0}")]
    LatentSize(String),
    /// The model cannot be differentiated (an ONNX export), with what works instead.
    #[error("{0}")]
    NotDifferentiable(String),
    /// A computation failed (a network, reading a tensor back).
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

impl SelectError {
    pub(crate) fn compute(what: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Compute {
            what,
            message: e.to_string(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = SelectError> = std::result::Result<T, E>;
