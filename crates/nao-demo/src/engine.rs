//! The demo's model calls: invert images to seeds, sample seeds to images, classify, with the
//! embedded model and one set of settings for every method (so methods differ only in their
//! seeds).

use std::cell::Cell;

use nao_backend::{Backend, Tensor};
use nao_burn::{BurnModel, CLASS_NAMES};
use nao_inversion::{InversionError, InversionOptions};
use nao_metrics::{Features, ScoredImages};
use nao_prior::ChiPrior;
use nao_sampling::{SampleOptions, SamplingError};

use crate::progress::{report, Event, Progress};
use crate::{DemoError, Result};

/// The model, the classifier, the settings every sampling and inversion shares, and the count
/// of model batches done.
pub(crate) struct Engine<'a> {
    /// The embedded model, on the chosen device.
    pub model: &'a dyn Backend,
    /// The embedded model's classifier (burn).
    pub classifier: &'a BurnModel,
    /// Steps for sampling and (DDIM) inversion.
    pub steps: usize,
    /// Classifier-free guidance scale for sampling (1 = conditional model only).
    pub guidance: f64,
    /// The sampler (`None`: the model's own, DDIM).
    pub scheduler: Option<nao_sampling::SchedulerChoice>,
    /// χ prior of the seed dimension.
    pub chi: ChiPrior,
    /// Model batches done, of `total`.
    pub done: Cell<usize>,
    /// Model batches of the whole demo.
    pub total: usize,
}

/// Images sampled from seeds, scored by the classifier (verdicts, features, seed log χ) as
/// `nao eval` scores images.
pub(crate) struct Sampled {
    /// `[b, 1, 28, 28]` in `[0, 1]`.
    pub images: Tensor,
    /// The classifier's scores, one per image.
    pub scored: ScoredImages,
}

impl Sampled {
    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.images.data.len() / self.images.batch().max(1);
        &self.images.data[i * n..(i + 1) * n]
    }
}

impl Engine<'_> {
    /// One model batch done: tell the caller, who may cancel.
    fn batch_done(&self, progress: &mut Progress<'_>) -> Result<()> {
        self.done.set(self.done.get() + 1);
        report(
            progress,
            Event::Batch {
                done: self.done.get(),
                total: self.total,
            },
        )
    }

    /// DDIM-invert images `[b, 1, 28, 28]` (in `[−1, 1]`) under the class prompt: one seed each.
    pub fn invert(
        &self,
        images: &Tensor,
        class: usize,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Vec<f64>>> {
        let cond = self
            .model
            .encode_prompt(CLASS_NAMES[class], "", false)
            .map_err(|e| DemoError::compute("encoding the class prompt", e))?;
        let options = InversionOptions::new().with_steps(self.steps);
        let z = nao_inversion::invert(self.model, images, &cond, &options, |_| {
            progress(Event::Step)
        })
        .map_err(|e| match e {
            InversionError::Cancelled => DemoError::Cancelled,
            e => DemoError::compute("DDIM inversion", e),
        })?;
        self.batch_done(progress)?;
        let d = z.data.len() / z.batch().max(1);
        Ok(z.data
            .chunks(d)
            .map(|c| c.iter().map(|&v| v as f64).collect())
            .collect())
    }

    /// Sample images from seeds under the class prompt, and classify them.
    pub fn sample(
        &self,
        seeds: &[Vec<f64>],
        class: usize,
        progress: &mut Progress<'_>,
    ) -> Result<Sampled> {
        if seeds.is_empty() {
            return Err(DemoError::input("no seeds to sample"));
        }
        let info = self.model.info();
        let (h, w) = info.default_image_size;
        let latent = info
            .latent_shape(h, w)
            .map_err(|e| DemoError::compute("latent shape", e))?;
        let mut shape = vec![seeds.len()];
        shape.extend(latent);
        let log_chi: Vec<Option<f64>> = seeds.iter().map(|s| Some(self.log_chi(s))).collect();
        let data: Vec<f32> = seeds.iter().flatten().map(|&v| v as f32).collect();
        let seeds = Tensor::new(shape, data).map_err(|e| DemoError::compute("seed batch", e))?;
        let options = SampleOptions::new()
            .with_steps(self.steps)
            .with_guidance_scale(self.guidance);
        let options = match self.scheduler {
            Some(c) => options.with_scheduler(c),
            None => options,
        };
        let cond = nao_sampling::encode_prompt(self.model, CLASS_NAMES[class], &options)
            .map_err(|e| DemoError::compute("encoding the class prompt", e))?;
        let latents = nao_sampling::sample(self.model, &seeds, &cond, &options, |_| {
            progress(Event::Step)
        })
        .map_err(|e| match e {
            SamplingError::Cancelled => DemoError::Cancelled,
            e => DemoError::compute("sampling", e),
        })?;
        let images = self
            .model
            .decode_latents(&latents)
            .map_err(|e| DemoError::compute("decoding latents", e))?;
        let mut scored = ScoredImages::new();
        scored
            .add(self.classifier, class, &images, &log_chi)
            .map_err(|e| DemoError::compute("classifying images", e))?;
        self.batch_done(progress)?;
        Ok(Sampled { images, scored })
    }

    /// The classifier's features of real images `[b, 1, 28, 28]` in `[0, 1]` of `class`.
    pub fn real_features(&self, images: &Tensor, class: usize) -> Result<Features> {
        let mut scored = ScoredImages::new();
        scored
            .add(self.classifier, class, images, &[])
            .and_then(|()| scored.features())
            .map_err(|e| DemoError::compute("classifying images", e))
    }

    /// Norm of a seed (f64).
    pub fn norm(&self, seed: &[f64]) -> f64 {
        nao_prior::norm(seed)
    }

    /// log χ_d of a seed's norm.
    pub fn log_chi(&self, seed: &[f64]) -> f64 {
        self.chi.log_pdf(self.norm(seed))
    }

    /// Mean log χ_d over seeds.
    pub fn mean_log_chi(&self, seeds: &[Vec<f64>]) -> f64 {
        seeds.iter().map(|s| self.log_chi(s)).sum::<f64>() / seeds.len().max(1) as f64
    }
}

/// The bundled real images of `class`, as `[20, 1, 28, 28]` in `[−1, 1]`.
pub(crate) fn bundled(class: usize) -> Result<Tensor> {
    nao_burn::bundled_images(class).map_err(|e| DemoError::compute("bundled images", e))
}

/// The images of `all` (the bundled images of `class`) at `indices`, as `[n, 1, 28, 28]`.
pub(crate) fn pick(
    all: &Tensor,
    class: usize,
    indices: impl IntoIterator<Item = usize>,
) -> Result<Tensor> {
    let size = all.data.len() / all.batch().max(1);
    let mut data = Vec::new();
    for i in indices {
        if i >= all.batch() {
            return Err(DemoError::input(format!(
                "bundled image {i} of class {class} does not exist (there are {})",
                all.batch()
            )));
        }
        data.extend_from_slice(&all.data[i * size..(i + 1) * size]);
    }
    let mut shape = all.shape.clone();
    shape[0] = data.len() / size;
    Tensor::new(shape, data).map_err(|e| DemoError::compute("bundled images", e))
}
