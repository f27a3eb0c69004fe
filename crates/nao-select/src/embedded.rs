//! SeedSelect on nao's embedded model: its noise predictor and decoder, and its classifier's
//! penultimate layer as the image encoder (the feature space `nao eval` measures in).

use burn::prelude::*;
use nao_backend::SchedulerConfig;
use nao_burn::{timestep_features, BurnModel, NULL_CLASS};

use crate::net::{DiffusionNet, ImageEncoder};
use crate::{Result, SelectError};

/// The embedded model (or trained weights of its kind) for one class, on an autodiff device.
#[derive(Debug)]
pub struct EmbeddedNet {
    model: BurnModel,
    class: usize,
    scheduler: SchedulerConfig,
}

impl EmbeddedNet {
    /// The embedded model on `device` (made an autodiff device here), frozen, conditioned on
    /// `class`.
    ///
    /// ```
    /// use nao_select::{DiffusionNet, EmbeddedNet};
    /// let net = EmbeddedNet::embedded(&nao_burn::Device::flex(), 8)?; // class 8: bag
    /// assert_eq!(net.latent_shape(), [4, 7, 7]);
    /// # Ok::<(), nao_select::SelectError>(())
    /// ```
    pub fn embedded(device: &Device, class: usize) -> Result<Self> {
        let ad = device.clone().autodiff();
        let model = BurnModel::embedded(&ad)
            .map_err(|e| SelectError::compute("loading the embedded model", e))?;
        Self::new(model, class)
    }

    /// A loaded model of the embedded kind (on an autodiff device), frozen here.
    pub fn new(model: BurnModel, class: usize) -> Result<Self> {
        if class >= NULL_CLASS {
            return Err(SelectError::Input(format!(
                "class {class} is not one of the model's classes 0..{NULL_CLASS}"
            )));
        }
        Ok(Self {
            model: model.frozen(),
            class,
            scheduler: nao_burn::scheduler_config(),
        })
    }

    /// The model.
    pub fn model(&self) -> &BurnModel {
        &self.model
    }

    fn noise(&self, flat: Tensor<2>, timestep: i64, class: usize) -> Tensor<2> {
        let [b, _] = flat.dims();
        let device = flat.device();
        let tf = self.model.card().denoiser.time_features;
        let time = timestep_features(&vec![timestep as f64; b], tf);
        let time = Tensor::<2>::from_data(TensorData::new(time, [b, tf]), &device);
        let classes =
            Tensor::<1, Int>::from_data(TensorData::new(vec![class as i64; b], [b]), &device);
        self.model.denoiser().forward(flat, time, classes)
    }
}

impl DiffusionNet for EmbeddedNet {
    fn device(&self) -> &Device {
        self.model.device()
    }

    fn latent_shape(&self) -> [usize; 3] {
        let c = self.model.card().autoencoder.latent_channels;
        let side = nao_burn::IMAGE_SIDE / 4;
        [c, side, side]
    }

    fn scheduler(&self) -> &SchedulerConfig {
        &self.scheduler
    }

    fn predict(&self, latents: Tensor<4>, timestep: i64, guidance: f64) -> Result<Tensor<4>> {
        let dims = latents.dims();
        let flat = latents.reshape([dims[0], dims[1] * dims[2] * dims[3]]);
        let cond = self.noise(flat.clone(), timestep, self.class);
        let eps = if guidance > 1.0 {
            let uncond = self.noise(flat, timestep, NULL_CLASS);
            uncond.clone() + (cond - uncond).mul_scalar(guidance as f32)
        } else {
            cond
        };
        Ok(eps.reshape(dims))
    }

    fn decode(&self, latents: Tensor<4>) -> Result<Tensor<4>> {
        let s = self.model.card().scaling_factor;
        Ok(self
            .model
            .autoencoder()
            .decode(latents.div_scalar(s as f32)))
    }

    fn encode(&self, images: Tensor<4>) -> Result<Tensor<4>> {
        let s = self.model.card().scaling_factor;
        let (mean, _) = self.model.autoencoder().encode(images);
        Ok(mean.mul_scalar(s as f32))
    }
}

impl ImageEncoder for EmbeddedNet {
    fn accepts(&self, channels: usize, height: usize, width: usize) -> Result<()> {
        let side = nao_burn::IMAGE_SIDE;
        if (channels, height, width) != (1, side, side) {
            return Err(SelectError::Input(format!(
                "the embedded classifier takes grey {side}×{side} images, not {channels} \
                 channel(s) of {height}×{width}"
            )));
        }
        Ok(())
    }

    fn embed(&self, images: Tensor<4>) -> Result<Tensor<2>> {
        Ok(self.model.classifier().features(images))
    }
}
