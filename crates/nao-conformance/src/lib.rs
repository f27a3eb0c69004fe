//! # nao-conformance — the same checks on every backend of the embedded model
//!
//! Each device under test ([`devices_under_test`]: those named by `NAO_CONFORMANCE_DEVICES`,
//! else every compiled-in device but `tch-cuda`; the features `flex`, `wgpu`, `tch`, `cuda`,
//! `onnx`, `onnx-cuda` compile them in, named as `nao_backend::Device::feature` names them)
//! runs four [`Check`]s on the embedded Fashion-MNIST model and is compared with the reference
//! committed in `reference/` (made on the `cpu` device by
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
//! use nao_backend::Device;
//! use nao_conformance::{compare, open, run_check, Check, Reference};
//! let backend = open(Device::Cpu)?;
//! let outputs = run_check(&*backend, Check::DdimStep)?;
//! let reference = Reference::load(&Reference::default_dir())?;
//! for diff in compare(&outputs, &reference)? {
//!     assert!(diff.scaled() <= nao_conformance::tolerance(Device::Cpu, Check::DdimStep));
//! }
//! # Ok::<(), nao_conformance::ConformanceError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod checks;
mod devices;
mod fixture;
mod models;
mod reference;
mod sd_checks;

pub use checks::{run_check, Check, Output};
pub use devices::{devices_under_test, open, parse_devices, tolerance, DEVICES_VAR};
pub use models::Model;
pub use reference::{compare, Diff, Reference};

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
