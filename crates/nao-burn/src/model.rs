//! [`BurnModel`]: the three networks on one burn device, behind nao's diffusion [`Backend`].

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use nao_backend::{Backend, BackendError, Capabilities, Conditioning, ModelInfo};

use crate::autoencoder::Autoencoder;
use crate::classes::{class_from_prompt, NULL_CLASS, NUM_CLASSES};
use crate::classifier::Classifier;
use crate::data::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::denoiser::{timestep_features, Denoiser};
use crate::error::BurnModelError;
use crate::weights::{
    load_module, ModelCard, AUTOENCODER_FILE, CARD_FILE, CLASSIFIER_FILE, DENOISER_FILE,
};

/// Latent side (28 / 4).
const LATENT_SIDE: usize = IMAGE_SIDE / 4;

/// A classifier verdict for one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The most likely class.
    pub class: usize,
    /// Its softmax probability.
    pub confidence: f32,
    /// The softmax probability of every class.
    pub probabilities: [f32; NUM_CLASSES],
}

/// The embedded latent diffusion model (autoencoder + class-conditional noise predictor) and
/// its evaluation classifier, on a burn [`Device`].
///
/// The conditioning "embedding" of a prompt is its class index as a `[1, 1]` tensor
/// (`NULL_CLASS` = 10 for the empty prompt), so batches of mixed classes are `[b, 1]`.
#[derive(Debug)]
pub struct BurnModel {
    device: Device,
    autoencoder: Autoencoder,
    denoiser: Denoiser,
    classifier: Classifier,
    card: ModelCard,
    info: ModelInfo,
}

#[cfg(feature = "embedded")]
const EMBEDDED: [&[u8]; 3] = [
    include_bytes!("../weights/autoencoder.safetensors"),
    include_bytes!("../weights/denoiser.safetensors"),
    include_bytes!("../weights/classifier.safetensors"),
];
#[cfg(feature = "embedded")]
const EMBEDDED_CARD: &str = include_str!("../weights/model.json");

impl BurnModel {
    /// The weights compiled into the crate (feature `embedded`, on by default).
    ///
    /// ```
    /// use nao_backend::Backend;
    /// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex()).unwrap();
    /// assert_eq!(model.info().latent_shape(28, 28).unwrap(), [4, 7, 7]);
    /// ```
    #[cfg(feature = "embedded")]
    pub fn embedded(device: &Device) -> Result<Self, BurnModelError> {
        Self::from_parts(
            EMBEDDED_CARD,
            [
                EMBEDDED[0].to_vec(),
                EMBEDDED[1].to_vec(),
                EMBEDDED[2].to_vec(),
            ],
            device,
            "<embedded weights>",
        )
    }

    /// Load from a weight folder as written by `cargo xtask train` (`model.json` and three
    /// safetensors files).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, BurnModelError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|e| BurnModelError::io(&p, e))
        };
        let card_path = dir.join(CARD_FILE);
        let card =
            std::fs::read_to_string(&card_path).map_err(|e| BurnModelError::io(&card_path, e))?;
        Self::from_parts(
            &card,
            [
                read(AUTOENCODER_FILE)?,
                read(DENOISER_FILE)?,
                read(CLASSIFIER_FILE)?,
            ],
            device,
            &dir.display().to_string(),
        )
    }

    fn from_parts(
        card: &str,
        [ae, dn, cls]: [Vec<u8>; 3],
        device: &Device,
        origin: &str,
    ) -> Result<Self, BurnModelError> {
        let card = ModelCard::from_json(card, &format!("{origin}/{CARD_FILE}"))?;
        let autoencoder = load_module(
            Autoencoder::new(&card.autoencoder, device),
            ae,
            &format!("{origin}/{AUTOENCODER_FILE}"),
        )?;
        let denoiser = load_module(
            Denoiser::new(&card.denoiser, device),
            dn,
            &format!("{origin}/{DENOISER_FILE}"),
        )?;
        let classifier = load_module(
            Classifier::new(&card.classifier, device),
            cls,
            &format!("{origin}/{CLASSIFIER_FILE}"),
        )?;
        let info = ModelInfo {
            name: "nao-fashion-ldm (embedded, burn)".into(),
            vae_scaling_factor: card.scaling_factor,
            latent_channels: card.autoencoder.latent_channels,
            vae_downsample: 4,
            default_image_size: (IMAGE_SIDE, IMAGE_SIDE),
            image_channels: 1,
            scheduler: crate::scheduler_config(),
        };
        Ok(Self {
            device: device.clone(),
            autoencoder,
            denoiser,
            classifier,
            card,
            info,
        })
    }

    /// The model card (sizes, scaling factor, rare classes).
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The burn device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Seed dimension d = 4·7·7 = 196.
    pub fn latent_dim(&self) -> usize {
        self.card.denoiser.latent_dim
    }

    /// Classify images `[b, 1, 28, 28]` with pixels in `[0, 1]` (what `decode_latents` returns).
    pub fn classify(
        &self,
        images: &nao_backend::Tensor,
    ) -> Result<Vec<Prediction>, BurnModelError> {
        let b = check_shape("images", images, &[1, IMAGE_SIDE, IMAGE_SIDE])?;
        let mut out = Vec::with_capacity(b);
        for chunk in images.data.chunks(256 * IMAGE_PIXELS) {
            let n = chunk.len() / IMAGE_PIXELS;
            let signed: Vec<f32> = chunk.iter().map(|&v| v * 2.0 - 1.0).collect();
            let x = Tensor::<4>::from_data(
                TensorData::new(signed, [n, 1, IMAGE_SIDE, IMAGE_SIDE]),
                &self.device,
            );
            let p = softmax(self.classifier.forward(x), 1);
            let probs = to_vec(p)?;
            for row in probs.chunks(NUM_CLASSES) {
                let (class, &confidence) = row
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .expect("10 classes");
                let mut probabilities = [0.0; NUM_CLASSES];
                probabilities.copy_from_slice(row);
                out.push(Prediction {
                    class,
                    confidence,
                    probabilities,
                });
            }
        }
        Ok(out)
    }

    fn class_id(&self, prompt: &str) -> Result<usize, BurnModelError> {
        Ok(class_from_prompt(prompt)?.unwrap_or(NULL_CLASS))
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, BurnModelError> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| BurnModelError::Device(format!("reading a tensor back: {e:?}")))
}

/// Check `[b, rest…]` and return b.
fn check_shape(
    what: &str,
    t: &nao_backend::Tensor,
    rest: &[usize],
) -> Result<usize, BurnModelError> {
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

impl Backend for BurnModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: true,
            vae_encoder: true,
            vae_decoder: true,
        }
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        let class = |id: usize| nao_backend::Tensor {
            shape: vec![1, 1],
            data: vec![id as f32],
        };
        let cond = class(self.class_id(prompt)?);
        let uncond = if with_uncond {
            Some(class(self.class_id(negative_prompt)?))
        } else {
            None
        };
        Ok(Conditioning { cond, uncond })
    }

    fn predict_noise(
        &self,
        latents: &nao_backend::Tensor,
        timesteps: &[i64],
        context: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let c = self.card.autoencoder.latent_channels;
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
        let d = self.latent_dim();
        let tf = self.card.denoiser.time_features;
        let ts: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
        let x = Tensor::<2>::from_data(TensorData::new(latents.data.clone(), [b, d]), &self.device);
        let time = Tensor::<2>::from_data(
            TensorData::new(timestep_features(&ts, tf), [b, tf]),
            &self.device,
        );
        let cls = Tensor::<1, Int>::from_data(TensorData::new(classes, [b]), &self.device);
        let eps = to_vec(self.denoiser.forward(x, time, cls))?;
        Ok(nao_backend::Tensor {
            shape: latents.shape.clone(),
            data: eps,
        })
    }

    fn encode_image(
        &self,
        images: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let b = check_shape("images", images, &[1, IMAGE_SIDE, IMAGE_SIDE])?;
        let x = Tensor::<4>::from_data(
            TensorData::new(images.data.clone(), [b, 1, IMAGE_SIDE, IMAGE_SIDE]),
            &self.device,
        );
        let (mean, _) = self.autoencoder.encode(x);
        let s = self.card.scaling_factor;
        let data = to_vec(mean)?
            .into_iter()
            .map(|v| (v as f64 * s) as f32)
            .collect();
        Ok(nao_backend::Tensor {
            shape: vec![
                b,
                self.card.autoencoder.latent_channels,
                LATENT_SIDE,
                LATENT_SIDE,
            ],
            data,
        })
    }

    fn decode_latents(
        &self,
        latents: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let c = self.card.autoencoder.latent_channels;
        let b = check_shape("latents", latents, &[c, LATENT_SIDE, LATENT_SIDE])?;
        let s = self.card.scaling_factor;
        let unscaled: Vec<f32> = latents
            .data
            .iter()
            .map(|&v| (v as f64 / s) as f32)
            .collect();
        let z = Tensor::<4>::from_data(
            TensorData::new(unscaled, [b, c, LATENT_SIDE, LATENT_SIDE]),
            &self.device,
        );
        let data = to_vec(self.autoencoder.decode(z))?
            .into_iter()
            .map(|v| ((v + 1.0) * 0.5).clamp(0.0, 1.0))
            .collect();
        Ok(nao_backend::Tensor {
            shape: vec![b, 1, IMAGE_SIDE, IMAGE_SIDE],
            data,
        })
    }
}
