//! # nao-prior — the χ prior on seed norms
//!
//! A Gaussian seed `z ~ N(0, I_d)` has a norm `‖z‖` distributed as χ with `d` degrees of freedom.
//! For Stable Diffusion (`d = 4·64·64 = 16384`) that distribution is a thin shell around
//! `√(d−1) ≈ 128`; diffusion models only make good images from seeds near it. This crate holds
//! everything NAO needs to know about that shell:
//!
//! - [`ChiPrior`]: exact log-density (in f64, unlike the official code which quantises it in f32),
//!   its derivatives, mode, mean, variance, CDF, log-CDF and quantile;
//! - [`norm`], [`dot`]: f64-accumulated reductions over `f32`/`f64` slices;
//! - [`GaussianSeeds`]: reproducible Gaussian seeds from a named, seeded RNG.
//!
//! ```
//! use nao_prior::ChiPrior;
//! let prior = ChiPrior::new(16384).unwrap();
//! assert!((prior.mode() - 16383f64.sqrt()).abs() < 1e-12);
//! // DDIM-inverted seeds sit near 0.8·√d: far in the lower tail.
//! let r = 0.8 * 128.0;
//! assert!(prior.log_pdf(r) < -600.0);
//! assert!(prior.log_cdf(r) < -600.0);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod chi;
mod error;
mod gamma;
mod rng;
mod vector;

pub use chi::ChiPrior;
pub use error::PriorError;
pub use gamma::{ln_gamma, regularized_gamma_p, regularized_gamma_q};
pub use rng::{GaussianSeeds, RngName};
pub use vector::{dot, norm, norm_sq};
