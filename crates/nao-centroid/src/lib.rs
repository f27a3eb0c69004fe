//! # nao-centroid — centroids of diffusion seeds
//!
//! Averaging a few DDIM-inverted seeds of a rare concept gives a seed that generates it — if the
//! average stays where the model expects seeds to be. The Euclidean mean of k Gaussian seeds has
//! norm ≈ √(d/k), deep inside the χ shell; NAO (Samuel et al., NeurIPS 2023) instead takes the
//! point that minimises the summed geodesic distances of the χ-prior metric plus the prior on its
//! own norm.
//!
//! Methods ([`CentroidMethod`]): Euclidean mean, normalised mean (rescaled to the χ mode or the
//! mean input norm, [`NormTarget`]), spherical (Karcher) mean, Gaussian-preserving mean, the NAO
//! centroid (official objective), its Fréchet variant (squared distances), and a reference-mode
//! port of the official joint optimisation ([`mod@reference`]).
//!
//! ```
//! use nao_centroid::{centroid, CentroidMethod, CentroidOptions};
//! use nao_prior::{norm, GaussianSeeds, RngName};
//! let d = 4096;
//! let mut rng = GaussianSeeds::new(RngName::ChaCha20, 5);
//! let seeds: Vec<Vec<f64>> = (0..5).map(|_| rng.seed(d)).collect();
//! let refs: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
//! let opts = CentroidOptions::default();
//! let mean = centroid(CentroidMethod::Euclidean, &refs, &opts, None).unwrap();
//! let nao = centroid(CentroidMethod::Nao, &refs, &opts, Some(8)).unwrap();
//! // The mean collapses to √(d/k) ≈ 29; the NAO centroid stays on the shell ≈ 64.
//! assert!(norm(&mean.centroid) < 35.0);
//! assert!((norm(&nao.centroid) - 64.0).abs() < 1.0);
//! assert!(nao.objective < mean.objective);
//! assert_eq!(nao.paths.as_ref().unwrap().len(), 5);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod baseline;
mod compute;
mod error;
mod method;
pub mod nao;
pub mod reference;

pub use compute::{centroid, geodesics_to_seeds, path_geometry, path_plan, CentroidResult};
pub use error::CentroidError;
pub use method::{CentroidMethod, CentroidOptions, NormTarget};
pub use nao::{NaoCentroidConfig, NaoObjective};
