//! # nao-inversion — images to seeds
//!
//! NAO interpolates between the seeds of real images: this crate finds them. An image is
//! loaded like diffusers loads it ([`load_image`]: RGB or grey per the model, resized or
//! centre-cropped to the model's size, `pixel/255·2 − 1`), VAE-encoded (posterior mean ×
//! scaling factor, [`encode_images`]) and DDIM-inverted with diffusers' `DDIMInverseScheduler`
//! ([`invert`], [`invert_latents`]). [`reconstruct`] samples back from the seeds and reports
//! how close the round trip comes.
//!
//! Beyond DDIM, [`InversionMethod`] picks fixed-point iterations of each step's implicit
//! equation (`fixed-point[:K][:average]`, 1 + K network calls per step) or EDICT's exact
//! coupled inversion (`edict[:P]`, 2 calls per step, its seed a pair that EDICT's sampler,
//! [`sample_inverted`] / [`sample_edict`], takes back exactly), or diffusers' inverse
//! DPM-Solver++ 2M (`dpm++2m`, 1 call per step, its seeds sampled back with DPM-Solver++ 2M).
//! Their measured round-trip errors against network calls are in `docs/inversion.md`.
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

mod edict;
mod error;
mod fixed_point;
mod image;
mod invert;
mod measure;
mod method;
mod reconstruct;

pub use crate::image::{
    check_one_size, decode_image, image_file_size, image_to_tensor, load_image, load_images,
    ImageSpec, ResizePolicy, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS,
};
pub use edict::sample_edict;
pub use error::InversionError;
pub use fixed_point::implicit_residual;
pub use invert::{
    encode_images, encode_prompt, invert, invert_latents, invert_latents_full, sample_inverted,
    InversionOptions, Inverted,
};
pub use measure::{
    markdown_table, measure_round_trips, vae_psnr_db, MethodMeasure, RoundTripCase, Sampler,
};
pub use method::{
    InversionMethod, DEFAULT_EDICT_MIX, DEFAULT_FIXED_POINT_ITERATIONS, MAX_FIXED_POINT_ITERATIONS,
    MIN_EDICT_MIX,
};
pub use reconstruct::{errors, psnr_db, reconstruct, Reconstruction};
