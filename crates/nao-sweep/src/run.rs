//! The model calls both sweeps share: invert real images into seeds, and sample seeds into
//! images scored by the classifier as `nao eval` scores images (one path for every image).

use nao_backend::{Backend, Tensor};
use nao_inversion::{InversionOptions, ResizePolicy};
use nao_metrics::{FeatureClassifier, ScoredImages};
use nao_prior::{ChiPrior, RngName};
use nao_sampling::{SampleOptions, SamplingError, SchedulerChoice, VarianceNoise};

use crate::progress::{report, Event, Progress};
use crate::{fit_to_classifier, RealClass, Result, SweepError};

/// The model, the classifier and the progress count of one sweep.
pub(crate) struct Runner<'a> {
    pub model: &'a dyn Backend,
    pub classifier: &'a dyn FeatureClassifier,
    pub resize: ResizePolicy,
    pub chi: ChiPrior,
    /// Images scored so far, and in all.
    pub done: usize,
    pub total: usize,
}

/// Images sampled from seeds and their scores.
pub(crate) struct Sampled {
    /// `[b, channels, H, W]` in `[0, 1]`.
    pub images: Tensor,
    pub scored: ScoredImages,
}

impl<'a> Runner<'a> {
    pub fn new(
        model: &'a dyn Backend,
        classifier: &'a dyn FeatureClassifier,
        resize: ResizePolicy,
        total: usize,
    ) -> Result<Self> {
        let d = latent_dim(model)?;
        Ok(Self {
            model,
            classifier,
            resize,
            chi: ChiPrior::new(d).map_err(|e| SweepError::compute("χ prior", e))?,
            done: 0,
            total,
        })
    }

    /// DDIM-invert `images` (`[b, channels, H, W]` in `[−1, 1]`) of `class` under its prompt
    /// with `steps` steps and guidance 1 (as `nao demo` and `nao augment` invert): one seed
    /// each.
    pub fn invert(
        &self,
        class: &RealClass,
        images: &Tensor,
        steps: usize,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Vec<f64>>> {
        report(progress, Event::Inverting { class: &class.name })?;
        let options = InversionOptions::new().with_steps(steps);
        let cond = nao_inversion::encode_prompt(self.model, &class.prompt, &options)
            .map_err(|e| SweepError::compute("encoding the class prompt", e))?;
        let z = nao_inversion::invert(self.model, images, &cond, &options, |_| {
            progress(Event::Step)
        })
        .map_err(|e| match e {
            nao_inversion::InversionError::Cancelled => SweepError::Cancelled,
            e => SweepError::compute("DDIM inversion", e),
        })?;
        let d = z.data.len() / z.batch().max(1);
        Ok(z.data
            .chunks(d)
            .map(|c| c.iter().map(|&v| f64::from(v)).collect())
            .collect())
    }

    /// Sample `seeds` of `class` with `options` (its noise, for stochastic samplers, seeded
    /// with `noise_seed`), decode them, and score the images with the classifier; each
    /// image's log χ is its seed's.
    pub fn sample(
        &mut self,
        seeds: &[Vec<f64>],
        class: &RealClass,
        options: &SampleOptions,
        noise_seed: u64,
        progress: &mut Progress<'_>,
    ) -> Result<Sampled> {
        if seeds.is_empty() {
            return Err(SweepError::input("no seeds to sample"));
        }
        let mut shape = vec![seeds.len()];
        shape.extend(latent_shape(self.model)?);
        let log_chi: Vec<Option<f64>> = seeds
            .iter()
            .map(|s| Some(self.chi.log_pdf(nao_prior::norm(s))))
            .collect();
        let data: Vec<f32> = seeds.iter().flatten().map(|&v| v as f32).collect();
        let batch = Tensor::new(shape, data).map_err(|e| SweepError::compute("seed batch", e))?;
        let options = options.clone().with_noise(VarianceNoise::Seeded {
            rng: RngName::ChaCha20,
            seed: noise_seed,
        });
        let cond = nao_sampling::encode_prompt(self.model, &class.prompt, &options)
            .map_err(|e| SweepError::compute("encoding the class prompt", e))?;
        let latents = nao_sampling::sample(self.model, &batch, &cond, &options, |_| {
            progress(Event::Step)
        })
        .map_err(|e| match e {
            SamplingError::Cancelled => SweepError::Cancelled,
            e => SweepError::compute("sampling", e),
        })?;
        let images = self
            .model
            .decode_latents(&latents)
            .map_err(|e| SweepError::compute("decoding latents", e))?;
        let fitted = fit_to_classifier(&images, self.classifier.input(), self.resize)?;
        let mut scored = ScoredImages::new();
        scored
            .add(self.classifier, class.index, &fitted, &log_chi)
            .map_err(|e| SweepError::compute("classifying images", e))?;
        self.done += seeds.len();
        report(
            progress,
            Event::Images {
                done: self.done,
                total: self.total,
            },
        )?;
        Ok(Sampled { images, scored })
    }
}

/// The model's seed shape `(c, h, w)` at its default image size.
pub(crate) fn latent_shape(model: &dyn Backend) -> Result<[usize; 3]> {
    let info = model.info();
    let (h, w) = info.default_image_size;
    info.latent_shape(h, w)
        .map_err(|e| SweepError::compute("latent shape", e))
}

/// The model's seed dimension `d`.
pub(crate) fn latent_dim(model: &dyn Backend) -> Result<usize> {
    Ok(latent_shape(model)?.iter().product())
}

/// Sampling options for one sampler, checked against the model's scheduler config: an input
/// error naming `option` (the sampler) or `steps_option` otherwise.
pub(crate) fn sampler_options(
    model: &dyn Backend,
    choice: SchedulerChoice,
    steps: usize,
    guidance: f64,
    negative_prompt: &str,
    option: &str,
    steps_option: &str,
) -> Result<(SampleOptions, usize)> {
    let mut scheduler = nao_sampling::new_scheduler(&model.info().scheduler, Some(&choice), 0.0)
        .map_err(|e| SweepError::input(format!("{option} {choice}: {e}")))?;
    scheduler.set_timesteps(steps).map_err(|e| {
        SweepError::input(format!(
            "{steps_option} {steps}: not a step count the {} sampler takes on this model: {e}",
            scheduler.name()
        ))
    })?;
    let options = SampleOptions::new()
        .with_steps(steps)
        .with_guidance_scale(guidance)
        .with_negative_prompt(negative_prompt)
        .with_scheduler(choice);
    options
        .check()
        .map_err(|e| SweepError::input(format!("{option} {choice}: {e}")))?;
    Ok((options, scheduler.timesteps().len()))
}

/// A seed for a random stream from a base seed and indices (splitmix64 folded over them):
/// every (class, draw, batch) gets its own stream, the same for every norm and sampler.
pub fn stream_seed(base: u64, indices: &[u64]) -> u64 {
    let mut x = base;
    for &i in indices {
        x = splitmix(x ^ splitmix(i.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    x
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
