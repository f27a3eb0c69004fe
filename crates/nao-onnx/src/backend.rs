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
        if with_uncond {
            let both = self.encode_prompts(&[prompt, negative_prompt])?;
            Ok(Conditioning {
                cond: both.item(0)?,
                uncond: Some(both.item(1)?),
            })
        } else {
            Ok(Conditioning {
                cond: self.encode_prompts(&[prompt])?,
                uncond: None,
            })
        }
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
        for v in &mut x.data {
            *v = ((*v + 1.0) / 2.0).clamp(0.0, 1.0);
        }
        Ok(x)
    }
}
