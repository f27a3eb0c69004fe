//! # nao-geodesic — interpolation paths between diffusion seeds
//!
//! A Gaussian seed of a diffusion model lies, with overwhelming probability, near the sphere of
//! radius `√(d−1)` (the χ mode). LERP between two seeds cuts through the inside of that shell,
//! where the model makes flat, noisy images. NAO (Samuel et al., NeurIPS 2023) instead
//! interpolates along the geodesic of the conformal metric `−log χ_d(‖x‖)·|dx|`: the path that
//! minimises the likelihood-weighted length `∫ −log χ(‖γ‖) ‖γ′‖`.
//!
//! This crate offers:
//! - the baselines [`lerp`], [`slerp`], [`nlerp`] and the Gaussian-preserving [`gaussian`];
//! - [`Nao`]: the **exact** NAO geodesic and distance, solved in the plane of the endpoints with
//!   Clairaut's first integral (cost independent of `d` apart from `O(d)` vector work);
//! - [`mod@reference`]: a faithful port of the official discretised optimiser (50 points, Adam);
//! - [`polyline_cost`]: the continuous NAO functional of any polyline, so every method is
//!   measured with the same yardstick, and [`resampled_reference_loss`], the official discrete
//!   loss of any polyline resampled to 50 points;
//! - [`resample_by_arc_length`]: resampling a polyline uniformly in arc length, and
//!   [`LengthTable`]: the cumulative length (arc length or NAO cost) of any method's path at
//!   evenly spaced weights, to place points at fractions of its length;
//! - [`interpolate`] with a [`Method`] chosen by name, and [`interpolate_at`] at any positions
//!   along the path (for easing and pacing).
//!
//! ```
//! use nao_geodesic::{interpolate, polyline_cost, Method, Nao, Spacing};
//! use nao_prior::{ChiPrior, GaussianSeeds, RngName};
//! let d = 1024;
//! let mut rng = GaussianSeeds::new(RngName::ChaCha20, 3);
//! let (a, b): (Vec<f64>, Vec<f64>) = (rng.seed(d), rng.seed(d));
//! let prior = ChiPrior::new(d).unwrap();
//! let nao = Nao::new(d).unwrap();
//! let exact = nao.distance(&a, &b).unwrap();
//! for m in [Method::Lerp, Method::Slerp, Method::Nao] {
//!     let frames = interpolate(m, &a, &b, 64, Spacing::Euclidean).unwrap();
//!     // No path is cheaper than the geodesic.
//!     assert!(polyline_cost(&prior, &frames) >= exact * (1.0 - 1e-6));
//! }
//! ```
#![warn(missing_docs)]

mod baseline;
mod brent;
mod circle;
mod cost;
mod error;
mod frames;
mod leg;
mod length;
mod method;
mod nao;
mod plan;
mod planar;
mod plane;
mod quad;
pub mod reference;
mod resample;
mod sweep;
mod validate;
mod weight;

pub use baseline::{gaussian, lerp, nlerp, slerp, SLERP_MIN_ANGLE};
pub use circle::CircleLeg;
pub use cost::polyline_cost;
pub use error::GeodesicError;
pub use frames::{Frames, Spacing};
pub use length::{invert_cumulative, LengthTable};
pub use method::{interpolate, interpolate_at, plan, Method};
pub use nao::{Geodesic, Nao};
pub use plan::{FramePlan, PathFrames};
pub use planar::{PathKind, PlanarGeodesic};
pub use plane::{angle, angle_with_norms};
pub use reference::resampled_reference_loss;
pub use resample::resample_by_arc_length;
