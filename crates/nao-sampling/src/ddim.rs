//! `DdimScheduler` and `DdimInverseScheduler`: diffusers' `DDIMScheduler` and
//! `DDIMInverseScheduler`.
//!
//! The per-step arithmetic mirrors diffusers operation by operation in f32 (diffusers holds ᾱ as
//! float32 0-d tensors and steps float32 latents), so that for the same model output a step gives
//! the same bits as diffusers on CPU.

use nao_backend::{PredictionType, SchedulerConfig, Tensor};
use nao_prior::GaussianSeeds;

use crate::schedule;
use crate::SamplingError;

/// The result of one scheduler step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutput {
    /// The sample at the next timestep of the walk (`x_{t−1}` when sampling, `x_{t+1}` when
    /// inverting): diffusers' `prev_sample`.
    pub prev_sample: Tensor,
    /// The model's estimate of the clean sample x₀ (after clipping): a cheap preview.
    pub pred_original_sample: Tensor,
}

/// x₀ and ε from the model output, per prediction type (diffusers step 3), then clipped.
struct Decomposed {
    x0: Vec<f32>,
    eps: Vec<f32>,
}

fn decompose(
    config: &SchedulerConfig,
    model_output: &[f32],
    sample: &[f32],
    alpha_prod_t: f32,
) -> Decomposed {
    let beta_prod_t = 1.0 - alpha_prod_t;
    let (sa, sb) = (alpha_prod_t.sqrt(), beta_prod_t.sqrt());
    let (mut x0, eps): (Vec<f32>, Vec<f32>) = match config.prediction_type {
        PredictionType::Epsilon => (
            model_output
                .iter()
                .zip(sample)
                .map(|(&e, &x)| (x - sb * e) / sa)
                .collect(),
            model_output.to_vec(),
        ),
        PredictionType::Sample => (
            model_output.to_vec(),
            model_output
                .iter()
                .zip(sample)
                .map(|(&x0, &x)| (x - sa * x0) / sb)
                .collect(),
        ),
        PredictionType::VPrediction => model_output
            .iter()
            .zip(sample)
            .map(|(&v, &x)| (sa * x - sb * v, sa * v + sb * x))
            .unzip(),
    };
    if config.clip_sample {
        let r = config.clip_sample_range as f32;
        for v in x0.iter_mut() {
            *v = v.clamp(-r, r);
        }
    }
    Decomposed { x0, eps }
}

fn check_same_shape(what: &str, a: &Tensor, sample: &Tensor) -> Result<(), SamplingError> {
    check_tensor(what, a)?;
    if a.shape != sample.shape {
        return Err(SamplingError::Shape(format!(
            "{what} has shape {:?} but the sample has shape {:?}",
            a.shape, sample.shape
        )));
    }
    Ok(())
}

/// A tensor whose data length agrees with its shape (the fields are public, so check).
pub(crate) fn check_tensor(what: &str, t: &Tensor) -> Result<(), SamplingError> {
    let n: usize = t.shape.iter().product();
    if n != t.data.len() {
        return Err(SamplingError::Shape(format!(
            "{what}: shape {:?} holds {n} values but the data has {}",
            t.shape,
            t.data.len()
        )));
    }
    Ok(())
}

fn index(timestep: i64, t: usize) -> Result<usize, SamplingError> {
    if timestep < 0 || timestep >= t as i64 {
        return Err(SamplingError::TimestepOutOfRange {
            timestep,
            num_train_timesteps: t,
        });
    }
    Ok(timestep as usize)
}

/// diffusers' `DDIMScheduler` (Song et al. 2021, eq. 12 and 16): deterministic for η = 0,
/// stochastic for η > 0.
///
/// ```
/// use nao_backend::{SchedulerConfig, Tensor};
/// use nao_sampling::DdimScheduler;
///
/// let config = SchedulerConfig::from_json(
///     r#"{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
///         "steps_offset": 1, "set_alpha_to_one": false, "clip_sample": false}"#,
/// ).unwrap();
/// let mut scheduler = DdimScheduler::new(config).unwrap();
/// scheduler.set_timesteps(10).unwrap();
/// assert_eq!(scheduler.timesteps()[..3], [901, 801, 701]);
///
/// // One step with a zero noise prediction scales the sample by √(ᾱ_prev/ᾱ_t).
/// let x = Tensor::new(vec![1, 1, 1, 2], vec![1.0, -2.0]).unwrap();
/// let eps = Tensor::zeros(vec![1, 1, 1, 2]);
/// let out = scheduler.step(&eps, 901, &x, 0.0, None).unwrap();
/// let ratio = (scheduler.alphas_cumprod()[801] / scheduler.alphas_cumprod()[901]).sqrt();
/// assert!((out.prev_sample.data[0] as f64 - ratio).abs() < 1e-5);
/// ```
#[derive(Debug, Clone)]
pub struct DdimScheduler {
    config: SchedulerConfig,
    betas: Vec<f64>,
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
    num_inference_steps: Option<usize>,
    timesteps: Vec<i64>,
}

impl DdimScheduler {
    /// Build the scheduler of a model from its config; an error for a config that describes no
    /// valid diffusion process (βs outside `[0, 1)`, a `trained_betas` of the wrong length, …).
    pub fn new(config: SchedulerConfig) -> Result<Self, SamplingError> {
        let betas = schedule::betas(&config)?;
        let alphas_cumprod = schedule::alphas_cumprod(&betas);
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        // Before set_timesteps diffusers holds T−1, …, 0.
        let timesteps = (0..config.num_train_timesteps as i64).rev().collect();
        Ok(Self {
            betas: betas.into_iter().map(f64::from).collect(),
            alphas_cumprod,
            final_alpha_cumprod,
            num_inference_steps: None,
            timesteps,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// βₜ for `t = 0..T` (the float32 values diffusers holds, widened to f64).
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// ᾱₜ = Πₛ≤ₜ (1 − βₛ) for `t = 0..T` (the float32 values diffusers holds, widened to f64).
    pub fn alphas_cumprod(&self) -> &[f64] {
        &self.alphas_cumprod
    }

    /// The ᾱ used after the last step: 1 with `set_alpha_to_one`, else ᾱ₀.
    pub fn final_alpha_cumprod(&self) -> f64 {
        self.final_alpha_cumprod
    }

    /// The initial noise scale (1 for DDIM): seeds are used as they are.
    pub fn init_noise_sigma(&self) -> f64 {
        1.0
    }

    /// The inference steps set by [`DdimScheduler::set_timesteps`].
    pub fn num_inference_steps(&self) -> Option<usize> {
        self.num_inference_steps
    }

    /// The current timesteps, descending.
    pub fn timesteps(&self) -> &[i64] {
        &self.timesteps
    }

    /// Choose `n` inference timesteps by the config's spacing, as diffusers does:
    /// leading `(0..n)·(T div n) + steps_offset`, trailing `round(arange(T, 0, −T/n)) − 1`,
    /// linspace `round(linspace(0, T−1, n))`, all descending. An error for `n = 0`, `n > T` or a
    /// grid reaching past `T − 1`.
    pub fn set_timesteps(&mut self, n: usize) -> Result<&[i64], SamplingError> {
        self.timesteps = schedule::ddim_timesteps(&self.config, n)?;
        self.num_inference_steps = Some(n);
        Ok(&self.timesteps)
    }

    /// The timestep the step from `timestep` lands on: `timestep − T div n` (negative after the
    /// last step, where [`DdimScheduler::final_alpha_cumprod`] is used).
    pub fn prev_timestep(&self, timestep: i64) -> Result<i64, SamplingError> {
        let n = self
            .num_inference_steps
            .ok_or(SamplingError::TimestepsNotSet)?;
        Ok(timestep - (self.config.num_train_timesteps / n) as i64)
    }

    /// σₜ²/η² = (1 − ᾱ_prev)/(1 − ᾱₜ) · (1 − ᾱₜ/ᾱ_prev), diffusers' `_get_variance`, in f32.
    pub fn variance(&self, timestep: i64) -> Result<f64, SamplingError> {
        let (a_t, a_prev) = self.alphas(timestep)?;
        Ok(variance_f32(a_t, a_prev) as f64)
    }

    fn alphas(&self, timestep: i64) -> Result<(f32, f32), SamplingError> {
        let prev = self.prev_timestep(timestep)?;
        let a_t = self.alphas_cumprod[index(timestep, self.config.num_train_timesteps)?];
        let a_prev = if prev >= 0 {
            self.alphas_cumprod[prev as usize]
        } else {
            self.final_alpha_cumprod
        };
        Ok((a_t as f32, a_prev as f32))
    }

    /// One DDIM step from `timestep` to [`DdimScheduler::prev_timestep`], diffusers'
    /// `DDIMScheduler.step` with `use_clipped_model_output = False`:
    ///
    /// x̂₀ from the model output (per prediction type, clipped when `clip_sample`),
    /// σₜ = η·√variance, `x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σₜ²)·ε̂ + σₜ·noise`.
    ///
    /// `noise` (same shape as `sample`) is required when `eta > 0` and ignored otherwise.
    pub fn step(
        &self,
        model_output: &Tensor,
        timestep: i64,
        sample: &Tensor,
        eta: f64,
        noise: Option<&Tensor>,
    ) -> Result<StepOutput, SamplingError> {
        check_tensor("sample", sample)?;
        check_same_shape("model output", model_output, sample)?;
        if !(eta.is_finite() && eta >= 0.0) {
            return Err(SamplingError::InvalidOption(format!(
                "eta = {eta} must be finite and non-negative"
            )));
        }
        let noise = if eta > 0.0 {
            let n = noise.ok_or(SamplingError::MissingNoise(eta))?;
            check_same_shape("variance noise", n, sample)?;
            Some(n)
        } else {
            None
        };
        let (a_t, a_prev) = self.alphas(timestep)?;
        let d = decompose(&self.config, &model_output.data, &sample.data, a_t);
        let std_dev = eta as f32 * variance_f32(a_t, a_prev).sqrt();
        let dir = ((1.0 - a_prev) - std_dev * std_dev).sqrt();
        let sa_prev = a_prev.sqrt();
        let mut prev: Vec<f32> =
            d.x0.iter()
                .zip(&d.eps)
                .map(|(&x0, &e)| sa_prev * x0 + dir * e)
                .collect();
        if let Some(n) = noise {
            for (p, &z) in prev.iter_mut().zip(&n.data) {
                *p += std_dev * z;
            }
        }
        Ok(StepOutput {
            prev_sample: Tensor {
                shape: sample.shape.clone(),
                data: prev,
            },
            pred_original_sample: Tensor {
                shape: sample.shape.clone(),
                data: d.x0,
            },
        })
    }

    /// [`DdimScheduler::step`] drawing the variance noise (when `eta > 0`) from a seeded
    /// generator, in row-major order; nothing is drawn for `eta = 0`.
    pub fn step_with_rng(
        &self,
        model_output: &Tensor,
        timestep: i64,
        sample: &Tensor,
        eta: f64,
        rng: &mut GaussianSeeds,
    ) -> Result<StepOutput, SamplingError> {
        if eta > 0.0 {
            check_tensor("sample", sample)?;
            let noise = Tensor {
                shape: sample.shape.clone(),
                data: rng.seed(sample.data.len()),
            };
            self.step(model_output, timestep, sample, eta, Some(&noise))
        } else {
            self.step(model_output, timestep, sample, eta, None)
        }
    }
}

fn variance_f32(a_t: f32, a_prev: f32) -> f32 {
    let (b_t, b_prev) = (1.0 - a_t, 1.0 - a_prev);
    (b_prev / b_t) * (1.0 - a_t / a_prev)
}

/// diffusers' `DDIMInverseScheduler`: the deterministic DDIM step run backwards, from a clean
/// sample towards noise.
///
/// Its timesteps ascend (leading `(0..n)·(T div n) + steps_offset`, trailing
/// `round(arange(T, 0, −T/n))[::-1] − 1`; linspace is rejected as in diffusers). The step at
/// timestep `t` moves from the noise level of `t − T div n` (or the initial ᾱ before the first
/// step: 1 with `set_alpha_to_one`, else ᾱ₀ — diffusers' deprecated `set_alpha_to_zero` key
/// is an alias of `set_alpha_to_one`) to that of `t`, with the model evaluated at `t`.
///
/// ```
/// use nao_backend::SchedulerConfig;
/// use nao_sampling::DdimInverseScheduler;
///
/// let config = SchedulerConfig { steps_offset: 1, ..SchedulerConfig::default() };
/// let mut inverse = DdimInverseScheduler::new(config).unwrap();
/// assert_eq!(inverse.set_timesteps(4).unwrap(), &[1, 251, 501, 751]);
/// ```
#[derive(Debug, Clone)]
pub struct DdimInverseScheduler {
    config: SchedulerConfig,
    alphas_cumprod: Vec<f64>,
    initial_alpha_cumprod: f64,
    num_inference_steps: Option<usize>,
    timesteps: Vec<i64>,
}

impl DdimInverseScheduler {
    /// Build the inverse scheduler from a model's scheduler config (the same config as the
    /// forward [`DdimScheduler`], as `DDIMInverseScheduler.from_config(pipe.scheduler.config)`).
    pub fn new(config: SchedulerConfig) -> Result<Self, SamplingError> {
        let betas = schedule::betas(&config)?;
        let alphas_cumprod = schedule::alphas_cumprod(&betas);
        let initial_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        let timesteps = (0..config.num_train_timesteps as i64).collect();
        Ok(Self {
            alphas_cumprod,
            initial_alpha_cumprod,
            num_inference_steps: None,
            timesteps,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// ᾱₜ for `t = 0..T` (the float32 values diffusers holds, widened to f64).
    pub fn alphas_cumprod(&self) -> &[f64] {
        &self.alphas_cumprod
    }

    /// The ᾱ the first inversion step starts from: 1 with `set_alpha_to_one`, else ᾱ₀.
    pub fn initial_alpha_cumprod(&self) -> f64 {
        self.initial_alpha_cumprod
    }

    /// The inference steps set by [`DdimInverseScheduler::set_timesteps`].
    pub fn num_inference_steps(&self) -> Option<usize> {
        self.num_inference_steps
    }

    /// The current timesteps, ascending.
    pub fn timesteps(&self) -> &[i64] {
        &self.timesteps
    }

    /// Choose `n` ascending inference timesteps (see the type's documentation); an error for
    /// `n = 0`, `n > T`, linspace spacing or a grid reaching past `T − 1`.
    pub fn set_timesteps(&mut self, n: usize) -> Result<&[i64], SamplingError> {
        self.timesteps = schedule::inverse_timesteps(&self.config, n)?;
        self.num_inference_steps = Some(n);
        Ok(&self.timesteps)
    }

    /// The timestep whose noise level the step at `timestep` starts from:
    /// `min(timestep − T div n, T − 1)` (negative for the first step).
    pub fn source_timestep(&self, timestep: i64) -> Result<i64, SamplingError> {
        let n = self
            .num_inference_steps
            .ok_or(SamplingError::TimestepsNotSet)?;
        let t = self.config.num_train_timesteps;
        Ok((timestep - (t / n) as i64).min(t as i64 - 1))
    }

    /// One inversion step at `timestep`, diffusers' `DDIMInverseScheduler.step`: with ᾱ_src of
    /// [`DdimInverseScheduler::source_timestep`] and ᾱ_t of `timestep`, x̂₀ and ε̂ from the model
    /// output evaluated with ᾱ_src, then `x_t = √ᾱ_t·x̂₀ + √(1 − ᾱ_t)·ε̂`.
    pub fn step(
        &self,
        model_output: &Tensor,
        timestep: i64,
        sample: &Tensor,
    ) -> Result<StepOutput, SamplingError> {
        check_tensor("sample", sample)?;
        check_same_shape("model output", model_output, sample)?;
        let t = self.config.num_train_timesteps;
        let target = index(timestep, t)?;
        let src = self.source_timestep(timestep)?;
        let a_src = if src >= 0 {
            self.alphas_cumprod[src as usize]
        } else {
            self.initial_alpha_cumprod
        } as f32;
        let a_t = self.alphas_cumprod[target] as f32;
        let d = decompose(&self.config, &model_output.data, &sample.data, a_src);
        let (sa, dir) = (a_t.sqrt(), (1.0 - a_t).sqrt());
        let prev =
            d.x0.iter()
                .zip(&d.eps)
                .map(|(&x0, &e)| sa * x0 + dir * e)
                .collect();
        Ok(StepOutput {
            prev_sample: Tensor {
                shape: sample.shape.clone(),
                data: prev,
            },
            pred_original_sample: Tensor {
                shape: sample.shape.clone(),
                data: d.x0,
            },
        })
    }
}

/// [`DdimScheduler`] with its η, driven through the [`Scheduler`](crate::Scheduler) trait:
/// what [`new_scheduler`](crate::new_scheduler) builds for DDIM.
#[derive(Debug, Clone)]
pub(crate) struct DdimSampler {
    inner: DdimScheduler,
    eta: f64,
    timesteps: Vec<f64>,
    next: usize,
}

impl DdimSampler {
    pub(crate) fn new(inner: DdimScheduler, eta: f64) -> Result<Self, SamplingError> {
        if !(eta.is_finite() && eta >= 0.0) {
            return Err(SamplingError::InvalidOption(format!(
                "eta = {eta} must be finite and non-negative"
            )));
        }
        Ok(Self {
            inner,
            eta,
            timesteps: Vec::new(),
            next: 0,
        })
    }
}

impl crate::Scheduler for DdimSampler {
    fn kind(&self) -> crate::SchedulerKind {
        crate::SchedulerKind::Ddim
    }

    fn name(&self) -> String {
        if self.eta > 0.0 {
            format!("ddim eta={}", self.eta)
        } else {
            "ddim".into()
        }
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        self.timesteps = self
            .inner
            .set_timesteps(steps)?
            .iter()
            .map(|&t| t as f64)
            .collect();
        self.next = 0;
        Ok(())
    }

    fn timesteps(&self) -> &[f64] {
        &self.timesteps
    }

    fn num_inference_steps(&self) -> Option<usize> {
        self.inner.num_inference_steps()
    }

    fn init_noise_sigma(&self) -> f32 {
        1.0
    }

    fn scale_model_input(&self, sample: &Tensor, _index: usize) -> Result<Tensor, SamplingError> {
        Ok(sample.clone())
    }

    fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        noise: &mut crate::StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError> {
        crate::scheduler::check_order("DDIMScheduler", self.next, index, self.timesteps.len())?;
        let t = self.timesteps[index] as i64;
        let out = if self.eta > 0.0 {
            check_tensor("sample", sample)?;
            let z = noise.draw(&sample.shape)?;
            self.inner
                .step(model_output, t, sample, self.eta, Some(&z))?
        } else {
            self.inner.step(model_output, t, sample, 0.0, None)?
        };
        self.next += 1;
        Ok(out)
    }

    fn is_stochastic(&self) -> bool {
        self.eta > 0.0
    }
}
