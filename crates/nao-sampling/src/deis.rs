//! `DEISMultistepScheduler`: diffusers' `scheduling_deis_multistep.py` — DEIS (Zhang & Chen
//! 2022), the multistep exponential integrator in ρ = σ/α with polynomial extrapolation of ε̂
//! in log ρ (`logrho`), orders 1–3.

use nao_backend::{PredictionType, SchedulerConfig, Tensor};

use crate::dpm::solver_name;
use crate::kind::ClassConfig;
use crate::scheduler::{check_order, check_step_tensors, tensor_like, Scheduler, StepNoise};
use crate::sigmas::{self, alpha_sigma, karras, lambda, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "DEISMultistepScheduler";

/// diffusers' `DEISMultistepScheduler`.
///
/// ε̂ comes from x̂₀ (`(x − αₜ·x̂₀)/σₜ`). The first-order step is DDIM's
/// `x ← (αₜ/α_s)·x − σₜ·(e^h − 1)·ε̂`; the second and third order ones are
/// `x ← αₜ·(x/α_s + Σ cₖ·ε̂ₖ)` with `cₖ` the integrals of the Lagrange polynomials in log ρ
/// (`ind_fn` of diffusers). The last σ is σ₀ (not 0): DEIS ends at the first training
/// timestep's noise level, as diffusers does.
///
/// Options: `solver_order` (2; 1 to 3), `algorithm_type` `deis` (`dpmsolver`/`dpmsolver++`
/// are read as `deis`, as diffusers does), `solver_type` `logrho`, `lower_order_final`
/// (true), `use_karras_sigmas`, prediction types ε, v, x₀.
///
/// ```
/// use nao_sampling::{DeisMultistepScheduler, Scheduler};
/// let mut s = DeisMultistepScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(10)?;
/// assert_eq!(s.timesteps()[0], 901.0);
/// assert!(*s.sigmas().last().unwrap() > 0.0);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DeisMultistepScheduler {
    config: SchedulerConfig,
    order: usize,
    lower_order_final: bool,
    karras: bool,
    sigma_min: Option<f64>,
    sigma_max: Option<f64>,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    outputs: Vec<Vec<f32>>,
    lower_order_nums: usize,
    next: usize,
}

impl DeisMultistepScheduler {
    /// The scheduler of a model config, as `DEISMultistepScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::Deis),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let o = class.options();
        o.refuse_other_sigmas()?;
        let algorithm = o.string("algorithm_type", "deis")?;
        if !["deis", "dpmsolver", "dpmsolver++"].contains(&algorithm.as_str()) {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: format!("algorithm_type = {algorithm:?} (deis)"),
            });
        }
        let solver = o.string("solver_type", "logrho")?;
        if !["logrho", "midpoint", "heun", "bh1", "bh2"].contains(&solver.as_str()) {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: format!("solver_type = {solver:?} (logrho)"),
            });
        }
        let order = o.count("solver_order", 2)?;
        if !(1..=3).contains(&order) {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: format!("solver_order = {order} (it has orders 1, 2 and 3)"),
            });
        }
        let config = class.config.clone();
        let ac = sigmas::alphas_cumprod(&config, false)?;
        let train_sigmas = sigmas::train_sigmas(&ac);
        Ok(Self {
            order,
            lower_order_final: o.bool("lower_order_final", true)?,
            karras: o.bool("use_karras_sigmas", false)?,
            sigma_min: o.number("sigma_min")?,
            sigma_max: o.number("sigma_max")?,
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            outputs: Vec::new(),
            lower_order_nums: 0,
            next: 0,
            config,
        })
    }

    /// ε̂ (through x̂₀, as diffusers computes it) and x̂₀ at step `i`.
    fn convert(&self, i: usize, m: &[f32], x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (a, s) = alpha_sigma(self.sigmas[i]);
        let x0: Vec<f32> = match self.config.prediction_type {
            PredictionType::Epsilon => x.iter().zip(m).map(|(&x, &m)| (x - s * m) / a).collect(),
            PredictionType::Sample => m.to_vec(),
            PredictionType::VPrediction => x.iter().zip(m).map(|(&x, &m)| a * x - s * m).collect(),
        };
        let eps = x.iter().zip(&x0).map(|(&x, &p)| (x - a * p) / s).collect();
        (eps, x0)
    }
}

/// diffusers' second-order `ind_fn(t, b, c)` in float32.
fn ind2(t: f32, b: f32, c: f32) -> f32 {
    t * (-c.ln() + t.ln() - 1.0) / (b.ln() - c.ln())
}

/// diffusers' third-order `ind_fn(t, b, c, d)` in float32.
fn ind3(t: f32, b: f32, c: f32, d: f32) -> f32 {
    let (lt, lb, lc, ld) = (t.ln(), b.ln(), c.ln(), d.ln());
    let numerator = t * (lc * (ld - lt + 1.0) - ld * lt + ld + lt * lt - 2.0 * lt + 2.0);
    let denominator = (lb - lc) * (lb - ld);
    numerator / denominator
}

impl Scheduler for DeisMultistepScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Deis
    }

    fn name(&self) -> String {
        solver_name("deis", self.order, self.karras)
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut timesteps = sigmas::multistep_timesteps(&self.config, steps, t);
        sigmas::check_grid(&timesteps, t)?;
        let s: Vec<f64> = if self.karras {
            let lo = self.sigma_min.unwrap_or(f64::from(self.train_sigmas[0]));
            let hi = self
                .sigma_max
                .unwrap_or(f64::from(self.train_sigmas[t - 1]));
            let mut s = karras(lo, hi, steps);
            timesteps = s
                .iter()
                .map(|&x| sigma_to_t(x, &self.log_sigmas).round_ties_even())
                .collect();
            s.push(s[s.len() - 1]);
            s
        } else {
            let mut s: Vec<f64> = timesteps
                .iter()
                .map(|&x| sigmas::interp(x, &self.train_sigmas))
                .collect();
            s.push(f64::from(self.train_sigmas[0]));
            s
        };
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.sigmas = s.into_iter().map(|x| x as f32).collect();
        self.timesteps = timesteps;
        self.steps = Some(steps);
        self.outputs.clear();
        self.lower_order_nums = 0;
        self.next = 0;
        Ok(())
    }

    sigma_grid_accessors!();
    data_space_input!();

    fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        _noise: &mut StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError> {
        let len = self.timesteps.len();
        check_order(NAME, self.next, index, len)?;
        check_step_tensors(model_output, sample)?;
        let lower_final = index == len - 1 && self.lower_order_final && len < 15;
        let lower_second = index + 2 == len && self.lower_order_final && len < 15;
        let (eps, x0) = self.convert(index, &model_output.data, &sample.data);
        if self.outputs.len() == self.order {
            self.outputs.remove(0);
        }
        self.outputs.push(eps);
        let x = &sample.data;
        let n = self.outputs.len();
        let (at, st) = alpha_sigma(self.sigmas[index + 1]);
        let (a0, s0) = alpha_sigma(self.sigmas[index]);
        let prev: Vec<f32> = if self.order == 1 || self.lower_order_nums < 1 || lower_final {
            let h = lambda(at, st) - lambda(a0, s0);
            let (c_x, c_m) = (at / a0, st * (h.exp() - 1.0));
            x.iter()
                .zip(&self.outputs[n - 1])
                .map(|(&x, &m)| c_x * x - c_m * m)
                .collect()
        } else if self.order == 2 || self.lower_order_nums < 2 || lower_second {
            let (a1, s1) = alpha_sigma(self.sigmas[index - 1]);
            let (rt, r0, r1) = (st / at, s0 / a0, s1 / a1);
            let c1 = ind2(rt, r0, r1) - ind2(r0, r0, r1);
            let c2 = ind2(rt, r1, r0) - ind2(r0, r1, r0);
            x.iter()
                .zip(&self.outputs[n - 1])
                .zip(&self.outputs[n - 2])
                .map(|((&x, &m0), &m1)| at * (x / a0 + c1 * m0 + c2 * m1))
                .collect()
        } else {
            let (a1, s1) = alpha_sigma(self.sigmas[index - 1]);
            let (a2, s2) = alpha_sigma(self.sigmas[index - 2]);
            let (rt, r0, r1, r2) = (st / at, s0 / a0, s1 / a1, s2 / a2);
            let c1 = ind3(rt, r0, r1, r2) - ind3(r0, r0, r1, r2);
            let c2 = ind3(rt, r1, r2, r0) - ind3(r0, r1, r2, r0);
            let c3 = ind3(rt, r2, r0, r1) - ind3(r0, r2, r0, r1);
            x.iter()
                .zip(&self.outputs[n - 1])
                .zip(&self.outputs[n - 2])
                .zip(&self.outputs[n - 3])
                .map(|(((&x, &m0), &m1), &m2)| at * (x / a0 + c1 * m0 + c2 * m1 + c3 * m2))
                .collect()
        };
        if self.lower_order_nums < self.order {
            self.lower_order_nums += 1;
        }
        self.next += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }
}
