//! # nao-sweep — the mechanism behind NAO, measured
//!
//! NAO rests on one premise: a diffusion model makes good images only from seeds near the χ
//! shell, `‖z‖ ≈ √d`. This crate measures it, and asks whether NAO's advantage holds under
//! other samplers than the DDIM of the paper:
//!
//! - [`norm_sweep`]: random unit directions ([`directions`]), the same at every norm,
//!   rescaled to norms from 0.5·√d to 1.5·√d ([`at_norm`]), sampled under each sampler and
//!   scored with `nao eval`'s measures ([`nao_metrics::measure`]: classifier accuracy and
//!   confidence, Fréchet distance, precision/recall), over several draws; with the norms that
//!   DDIM inversion and every centroid method give ([`NormSweepReport`]: JSON, Markdown, the
//!   picture of quality against the norm).
//! - [`sampler_sweep`]: `nao demo`'s rare-concept experiment — groups of inverted real images,
//!   every [`SeedMethod`](nao_augment::SeedMethod)'s centroid and path points
//!   ([`nao_augment::method_seeds`], the demo's own seed-making), prompt-only as the baseline —
//!   with the same seeds sampled by every sampler at every step count
//!   ([`SamplerSweepReport`]: JSON, Markdown, a grid of centroid images).
//!
//! Both run any [`Backend`](nao_backend::Backend) with any
//! [`FeatureClassifier`](nao_metrics::FeatureClassifier) against a [`RealSet`] (the embedded
//! model's bundled test images, or an ImageFolder); settings are checked against their
//! bounds before any work, errors are [`SweepError`]s naming the option and value, and
//! progress and cancellation go through one callback ([`Event`]).
//!
//! ```
//! // every norm of a sweep uses the same directions: only the norm changes
//! let dirs = nao_sweep::directions(0, 0, 4, 196);
//! let (small, large) = (nao_sweep::at_norm(&dirs, 7.0), nao_sweep::at_norm(&dirs, 21.0));
//! for (a, b) in small.iter().zip(&large) {
//!     assert!((nao_prior::norm(a) - 7.0).abs() < 1e-12);
//!     assert!(a.iter().zip(b).all(|(x, y)| (3.0 * x - y).abs() < 1e-12));
//! }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod norm;
mod norm_report;
mod progress;
mod real;
mod run;
mod samplers;
mod samplers_report;
mod stats;

pub use error::{Result, SweepError};
pub use norm::{
    at_norm, directions, linear_scales, norm_sweep, NormGroup, NormPoint, NormSweepReport,
    NormSweepSettings, NormSweepSpec, SamplerCurve, DEFAULT_SAMPLERS, MAX_BATCH, MAX_DRAWS,
    MAX_GROUPS, MAX_SAMPLERS, MAX_SCALE, MAX_SCALES, MAX_SEEDS, MAX_SWEEP_IMAGES,
};
pub use progress::{quiet, Event, Progress};
pub use real::{fit_to_classifier, RealClass, RealSet, MAX_REAL_PER_CLASS};
pub use run::stream_seed;
pub use samplers::{
    find, method_keys, sampler_sweep, ClassRuns, MethodRun, SamplerRun, SamplerSweepReport,
    SamplerSweepSettings, SamplerSweepSpec, MAX_INTERIOR, MAX_STEP_COUNTS, SWEEP_SAMPLERS,
};
pub use stats::Spread;
