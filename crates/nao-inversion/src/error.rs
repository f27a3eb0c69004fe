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
    /// An inversion method's name or parameters are not valid.
    #[error("inversion method '{value}': {reason}")]
    InvalidMethod {
        /// the method as given
        value: String,
        /// why it is refused
        reason: String,
    },
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

impl InversionError {
    /// The error of reading the image file `path`, worded for people: what could not be done
    /// with which file (a decoding failure, a size the resize policy refuses, …).
    ///
    /// ```
    /// use nao_inversion::InversionError;
    /// let e = InversionError::InvalidInput("the image is 64×96 but the model takes 64×64".into());
    /// let e = e.for_file(std::path::Path::new("cat.png")).to_string();
    /// assert!(e.starts_with("cat.png: the image is 64×96") && e.contains("resize"), "{e}");
    /// ```
    pub fn for_file(self, path: &std::path::Path) -> Self {
        let message = match self {
            InversionError::Image { message, .. } => {
                format!("cannot read it as a PNG or JPEG image: {message}")
            }
            InversionError::InvalidInput(message) => format!("{message} (see --resize)"),
            other => other.to_string(),
        };
        InversionError::Image {
            path: path.display().to_string(),
            message,
        }
    }
}
