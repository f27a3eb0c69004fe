//! `LMSDiscreteScheduler`: diffusers' `scheduling_lms_discrete.py` — a linear multistep
//! (Adams–Bashforth) method in σ space of order up to 4, whose coefficients integrate the
//! Lagrange polynomials through the last σs (Karras et al. 2022; k-diffusion's `sample_lms`).

use nao_backend::{SchedulerConfig, Tensor};

use crate::euler::interp_sigmas;
use crate::kind::ClassConfig;
use crate::scheduler::{
    check_order, check_step_tensors, sigma_x0, tensor_like, Scheduler, StepNoise,
};
use crate::sigmas::{self, karras, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "LMSDiscreteScheduler";

/// The order diffusers' pipelines step LMS with (`step(…, order=4)`).
const LMS_ORDER: usize = 4;

/// diffusers' `LMSDiscreteScheduler` (order 4): with the derivatives `dₖ = (x − x̂₀)/σₖ` of
/// the last `q = min(i + 1, 4)` steps, `x ← x + Σⱼ cⱼ·d_{i−j}`, where
/// `cⱼ = ∫_{σᵢ}^{σᵢ₊₁} Πₖ≠ⱼ (τ − σᵢ₋ₖ)/(σᵢ₋ⱼ − σᵢ₋ₖ) dτ`.
///
/// diffusers integrates with `scipy.integrate.quad` (its integrand evaluated in float32);
/// nao integrates the polynomial (degree ≤ 3) exactly by 4-point Gauss–Legendre quadrature in
/// f64. Options: `use_karras_sigmas`, prediction types ε, v, x₀.
///
/// ```
/// use nao_sampling::{LmsDiscreteScheduler, Scheduler};
/// let mut s = LmsDiscreteScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(10)?;
/// // the first step is Euler's: ∫ 1 dτ = σ₁ − σ₀
/// let c = s.coefficients(0, 1);
/// assert!((c[0] - (s.sigmas()[1] as f64 - s.sigmas()[0] as f64)).abs() < 1e-12);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LmsDiscreteScheduler {
    config: SchedulerConfig,
    karras: bool,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    derivatives: Vec<Vec<f32>>,
    next: usize,
}

impl LmsDiscreteScheduler {
    /// The scheduler of a model config, as `LMSDiscreteScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::Lms),
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
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            derivatives: Vec::new(),
            next: 0,
            config,
        })
    }

    /// The coefficients `c₀ … c_{order−1}` of step `i` (see the type's documentation), in f64.
    pub fn coefficients(&self, i: usize, order: usize) -> Vec<f64> {
        let s = |k: usize| f64::from(self.sigmas[k]);
        (0..order)
            .map(|j| {
                let basis = |tau: f64| {
                    (0..order)
                        .filter(|&k| k != j)
                        .map(|k| (tau - s(i - k)) / (s(i - j) - s(i - k)))
                        .product::<f64>()
                };
                gauss_legendre_4(basis, s(i), s(i + 1))
            })
            .collect()
    }
}

/// ∫ₐᵇ f by 4-point Gauss–Legendre quadrature: exact for polynomials of degree ≤ 7.
fn gauss_legendre_4(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    // nodes ±√(3/7 ∓ 2/7·√(6/5)), weights (18 ± √30)/36
    let r = (6.0f64 / 5.0).sqrt();
    let inner = (3.0 / 7.0 - 2.0 / 7.0 * r).sqrt();
    let outer = (3.0 / 7.0 + 2.0 / 7.0 * r).sqrt();
    let w_inner = (18.0 + 30f64.sqrt()) / 36.0;
    let w_outer = (18.0 - 30f64.sqrt()) / 36.0;
    let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
    half * (w_inner * (f(mid - half * inner) + f(mid + half * inner))
        + w_outer * (f(mid - half * outer) + f(mid + half * outer)))
}

impl Scheduler for LmsDiscreteScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Lms
    }

    fn name(&self) -> String {
        if self.karras { "lms-karras" } else { "lms" }.into()
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut timesteps = sigmas::discrete_timesteps(&self.config, steps);
        sigmas::check_grid(&timesteps, t)?;
        let mut s = interp_sigmas(&timesteps, &self.train_sigmas);
        if self.karras {
            // LMS's own _convert_to_karras: the interpolated range, no sigma_min/sigma_max
            s = karras(s[s.len() - 1], s[0], steps);
            timesteps = s
                .iter()
                .map(|&x| f64::from(sigma_to_t(x, &self.log_sigmas) as f32))
                .collect();
        }
        let mut sig: Vec<f32> = s.into_iter().map(|x| x as f32).collect();
        sig.push(0.0);
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.timesteps = timesteps;
        self.sigmas = sig;
        self.steps = Some(steps);
        self.derivatives.clear();
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
        let sigma = self.sigmas[index];
        let x0 = sigma_x0(
            self.config.prediction_type,
            sigma,
            &model_output.data,
            &sample.data,
        );
        let d: Vec<f32> = sample
            .data
            .iter()
            .zip(&x0)
            .map(|(&x, &p)| (x - p) / sigma)
            .collect();
        self.derivatives.push(d);
        if self.derivatives.len() > LMS_ORDER {
            self.derivatives.remove(0);
        }
        let order = (index + 1).min(LMS_ORDER);
        let coeffs = self.coefficients(index, order);
        // Σ cⱼ·d_{i−j} accumulated from 0 in f32, then added to the sample, as diffusers' sum()
        let mut acc = vec![0f32; sample.data.len()];
        for (c, d) in coeffs.iter().zip(self.derivatives.iter().rev()) {
            let c = *c as f32;
            for (a, &v) in acc.iter_mut().zip(d) {
                *a += c * v;
            }
        }
        let prev = sample.data.iter().zip(&acc).map(|(&x, &a)| x + a).collect();
        self.next += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::gauss_legendre_4;

    #[test]
    fn gauss_legendre_is_exact_for_cubics() {
        let f = |x: f64| 2.0 * x * x * x - x + 3.0;
        let exact = |x: f64| 0.5 * x.powi(4) - 0.5 * x * x + 3.0 * x;
        let (a, b) = (14.6, 9.7);
        assert!((gauss_legendre_4(f, a, b) - (exact(b) - exact(a))).abs() < 1e-9);
    }
}
