//! `HeunDiscreteScheduler`: diffusers' `scheduling_heun_discrete.py` — Karras et al. (2022),
//! Algorithm 1: an Euler step in σ space, then a trapezoidal correction with the derivative at
//! the predicted point (two model calls per step, one for the last).

use nao_backend::{PredictionType, SchedulerConfig, Tensor};

use crate::euler::interp_sigmas;
use crate::kind::ClassConfig;
use crate::scheduler::{
    check_order, check_step_tensors, sigma_x0, tensor_like, Scheduler, StepNoise,
};
use crate::sigmas::{self, karras, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "HeunDiscreteScheduler";

/// diffusers' `HeunDiscreteScheduler`. Its timesteps hold every step but the first twice
/// (`t₀, t₁, t₁, t₂, t₂, …`): `2n − 1` model calls for `n` steps. A first-order call moves
/// `x ← x + d·(σ_next − σ)` with `d = (x − x̂₀)/σ` and remembers `d`, `x` and the step; the
/// next call, at σ_next, replaces that move by `x_prev + (d + d')/2·(σ_next − σ)`.
///
/// Options: `use_karras_sigmas`, `clip_sample`/`clip_sample_range` (clamps x̂₀), the β
/// schedule (default `linear` from 0.00085 to 0.012), spacing, prediction type (ε, v, x₀).
///
/// ```
/// use nao_sampling::{HeunDiscreteScheduler, Scheduler};
/// let mut s = HeunDiscreteScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(3)?;
/// assert_eq!(s.timesteps(), &[667.0, 334.0, 334.0, 1.0, 1.0][..]);
/// assert_eq!(s.order(), 2);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HeunDiscreteScheduler {
    config: SchedulerConfig,
    karras: bool,
    sigma_min: Option<f64>,
    sigma_max: Option<f64>,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    next: usize,
    /// The first-order half of the current step: its derivative, σ_next − σ and sample.
    pending: Option<(Vec<f32>, f32, Vec<f32>)>,
}

impl HeunDiscreteScheduler {
    /// The scheduler of a model config, as `HeunDiscreteScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::Heun),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let o = class.options();
        o.refuse_other_sigmas()?;
        let config = class.config.clone();
        let ac = sigmas::alphas_cumprod(&config, false)?;
        let train_sigmas = sigmas::train_sigmas(&ac);
        Ok(Self {
            karras: o.bool("use_karras_sigmas", false)?,
            sigma_min: o.number("sigma_min")?,
            sigma_max: o.number("sigma_max")?,
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            next: 0,
            pending: None,
            config,
        })
    }

    fn x0(&self, sigma: f32, model_output: &[f32], sample: &[f32]) -> Vec<f32> {
        let mut x0 = if self.config.prediction_type == PredictionType::Sample {
            model_output.to_vec()
        } else {
            sigma_x0(self.config.prediction_type, sigma, model_output, sample)
        };
        if self.config.clip_sample {
            let r = self.config.clip_sample_range as f32;
            for v in &mut x0 {
                *v = v.clamp(-r, r);
            }
        }
        x0
    }
}

impl Scheduler for HeunDiscreteScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Heun
    }

    fn name(&self) -> String {
        if self.karras { "heun-karras" } else { "heun" }.into()
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut ts = sigmas::discrete_timesteps(&self.config, steps);
        sigmas::check_grid(&ts, t)?;
        let mut s = interp_sigmas(&ts, &self.train_sigmas);
        if self.karras {
            let lo = self.sigma_min.unwrap_or(s[s.len() - 1]);
            let hi = self.sigma_max.unwrap_or(s[0]);
            s = karras(lo, hi, steps);
            ts = s.iter().map(|&x| sigma_to_t(x, &self.log_sigmas)).collect();
        }
        let mut s32: Vec<f32> = s.into_iter().map(|x| x as f32).collect();
        s32.push(0.0);
        // σ₀, σ₁, σ₁, …, σ_{n−1}, σ_{n−1}, 0 and t₀, t₁, t₁, …, t_{n−1}, t_{n−1}
        let mut sig = vec![s32[0]];
        for &x in &s32[1..s32.len() - 1] {
            sig.extend([x, x]);
        }
        sig.push(0.0);
        let mut timesteps = vec![f64::from(ts[0] as f32)];
        for &x in &ts[1..] {
            let x = f64::from(x as f32);
            timesteps.extend([x, x]);
        }
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.timesteps = timesteps;
        self.sigmas = sig;
        self.steps = Some(steps);
        self.next = 0;
        self.pending = None;
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
        let (x, m) = (&sample.data, &model_output.data);
        let (prev, x0) = match self.pending.take() {
            None => {
                let (sigma, sigma_next) = (self.sigmas[index], self.sigmas[index + 1]);
                let x0 = self.x0(sigma, m, x);
                let d: Vec<f32> = x.iter().zip(&x0).map(|(&x, &p)| (x - p) / sigma).collect();
                let dt = sigma_next - sigma;
                let prev = x.iter().zip(&d).map(|(&x, &d)| x + d * dt).collect();
                self.pending = Some((d, dt, x.clone()));
                (prev, x0)
            }
            Some((d_prev, dt, x_prev)) => {
                let sigma_next = self.sigmas[index];
                let x0 = self.x0(sigma_next, m, x);
                let prev = x
                    .iter()
                    .zip(&x0)
                    .zip(&d_prev)
                    .zip(&x_prev)
                    .map(|(((&x, &p), &dp), &xp)| {
                        let d = (x - p) / sigma_next;
                        xp + (dp + d) / 2.0 * dt
                    })
                    .collect();
                (prev, x0)
            }
        };
        self.next += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }

    fn order(&self) -> usize {
        2
    }
}
