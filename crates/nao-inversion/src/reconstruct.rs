//! Invert, then sample back: how well a seed reproduces its image.

use std::ops::ControlFlow;

use nao_backend::{Backend, Conditioning, Tensor};
use nao_sampling::{SampleOptions, StepProgress};

use crate::{encode_images, invert_latents_full, sample_inverted, InversionError};
use crate::{InversionOptions, Inverted};

/// The result of [`reconstruct`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reconstruction {
    /// The inverted seeds `[b, c, h, w]`.
    pub seed: Tensor,
    /// EDICT's second sequence of the seed pair (`None` for the other methods).
    pub partner: Option<Tensor>,
    /// The VAE latents of the input (posterior mean × scaling factor).
    pub latents: Tensor,
    /// The latents sampled back from the seeds.
    pub reconstructed_latents: Tensor,
    /// The decoded reconstruction `[b, channels, H, W]` in `[0, 1]` (`None` without a VAE
    /// decoder).
    pub image: Option<Tensor>,
    /// Mean squared error between `latents` and `reconstructed_latents`.
    pub latent_mse: f64,
    /// Largest absolute error between `latents` and `reconstructed_latents`.
    pub latent_max_abs_error: f64,
    /// Mean squared error between the input and the decoded image, both in `[0, 1]`.
    pub image_mse: Option<f64>,
    /// Peak signal-to-noise ratio of the decoded image, `10·log₁₀(1/MSE)` dB (∞ when exact).
    pub psnr_db: Option<f64>,
    /// Network calls of the inversion.
    pub inversion_calls: usize,
    /// Network calls of the sampling back.
    pub sampling_calls: usize,
}

/// Mean squared error and largest absolute error of two equal-length slices (in f64).
pub fn errors(a: &[f32], b: &[f32]) -> (f64, f64) {
    let n = a.len().min(b.len()).max(1) as f64;
    let (mut se, mut max) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let d = *x as f64 - *y as f64;
        se += d * d;
        max = max.max(d.abs());
    }
    (se / n, max)
}

/// PSNR in dB of an MSE on data in `[0, 1]`.
pub fn psnr_db(mse: f64) -> f64 {
    if mse == 0.0 {
        f64::INFINITY
    } else {
        -10.0 * mse.log10()
    }
}

/// Invert images `[b, channels, H, W]` in `[−1, 1]` with `options.method`, sample back from
/// the seeds with the same steps, guidance and conditioning (the method's sampler,
/// [`crate::sample_inverted`]: EDICT's for EDICT, DDIM with η = 0 otherwise), and report the
/// errors and the network calls.
///
/// The callback sees the inversion steps ([`nao_sampling::Direction::Inversion`]) then the
/// sampling steps ([`nao_sampling::Direction::Sampling`]); breaking cancels.
pub fn reconstruct<B, F>(
    backend: &B,
    images: &Tensor,
    conditioning: &Conditioning,
    options: &InversionOptions,
    mut callback: F,
) -> Result<Reconstruction, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    options.check()?;
    let latents = encode_images(backend, images)?;
    let inverted = invert_latents_full(backend, &latents, conditioning, options, &mut callback)?;
    let sampling = SampleOptions::default()
        .with_steps(options.steps)
        .with_guidance_scale(options.guidance_scale)
        .with_negative_prompt(options.negative_prompt.clone())
        .with_eta(0.0);
    let (reconstructed_latents, sampling_calls) =
        sample_inverted(backend, &inverted, conditioning, &sampling, &mut callback)?;
    let Inverted {
        seed,
        partner,
        model_calls: inversion_calls,
        ..
    } = inverted;
    let (latent_mse, latent_max_abs_error) = errors(&latents.data, &reconstructed_latents.data);
    let (image, image_mse) = if backend.capabilities().vae_decoder {
        let decoded = backend.decode_latents(&reconstructed_latents)?;
        if decoded.shape != images.shape || decoded.data.len() != images.data.len() {
            return Err(InversionError::InvalidInput(format!(
                "the VAE decoder returned {:?} for images {:?}",
                decoded.shape, images.shape
            )));
        }
        let input01: Vec<f32> = images.data.iter().map(|v| (v + 1.0) / 2.0).collect();
        let (mse, _) = errors(&input01, &decoded.data);
        (Some(decoded), Some(mse))
    } else {
        (None, None)
    };
    Ok(Reconstruction {
        seed,
        partner,
        inversion_calls,
        sampling_calls,
        latents,
        reconstructed_latents,
        image,
        latent_mse,
        latent_max_abs_error,
        psnr_db: image_mse.map(psnr_db),
        image_mse,
    })
}
