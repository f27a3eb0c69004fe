use thiserror::Error;

/// Errors of the geodesic crate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum GeodesicError {
    /// The two seeds have different numbers of elements.
    #[error("seed dimensions differ: {a} vs {b}")]
    DimensionMismatch {
        /// elements of the first seed
        a: usize,
        /// elements of the second seed
        b: usize,
    },
    /// A seed has no elements.
    #[error("seed '{which}' is empty")]
    Empty {
        /// which seed
        which: &'static str,
    },
    /// A seed holds NaN or ±∞.
    #[error("seed '{which}' has a non-finite value at index {index}")]
    NonFinite {
        /// which seed
        which: &'static str,
        /// first offending index
        index: usize,
    },
    /// A seed is all zeros: the χ prior's weight −log χ(0) is infinite there (d ≥ 2).
    #[error("seed '{which}' is all zeros: its NAO cost is infinite")]
    ZeroSeed {
        /// which seed
        which: &'static str,
    },
    /// Fewer than two frames were asked for (the endpoints are always included).
    #[error("a path needs at least 2 frames (endpoints included), got {0}")]
    TooFewFrames(usize),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An array has the wrong number of elements.
    #[error("{what}: expected {expected} elements, got {got}")]
    ShapeMismatch {
        /// which array
        what: &'static str,
        /// expected element count
        expected: usize,
        /// actual element count
        got: usize,
    },
    /// An optimiser's loss became NaN or infinite.
    #[error("the loss became non-finite ({loss}) at iteration {iteration}")]
    NonFiniteLoss {
        /// iteration (0-based) whose loss was not finite
        iteration: usize,
        /// the offending value
        loss: f64,
    },
    /// An optimiser setting is out of range.
    #[error(transparent)]
    Optim(#[from] nao_optim::OptimError),
    /// The χ prior could not be built.
    #[error(transparent)]
    Prior(#[from] nao_prior::PriorError),
}
