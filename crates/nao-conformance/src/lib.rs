//! # nao-conformance — the same checks on every backend of the embedded model
//!
//! Each backend compiled into this crate (features `flex`, `wgpu`, `tch`, `tch-cuda`, `cuda`,
//! `onnx`, `onnx-cuda`) runs four [`Check`]s on the embedded Fashion-MNIST model and is
//! compared with the reference committed in `reference/` (made with the `flex` CPU backend by
//! `cargo xtask conformance --write-reference`):
//!
//! 1. [`Check::Forward`]: the noise predictor on fixed latents, timesteps and classes, the VAE
//!    encoder on bundled images and the VAE decoder on their latents;
//! 2. [`Check::DdimStep`]: one guided DDIM step from fixed seeds;
//! 3. [`Check::Sampling`]: 10 DDIM steps from fixed seeds with classifier-free guidance, and
//!    the decoded images;
//! 4. [`Check::Inversion`]: 10-step DDIM inversion of bundled images.
//!
//! Every output must be within the backend's [`tolerance`] of the reference; the measured
//! differences are in `docs/backends.md`.
//!
//! ```
//! use nao_conformance::{compare, run_check, Check, Reference, Target};
//! let backend = Target::Flex.open()?;
//! let outputs = run_check(&*backend, Check::DdimStep)?;
//! let reference = Reference::load(&Reference::default_dir())?;
//! for diff in compare(&outputs, &reference)? {
//!     assert!(diff.scaled() <= nao_conformance::tolerance(Target::Flex, Check::DdimStep));
//! }
//! # Ok::<(), nao_conformance::ConformanceError>(())
//! ```
#![warn(missing_docs)]

mod checks;
mod reference;
mod target;

pub use checks::{run_check, Check, Output};
pub use reference::{compare, Diff, Reference};
pub use target::{tolerance, Target};

use thiserror::Error;

/// Errors of the conformance suite.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConformanceError {
    /// The backend could not be opened (not compiled in, no device, no library).
    #[error("backend {target}: {message}")]
    Backend {
        /// the backend's name
        target: String,
        /// why
        message: String,
    },
    /// A check failed to run.
    #[error("check {check}: {message}")]
    Run {
        /// the check's name
        check: &'static str,
        /// why
        message: String,
    },
    /// A reference file is missing, unreadable or of the wrong shape.
    #[error("{path}: {message}")]
    Reference {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
}
