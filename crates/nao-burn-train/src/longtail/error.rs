//! The error type of the experiment.

use thiserror::Error;

use crate::error::TrainError;

/// Why the experiment stopped. Every message names the file, option or configuration
/// concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LongtailError {
    /// A spec value or a list of configurations that no experiment can run with.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Loading the data, training or scoring failed.
    #[error(transparent)]
    Train(TrainError),
    /// Making a generated set failed (`nao augment`'s work, in-process).
    #[error("generating the {method} images: {source}")]
    Generate {
        /// The seed method of the set.
        method: String,
        /// Why (boxed: the augment error is large, and this one travels through every
        /// result of the experiment).
        source: Box<nao_augment::AugmentError>,
    },
    /// Measuring the generated sets failed (`nao eval`'s work, in-process).
    #[error("measuring the generated images: {0}")]
    Evaluate(Box<nao_augment::AugmentError>),
    /// The embedded model could not be opened.
    #[error("the embedded model: {0}")]
    Model(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or folder.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Writing an output failed (a path refused, the disk full, an interruption).
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
    /// The results do not hold what the plan asked for (see
    /// [`Results::check`](super::Results::check)).
    #[error("the results are incomplete: {0}")]
    Incomplete(String),
    /// The progress callback asked to stop. Every finished training run and generated image
    /// is kept, so a rerun resumes.
    #[error("cancelled")]
    Cancelled,
}

impl From<TrainError> for LongtailError {
    fn from(e: TrainError) -> Self {
        match e {
            TrainError::Cancelled => Self::Cancelled,
            other => Self::Train(other),
        }
    }
}

impl LongtailError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// An augment error of `method`'s set (its cancellation is the experiment's).
    #[cfg(feature = "embedded")]
    pub(crate) fn generate(method: impl std::fmt::Display, e: nao_augment::AugmentError) -> Self {
        match e {
            nao_augment::AugmentError::Cancelled => Self::Cancelled,
            source => Self::Generate {
                method: method.to_string(),
                source: Box::new(source),
            },
        }
    }

    /// An evaluation error (its cancellation is the experiment's).
    #[cfg(feature = "embedded")]
    pub(crate) fn evaluate(e: nao_augment::AugmentError) -> Self {
        match e {
            nao_augment::AugmentError::Cancelled => Self::Cancelled,
            other => Self::Evaluate(Box::new(other)),
        }
    }
}

/// The module's result type.
pub type Result<T, E = LongtailError> = std::result::Result<T, E>;
