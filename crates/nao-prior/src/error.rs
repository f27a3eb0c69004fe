use thiserror::Error;

/// Errors of the χ prior crate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum PriorError {
    /// The degrees of freedom must be at least 1.
    #[error("the χ prior needs at least one degree of freedom (got dim = {0})")]
    ZeroDimension(usize),
    /// A probability outside `[0, 1]` (or NaN) was passed to a quantile function.
    #[error("probability {0} is outside [0, 1]")]
    InvalidProbability(f64),
    /// An unknown RNG name was requested.
    #[error("unknown RNG '{name}' (known: {known})")]
    UnknownRng {
        /// the name given
        name: String,
        /// the known names, comma separated
        known: String,
    },
}
