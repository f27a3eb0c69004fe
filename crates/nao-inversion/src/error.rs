use nao_backend::BackendError;
use nao_sampling::SamplingError;
use thiserror::Error;

/// Errors of image loading, inversion and reconstruction.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InversionError {
    /// The model backend failed (or lacks a component: no VAE encoder, no inversion).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The scheduler or the sampling loop failed.
    #[error(transparent)]
    Sampling(SamplingError),
    /// An image file cannot be read or decoded.
    #[error("{path}: {message}")]
    Image {
        /// the file (or `<memory>`)
        path: String,
        /// what went wrong
        message: String,
    },
    /// An option or an input is out of range.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl From<SamplingError> for InversionError {
    /// A cancelled sampling loop is a cancelled operation; backend errors stay backend errors.
    fn from(e: SamplingError) -> Self {
        match e {
            SamplingError::Cancelled => Self::Cancelled,
            SamplingError::Backend(b) => Self::Backend(b),
            other => Self::Sampling(other),
        }
    }
}
