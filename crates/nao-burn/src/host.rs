//! The host-side half of the embedded model's [`Backend`](nao_backend::Backend): checks,
//! prompt → class, timestep features and latent scaling, shared by the burn networks
//! ([`crate::BurnModel`]) and their ONNX export (`OnnxModel`, feature `onnx`) so both answer
//! the same inputs with the same errors.

use nao_backend::{BackendError, Capabilities, Conditioning, ModelInfo, Tensor};

use crate::classes::{class_from_prompt, NULL_CLASS};
use crate::denoiser::timestep_features;
use crate::error::BurnModelError;
use crate::format::IMAGE_SIDE;
use crate::weights::ModelCard;

/// Latent side (28 / 4).
pub(crate) const LATENT_SIDE: usize = IMAGE_SIDE / 4;

/// The embedded model has every component.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    text_encoder: true,
    vae_encoder: true,
    vae_decoder: true,
};

/// Model facts for `Backend::info`.
pub(crate) fn model_info(card: &ModelCard, name: &str) -> ModelInfo {
    ModelInfo {
        name: name.to_string(),
        vae_scaling_factor: card.scaling_factor,
        latent_channels: card.autoencoder.latent_channels,
        vae_downsample: 4,
        default_image_size: (IMAGE_SIDE, IMAGE_SIDE),
        image_channels: 1,
        fixed_image_size: true,
        scheduler: crate::scheduler_config(),
    }
}

/// Check `[b, rest…]` and finite values; return b.
pub(crate) fn check_shape(what: &str, t: &Tensor, rest: &[usize]) -> Result<usize, BurnModelError> {
    if t.shape.len() != rest.len() + 1
        || t.shape[1..] != *rest
        || t.data.len() != t.shape.iter().product::<usize>()
    {
        return Err(BurnModelError::Invalid(format!(
            "{what} have shape {:?}; expected [b, {}]",
            t.shape,
            rest.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(v) = t.data.iter().find(|v| !v.is_finite()) {
        return Err(BurnModelError::Invalid(format!(
            "{what} hold a non-finite value {v}"
        )));
    }
    Ok(t.shape[0])
}

/// The class "embedding" of a prompt and, with `with_uncond`, of the negative prompt.
pub(crate) fn encode_prompt(
    prompt: &str,
    negative_prompt: &str,
    with_uncond: bool,
) -> Result<Conditioning, BackendError> {
    let class = |p: &str| -> Result<Tensor, BackendError> {
        let id = class_from_prompt(p)?.unwrap_or(NULL_CLASS);
        Ok(Tensor {
            shape: vec![1, 1],
            data: vec![id as f32],
        })
    };
    Ok(Conditioning {
        cond: class(prompt)?,
        uncond: if with_uncond {
            Some(class(negative_prompt)?)
        } else {
            None
        },
    })
}

/// What the noise predictor gets for one batch.
pub(crate) struct DenoiseInput {
    /// Batch size.
    pub batch: usize,
    /// Sinusoidal timestep features `[b, time_features]`.
    pub time: Vec<f32>,
    /// Class indices `[b]` (`NULL_CLASS` for none).
    pub classes: Vec<i64>,
}

/// Check a `predict_noise` call and prepare the network inputs.
pub(crate) fn denoise_input(
    card: &ModelCard,
    latents: &Tensor,
    timesteps: &[f64],
    context: &Tensor,
) -> Result<DenoiseInput, BackendError> {
    let c = card.autoencoder.latent_channels;
    let b = check_shape("latents", latents, &[c, LATENT_SIDE, LATENT_SIDE])?;
    if timesteps.len() != b {
        return Err(BackendError::Shape(format!(
            "{} timesteps for a batch of {b} latents",
            timesteps.len()
        )));
    }
    if context.shape != [b, 1] || context.data.len() != b {
        return Err(BackendError::Shape(format!(
            "class context has shape {:?}; expected [{b}, 1] (one class index per latent)",
            context.shape
        )));
    }
    let mut classes = Vec::with_capacity(b);
    for &v in &context.data {
        if !(v.fract() == 0.0 && (0.0..=NULL_CLASS as f32).contains(&v)) {
            return Err(BackendError::Shape(format!(
                "class context value {v} is not a class index 0..={NULL_CLASS}"
            )));
        }
        classes.push(v as i64);
    }
    Ok(DenoiseInput {
        batch: b,
        time: timestep_features(timesteps, card.denoiser.time_features),
        classes,
    })
}

/// Check images `[b, 1, 28, 28]`; return b.
pub(crate) fn check_images(images: &Tensor) -> Result<usize, BackendError> {
    Ok(check_shape("images", images, &[1, IMAGE_SIDE, IMAGE_SIDE])?)
}

/// Posterior means → scaled latents `[b, l, 7, 7]`.
pub(crate) fn scaled_latents(card: &ModelCard, b: usize, means: Vec<f32>) -> Tensor {
    let s = card.scaling_factor;
    Tensor {
        shape: vec![
            b,
            card.autoencoder.latent_channels,
            LATENT_SIDE,
            LATENT_SIDE,
        ],
        data: means.into_iter().map(|v| (v as f64 * s) as f32).collect(),
    }
}

/// Check scaled latents for decoding and divide by the scaling factor; return b and them.
pub(crate) fn unscaled_latents(
    card: &ModelCard,
    latents: &Tensor,
) -> Result<(usize, Vec<f32>), BackendError> {
    let c = card.autoencoder.latent_channels;
    let b = check_shape("latents", latents, &[c, LATENT_SIDE, LATENT_SIDE])?;
    let s = card.scaling_factor;
    Ok((
        b,
        latents
            .data
            .iter()
            .map(|&v| (v as f64 / s) as f32)
            .collect(),
    ))
}

/// Decoder output about `[−1, 1]` → images `[b, 1, 28, 28]` in `[0, 1]`.
pub(crate) fn unit_images(b: usize, decoded: Vec<f32>) -> Tensor {
    let mut images = Tensor {
        shape: vec![b, 1, IMAGE_SIDE, IMAGE_SIDE],
        data: decoded,
    };
    nao_backend::to_unit_range(&mut images);
    images
}
