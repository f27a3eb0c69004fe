//! [`OnnxBackend`] behind nao's diffusion [`Backend`] trait.

use nao_backend::{Backend, BackendError, Capabilities, Conditioning, ModelInfo, Tensor};

use crate::OnnxBackend;

impl Backend for OnnxBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: self.text.is_some(),
            vae_encoder: self.vae_encoder.is_some(),
            vae_decoder: self.vae_decoder.is_some(),
        }
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        Conditioning::encode_batched(prompt, negative_prompt, with_uncond, |p| {
            self.encode_prompts(p)
        })
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        Ok(self.unet(latents, timesteps, context)?)
    }

    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError> {
        Ok(self.encode(images)?)
    }

    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError> {
        let mut x = self.decode_latents_raw(latents)?;
        nao_backend::to_unit_range(&mut x);
        Ok(x)
    }
}
