//! [`BurnModel`]: the three networks on one burn device, behind nao's diffusion [`Backend`].

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use nao_backend::{Backend, BackendError, Capabilities, Conditioning, ModelInfo};

use crate::autoencoder::Autoencoder;
use crate::classes::NUM_CLASSES;
use crate::classifier::Classifier;
use crate::denoiser::Denoiser;
use crate::error::BurnModelError;
use crate::export::OnnxExport;
use crate::format::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::host::{self, check_shape, LATENT_SIDE};
use crate::weights::{
    load_module, ModelCard, AUTOENCODER_FILE, CARD_FILE, CLASSIFIER_FILE, DENOISER_FILE,
};

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
    /// The files compiled into the crate (feature `embedded`), as (file name, bytes): the model
    /// card and the three weight files. Programs that record which model made their outputs
    /// hash them (the embedded model has no files on disk to point at).
    ///
    /// ```
    /// let files = nao_burn::BurnModel::embedded_files();
    /// assert_eq!(files[0].0, nao_burn::CARD_FILE);
    /// assert!(files.iter().all(|(_, bytes)| !bytes.is_empty()));
    /// ```
    #[cfg(feature = "embedded")]
    pub fn embedded_files() -> [(&'static str, &'static [u8]); 4] {
        [
            (crate::CARD_FILE, EMBEDDED_CARD.as_bytes()),
            (crate::AUTOENCODER_FILE, EMBEDDED[0]),
            (crate::DENOISER_FILE, EMBEDDED[1]),
            (crate::CLASSIFIER_FILE, EMBEDDED[2]),
        ]
    }

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
            nao_fs::input::read_limited(&p, crate::weights::WEIGHTS_LIMIT)
                .map_err(|e| BurnModelError::format(&p, e.to_string()))
        };
        let card = ModelCard::read(&dir.join(CARD_FILE))?;
        Self::from_card(
            card,
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
        weights: [Vec<u8>; 3],
        device: &Device,
        origin: &str,
    ) -> Result<Self, BurnModelError> {
        let card = ModelCard::from_json(card, &format!("{origin}/{CARD_FILE}"))?;
        Self::from_card(card, weights, device, origin)
    }

    fn from_card(
        card: ModelCard,
        [ae, dn, cls]: [Vec<u8>; 3],
        device: &Device,
        origin: &str,
    ) -> Result<Self, BurnModelError> {
        // The weights' headers must fit the card before any network is built.
        let files = [AUTOENCODER_FILE, DENOISER_FILE, CLASSIFIER_FILE];
        for ((bytes, shapes), file) in [&ae, &dn, &cls]
            .into_iter()
            .zip(crate::card_check::expected_tensors(&card))
            .zip(files)
        {
            crate::card_check::check_weights(bytes, &shapes, &format!("{origin}/{file}"))?;
        }
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
        let info = host::model_info(&card, "nao-fashion-ldm (embedded, burn)");
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

    /// The autoencoder (for computations on burn tensors, such as differentiating through
    /// the decoder).
    pub fn autoencoder(&self) -> &Autoencoder {
        &self.autoencoder
    }

    /// The noise predictor.
    pub fn denoiser(&self) -> &Denoiser {
        &self.denoiser
    }

    /// The evaluation classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The same model with every parameter frozen: on an autodiff device, gradients then flow
    /// to inputs (a seed) without being computed for the weights.
    ///
    /// ```
    /// let device = nao_burn::Device::flex().autodiff();
    /// let model = nao_burn::BurnModel::embedded(&device)?.frozen();
    /// # Ok::<(), nao_burn::BurnModelError>(())
    /// ```
    pub fn frozen(self) -> Self {
        use burn::module::Module;
        Self {
            autoencoder: self.autoencoder.no_grad(),
            denoiser: self.denoiser.no_grad(),
            classifier: self.classifier.no_grad(),
            ..self
        }
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
        Ok(self.classify_with_features(images)?.0)
    }

    /// Classify images `[b, 1, 28, 28]` in `[0, 1]` and return, from the same pass, the
    /// classifier's penultimate-layer features `[b, hidden]` (the space `nao eval` measures
    /// image sets in).
    ///
    /// ```
    /// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
    /// let bags = nao_burn::bundled_images(8)?;
    /// let (verdicts, features) = model.classify_with_features(&bags)?;
    /// assert_eq!(features.shape, vec![bags.shape[0], 128]);
    /// assert!(verdicts.iter().filter(|p| p.class == 8).count() >= 15);
    /// # Ok::<(), nao_burn::BurnModelError>(())
    /// ```
    pub fn classify_with_features(
        &self,
        images: &nao_backend::Tensor,
    ) -> Result<(Vec<Prediction>, nao_backend::Tensor), BurnModelError> {
        let b = check_shape("images", images, &[1, IMAGE_SIDE, IMAGE_SIDE])?;
        let hidden = self.card.classifier.hidden;
        let mut out = Vec::with_capacity(b);
        let mut features = Vec::with_capacity(b * hidden);
        for chunk in images.data.chunks(256 * IMAGE_PIXELS) {
            let n = chunk.len() / IMAGE_PIXELS;
            let signed: Vec<f32> = chunk.iter().map(|&v| v * 2.0 - 1.0).collect();
            let x = Tensor::<4>::from_data(
                TensorData::new(signed, [n, 1, IMAGE_SIDE, IMAGE_SIDE]),
                &self.device,
            );
            let f = self.classifier.features(x);
            let p = softmax(self.classifier.logits(f.clone()), 1);
            features.extend(to_vec(f)?);
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
        Ok((
            out,
            nao_backend::Tensor {
                shape: vec![b, hidden],
                data: features,
            },
        ))
    }
}

pub(crate) fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, BurnModelError> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| BurnModelError::Runtime(format!("reading a tensor back: {e:?}")))
}

impl Backend for BurnModel {
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
        latents: &nao_backend::Tensor,
        timesteps: &[i64],
        context: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let t: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
        self.predict_noise_at(latents, &t, context)
    }

    /// Any timestep, fractional ones too: the denoiser's time features are sinusoids of it.
    fn predict_noise_at(
        &self,
        latents: &nao_backend::Tensor,
        timesteps: &[f64],
        context: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let input = host::denoise_input(&self.card, latents, timesteps, context)?;
        let (b, d, tf) = (
            input.batch,
            self.latent_dim(),
            self.card.denoiser.time_features,
        );
        let x = Tensor::<2>::from_data(TensorData::new(latents.data.clone(), [b, d]), &self.device);
        let time = Tensor::<2>::from_data(TensorData::new(input.time, [b, tf]), &self.device);
        let cls = Tensor::<1, Int>::from_data(TensorData::new(input.classes, [b]), &self.device);
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
        let b = host::check_images(images)?;
        let x = Tensor::<4>::from_data(
            TensorData::new(images.data.clone(), [b, 1, IMAGE_SIDE, IMAGE_SIDE]),
            &self.device,
        );
        let (mean, _) = self.autoencoder.encode(x);
        Ok(host::scaled_latents(&self.card, b, to_vec(mean)?))
    }

    fn decode_latents(
        &self,
        latents: &nao_backend::Tensor,
    ) -> Result<nao_backend::Tensor, BackendError> {
        let (b, unscaled) = host::unscaled_latents(&self.card, latents)?;
        let c = self.card.autoencoder.latent_channels;
        let z = Tensor::<4>::from_data(
            TensorData::new(unscaled, [b, c, LATENT_SIDE, LATENT_SIDE]),
            &self.device,
        );
        Ok(host::unit_images(b, to_vec(self.autoencoder.decode(z))?))
    }
}

impl BurnModel {
    /// Export the autoencoder, the noise predictor and the classifier as ONNX graphs carrying
    /// this model's weights.
    pub fn to_onnx(&self) -> Result<OnnxExport, BurnModelError> {
        let card = self.card().clone();
        Ok(OnnxExport {
            vae_encoder: self.autoencoder().onnx_encoder(IMAGE_SIDE)?,
            vae_decoder: self.autoencoder().onnx_decoder(IMAGE_SIDE)?,
            denoiser: self
                .denoiser()
                .onnx_graph(card.denoiser.latent_dim, card.denoiser.time_features)?,
            classifier: self.classifier.onnx_graph(IMAGE_SIDE)?,
            card,
        })
    }
}
