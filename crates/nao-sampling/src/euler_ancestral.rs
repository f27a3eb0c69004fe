//! `EulerAncestralDiscreteScheduler`: diffusers' `scheduling_euler_ancestral_discrete.py` — an
//! Euler step down to σ_down, then fresh noise of scale σ_up (Karras et al. 2022's ancestral
//! sampling, as k-diffusion's `sample_euler_ancestral` with η = 1).

use nao_backend::{PredictionType, SchedulerConfig, Tensor};

use crate::euler::interp_sigmas;
use crate::kind::ClassConfig;
use crate::scheduler::{
    check_order, check_step_tensors, sigma_x0, tensor_like, Scheduler, StepNoise,
};
use crate::sigmas;
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "EulerAncestralDiscreteScheduler";

/// diffusers' `EulerAncestralDiscreteScheduler`: from σ to σ_next,
/// `σ_up = √(σ_next²·(σ² − σ_next²)/σ²)`, `σ_down = √(σ_next² − σ_up²)`,
/// `x ← x + (x − x̂₀)/σ·(σ_down − σ) + σ_up·z` with standard normal `z` drawn from the step's
/// [`StepNoise`] every step (also the last, where σ_up = 0).
///
/// The noise is what makes two runs differ: pass a seeded generator
/// ([`VarianceNoise::Seeded`](crate::VarianceNoise), reproducible across platforms but not
/// torch's `randn`) or diffusers' own noise tensors ([`VarianceNoise::Provided`](crate::VarianceNoise))
/// to reproduce a diffusers run. Prediction types ε and v (x₀ is refused, as diffusers does).
///
/// ```
/// use nao_backend::Tensor;
/// use nao_sampling::{EulerAncestralDiscreteScheduler, Scheduler, StepNoise, VarianceNoise};
/// let mut s = EulerAncestralDiscreteScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(4)?;
/// let x = Tensor::zeros(vec![1, 4, 2, 2]);
/// let seeded = VarianceNoise::default();
/// let mut noise = StepNoise::new(&seeded);
/// let out = s.step(&x, 0, &x, &mut noise)?;
/// assert_eq!(noise.drawn(), 1);
/// assert!(out.prev_sample.data.iter().any(|&v| v != 0.0)); // σ_up·z
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EulerAncestralDiscreteScheduler {
    config: SchedulerConfig,
    train_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    next: usize,
}

impl EulerAncestralDiscreteScheduler {
    /// The scheduler of a model config, as `EulerAncestralDiscreteScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::EulerAncestral),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let config = class.config.clone();
        if config.prediction_type == PredictionType::Sample {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: "prediction_type = \"sample\"".into(),
            });
        }
        let ac = sigmas::alphas_cumprod(&config, true)?;
        Ok(Self {
            train_sigmas: sigmas::train_sigmas(&ac),
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            next: 0,
            config,
        })
    }
}

impl Scheduler for EulerAncestralDiscreteScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::EulerAncestral
    }

    fn name(&self) -> String {
        "euler-ancestral".into()
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let timesteps = sigmas::discrete_timesteps(&self.config, steps);
        sigmas::check_grid(&timesteps, t)?;
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        let mut sig: Vec<f32> = interp_sigmas(&timesteps, &self.train_sigmas)
            .into_iter()
            .map(|x| x as f32)
            .collect();
        sig.push(0.0);
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
        noise: &mut StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError> {
        check_order(NAME, self.next, index, self.timesteps.len())?;
        check_step_tensors(model_output, sample)?;
        let sigma = self.sigmas[index];
        let x0 = sigma_x0(
            self.config.prediction_type,
            sigma,
            &model_output.data,
            &sample.data,
        );
        let (from, to) = (sigma, self.sigmas[index + 1]);
        let up = (to * to * (from * from - to * to) / (from * from)).sqrt();
        let down = (to * to - up * up).sqrt();
        let dt = down - sigma;
        let z = noise.draw(&model_output.shape)?;
        let prev = sample
            .data
            .iter()
            .zip(&x0)
            .zip(&z.data)
            .map(|((&x, &p), &n)| {
                let moved = x + (x - p) / sigma * dt;
                moved + n * up
            })
            .collect();
        self.next += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }

    fn is_stochastic(&self) -> bool {
        true
    }
}
