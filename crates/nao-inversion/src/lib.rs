//! # nao-inversion — images to seeds
//!
//! NAO interpolates between the seeds of real images: this crate finds them. An image is
//! loaded like diffusers loads it ([`load_image`]: RGB or grey per the model, resized or
//! centre-cropped to the model's size, `pixel/255·2 − 1`), VAE-encoded (posterior mean ×
//! scaling factor, [`encode_images`]) and DDIM-inverted with diffusers' `DDIMInverseScheduler`
//! ([`invert`], [`invert_latents`]). [`reconstruct`] samples back from the seeds and reports
//! how close the round trip comes.
//!
//! DDIM inversion is approximate: each step evaluates the model at the next timestep with the
//! current latents, so inverting then sampling reproduces the latents only up to an error that
//! shrinks with the step count. The inverted seeds also sit well inside the χ shell of Gaussian
//! seeds (≈ 0.8·√d), which is why NAO's norm-aware paths matter for them.
//!
//! The formulas, and what is verified against diffusers to which tolerance, are in
//! `docs/pipeline.md`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod image;
mod invert;
mod reconstruct;

pub use crate::image::{
    check_one_size, decode_image, image_file_size, image_to_tensor, load_image, load_images,
    ImageSpec, ResizePolicy,
    MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS,
};
pub use error::InversionError;
pub use invert::{encode_images, encode_prompt, invert, invert_latents, InversionOptions};
pub use reconstruct::{errors, psnr_db, reconstruct, Reconstruction};
