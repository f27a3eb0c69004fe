use nao_geodesic::GeodesicError;
use thiserror::Error;

/// Errors of the centroid crate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CentroidError {
    /// An error of the path machinery (shapes, non-finite values, configuration, divergence).
    #[error(transparent)]
    Geodesic(#[from] GeodesicError),
    /// No seeds were given.
    #[error("a centroid needs at least one seed")]
    NoSeeds,
    /// A seed's length differs from the first seed's.
    #[error("seed {index} has {got} elements, seed 0 has {expected}")]
    DimensionMismatch {
        /// which seed
        index: usize,
        /// elements of seed 0
        expected: usize,
        /// elements of this seed
        got: usize,
    },
    /// A seed holds NaN or ±∞.
    #[error("seed {seed} has a non-finite value at index {index}")]
    NonFinite {
        /// which seed
        seed: usize,
        /// first offending element
        index: usize,
    },
    /// A seed is all zeros (its NAO cost is infinite, its direction undefined).
    #[error("seed {0} is all zeros")]
    ZeroSeed(usize),
    /// A configuration value is out of range.
    #[error("invalid centroid configuration: {0}")]
    InvalidConfig(String),
}
