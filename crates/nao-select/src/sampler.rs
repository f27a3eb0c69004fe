//! The differentiable DDIM sampler: the schedule arithmetic of `nao-sampling`'s
//! `DdimScheduler` (the same timesteps and ᾱ), with η = 0, written in burn tensor operations so
//! that the loss of the sampled latents can be differentiated with respect to the seed.
//!
//! **Checkpointing per network call.** The forward pass keeps only the latent after each step
//! (`K + 1` latents) and no graph. The backward pass goes through the steps in reverse: step
//! `i` is run again from its stored input with gradients on, and its vector–Jacobian product
//! with the gradient arriving from the later steps (plus the gradient of the loss terms taken
//! at step `i`) gives the gradient at its input. Memory then grows with one network call's
//! activations, not with `K`; the price is one more forward call per step.

use burn::prelude::*;
use nao_backend::{PredictionType, SchedulerConfig};
use nao_sampling::DdimScheduler;

use crate::net::DiffusionNet;
use crate::{Result, SelectError};

/// One DDIM step: the timestep the model is evaluated at, ᾱ there, and ᾱ at the step's end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The timestep.
    pub timestep: i64,
    /// ᾱ at `timestep`.
    pub alpha: f64,
    /// ᾱ at the previous timestep (the final ᾱ after the last step).
    pub alpha_prev: f64,
}

/// The `K` steps of a sampler of the model's scheduler.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The steps, first (noisiest) first.
    pub steps: Vec<Step>,
    /// What the model predicts.
    pub prediction: PredictionType,
    /// Whether x̂₀ is clipped (`clip_sample`), and to which range.
    pub clip: Option<f64>,
}

impl Schedule {
    /// The `k`-step schedule of `config`, as `nao_sampling::DdimScheduler` computes it.
    ///
    /// ```
    /// let s = nao_select::Schedule::new(&nao_burn::scheduler_config(), 20)?;
    /// assert_eq!(s.steps.len(), 20);
    /// assert_eq!(s.steps[0].timestep, 951);
    /// # Ok::<(), nao_select::SelectError>(())
    /// ```
    pub fn new(config: &SchedulerConfig, k: usize) -> Result<Self> {
        let mut ddim = DdimScheduler::new(config.clone())
            .map_err(|e| SelectError::Config(format!("the model's scheduler: {e}")))?;
        let timesteps = ddim
            .set_timesteps(k)
            .map_err(|e| SelectError::Config(format!("--select-steps {k}: {e}")))?
            .to_vec();
        let alphas = ddim.alphas_cumprod().to_vec();
        let steps = timesteps
            .iter()
            .map(|&t| {
                let prev = ddim
                    .prev_timestep(t)
                    .map_err(|e| SelectError::compute("the schedule", e))?;
                let at = |t: i64| {
                    alphas
                        .get(t as usize)
                        .copied()
                        .ok_or_else(|| SelectError::compute("the schedule", "timestep past ᾱ"))
                };
                Ok(Step {
                    timestep: t,
                    alpha: at(t)?,
                    alpha_prev: if prev >= 0 {
                        at(prev)?
                    } else {
                        ddim.final_alpha_cumprod()
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            steps,
            prediction: config.prediction_type,
            clip: config.clip_sample.then_some(config.clip_sample_range),
        })
    }
}

/// The output of one step: the latents at its end and the step's estimate of the clean
/// latents x̂₀.
pub struct StepOut {
    /// x after the step.
    pub latents: Tensor<4>,
    /// x̂₀.
    pub x0: Tensor<4>,
}

/// One DDIM step (η = 0) from `x`, on tensors: the model output, then x̂₀ and ε̂ by prediction
/// type, `x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev)·ε̂`.
pub fn step(
    net: &dyn DiffusionNet,
    schedule: &Schedule,
    s: &Step,
    x: Tensor<4>,
    guidance: f64,
) -> Result<StepOut> {
    let out = net.predict(x.clone(), s.timestep, guidance)?;
    let (sa, sb) = (s.alpha.sqrt() as f32, (1.0 - s.alpha).sqrt() as f32);
    let (mut x0, eps) = match schedule.prediction {
        PredictionType::Epsilon => ((x - out.clone().mul_scalar(sb)).div_scalar(sa), out),
        PredictionType::VPrediction => (
            x.clone().mul_scalar(sa) - out.clone().mul_scalar(sb),
            out.mul_scalar(sa) + x.mul_scalar(sb),
        ),
        PredictionType::Sample => {
            let eps = (x - out.clone().mul_scalar(sa)).div_scalar(sb);
            (out, eps)
        }
    };
    if let Some(r) = schedule.clip {
        x0 = x0.clamp(-r as f32, r as f32);
    }
    let (pa, pb) = (
        s.alpha_prev.sqrt() as f32,
        (1.0 - s.alpha_prev).sqrt() as f32,
    );
    Ok(StepOut {
        latents: x0.clone().mul_scalar(pa) + eps.mul_scalar(pb),
        x0,
    })
}
