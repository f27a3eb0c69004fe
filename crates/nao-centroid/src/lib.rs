//! # nao-centroid — centroids of seeds
#![warn(missing_docs)]

mod error;
pub mod reference;

pub use error::CentroidError;
