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
//! - a [`Classifier`] trained on the full balanced set, for evaluation: [`BurnModel`] is a
//!   [`nao_metrics::FeatureClassifier`], whose verdicts and penultimate-layer features
//!   `nao eval` and `nao demo` measure generated images with.
//!
//! The "prompt" is a class name ([`class_from_prompt`]).
//!
//! ## Devices and forms
//! The networks run on any burn [`Device`] the program was built with (`nao-models` opens
//! them by name; this crate enables no backend of its own). [`BurnModel::to_onnx`] exports them
//! as ONNX files ([`OnnxExport`]); with the `onnx` feature, `OnnxModel` runs that export on
//! ONNX Runtime. Training lives in `nao-burn-train`, so running the model compiles neither
//! autodiff nor optimisers.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod autoencoder;
mod bundled;
mod card_check;
mod classes;
mod classifier;
mod denoiser;
mod error;
mod export;
mod feature_classifier;
mod format;
mod host;
mod model;
mod onnx_graph;
#[cfg(feature = "onnx")]
mod onnx_model;
mod weights;

pub use autoencoder::{Autoencoder, AutoencoderConfig};
pub use bundled::{bundled_images, bundled_strip_png, BUNDLED_PER_CLASS};
pub use classes::{
    class_from_prompt, CLASS_NAMES, CLASS_SLUGS, NULL_CLASS, NUM_CLASSES, RARE_CLASSES,
};
pub use classifier::{Classifier, ClassifierConfig};
pub use denoiser::{timestep_features, Denoiser, DenoiserConfig};
pub use error::BurnModelError;
pub use export::{
    is_onnx_export_folder, OnnxExport, ONNX_CLASSIFIER_FILE, ONNX_DECODER_FILE, ONNX_DENOISER_FILE,
    ONNX_ENCODER_FILE, ONNX_OPSET,
};
pub use format::{IMAGE_PIXELS, IMAGE_SIDE};
pub use model::{BurnModel, Prediction};
#[cfg(feature = "onnx")]
pub use onnx_model::OnnxModel;
pub use weights::CARD_BOUNDS;
pub use weights::{
    is_weights_folder, load_module, ModelCard, AUTOENCODER_FILE, CARD_FILE, CLASSIFIER_FILE,
    DENOISER_FILE,
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
        // DDIM (no _class_name); other samplers take this config as diffusers' from_config does
        class_name: None,
        options: Default::default(),
        defaulted: Default::default(),
    }
}
