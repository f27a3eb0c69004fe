//! The sampling loop: seeds → latents with any [`Scheduler`] and classifier-free guidance, as
//! diffusers' `StableDiffusionPipeline` runs it.

use std::ops::ControlFlow;

use nao_backend::{Backend, Conditioning, SchedulerConfig, Tensor};
use nao_prior::RngName;

use crate::ddim::check_tensor;
use crate::{new_scheduler, SamplingError, Scheduler, SchedulerChoice, StepNoise};

/// Which walk a progress report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sampling: noise → image latents.
    Sampling,
    /// DDIM inversion: image latents → noise.
    Inversion,
}

/// What a progress callback sees after each model call and its scheduler step.
#[derive(Debug, Clone, Copy)]
pub struct StepProgress<'a> {
    /// Sampling or inversion.
    pub direction: Direction,
    /// The model call just made, from 0.
    pub index: usize,
    /// The number of model calls of the walk: the steps, or more for samplers that call the
    /// model twice in a step (Heun: `2·steps − 1`; PNDM: `steps + 1`, or `steps + 9` with its
    /// Runge–Kutta warm-up).
    pub total: usize,
    /// The timestep the model was evaluated at (fractional for some σ schedules).
    pub timestep: f64,
    /// The latents after the step, `[b, c, h, w]`.
    pub latents: &'a Tensor,
    /// The model's current estimate of the clean latents x̂₀ (a cheap preview).
    pub pred_original: &'a Tensor,
}

/// A callback that never cancels, for callers that want no progress reports.
///
/// ```
/// use nao_sampling::{no_progress, StepProgress};
/// let _: fn(&StepProgress<'_>) -> std::ops::ControlFlow<()> = no_progress;
/// ```
pub fn no_progress(_: &StepProgress<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Where the noise of stochastic samplers comes from: DDIM's variance noise when η > 0, and
/// Euler ancestral's noise every step.
#[derive(Debug, Clone, PartialEq)]
pub enum VarianceNoise {
    /// Standard normal numbers from a named, seeded generator (`nao_prior::GaussianSeeds`),
    /// `b·c·h·w` per step in row-major order; drawn only by stochastic steps.
    Seeded {
        /// The generator.
        rng: RngName,
        /// Its seed.
        seed: u64,
    },
    /// The noise of every step, given by the caller: one tensor of the seeds' shape per step
    /// (the tensors diffusers' steps draw, to reproduce a diffusers run).
    Provided(Vec<Tensor>),
}

impl Default for VarianceNoise {
    /// ChaCha20 seeded with 0.
    fn default() -> Self {
        Self::Seeded {
            rng: RngName::ChaCha20,
            seed: 0,
        }
    }
}

/// Options of [`sample`]: diffusers' `StableDiffusionPipeline` defaults.
///
/// ```
/// use nao_sampling::SampleOptions;
/// let o = SampleOptions::default().with_steps(10).with_guidance_scale(1.0);
/// assert_eq!((o.steps, o.guidance_scale, o.eta), (10, 1.0, 0.0));
/// assert_eq!(SampleOptions::default().steps, 50);
/// assert!(SampleOptions::default().with_steps(0).check().is_err());
/// let euler = SampleOptions::default().with_scheduler("euler".parse().unwrap());
/// assert_eq!(euler.scheduler.unwrap().to_string(), "euler");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    /// Inference steps (50).
    pub steps: usize,
    /// Classifier-free guidance scale g (7.5); `g ≤ 1` runs no unconditional pass.
    pub guidance_scale: f64,
    /// DDIM η (0: deterministic); > 0 is an error with the other samplers.
    pub eta: f64,
    /// The negative prompt for the unconditional pass (`""`).
    pub negative_prompt: String,
    /// The noise of stochastic samplers (DDIM with η > 0, Euler ancestral).
    pub noise: VarianceNoise,
    /// The sampler: `None` (the default) is the model's own scheduler class (its config's
    /// `_class_name`, DDIM when it names none), as diffusers' pipelines use it.
    pub scheduler: Option<SchedulerChoice>,
}

impl Default for SampleOptions {
    fn default() -> Self {
        Self {
            steps: 50,
            guidance_scale: 7.5,
            eta: 0.0,
            negative_prompt: String::new(),
            noise: VarianceNoise::default(),
            scheduler: None,
        }
    }
}

impl SampleOptions {
    /// The defaults (50 steps, guidance 7.5, η = 0, negative prompt `""`, the model's own
    /// scheduler).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sample with this scheduler instead of the model's own.
    pub fn with_scheduler(mut self, scheduler: SchedulerChoice) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// The scheduler these options sample a model of scheduler config `config` with, its
    /// timesteps set: [`new_scheduler`] with the choice (or the config's own class) and η.
    ///
    /// ```
    /// use nao_sampling::SampleOptions;
    /// let sd1 = nao_test_support::sd1_scheduler();
    /// let heun = SampleOptions::default().with_steps(10).with_scheduler("heun".parse()?);
    /// assert_eq!(heun.scheduler_for(&sd1)?.timesteps().len(), 19); // 2·10 − 1 model calls
    /// # Ok::<(), nao_sampling::SamplingError>(())
    /// ```
    pub fn scheduler_for(
        &self,
        config: &SchedulerConfig,
    ) -> Result<Box<dyn Scheduler>, SamplingError> {
        self.check()?;
        let mut s = new_scheduler(config, self.scheduler.as_ref(), self.eta)?;
        s.set_timesteps(self.steps)?;
        Ok(s)
    }

    /// The model calls one sampling of a model of scheduler config `config` takes (the
    /// steps, or more for Heun and PNDM): the length of a progress bar.
    pub fn model_calls(&self, config: &SchedulerConfig) -> Result<usize, SamplingError> {
        Ok(self.scheduler_for(config)?.timesteps().len())
    }

    /// Set the number of steps.
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// Set the guidance scale.
    pub fn with_guidance_scale(mut self, guidance_scale: f64) -> Self {
        self.guidance_scale = guidance_scale;
        self
    }

    /// Set η.
    pub fn with_eta(mut self, eta: f64) -> Self {
        self.eta = eta;
        self
    }

    /// Set the negative prompt.
    pub fn with_negative_prompt(mut self, negative_prompt: impl Into<String>) -> Self {
        self.negative_prompt = negative_prompt.into();
        self
    }

    /// Set the variance noise source.
    pub fn with_noise(mut self, noise: VarianceNoise) -> Self {
        self.noise = noise;
        self
    }

    /// Whether these options run an unconditional pass (`guidance_scale > 1`, as diffusers).
    pub fn uses_guidance(&self) -> bool {
        self.guidance_scale > 1.0
    }

    /// Check the options: at least one step, a finite guidance scale, a finite η ≥ 0, and one
    /// noise tensor per step when the noise is provided.
    pub fn check(&self) -> Result<(), SamplingError> {
        if self.steps == 0 {
            return Err(SamplingError::InvalidOption(
                "steps must be at least 1".into(),
            ));
        }
        check_guidance(self.guidance_scale)?;
        if !(self.eta.is_finite() && self.eta >= 0.0) {
            return Err(SamplingError::InvalidOption(format!(
                "eta = {} must be finite and non-negative",
                self.eta
            )));
        }
        if let VarianceNoise::Provided(v) = &self.noise {
            if self.eta > 0.0 && v.len() != self.steps {
                return Err(SamplingError::InvalidOption(format!(
                    "{} provided noise tensors for {} steps",
                    v.len(),
                    self.steps
                )));
            }
        }
        Ok(())
    }
}

/// The most sampling or inversion steps a caller may ask for before any model is loaded
/// (schedulers have 1000 training timesteps; `check_step_count` then holds a step count to
/// the model's own schedule).
pub const MAX_STEPS: usize = 10_000;

/// The largest classifier-free guidance scale accepted. Practical scales are 1 to 20; far
/// larger ones only overflow `uncond + g·(cond − uncond)` in f32 into infinities.
pub const MAX_GUIDANCE: f64 = 1000.0;

/// Check a guidance scale: finite, and at most [`MAX_GUIDANCE`] in size.
///
/// ```
/// assert!(nao_sampling::check_guidance(7.5).is_ok());
/// assert!(nao_sampling::check_guidance(1e308).unwrap_err().to_string().contains("1000"));
/// ```
pub fn check_guidance(g: f64) -> Result<(), SamplingError> {
    if !g.is_finite() || g.abs() > MAX_GUIDANCE {
        return Err(SamplingError::InvalidOption(format!(
            "guidance scale {g} must be a finite number of size at most {MAX_GUIDANCE}"
        )));
    }
    Ok(())
}

/// Encode a prompt for sampling with these options: with the negative prompt as the
/// unconditional input when guidance is on (`guidance_scale > 1`).
pub fn encode_prompt<B: Backend + ?Sized>(
    backend: &B,
    prompt: &str,
    options: &SampleOptions,
) -> Result<Conditioning, SamplingError> {
    Ok(backend.encode_prompt(prompt, &options.negative_prompt, options.uses_guidance())?)
}

/// Repeat a `[1, …]` tensor to `[b, …]`, or check that it already has batch `b`.
fn broadcast_batch(what: &str, t: &Tensor, b: usize) -> Result<Tensor, SamplingError> {
    check_tensor(what, t)?;
    if t.shape.is_empty() {
        return Err(SamplingError::Shape(format!(
            "{what} must have a batch axis"
        )));
    }
    match t.shape[0] {
        n if n == b => Ok(t.clone()),
        1 => {
            let mut shape = t.shape.clone();
            shape[0] = b;
            Ok(Tensor {
                shape,
                data: t.data.repeat(b),
            })
        }
        n => Err(SamplingError::Shape(format!(
            "{what} has a batch of {n}; expected 1 or {b} (the number of latents)"
        ))),
    }
}

/// The model's (guided) noise prediction for a batch of latents: the conditioning batched once,
/// then one backend call per step.
///
/// With `guidance_scale > 1` the latents are doubled and the context is `[uncond; cond]` (one
/// backend call on a batch of `2b`), and the prediction is
/// `ε = ε_uncond + g·(ε_cond − ε_uncond)` in f32, exactly as diffusers; otherwise the context is
/// the conditional embeddings alone and no unconditional pass is run.
///
/// Sampling and inversion (`nao-inversion`) both predict through it, so guidance means the same
/// in both directions.
///
/// ```
/// use nao_backend::Backend;
/// use nao_sampling::GuidedPredictor;
/// let model = nao_test_support::AnalyticBackend::new();
/// let conditioning = model.encode_prompt("a cat", "", true)?;
/// let predictor = GuidedPredictor::new(&conditioning, 2, 7.5)?;
/// assert!(predictor.uses_guidance());
/// let latents = nao_test_support::seeds(2, 4, 4, 1);
/// let eps = predictor.predict(&model, &latents, 500)?;
/// assert_eq!(eps.shape, latents.shape);
/// assert_eq!(model.calls.borrow()[0].batch, 4); // one call on [uncond; cond]
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct GuidedPredictor {
    batch: usize,
    guidance_scale: f64,
    context: Tensor,
}

impl GuidedPredictor {
    /// Batch the conditioning for `batch` latents (each of `cond`/`uncond` with a batch of 1 is
    /// repeated, one of `batch` is used as is); an error when guidance is on without `uncond`.
    pub fn new(
        conditioning: &Conditioning,
        batch: usize,
        guidance_scale: f64,
    ) -> Result<Self, SamplingError> {
        check_guidance(guidance_scale)?;
        if batch == 0 {
            return Err(SamplingError::Shape("an empty batch of latents".into()));
        }
        let cond = broadcast_batch("conditional embeddings", &conditioning.cond, batch)?;
        let context = if guidance_scale > 1.0 {
            let uncond = conditioning
                .uncond
                .as_ref()
                .ok_or(SamplingError::MissingUncond(guidance_scale))?;
            let uncond = broadcast_batch("unconditional embeddings", uncond, batch)?;
            if uncond.shape != cond.shape {
                return Err(SamplingError::Shape(format!(
                    "unconditional embeddings {:?} and conditional embeddings {:?} differ in shape",
                    uncond.shape, cond.shape
                )));
            }
            Tensor::concat(&[uncond, cond])?
        } else {
            cond
        };
        Ok(Self {
            batch,
            guidance_scale,
            context,
        })
    }

    /// Whether an unconditional pass is run.
    pub fn uses_guidance(&self) -> bool {
        self.guidance_scale > 1.0
    }

    /// The guided model output for `latents` `[b, c, h, w]` at `timestep`.
    pub fn predict<B: Backend + ?Sized>(
        &self,
        backend: &B,
        latents: &Tensor,
        timestep: i64,
    ) -> Result<Tensor, SamplingError> {
        self.predict_at(backend, latents, timestep as f64)
    }

    /// [`GuidedPredictor::predict`] at a timestep that may be fractional (σ schedulers),
    /// through [`Backend::predict_noise_at`].
    pub fn predict_at<B: Backend + ?Sized>(
        &self,
        backend: &B,
        latents: &Tensor,
        timestep: f64,
    ) -> Result<Tensor, SamplingError> {
        check_tensor("latents", latents)?;
        if latents.shape.first() != Some(&self.batch) {
            return Err(SamplingError::Shape(format!(
                "latents {:?} do not have the batch of {} this predictor was built for",
                latents.shape, self.batch
            )));
        }
        let b = self.batch;
        if !self.uses_guidance() {
            let out = backend.predict_noise_at(latents, &vec![timestep; b], &self.context)?;
            check_output(&out, &latents.shape)?;
            return Ok(out);
        }
        let doubled = Tensor::concat(&[latents.clone(), latents.clone()])?;
        let out = backend.predict_noise_at(&doubled, &vec![timestep; 2 * b], &self.context)?;
        check_output(&out, &doubled.shape)?;
        let half = latents.data.len();
        let (uncond, cond) = out.data.split_at(half);
        let g = self.guidance_scale as f32;
        let data = uncond
            .iter()
            .zip(cond)
            .map(|(&u, &c)| u + g * (c - u))
            .collect();
        Ok(Tensor {
            shape: latents.shape.clone(),
            data,
        })
    }
}

fn check_output(out: &Tensor, expected: &[usize]) -> Result<(), SamplingError> {
    check_tensor("model output", out)?;
    if out.shape != expected {
        return Err(SamplingError::Shape(format!(
            "the backend returned a model output of shape {:?} for latents {:?}",
            out.shape, expected
        )));
    }
    Ok(())
}

/// Check seeds `[b, c, h, w]` against the model's latent channels;
/// sampling and inversion both check their inputs with it.
///
/// ```
/// let model = nao_test_support::AnalyticBackend::new(); // 4 latent channels
/// assert!(nao_sampling::check_latents(&model, &nao_test_support::seeds(1, 8, 8, 0)).is_ok());
/// let three = nao_backend::Tensor::zeros(vec![1, 3, 8, 8]);
/// assert!(nao_sampling::check_latents(&model, &three).is_err());
/// ```
pub fn check_latents<B: Backend + ?Sized>(
    backend: &B,
    latents: &Tensor,
) -> Result<(), SamplingError> {
    check_tensor("latents", latents)?;
    let c = backend.info().latent_channels;
    match latents.shape[..] {
        [b, ch, h, w] if b > 0 && ch == c && h > 0 && w > 0 => Ok(()),
        _ => Err(SamplingError::Shape(format!(
            "latents must have shape [b, {c}, h, w] with b, h, w > 0; got {:?}",
            latents.shape
        ))),
    }
}

/// Sampling from a batch of seeds, as diffusers' `StableDiffusionPipeline` with
/// `latents=seeds`, the options' scheduler (the model's own by default), `eta` and
/// `guidance_scale` (no guidance rescale).
///
/// `seeds` is `[b, c, h, w]`, unit Gaussian: the initial latents are `seeds ·
/// init_noise_sigma` (1 for DDIM, PNDM and the multistep solvers; σ_max-sized for Euler, Heun
/// and LMS), exactly where diffusers' `prepare_latents` scales them. For every model call of
/// the scheduler: the model sees the scaled latents (`scale_model_input`) at the call's
/// timestep, with classifier-free guidance, and the scheduler steps. `conditioning` holds the
/// prompt embeddings with a batch of 1 (shared) or `b`, and the unconditional ones when
/// `options.guidance_scale > 1`. After every model call `callback` gets a [`StepProgress`];
/// returning [`ControlFlow::Break`] stops the loop with [`SamplingError::Cancelled`]. Returns
/// the final latents `[b, c, h, w]` (decode them with `Backend::decode_latents`).
///
/// ```
/// # use nao_backend::Tensor;
/// # use nao_sampling::{sample, SampleOptions, StepProgress};
/// # use std::ops::ControlFlow;
/// // a mock model with a closed-form noise predictor (nao-test-support)
/// let backend = nao_test_support::AnalyticBackend::new();
/// let options = SampleOptions::default().with_steps(10);
/// let conditioning = nao_sampling::encode_prompt(&backend, "a photo of a cat", &options)?;
/// let seeds = Tensor::new(vec![2, 4, 8, 8], vec![1.0; 2 * 4 * 8 * 8])?;
/// let mut seen = Vec::new();
/// let latents = sample(&backend, &seeds, &conditioning, &options, |p: &StepProgress<'_>| {
///     seen.push(p.timestep);
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(latents.shape, vec![2, 4, 8, 8]);
/// assert_eq!(seen.len(), 10);
/// // the same with DPM-Solver++ 2M and Karras sigmas
/// let dpm = options.clone().with_scheduler("dpm++2m-karras".parse()?);
/// let latents = sample(&backend, &seeds, &conditioning, &dpm, nao_sampling::no_progress)?;
/// assert!(latents.data.iter().all(|v| v.is_finite()));
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
pub fn sample<B, F>(
    backend: &B,
    seeds: &Tensor,
    conditioning: &Conditioning,
    options: &SampleOptions,
    mut callback: F,
) -> Result<Tensor, SamplingError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    options.check()?;
    check_latents(backend, seeds)?;
    let mut scheduler = options.scheduler_for(&backend.info().scheduler)?;
    let timesteps = scheduler.timesteps().to_vec();
    let predictor = GuidedPredictor::new(conditioning, seeds.batch(), options.guidance_scale)?;
    let mut noise = StepNoise::new(&options.noise);
    let sigma = scheduler.init_noise_sigma();
    let mut latents = if sigma == 1.0 {
        seeds.clone()
    } else {
        Tensor {
            shape: seeds.shape.clone(),
            data: seeds.data.iter().map(|&x| x * sigma).collect(),
        }
    };
    let total = timesteps.len();
    for (index, &t) in timesteps.iter().enumerate() {
        let input = scheduler.scale_model_input(&latents, index)?;
        let model_output = predictor.predict_at(backend, &input, t)?;
        let out = scheduler.step(&model_output, index, &latents, &mut noise)?;
        latents = out.prev_sample;
        let progress = StepProgress {
            direction: Direction::Sampling,
            index,
            total,
            timestep: t,
            latents: &latents,
            pred_original: &out.pred_original_sample,
        };
        if callback(&progress).is_break() {
            return Err(SamplingError::Cancelled);
        }
    }
    Ok(latents)
}
