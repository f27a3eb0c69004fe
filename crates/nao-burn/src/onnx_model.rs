//! [`OnnxModel`]: the embedded model's ONNX export run by ONNX Runtime (feature `onnx`).

use std::path::Path;

use nao_backend::{Backend, BackendError, Capabilities, Conditioning, ModelInfo, Tensor};
use nao_onnx::{GraphInput, OnnxGraph, OnnxOptions};

use crate::error::BurnModelError;
use crate::export::{OnnxExport, ONNX_DECODER_FILE, ONNX_DENOISER_FILE, ONNX_ENCODER_FILE};
use crate::format::IMAGE_SIDE;
use crate::host::{self, LATENT_SIDE};
use crate::weights::ModelCard;

/// The embedded latent diffusion model on ONNX Runtime: the same host-side behaviour as
/// [`BurnModel`](crate::BurnModel), the networks from an [`OnnxExport`].
#[derive(Debug)]
pub struct OnnxModel {
    card: ModelCard,
    info: ModelInfo,
    encoder: OnnxGraph,
    decoder: OnnxGraph,
    denoiser: OnnxGraph,
}

fn onnx_error(e: nao_onnx::OnnxError) -> BurnModelError {
    BurnModelError::Runtime(format!("ONNX Runtime: {e}"))
}

impl OnnxModel {
    /// Sessions for an export; `origin` names it in errors (a folder or `<embedded weights>`).
    pub fn from_export(
        export: &OnnxExport,
        origin: &str,
        options: &OnnxOptions,
    ) -> Result<Self, BurnModelError> {
        let graph = |label, file: &str, bytes: &[u8]| {
            OnnxGraph::from_memory(label, format!("{origin}/{file}"), bytes, options)
                .map_err(onnx_error)
        };
        Ok(Self {
            card: export.card.clone(),
            info: host::model_info(&export.card, "nao-fashion-ldm (embedded, ONNX Runtime)"),
            encoder: graph("VAE encoder", ONNX_ENCODER_FILE, &export.vae_encoder)?,
            decoder: graph("VAE decoder", ONNX_DECODER_FILE, &export.vae_decoder)?,
            denoiser: graph("noise predictor", ONNX_DENOISER_FILE, &export.denoiser)?,
        })
    }

    /// The embedded weights, exported to ONNX in memory (through burn's CPU backend) and run
    /// by ONNX Runtime.
    ///
    /// ```no_run
    /// use nao_backend::Backend;
    /// // ORT_DYLIB_PATH names libonnxruntime (`cargo xtask setup-ort`)
    /// let model = nao_burn::OnnxModel::embedded(&nao_onnx::OnnxOptions::default())?;
    /// assert_eq!(model.info().latent_shape(28, 28)?, [4, 7, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "embedded")]
    pub fn embedded(options: &OnnxOptions) -> Result<Self, BurnModelError> {
        let burn = crate::BurnModel::embedded(&burn::tensor::Device::flex())?;
        Self::from_export(&burn.to_onnx()?, "<embedded weights>", options)
    }

    /// An export folder written by [`OnnxExport::save`] (`nao export-onnx`).
    pub fn load(dir: &Path, options: &OnnxOptions) -> Result<Self, BurnModelError> {
        let export = OnnxExport::load(dir)?;
        Self::from_export(&export, &dir.display().to_string(), options)
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }
}

impl Backend for OnnxModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        host::CAPABILITIES
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        host::encode_prompt(prompt, negative_prompt, with_uncond)
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        let t: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
        self.predict_noise_at(latents, &t, context)
    }

    /// Any timestep, fractional ones too: the denoiser's time features are sinusoids of it.
    fn predict_noise_at(
        &self,
        latents: &Tensor,
        timesteps: &[f64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        let input = host::denoise_input(&self.card, latents, timesteps, context)?;
        let (b, d, tf) = (
            input.batch,
            self.card.denoiser.latent_dim,
            self.card.denoiser.time_features,
        );
        let (_, noise) = self
            .denoiser
            .run(
                &[
                    ("latents", &[b, d], GraphInput::Float(&latents.data)),
                    ("time", &[b, tf], GraphInput::Float(&input.time)),
                    ("classes", &[b], GraphInput::Int(&input.classes)),
                ],
                "noise",
            )
            .map_err(onnx_error)?;
        Ok(Tensor {
            shape: latents.shape.clone(),
            data: noise,
        })
    }

    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError> {
        let b = host::check_images(images)?;
        let (_, mean) = self
            .encoder
            .run(
                &[(
                    "images",
                    &[b, 1, IMAGE_SIDE, IMAGE_SIDE],
                    GraphInput::Float(&images.data),
                )],
                "mean",
            )
            .map_err(onnx_error)?;
        Ok(host::scaled_latents(&self.card, b, mean))
    }

    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError> {
        let (b, unscaled) = host::unscaled_latents(&self.card, latents)?;
        let c = self.card.autoencoder.latent_channels;
        let (_, images) = self
            .decoder
            .run(
                &[(
                    "latents",
                    &[b, c, LATENT_SIDE, LATENT_SIDE],
                    GraphInput::Float(&unscaled),
                )],
                "images",
            )
            .map_err(onnx_error)?;
        Ok(host::unit_images(b, images))
    }
}
