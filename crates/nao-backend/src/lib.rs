//! # nao-backend — the diffusion-model `Backend` trait
//!
//! NAO works on seeds; turning images into seeds (DDIM inversion) and seeds into images (DDIM
//! sampling) needs a diffusion model. Every model backend of nao — ONNX Runtime for real Stable
//! Diffusion exports, burn for the embedded default model — implements [`Backend`]. The trait is
//! small and host-memory based: a Stable Diffusion latent is 64 KiB, and copying it per step
//! costs nothing next to a UNet call.
//!
//! The scheduler math (`nao-sampling`) is written once against this trait.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod device;
mod error;
mod scheduler_config;
mod tensor;

pub use device::{Device, Engine, Precision, DEVICE_NAMES};
pub use error::BackendError;
pub use scheduler_config::{
    BetaSchedule, ConfigValue, PredictionType, SchedulerConfig, TimestepSpacing,
    MAX_TRAIN_TIMESTEPS, TYPED_KEYS,
};
pub use tensor::Tensor;

/// Facts about a model that the pipeline needs, read from the model's own configs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// A short human-readable name (e.g. the folder name).
    pub name: String,
    /// VAE scaling factor from the VAE config (0.18215 for SD 1.x/2.x, 0.13025 for SDXL).
    pub vae_scaling_factor: f64,
    /// Channels of a latent (4 for Stable Diffusion).
    pub latent_channels: usize,
    /// Spatial downsampling of the VAE (8 for Stable Diffusion).
    pub vae_downsample: usize,
    /// The image size `(height, width)` the model was trained for.
    pub default_image_size: (usize, usize),
    /// Whether the model takes images of `default_image_size` only (networks of a fixed size,
    /// such as the embedded model's MLP denoiser); `false` for convolutional models (Stable
    /// Diffusion), which take any size whose sides are multiples of `vae_downsample`.
    pub fixed_image_size: bool,
    /// Image channels (3 for RGB, 1 for grey).
    pub image_channels: usize,
    /// The model's scheduler configuration (`scheduler/scheduler_config.json`).
    pub scheduler: SchedulerConfig,
}

impl ModelInfo {
    /// Latent shape `[channels, height/down, width/down]` for an image size; an error when the
    /// size is not a multiple of the VAE's downsampling.
    pub fn latent_shape(&self, height: usize, width: usize) -> Result<[usize; 3], BackendError> {
        let s = self.vae_downsample;
        if height == 0 || width == 0 || height % s != 0 || width % s != 0 {
            return Err(BackendError::Shape(format!(
                "image size {height}×{width} is not a positive multiple of the VAE downsampling {s}"
            )));
        }
        Ok([self.latent_channels, height / s, width / s])
    }

    /// Image size `(height, width)` for a latent shape `[c, h, w]` (or `[b, c, h, w]`).
    pub fn image_size(&self, latent_shape: &[usize]) -> Result<(usize, usize), BackendError> {
        let n = latent_shape.len();
        if n < 3 || latent_shape[n - 3] != self.latent_channels {
            return Err(BackendError::Shape(format!(
                "latent shape {latent_shape:?} does not end in [{}, h, w]",
                self.latent_channels
            )));
        }
        Ok((
            latent_shape[n - 2] * self.vae_downsample,
            latent_shape[n - 1] * self.vae_downsample,
        ))
    }
}

/// What a backend can do; a backend without a component says so instead of failing late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `encode_prompt` works (a text encoder or a class-name table is present).
    pub text_encoder: bool,
    /// `encode_image` works (a VAE encoder is present): needed for inversion.
    pub vae_encoder: bool,
    /// `decode_latents` works (a VAE decoder is present): needed to see images.
    pub vae_decoder: bool,
}

/// Text conditioning for classifier-free guidance.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditioning {
    /// Conditional embeddings `[1, tokens, hidden]` (or any backend-defined shape).
    pub cond: Tensor,
    /// Unconditional (negative-prompt) embeddings of the same shape, when guidance needs them.
    pub uncond: Option<Tensor>,
}

impl Conditioning {
    /// Encode `prompt` and, when `with_uncond`, `negative_prompt` with one call of `encode`
    /// (which returns one row per prompt, in order), as diffusers batches them.
    ///
    /// ```
    /// use nao_backend::{BackendError, Conditioning, Tensor};
    /// let encode = |prompts: &[&str]| -> Result<Tensor, BackendError> {
    ///     let data = prompts.iter().map(|p| p.len() as f32).collect();
    ///     Tensor::new(vec![prompts.len(), 1], data)
    /// };
    /// let c = Conditioning::encode_batched("a cat", "", true, encode)?;
    /// assert_eq!((c.cond.data[0], c.uncond.unwrap().data[0]), (5.0, 0.0));
    /// assert!(Conditioning::encode_batched("a cat", "", false, encode)?.uncond.is_none());
    /// # Ok::<(), BackendError>(())
    /// ```
    pub fn encode_batched<E>(
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
        encode: impl FnOnce(&[&str]) -> Result<Tensor, E>,
    ) -> Result<Self, BackendError>
    where
        BackendError: From<E>,
    {
        if with_uncond {
            let both = encode(&[prompt, negative_prompt])?;
            Ok(Self {
                cond: both.item(0)?,
                uncond: Some(both.item(1)?),
            })
        } else {
            Ok(Self {
                cond: encode(&[prompt])?,
                uncond: None,
            })
        }
    }
}

/// Map decoded images from the VAE's `[−1, 1]` to `[0, 1]`, clamped, as diffusers' image
/// processor does before turning them into pixels.
///
/// ```
/// let mut x = nao_backend::Tensor::new(vec![3], vec![-2.0, 0.0, 1.0]).unwrap();
/// nao_backend::to_unit_range(&mut x);
/// assert_eq!(x.data, vec![0.0, 0.5, 1.0]);
/// ```
pub fn to_unit_range(images: &mut Tensor) {
    for v in &mut images.data {
        *v = ((*v + 1.0) * 0.5).clamp(0.0, 1.0);
    }
}

/// Timesteps as integers, or [`BackendError::FractionalTimestep`] naming the first that is
/// not one (for backends whose model takes integer timesteps only).
///
/// ```
/// assert_eq!(nao_backend::integer_timesteps(&[999.0, 1.0]).unwrap(), vec![999, 1]);
/// assert!(nao_backend::integer_timesteps(&[887.5]).unwrap_err().to_string().contains("887.5"));
/// ```
pub fn integer_timesteps(timesteps: &[f64]) -> Result<Vec<i64>, BackendError> {
    timesteps
        .iter()
        .map(|&t| {
            if t.fract() == 0.0 && t.abs() < 9.0e15 {
                Ok(t as i64)
            } else {
                Err(BackendError::FractionalTimestep(t))
            }
        })
        .collect()
}

/// A diffusion model: text encoder, noise predictor and VAE, on host tensors.
///
/// Batches are along the first axis. Implementations must be deterministic for the same inputs.
pub trait Backend {
    /// Facts about the model.
    fn info(&self) -> &ModelInfo;

    /// Which components are present.
    fn capabilities(&self) -> Capabilities;

    /// Encode a prompt and, when `with_uncond`, the negative prompt (`""` as in diffusers) for
    /// classifier-free guidance.
    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError>;

    /// Predict the model output (noise for epsilon prediction, velocity for v-prediction, …)
    /// for a batch of latents `[b, c, h, w]` at integer timesteps (one per batch item), given
    /// the conditioning `[b, …]` for each item.
    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError>;

    /// [`Backend::predict_noise`] at timesteps that may be fractional, as diffusers' pipelines
    /// pass the σ-space schedulers' timesteps (Euler, Heun and LMS with `linspace` spacing or
    /// Karras σ ask for non-integer ones).
    ///
    /// The default serves integer timesteps through `predict_noise` and refuses fractional ones
    /// with [`BackendError::FractionalTimestep`]; a backend whose model embeds timesteps as
    /// floats overrides it.
    ///
    /// ```
    /// # use nao_backend::{Backend, BackendError, Tensor};
    /// # fn check(model: &dyn Backend, x: &Tensor, ctx: &Tensor) {
    /// // the same as predict_noise(x, &[500], ctx) for every backend
    /// let _ = model.predict_noise_at(x, &[500.0], ctx);
    /// # }
    /// ```
    fn predict_noise_at(
        &self,
        latents: &Tensor,
        timesteps: &[f64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        let ints = integer_timesteps(timesteps)?;
        self.predict_noise(latents, &ints, context)
    }

    /// VAE-encode images `[b, channels, H, W]` in `[−1, 1]`: posterior mean × scaling factor.
    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError>;

    /// Decode latents `[b, c, h, w]`: ÷ scaling factor, VAE decoder, mapped to `[0, 1]`.
    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError>;
}

/// A boxed backend is a backend: commands pick one at run time (`Box<dyn Backend>`).
impl<B: Backend + ?Sized> Backend for Box<B> {
    fn info(&self) -> &ModelInfo {
        (**self).info()
    }

    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        (**self).encode_prompt(prompt, negative_prompt, with_uncond)
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        (**self).predict_noise(latents, timesteps, context)
    }

    fn predict_noise_at(
        &self,
        latents: &Tensor,
        timesteps: &[f64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        (**self).predict_noise_at(latents, timesteps, context)
    }

    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError> {
        (**self).encode_image(images)
    }

    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError> {
        (**self).decode_latents(latents)
    }
}
