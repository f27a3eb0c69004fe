//! The [`Scheduler`] trait every sampler implements, the noise of stochastic samplers
//! ([`StepNoise`]), and [`new_scheduler`], which builds the scheduler a model config and a
//! [`SchedulerChoice`] describe.

use nao_backend::{SchedulerConfig, Tensor};
use nao_prior::GaussianSeeds;

use crate::ddim::{check_tensor, DdimSampler};
use crate::kind::ClassConfig;
use crate::{
    DdimScheduler, DeisMultistepScheduler, DpmSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler, EulerDiscreteScheduler, HeunDiscreteScheduler,
    LmsDiscreteScheduler, PndmScheduler, SamplingError, SchedulerChoice, SchedulerKind, StepOutput,
    UniPcMultistepScheduler, VarianceNoise,
};

/// A sampler: diffusers' scheduler interface, as `StableDiffusionPipeline` drives it.
///
/// After [`Scheduler::set_timesteps`], the pipeline calls the model once per entry of
/// [`Scheduler::timesteps`] (Heun and PNDM's Runge–Kutta warm-up hold some steps twice, so a
/// step may take two model calls): for call `i`, the model sees
/// `scale_model_input(latents, i)` at `timesteps()[i]`, and `step(output, i, latents, …)`
/// gives the next latents. The initial latents are the seeds times
/// [`Scheduler::init_noise_sigma`]. Calls must come in order (`i = 0, 1, …`): multistep
/// samplers keep the earlier model outputs.
///
/// ```
/// use nao_backend::{SchedulerConfig, Tensor};
/// use nao_sampling::{new_scheduler, SchedulerChoice, StepNoise};
///
/// let sd1 = nao_test_support::sd1_scheduler();
/// let mut euler = new_scheduler(&sd1, Some(&"euler".parse().unwrap()), 0.0)?;
/// euler.set_timesteps(10)?;
/// assert_eq!(euler.timesteps()[..2], [901.0, 801.0]);
/// assert!(euler.init_noise_sigma() > 1.0); // σ-space: seeds are scaled up
/// let x = Tensor::new(vec![1, 1, 1, 2], vec![1.0, -1.0])?;
/// let input = euler.scale_model_input(&x, 0)?;
/// let eps = Tensor::zeros(vec![1, 1, 1, 2]);
/// let out = euler.step(&eps, 0, &x, &mut StepNoise::none())?;
/// assert_eq!(out.prev_sample.data, x.data); // ε = 0: nothing to remove
/// # let _ = input;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Scheduler: std::fmt::Debug + Send {
    /// The class.
    fn kind(&self) -> SchedulerKind;

    /// A short name of the class with the options that make it what it is (`dpm++2m-karras`,
    /// `plms`, `euler`, `ddim η=0.5`, …), for reports.
    fn name(&self) -> String;

    /// Choose `steps` inference steps (diffusers' `set_timesteps`), and reset any state of an
    /// earlier walk. An error for a step count the training timesteps cannot hold.
    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError>;

    /// The timesteps the model is called at, in order: one entry per model call (diffusers'
    /// `scheduler.timesteps`; fractional for σ schedulers with `linspace` spacing or Karras σ).
    fn timesteps(&self) -> &[f64];

    /// The inference steps of the last [`Scheduler::set_timesteps`].
    fn num_inference_steps(&self) -> Option<usize>;

    /// The σ = √((1 − ᾱ)/ᾱ) of every model call, then the σ the walk ends at, as float32
    /// (diffusers' `scheduler.sigmas`); empty for the schedulers that step in ᾱ (DDIM, PNDM).
    fn sigmas(&self) -> &[f32] {
        &[]
    }

    /// What the seeds (unit Gaussian) are multiplied by to start the walk, as diffusers'
    /// `prepare_latents` does: 1, or the largest σ (√(σ_max² + 1) with `leading` spacing) for
    /// σ-space schedulers. A float32 value, as diffusers holds it.
    fn init_noise_sigma(&self) -> f32;

    /// The model's input at call `index`: the latents, or for σ-space schedulers the latents
    /// divided by √(σ² + 1).
    fn scale_model_input(&self, sample: &Tensor, index: usize) -> Result<Tensor, SamplingError>;

    /// Advance the walk with the model output of call `index`, from `sample` (the latents
    /// before the call's scaling). Stochastic samplers draw from `noise`.
    fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: &mut StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError>;

    /// Model calls per step: 2 for Heun, 1 otherwise (PNDM's warm-up steps call it 4 times
    /// per 2 steps at the start only).
    fn order(&self) -> usize {
        1
    }

    /// Whether [`Scheduler::step`] draws noise (Euler ancestral; DDIM with η > 0).
    fn is_stochastic(&self) -> bool {
        false
    }
}

/// The noise stochastic steps draw: from a seeded generator, from tensors the caller gives
/// (to reproduce a run of diffusers exactly), or none (deterministic samplers).
pub struct StepNoise<'a> {
    source: Source<'a>,
    drawn: usize,
}

impl std::fmt::Debug for StepNoise<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::None => "none",
            Source::Seeded(_) => "seeded",
            Source::Provided(_) => "provided",
        };
        f.debug_struct("StepNoise")
            .field("source", &source)
            .field("drawn", &self.drawn)
            .finish()
    }
}

enum Source<'a> {
    None,
    Seeded(Box<GaussianSeeds>),
    Provided(&'a [Tensor]),
}

impl<'a> StepNoise<'a> {
    /// No noise: a stochastic step is then an error.
    pub fn none() -> Self {
        Self {
            source: Source::None,
            drawn: 0,
        }
    }

    /// The noise of [`VarianceNoise`]: a generator seeded now, or the given tensors, one per
    /// draw in order.
    pub fn new(noise: &'a VarianceNoise) -> Self {
        let source = match noise {
            VarianceNoise::Seeded { rng, seed } => {
                Source::Seeded(Box::new(GaussianSeeds::new(*rng, *seed)))
            }
            VarianceNoise::Provided(v) => Source::Provided(v),
        };
        Self { source, drawn: 0 }
    }

    /// Draws so far.
    pub fn drawn(&self) -> usize {
        self.drawn
    }

    /// The next standard normal tensor of `shape` (row-major from a generator, or the next
    /// given tensor, which must have that shape).
    pub fn draw(&mut self, shape: &[usize]) -> Result<Tensor, SamplingError> {
        let n = shape.iter().product();
        let t = match &mut self.source {
            Source::None => {
                return Err(SamplingError::InvalidOption(
                    "this sampler draws noise each step, and no noise source was given".into(),
                ))
            }
            Source::Seeded(rng) => Tensor {
                shape: shape.to_vec(),
                data: rng.seed(n),
            },
            Source::Provided(v) => {
                let t = v.get(self.drawn).ok_or_else(|| {
                    SamplingError::InvalidOption(format!(
                        "{} provided noise tensors, and step noise number {} is needed",
                        v.len(),
                        self.drawn + 1
                    ))
                })?;
                check_tensor("provided noise", t)?;
                if t.shape != shape {
                    return Err(SamplingError::Shape(format!(
                        "provided noise tensor {} has shape {:?}; the latents have {:?}",
                        self.drawn, t.shape, shape
                    )));
                }
                t.clone()
            }
        };
        self.drawn += 1;
        Ok(t)
    }
}

/// The scheduler of a model config: `choice`'s class, or the config's own `_class_name` (DDIM
/// when it names none) when `choice` is `None`, configured as diffusers'
/// `Class.from_config(pipe.scheduler.config)` configures it (the config's keys, the class's
/// defaults for keys the file left out), with DDIM's η (`eta` > 0 is an error for the other
/// classes, which have none).
///
/// Errors name what is wrong: an unknown class, a prediction type or option the class (or
/// nao's implementation of it) does not support.
///
/// ```
/// use nao_sampling::{new_scheduler, SchedulerKind};
/// let sd1 = nao_test_support::sd1_scheduler(); // no _class_name: DDIM
/// assert_eq!(new_scheduler(&sd1, None, 0.0)?.kind(), SchedulerKind::Ddim);
/// let dpm = new_scheduler(&sd1, Some(&"dpm++2m-karras".parse()?), 0.0)?;
/// assert_eq!(dpm.name(), "dpm++2m-karras");
/// assert!(new_scheduler(&sd1, Some(&"euler".parse()?), 0.5).is_err()); // η is DDIM's
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
pub fn new_scheduler(
    config: &SchedulerConfig,
    choice: Option<&SchedulerChoice>,
    eta: f64,
) -> Result<Box<dyn Scheduler>, SamplingError> {
    let class = ClassConfig::resolve(config, choice)?;
    if class.kind != SchedulerKind::Ddim && eta != 0.0 {
        return Err(SamplingError::InvalidOption(format!(
            "eta = {eta}: η is an option of DDIM only, and the scheduler is {}",
            class.kind.class_name()
        )));
    }
    Ok(match class.kind {
        SchedulerKind::Ddim => Box::new(DdimSampler::new(
            DdimScheduler::new(class.config.clone())?,
            eta,
        )?),
        SchedulerKind::Pndm => Box::new(PndmScheduler::from_class(&class)?),
        SchedulerKind::Euler => Box::new(EulerDiscreteScheduler::from_class(&class)?),
        SchedulerKind::EulerAncestral => {
            Box::new(EulerAncestralDiscreteScheduler::from_class(&class)?)
        }
        SchedulerKind::Heun => Box::new(HeunDiscreteScheduler::from_class(&class)?),
        SchedulerKind::DpmSolverMultistep => {
            Box::new(DpmSolverMultistepScheduler::from_class(&class)?)
        }
        SchedulerKind::Deis => Box::new(DeisMultistepScheduler::from_class(&class)?),
        SchedulerKind::UniPc => Box::new(UniPcMultistepScheduler::from_class(&class)?),
        SchedulerKind::Lms => Box::new(LmsDiscreteScheduler::from_class(&class)?),
    })
}

/// Check that call `index` is the one a scheduler expects next.
pub(crate) fn check_order(
    scheduler: &'static str,
    expected: usize,
    index: usize,
    calls: usize,
) -> Result<(), SamplingError> {
    if calls == 0 {
        return Err(SamplingError::TimestepsNotSet);
    }
    if index != expected || index >= calls {
        return Err(SamplingError::InvalidOption(format!(
            "{scheduler}: step {index} called, but step {expected} of {calls} is next (steps \
             must come in order after set_timesteps)"
        )));
    }
    Ok(())
}

/// Check a model output and sample of one step: consistent tensors of the same shape.
pub(crate) fn check_step_tensors(
    model_output: &Tensor,
    sample: &Tensor,
) -> Result<(), SamplingError> {
    check_tensor("sample", sample)?;
    check_tensor("model output", model_output)?;
    if model_output.shape != sample.shape {
        return Err(SamplingError::Shape(format!(
            "model output has shape {:?} but the sample has shape {:?}",
            model_output.shape, sample.shape
        )));
    }
    Ok(())
}

/// A tensor of `like`'s shape holding `data`.
pub(crate) fn tensor_like(like: &Tensor, data: Vec<f32>) -> Tensor {
    Tensor {
        shape: like.shape.clone(),
        data,
    }
}

/// `sample / s` elementwise in f32 (the σ schedulers' `scale_model_input`).
pub(crate) fn divide(sample: &Tensor, s: f32) -> Tensor {
    tensor_like(sample, sample.data.iter().map(|&x| x / s).collect())
}

/// `x₀` from a model output in σ space (Euler, Euler ancestral, LMS; Heun with its own σ):
/// ε: `x − σ·m`; v: `m·(−σ/√(σ² + 1)) + x/(σ² + 1)`; x₀: `m`. In f32 in diffusers' order.
pub(crate) fn sigma_x0(
    prediction: nao_backend::PredictionType,
    sigma: f32,
    model_output: &[f32],
    sample: &[f32],
) -> Vec<f32> {
    use nao_backend::PredictionType as P;
    match prediction {
        P::Epsilon => sample
            .iter()
            .zip(model_output)
            .map(|(&x, &m)| x - sigma * m)
            .collect(),
        P::VPrediction => {
            let c_out = -sigma / crate::sigmas::sqrt_sigma2_plus_1(sigma);
            let c_skip = sigma * sigma + 1.0;
            sample
                .iter()
                .zip(model_output)
                .map(|(&x, &m)| m * c_out + x / c_skip)
                .collect()
        }
        P::Sample => model_output.to_vec(),
    }
}
