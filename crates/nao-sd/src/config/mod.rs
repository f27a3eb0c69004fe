//! The component configs of a diffusers folder, read into what the networks need, each value
//! checked against the Stable Diffusion 1.x / 2.x family and bounded before anything is
//! allocated from it.

mod clip;
mod clip_vision;
pub(crate) mod json;
mod unet;
mod vae;

pub use clip::{ClipActivation, ClipConfig};
pub use clip_vision::ClipVisionConfig;
pub(crate) use clip_vision::MAX_IMAGE_SIZE;
pub use unet::{DownBlockKind, UnetConfig, UpBlockKind};
pub use vae::VaeConfig;

/// Widest channel count, hidden size or feature size accepted (SD 2.x's widest is 5120).
pub(crate) const MAX_WIDTH: usize = 1 << 15;
/// Most UNet / VAE blocks (SD uses 4).
pub(crate) const MAX_BLOCKS: usize = 8;
/// Most ResNet layers per block (SD uses 2).
pub(crate) const MAX_LAYERS_PER_BLOCK: usize = 16;
/// Most transformer layers in one attention block (SD 1.x/2.x use 1, SDXL 10).
pub(crate) const MAX_TRANSFORMER_LAYERS: usize = 64;
/// Most attention heads.
pub(crate) const MAX_HEADS: usize = 1024;
/// Most text encoder or vision tower layers (OpenCLIP ViT-H has 24 and 32, ViT-bigG 32 and 48).
pub(crate) const MAX_TEXT_LAYERS: usize = 256;
/// Largest vocabulary (CLIP's is 49 408).
pub(crate) const MAX_VOCAB: usize = 1 << 20;
/// Longest text context (CLIP's is 77).
pub(crate) const MAX_POSITIONS: usize = 1 << 14;
/// Largest convolution kernel of conv_in / conv_out.
pub(crate) const MAX_KERNEL: usize = 15;
