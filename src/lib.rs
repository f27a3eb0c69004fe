//! # nao
//!
//! Facade crate of the nao workspace: norm-aware optimisation (NAO, Samuel et al., NeurIPS 2023)
//! for the latent seed space of diffusion models.
//!
//! Each part is also usable as its own crate:
//! - [`prior`] (`nao-prior`): the χ distribution of Gaussian seed norms;
//! - [`geodesic`] (`nao-geodesic`): interpolation paths (LERP, SLERP, NLERP, NAO geodesics);
//! - [`centroid`] (`nao-centroid`): centroids of several seeds (Euclidean, spherical, NAO, …).
#![warn(missing_docs)]

#[cfg(feature = "geometry")]
pub use nao_centroid as centroid;
#[cfg(feature = "geometry")]
pub use nao_geodesic as geodesic;
#[cfg(feature = "geometry")]
pub use nao_prior as prior;
