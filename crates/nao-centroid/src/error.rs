use nao_geodesic::GeodesicError;
use thiserror::Error;

/// Errors of the centroid crate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CentroidError {
    /// An error of the path machinery (shapes, non-finite values, configuration, divergence).
    #[error(transparent)]
    Geodesic(#[from] GeodesicError),
}
