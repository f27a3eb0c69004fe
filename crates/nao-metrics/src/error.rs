use thiserror::Error;

/// Why a measure cannot be computed.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum MetricsError {
    /// The data do not form `n` rows of `dim` values.
    #[error("feature shape: {0}")]
    Shape(String),
    /// Too few samples for the measure (a covariance needs 2, k-NN balls need k + 1).
    #[error("too few samples: {0}")]
    TooFew(String),
    /// A feature value is NaN or infinite.
    #[error("feature row {row}, column {column} is not finite ({value})")]
    NonFinite {
        /// the row
        row: usize,
        /// the column
        column: usize,
        /// the value
        value: f64,
    },
    /// A class name the classifier does not know.
    #[error("class '{name}' is not one of the classifier's classes (known: {known})")]
    UnknownClass {
        /// the name asked for
        name: String,
        /// the classes it knows
        known: String,
    },
    /// The classifier failed, or returned what does not fit its images.
    #[error("the classifier: {0}")]
    Classifier(String),
}
