//! # nao-burn — the embedded default model of nao
//!
//! A small latent diffusion model in the image of Stable Diffusion, trained on Fashion-MNIST
//! so that the whole NAO pipeline (inversion, centroids, paths, sampling) runs on a laptop CPU:
//!
//! - an [`Autoencoder`] from 28×28 grey images to 4×7×7 latents (d = 196), scaled to unit
//!   variance by a scaling factor like SD's 0.18215;
//! - a class-conditional [`Denoiser`] (ε-prediction, SD 1.x's scaled-linear schedule), trained
//!   with conditioning dropout so classifier-free guidance works, on a **long-tailed** training
//!   set where "bag" and "ankle boot" keep 1 % of their images: the rare concepts;
//! - a [`Classifier`] trained on the full balanced set, for evaluation.
//!
//! The "prompt" is a class name ([`class_from_prompt`]).
//!
//! ## Backends
//! The networks run on any burn backend compiled in, picked at run time with [`BurnDevice`]:
//! features `flex` (pure-Rust CPU, default), `wgpu`, `tch` (LibTorch CPU/CUDA) and `cuda`.
//! [`BurnModel::to_onnx`] exports them as ONNX files ([`OnnxExport`]); with the `onnx`
//! feature, `OnnxModel` runs that export on ONNX Runtime (`onnx-cuda`: its CUDA provider).
#![warn(missing_docs)]

mod autoencoder;
mod bundled;
mod classes;
mod classifier;
mod data;
mod denoiser;
mod device;
mod error;
mod export;
mod host;
mod idx;
mod model;
#[cfg(feature = "onnx")]
mod onnx_model;
pub mod train;
mod weights;

pub use autoencoder::{Autoencoder, AutoencoderConfig};
pub use bundled::{bundled_images, bundled_strip_png, BUNDLED_PER_CLASS};
pub use classes::{
    class_from_prompt, CLASS_NAMES, CLASS_SLUGS, NULL_CLASS, NUM_CLASSES, RARE_CLASSES,
};
pub use classifier::{Classifier, ClassifierConfig};
pub use data::{
    long_tail_indices, FashionMnist, ImageSet, DEBIAN_FASHION_MNIST_DIR, IMAGE_PIXELS, IMAGE_SIDE,
};
pub use denoiser::{timestep_features, Denoiser, DenoiserConfig};
pub use device::BurnDevice;
pub use error::BurnModelError;
pub use export::{
    OnnxExport, ONNX_DECODER_FILE, ONNX_DENOISER_FILE, ONNX_ENCODER_FILE, ONNX_OPSET,
};
pub use idx::{encode_idx, parse_idx, read_idx, IdxArray};
pub use model::{BurnModel, Prediction};
#[cfg(feature = "onnx")]
pub use onnx_model::OnnxModel;
pub use weights::{
    load_module, module_bytes, save_module, write_atomic, ModelCard, AUTOENCODER_FILE, CARD_FILE,
    CLASSIFIER_FILE, DENOISER_FILE,
};

/// Re-exported so users can name devices without depending on burn.
pub use burn::tensor::Device;

/// The scheduler the model is trained with: Stable Diffusion 1.x's DDIM configuration
/// (scaled-linear β from 0.00085 to 0.012 over 1000 steps, ε-prediction, leading spacing,
/// `steps_offset` 1, `set_alpha_to_one` false, no clipping).
pub fn scheduler_config() -> nao_backend::SchedulerConfig {
    nao_backend::SchedulerConfig {
        num_train_timesteps: 1000,
        beta_start: 0.00085,
        beta_end: 0.012,
        beta_schedule: nao_backend::BetaSchedule::ScaledLinear,
        trained_betas: None,
        set_alpha_to_one: false,
        steps_offset: 1,
        timestep_spacing: nao_backend::TimestepSpacing::Leading,
        prediction_type: nao_backend::PredictionType::Epsilon,
        clip_sample: false,
        clip_sample_range: 1.0,
        rescale_betas_zero_snr: false,
    }
}
