use thiserror::Error;

/// Errors of the optimiser crate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// A hyper-parameter is out of range.
    #[error("invalid optimiser setting {field} = {value}: {rule}")]
    InvalidConfig {
        /// The field of [`OptimConfig`](crate::OptimConfig).
        field: &'static str,
        /// Its value, as written.
        value: String,
        /// What it must satisfy.
        rule: &'static str,
    },
}
