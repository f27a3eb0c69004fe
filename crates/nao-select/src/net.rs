//! What SeedSelect differentiates through: a diffusion model's noise predictor and decoder,
//! and an image encoder, on burn tensors of one autodiff device.

use burn::tensor::{Device, Tensor};
use nao_backend::SchedulerConfig;

use crate::Result;

/// A latent diffusion model, conditioned on one prompt (a class), on an autodiff device with
/// its weights frozen: the functions SeedSelect runs and differentiates.
pub trait DiffusionNet {
    /// The autodiff device every tensor lives on.
    fn device(&self) -> &Device;
    /// The latent of one seed, `[c, h, w]`.
    fn latent_shape(&self) -> [usize; 3];
    /// The model's scheduler (its training noise schedule and prediction type).
    fn scheduler(&self) -> &SchedulerConfig;
    /// The model output (noise for ε-prediction, velocity for v-prediction) for latents
    /// `[b, c, h, w]` at `timestep`, under the prompt, with classifier-free guidance of scale
    /// `guidance` (≤ 1: the conditional model alone).
    fn predict(&self, latents: Tensor<4>, timestep: i64, guidance: f64) -> Result<Tensor<4>>;
    /// Images `[b, channels, H, W]` in about `[−1, 1]` from scaled latents (÷ the VAE's
    /// scaling factor, then the decoder).
    fn decode(&self, latents: Tensor<4>) -> Result<Tensor<4>>;
    /// Scaled latents (posterior mean × scaling factor) of images `[b, channels, H, W]` in
    /// `[−1, 1]`: what the model makes of the real images.
    fn encode(&self, images: Tensor<4>) -> Result<Tensor<4>>;
}

/// An image encoder: the feature space in which SeedSelect matches images to the real ones.
pub trait ImageEncoder {
    /// Refuse images of `channels` × `height` × `width` it cannot take (an encoder whose size
    /// does not fit the model's images), naming both.
    fn accepts(&self, channels: usize, height: usize, width: usize) -> Result<()>;
    /// Embeddings `[b, dim]` of images `[b, channels, H, W]` in `[−1, 1]`, differentiably.
    fn embed(&self, images: Tensor<4>) -> Result<Tensor<2>>;
}
