//! SeedSelect on Stable Diffusion (a diffusers folder on a burn device): its UNet under a
//! prompt, its VAE, and a CLIP vision tower (`image_encoder/`, or one named apart) as the
//! feature space the images are compared in, as in the official code.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::DType;
use nao_backend::SchedulerConfig;
use nao_sd::clip_vision::{
    find_image_encoder, find_image_processor, ClipImageProcessor, ClipVisionModel,
};
use nao_sd::{SdOptions, StableDiffusion};

use crate::net::{DiffusionNet, ImageEncoder};
use crate::{Result, SelectError};

/// A Stable Diffusion model conditioned on one prompt, with a CLIP vision tower, on an
/// autodiff device. Its weights are constants (nao-sd loads them so): gradients reach only
/// the seed.
#[derive(Debug)]
pub struct SdNet {
    sd: StableDiffusion,
    /// The text embeddings `[2, tokens, width]`: the negative prompt's, then the prompt's (the
    /// order of diffusers' classifier-free guidance batch).
    text: Tensor<3>,
    encoder: ClipVisionModel,
    processor: ClipImageProcessor,
    encoder_dir: PathBuf,
    latent: [usize; 3],
    device: Device,
}

/// The largest image side refined (a 4096 × 4096 image is 64 Mpixel of decoder activations).
const MAX_SIDE: usize = 4096;

fn sd_error(what: &'static str) -> impl Fn(nao_sd::SdError) -> SelectError {
    move |e| SelectError::compute(what, e)
}

/// f32, whatever the compute precision: the loss and the optimiser work in f32.
fn to_f32<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    if t.dtype() == DType::F32 {
        t
    } else {
        t.cast(DType::F32)
    }
}

impl SdNet {
    /// The diffusers folder `dir` on `device` (made an autodiff device here), conditioned on
    /// `prompt` (with `negative_prompt` as guidance's unconditional side), with the CLIP vision
    /// tower in `image_encoder` — or, when `None`, the folder's own `image_encoder/`.
    ///
    /// The image processor (for the resize and normalisation of decoded images) is the
    /// encoder folder's `preprocessor_config.json`, else the model folder's
    /// `feature_extractor/`, else CLIP's defaults for the tower's size.
    ///
    /// Errors: no image encoder (saying where one was looked for and how to give one), or a
    /// folder that does not load (the file and value named by nao-sd).
    pub fn load(
        dir: &Path,
        image_encoder: Option<&Path>,
        device: &Device,
        prompt: &str,
        negative_prompt: &str,
        options: &SdOptions,
    ) -> Result<Self> {
        let encoder_dir = match image_encoder {
            Some(d) => d.to_path_buf(),
            None => find_image_encoder(dir).ok_or_else(|| {
                SelectError::Input(format!(
                    "{}: no image_encoder/ (a CLIP vision tower: config.json and \
                     model.safetensors); SeedSelect on Stable Diffusion compares images in its \
                     feature space: give one with --image-encoder DIR",
                    dir.display()
                ))
            })?,
        };
        let ad = device.clone().autodiff();
        let input = |e: nao_sd::SdError| SelectError::Input(e.to_string());
        let sd = StableDiffusion::load(dir, &ad, options).map_err(input)?;
        let encoder = ClipVisionModel::load(&encoder_dir, &ad, options).map_err(input)?;
        let own = encoder_dir.join("preprocessor_config.json");
        let processor = match (own.is_file(), find_image_processor(dir)) {
            (true, _) => ClipImageProcessor::from_file(&own),
            (false, Some(p)) => ClipImageProcessor::from_file(&p),
            (false, None) => Ok(ClipImageProcessor::for_config(encoder.config())),
        }
        .map_err(input)?;
        let text = sd
            .encode_prompts(&[negative_prompt, prompt])
            .map_err(|e| SelectError::Input(format!("prompt \"{prompt}\": {e}")))?;
        let [n, tokens, width] = text.shape[..] else {
            return Err(SelectError::compute(
                "the text embeddings",
                format!("shape {:?}", text.shape),
            ));
        };
        let text = Tensor::<3>::from_data(TensorData::new(text.data, [n, tokens, width]), &ad);
        let info = nao_backend::Backend::info(&sd);
        let s = info.vae_downsample.max(1);
        let (h, w) = info.default_image_size;
        let latent = [info.latent_channels, h / s, w / s];
        Ok(Self {
            sd,
            text,
            encoder,
            processor,
            encoder_dir,
            latent,
            device: ad,
        })
    }

    /// Refine seeds of images of `height` × `width` pixels instead of the model's default
    /// size (Stable Diffusion samples any size whose sides are multiples of its VAE factor).
    ///
    /// Errors for a side that is 0 or not a multiple of the VAE factor, or an image over
    /// 4096 × 4096.
    pub fn with_image_size(mut self, height: usize, width: usize) -> Result<Self> {
        let info = nao_backend::Backend::info(&self.sd);
        let s = info.vae_downsample.max(1);
        if height == 0 || width == 0 || height % s != 0 || width % s != 0 {
            return Err(SelectError::LatentSize(format!(
                "images of {width}×{height}: the sides must be positive multiples of the VAE's \
                 factor {s}"
            )));
        }
        if height > MAX_SIDE || width > MAX_SIDE {
            return Err(SelectError::LatentSize(format!(
                "images of {width}×{height}: at most {MAX_SIDE}×{MAX_SIDE}"
            )));
        }
        self.latent = [info.latent_channels, height / s, width / s];
        Ok(self)
    }

    /// The model.
    pub fn model(&self) -> &StableDiffusion {
        &self.sd
    }

    /// The folder of the vision tower in use.
    pub fn image_encoder_dir(&self) -> &Path {
        &self.encoder_dir
    }
}

impl DiffusionNet for SdNet {
    fn device(&self) -> &Device {
        &self.device
    }

    fn latent_shape(&self) -> [usize; 3] {
        self.latent
    }

    fn scheduler(&self) -> &SchedulerConfig {
        &nao_backend::Backend::info(&self.sd).scheduler
    }

    fn predict(&self, latents: Tensor<4>, timestep: i64, guidance: f64) -> Result<Tensor<4>> {
        let [b, ..] = latents.dims();
        let side = |row: usize| self.text.clone().narrow(0, row, 1).repeat_dim(0, b);
        let unet = |x: Tensor<4>, text: Tensor<3>| -> Result<Tensor<4>> {
            let timesteps = vec![timestep; x.dims()[0]];
            let out = self.sd.unet().forward(x, &timesteps, text);
            Ok(to_f32(out.map_err(sd_error("the UNet"))?))
        };
        if guidance <= 1.0 {
            return unet(latents, side(1));
        }
        // one batch of 2b: the unconditional rows, then the conditional ones (as diffusers)
        let x = Tensor::cat(vec![latents.clone(), latents], 0);
        let out = unet(x, Tensor::cat(vec![side(0), side(1)], 0))?;
        let uncond = out.clone().narrow(0, 0, b);
        let cond = out.narrow(0, b, b);
        Ok(uncond.clone() + (cond - uncond).mul_scalar(guidance as f32))
    }

    fn decode(&self, latents: Tensor<4>) -> Result<Tensor<4>> {
        let vae = self.sd.vae();
        let images = vae
            .decode(vae.unscale_latents(latents))
            .map_err(sd_error("the VAE decoder"))?;
        Ok(to_f32(images))
    }

    fn encode(&self, images: Tensor<4>) -> Result<Tensor<4>> {
        let vae = self.sd.vae();
        let mean = vae.encode(images).map_err(sd_error("the VAE encoder"))?;
        Ok(to_f32(vae.scale_latents(mean)))
    }
}

impl ImageEncoder for SdNet {
    fn accepts(&self, channels: usize, height: usize, width: usize) -> Result<()> {
        let c = self.encoder.config();
        if channels != 3 || c.num_channels != 3 {
            return Err(SelectError::Input(format!(
                "the image encoder {} takes {} channel(s) through its RGB image processor; the \
                 images have {channels}",
                self.encoder_dir.display(),
                c.num_channels
            )));
        }
        if height == 0 || width == 0 {
            return Err(SelectError::Input(format!(
                "images of {height}×{width}: nothing to encode"
            )));
        }
        Ok(())
    }

    fn embed(&self, images: Tensor<4>) -> Result<Tensor<2>> {
        let pixels = self
            .processor
            .normalise_decoded(images)
            .map_err(|e| SelectError::Input(format!("{}: {e}", self.encoder_dir.display())))?;
        let out = self
            .encoder
            .forward(pixels)
            .map_err(sd_error("the image encoder"))?;
        Ok(to_f32(out.image_embeds))
    }
}
