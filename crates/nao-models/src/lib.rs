//! # nao-models — the one place that opens models on devices
//!
//! Every program of nao (the `nao` command, the conformance suite, the benches) opens its
//! diffusion model here:
//!
//! - [`Device`] (from `nao-backend`) names where a model runs; [`is_compiled_in`] says whether
//!   this build has it (each device kind is a Cargo feature of this crate, named by
//!   [`Device::feature`]); [`open_burn_device`] starts a burn device and checks that it works.
//! - [`ModelKind::detect`] tells what a folder holds, asking each model kind's own detector:
//!   weights of the embedded model's kind, its ONNX export, a Stable Diffusion ONNX export in
//!   optimum's layout, a Stable Diffusion diffusers folder (`nao-sd`).
//! - [`ModelSource::identity`] says which weights a model is, cheaply (a hash of the
//!   embedded model's files, of a folder's file metadata).
//! - [`open_model`] loads a [`ModelSource`] on a device as a `Box<dyn Backend>`, checks the
//!   components the caller needs, and says in its errors which device, feature or file to use.
//!
//! ```
//! use nao_models::{open_model, Device, ModelSource, OpenOptions};
//!
//! let opened = open_model(&ModelSource::Embedded, Some(Device::Cpu), &OpenOptions::default())?;
//! assert_eq!(opened.device, Device::Cpu);
//! let [c, h, w] = opened.model.info().latent_shape(28, 28)?;
//! assert_eq!(c * h * w, 196);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod devices;
mod error;
mod identity;
mod kind;
mod open;

pub use devices::{check_compiled, compiled_devices, is_compiled_in, open_burn_device};
pub use error::ModelsError;
pub use kind::ModelKind;
pub use nao_backend::{Device, Engine, Precision, DEVICE_NAMES};
pub use open::{open_model, ModelSource, Needs, OpenOptions, OpenedModel};
