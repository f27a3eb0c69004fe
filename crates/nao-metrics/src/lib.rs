//! # nao-metrics — how far a generated image set is from a real one
//!
//! The measures the field uses to judge generated data, computed on feature vectors (for nao's
//! embedded model, the penultimate layer of its Fashion-MNIST classifier: an FID computed in this
//! domain's own feature space, not Inception's):
//!
//! - [`frechet_distance`]: `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½})` between the
//!   Gaussians fitted to two sets, with the matrix square roots taken from symmetric
//!   eigendecompositions in `f64` (negative eigenvalues from rounding are clamped to zero), so it
//!   is finite and ≥ 0 even for singular covariances;
//! - [`precision_recall`] (Kynkäänniemi et al., 2019) and [`density_coverage`] (Naeem et al.,
//!   2020) on k-nearest-neighbour balls (k = 5 is customary);
//! - [`diversity`]: the mean pairwise distance within a set;
//! - [`measure`]: all of them for one generated set against the real images, as
//!   [`SetMetrics`], from the verdicts and features of a [`FeatureClassifier`]
//!   ([`ScoredImages`]): what `nao eval` reports and `nao demo` tabulates.
//!
//! ```
//! use nao_metrics::{frechet_distance, Features};
//! let a = Features::new(2, vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0])?;
//! let shifted = Features::new(2, vec![3.0, 0.0, 4.0, 0.0, 3.0, 1.0, 4.0, 1.0])?;
//! assert!(frechet_distance(&a, &a)?.abs() < 1e-12);
//! // same covariance, means 3 apart: FD = 3²
//! assert!((frechet_distance(&a, &shifted)? - 9.0).abs() < 1e-9);
//! # Ok::<(), nao_metrics::MetricsError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod classifier;
mod error;
mod features;
mod frechet;
mod measure;
mod neighbours;

pub use classifier::{ClassifierInput, FeatureClassifier, ScoredImages, Verdict};
pub use measure::{measure, SetMetrics, DEFAULT_K};

pub use error::MetricsError;
pub use features::Features;
pub use frechet::{frechet_distance, mean_and_covariance, sqrtm_psd};
pub use neighbours::{
    density_coverage, diversity, precision_recall, DensityCoverage, PrecisionRecall,
};
