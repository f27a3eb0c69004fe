//! `EulerDiscreteScheduler`: diffusers' `scheduling_euler_discrete.py` — Karras et al. (2022),
//! Algorithm 2 without churn (the pipelines' default), an Euler step of the probability-flow
//! ODE dx/dσ = (x − x̂₀)/σ in σ space.

use nao_backend::{PredictionType, SchedulerConfig, Tensor};

use crate::kind::ClassConfig;
use crate::scheduler::{
    check_order, check_step_tensors, sigma_x0, tensor_like, Scheduler, StepNoise,
};
use crate::sigmas::{self, karras, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "EulerDiscreteScheduler";

/// diffusers' `EulerDiscreteScheduler` (η = 0, no churn), in σ space: the latents start at
/// `seeds · init_noise_sigma`, the model sees `x/√(σ² + 1)`, and a step is
/// `x ← x + (x − x̂₀)/σ · (σ_next − σ)`.
///
/// Options read from the config (diffusers' defaults): `use_karras_sigmas` (false),
/// `sigma_min`/`sigma_max` (the schedule's), `final_sigmas_type` (`zero` or `sigma_min`),
/// `rescale_betas_zero_snr`, and the β schedule, spacing and prediction type (ε, v, x₀).
/// `interpolation_type = "log_linear"`, `timestep_type = "continuous"` with v-prediction and
/// exponential/β σs are refused.
///
/// ```
/// use nao_sampling::{EulerDiscreteScheduler, Scheduler};
/// let mut s = EulerDiscreteScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(10)?;
/// assert_eq!(s.timesteps().len(), 10);
/// assert_eq!(*s.sigmas().last().unwrap(), 0.0);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EulerDiscreteScheduler {
    config: SchedulerConfig,
    karras: bool,
    sigma_min: Option<f64>,
    sigma_max: Option<f64>,
    final_sigma_min: bool,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    next: usize,
}

impl EulerDiscreteScheduler {
    /// The scheduler of a model config, as `EulerDiscreteScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::Euler),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let o = class.options();
        o.refuse_other_sigmas()?;
        o.one_of("interpolation_type", "linear", &["linear"])?;
        let timestep_type = o.one_of("timestep_type", "discrete", &["discrete", "continuous"])?;
        let config = class.config.clone();
        if timestep_type == "continuous" && config.prediction_type == PredictionType::VPrediction {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: "timestep_type = \"continuous\" with v_prediction".into(),
            });
        }
        let final_type = o.one_of("final_sigmas_type", "zero", &["zero", "sigma_min"])?;
        let ac = sigmas::alphas_cumprod(&config, true)?;
        let train_sigmas = sigmas::train_sigmas(&ac);
        Ok(Self {
            karras: o.bool("use_karras_sigmas", false)?,
            sigma_min: o.number("sigma_min")?,
            sigma_max: o.number("sigma_max")?,
            final_sigma_min: final_type == "sigma_min",
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            next: 0,
            config,
        })
    }
}

/// `init_noise_sigma` of the σ schedulers: σ_max with linspace or trailing spacing,
/// `(σ_max² + 1) ** 0.5` with leading spacing (float32).
pub(crate) fn init_noise_sigma(config: &SchedulerConfig, sigmas: &[f32]) -> f32 {
    let max = sigmas.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    match config.timestep_spacing {
        nao_backend::TimestepSpacing::Leading => sigmas::sqrt_sigma2_plus_1(max),
        _ => max,
    }
}

/// The interpolated σs of a σ scheduler's timesteps (numpy float64).
pub(crate) fn interp_sigmas(timesteps: &[f64], train_sigmas: &[f32]) -> Vec<f64> {
    timesteps
        .iter()
        .map(|&t| sigmas::interp(t, train_sigmas))
        .collect()
}

impl Scheduler for EulerDiscreteScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Euler
    }

    fn name(&self) -> String {
        if self.karras { "euler-karras" } else { "euler" }.into()
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut timesteps = sigmas::discrete_timesteps(&self.config, steps);
        sigmas::check_grid(&timesteps, t)?;
        let mut s = interp_sigmas(&timesteps, &self.train_sigmas);
        if self.karras {
            let lo = self.sigma_min.unwrap_or(s[s.len() - 1]);
            let hi = self.sigma_max.unwrap_or(s[0]);
            s = karras(lo, hi, steps);
            timesteps = s
                .iter()
                .map(|&x| f64::from(sigma_to_t(x, &self.log_sigmas) as f32))
                .collect();
        }
        let last = if self.final_sigma_min {
            self.train_sigmas[0]
        } else {
            0.0
        };
        let mut sig: Vec<f32> = s.into_iter().map(|x| x as f32).collect();
        sig.push(last);
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.timesteps = timesteps;
        self.sigmas = sig;
        self.steps = Some(steps);
        self.next = 0;
        Ok(())
    }

    sigma_grid_accessors!();
    sigma_space_input!();

    fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        _noise: &mut StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError> {
        check_order(NAME, self.next, index, self.timesteps.len())?;
        check_step_tensors(model_output, sample)?;
        // γ = 0 (no churn): σ̂ = σ·(γ + 1) = σ
        let sigma = self.sigmas[index];
        let x0 = sigma_x0(
            self.config.prediction_type,
            sigma,
            &model_output.data,
            &sample.data,
        );
        let dt = self.sigmas[index + 1] - sigma;
        let prev = sample
            .data
            .iter()
            .zip(&x0)
            .map(|(&x, &p)| x + (x - p) / sigma * dt)
            .collect();
        self.next += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }
}
