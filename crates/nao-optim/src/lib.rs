//! # nao-optim — the optimiser of the official NAO code, and why solvers stop
//!
//! The official NAO implementation (`nao/norm_aware_optimization.py` of the authors' SeedSelect
//! repository) optimises its discretised paths and centroids with `torch.optim.Adam` and a
//! simple early-stop rule. This crate holds that one component, shared by the reference solvers
//! of `nao-geodesic` (interpolation) and `nao-centroid` (centroids):
//!
//! - [`TorchAdam`], [`AdamStep`], [`AdamMoments`]: Adam with torch's `float32` update and
//!   bias-correction formulas;
//! - [`EarlyStop`]: the official rule (`|Δloss| < tol` on `patience` consecutive iterations);
//! - [`OptimConfig`]: their hyper-parameters, validated once;
//!   [`OptimConfig::minimise`] runs the official loop on any [`Problem`];
//! - [`Termination`] and [`StopReason`]: why an iterative solver stopped and after how many
//!   iterations — also used by the other iterative solvers of the geometry crates.
//!
//! ```
//! use nao_optim::{AdamMoments, TorchAdam};
//! let mut adam = TorchAdam::new(0.01, (0.9, 0.999), 1e-8);
//! let (mut x, mut moments) = ([1.0f32], AdamMoments::new(1));
//! adam.begin_step().apply(&mut x, &[4.0], &mut moments);
//! // Adam's first step moves by the learning rate, whatever the gradient's size.
//! assert!((x[0] - 0.99).abs() < 1e-6);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod adam;
mod config;
mod error;
mod minimise;
mod stop;

pub use adam::{AdamMoments, AdamStep, TorchAdam};
pub use config::OptimConfig;
pub use error::OptimError;
pub use minimise::{Problem, Run};
pub use stop::{EarlyStop, StopReason, Termination};
