//! # nao-onnx — Stable Diffusion ONNX exports behind the nao `Backend` trait
//!
//! [`OnnxBackend`] runs a Stable Diffusion model exported to ONNX in the folder layout of
//! Hugging Face optimum (`optimum-cli export onnx`, `ORTStableDiffusionPipeline`):
//!
//! ```text
//! model/
//!   text_encoder/model.onnx     input_ids → last_hidden_state
//!   unet/model.onnx (+ external weights)  sample, timestep, encoder_hidden_states → out_sample
//!   unet/config.json            sample_size, in_channels
//!   vae_encoder/model.onnx      sample → latent_parameters (mean ‖ logvar) or latent_sample
//!   vae_decoder/model.onnx      latent_sample → sample
//!   vae_*/config.json           scaling_factor, latent_channels, block_out_channels
//!   tokenizer/                  vocab.json, merges.txt, tokenizer_config.json
//!   scheduler/scheduler_config.json
//! ```
//!
//! Every model fact comes from the folder's configs and the sessions' declared inputs and
//! outputs: the VAE scaling factor, latent channels, downsampling
//! (`2^(len(block_out_channels) − 1)`), the sample size, the element types (`float16` exports
//! are converted at the boundary; timesteps may be integers or floats). A folder without
//! `vae_encoder/` (or `text_encoder/` and `tokenizer/`) still loads; [`Capabilities`](nao_backend::Capabilities) says
//! what is missing. [`Backend::encode_image`](nao_backend::Backend::encode_image) takes the posterior mean of `latent_parameters`;
//! exports whose encoder outputs `latent_sample` (older conversion scripts, which sampled the
//! posterior inside the graph) give that output as it is.
//!
//! [`OnnxClassifier`] runs any ONNX image classifier (logits and penultimate-layer features)
//! as a [`nao_metrics::FeatureClassifier`], for `nao eval`.
//!
//! ONNX Runtime itself is loaded at run time from `ORT_DYLIB_PATH` or
//! [`OnnxOptions::library_path`]; it must be version [`REQUIRED_ORT_VERSION`] or newer.
//! `cargo xtask setup-ort` puts one in `.cache/onnxruntime/`.
//!
//! ```
//! use nao_backend::Backend;
//! use nao_onnx::{OnnxBackend, OnnxOptions};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//! #     .join("../../../shared/fixtures/tiny-sd1/onnx");
//! # let dir = if dir.is_dir() { dir } else {
//! #     std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tiny-sd1/onnx")
//! # };
//!
//! // `dir` is an optimum-layout export; ORT_DYLIB_PATH names libonnxruntime
//! let model = OnnxBackend::load(&dir, &OnnxOptions::default().with_threads(1))?;
//! let info = model.info();
//! let [c, h, w] = info.latent_shape(64, 64)?;
//!
//! let text = model.encode_prompt("a photo of a cat", "", true)?;
//! let latents = nao_backend::Tensor::zeros(vec![1, c, h, w]);
//! let noise = model.predict_noise(&latents, &[500], &text.cond)?;
//! assert_eq!(noise.shape, latents.shape);
//! let image = model.decode_latents(&latents)?; // [1, 3, 64, 64] in [0, 1]
//! assert_eq!(image.shape, vec![1, 3, 64, 64]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod backend;
mod classifier;
mod config;
mod error;
mod graph;
mod model;
mod options;
mod runtime;
mod session;
mod text;
mod unet;
mod vae;

use std::path::{Path, PathBuf};

use nao_backend::ModelInfo;

pub use classifier::{read_labels, OnnxClassifier, OnnxClassifierSpec};
pub use error::OnnxError;
pub use graph::{GraphInput, OnnxGraph};
pub use options::{max_threads, ExecutionProvider, OnnxOptions, THREADS_PER_CORE};
pub use runtime::loaded_library;
pub use session::Port;

/// Whether `dir` looks like an export in optimum's layout: one of its component folders holds
/// a `model.onnx` ([`OnnxBackend::load`] then checks the rest, and names what is missing).
pub fn is_export_folder(dir: &Path) -> bool {
    ["unet", "vae_decoder", "vae_encoder", "text_encoder"]
        .iter()
        .any(|c| dir.join(c).join("model.onnx").is_file())
}

// The struct lives at the crate root: each component module adds its methods to it.
/// A Stable Diffusion ONNX export, run with ONNX Runtime; see the [crate docs](crate).
#[derive(Debug)]
pub struct OnnxBackend {
    pub(crate) dir: PathBuf,
    pub(crate) info: ModelInfo,
    pub(crate) shift_factor: f64,
    /// Latent sizes must be multiples of the UNet's own downsampling.
    pub(crate) unet_downsample: usize,
    pub(crate) text: Option<text::TextEncoder>,
    pub(crate) unet: unet::Unet,
    pub(crate) vae_encoder: Option<vae::Vae>,
    pub(crate) vae_decoder: Option<vae::Vae>,
}

/// The oldest ONNX Runtime this crate runs with (`ort`'s `api-31`).
pub const REQUIRED_ORT_VERSION: &str = "1.31";

/// The inputs and outputs of one of the model's ONNX files, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// `text_encoder`, `unet`, `vae_encoder` or `vae_decoder`.
    pub name: &'static str,
    /// The `.onnx` file.
    pub path: PathBuf,
    /// Declared inputs.
    pub inputs: Vec<Port>,
    /// Declared outputs.
    pub outputs: Vec<Port>,
}
