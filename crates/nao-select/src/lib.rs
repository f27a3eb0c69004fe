//! # nao-select — SeedSelect on burn autodiff
//!
//! NAO finds seeds between a class's inverted real images; SeedSelect (Samuel et al., AAAI
//! 2024, arXiv 2304.14530) then refines each seed through the sampler so that its image
//! matches the class's real images. Only the seed `z_T` is optimised; the model stays frozen.
//!
//! - [`DiffusionNet`] and [`ImageEncoder`]: what is differentiated through — a model's noise
//!   predictor and decoder, and the feature space the images are compared in. [`EmbeddedNet`]
//!   is nao's embedded model (its classifier's penultimate layer as the encoder).
//! - [`Schedule`] and [`step`]: a `K`-step DDIM sampler on burn tensors with the schedule
//!   arithmetic of `nao-sampling`, so a refined seed samples to its image through the ordinary
//!   pipeline; backpropagated one network call at a time (checkpointing), so memory grows with
//!   one call rather than with `K`.
//! - [`Target`] (the real images' mean embedding and mean latent), [`SelectConfig`] (the
//!   official code's loss weights and optimiser as defaults, for NAO or random
//!   initialisation), [`refine`] (AdamW; progress and cancellation by callback; the seed after
//!   the last update, the loss curve, the norm and log χ before and after).
//!
//! ONNX exports cannot be differentiated: run the same weights as a diffusers folder on a burn
//! device ([`not_differentiable`] says so in an error).
//!
//! ```
//! use nao_select::{refine, EmbeddedNet, SelectConfig, Target};
//!
//! // the embedded model for the class "bag" (8), and five real bags
//! let net = EmbeddedNet::embedded(&nao_burn::Device::flex(), 8)?;
//! let bags = nao_burn::bundled_images(8)?;
//! let real = nao_backend::Tensor::new(vec![5, 1, 28, 28], bags.data[..5 * 784].to_vec())?;
//! let target = Target::from_images(&net, &net, &real)?;
//!
//! // two random seeds, refined a little
//! let mut rng = nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, 1);
//! let seeds: Vec<Vec<f32>> = (0..2).map(|_| rng.seed(196)).collect();
//! let mut config = SelectConfig::from_random();
//! config.iterations = 3;
//! config.steps = 5;
//! let refined = refine(&net, &net, &target, &seeds, &config, &mut |_| std::ops::ControlFlow::Continue(()))?;
//! assert_eq!(refined.len(), 2);
//! assert_eq!(refined[0].losses.len(), 4); // before each update, and after the last
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod embedded;
mod error;
mod net;
mod open;
mod refiner;
mod sampler;
mod sd;
mod select;

pub use config::{DecodeTarget, SelectConfig};
pub use embedded::EmbeddedNet;
pub use error::{Result, SelectError};
pub use net::{DiffusionNet, ImageEncoder};
pub use open::{open_model, OpenOptions};
pub use refiner::{OpenModel, SeedSelectRefiner, SelectModel};
pub use sampler::{step, Schedule, Step, StepOut};
pub use sd::SdNet;
pub use select::{refine, Event, Problem, Refined, Target};

/// The error for a model that cannot be differentiated (an ONNX export), saying what works.
///
/// ```
/// let e = nao_select::not_differentiable("a Stable Diffusion ONNX export").to_string();
/// assert!(e.contains("diffusers folder"), "{e}");
/// ```
pub fn not_differentiable(kind: &str) -> SelectError {
    SelectError::NotDifferentiable(format!(
        "{kind} cannot be differentiated: SeedSelect backpropagates through the sampler, which \
         ONNX Runtime does not do. Run the same weights as a diffusers folder (or the embedded \
         model) on a burn device (cpu, wgpu, tch-cpu, tch-cuda)"
    ))
}
