//! `UniPCMultistepScheduler`: diffusers' `scheduling_unipc_multistep.py` — UniPC (Zhao et al.
//! 2023): a multistep predictor (UniP) and, from the second step on, a corrector (UniC) that
//! refines the previous step with the model output at its result, at no extra model call.

use nao_backend::{ConfigValue, PredictionType, SchedulerConfig, Tensor};

use crate::dpm::solver_name;
use crate::kind::ClassConfig;
use crate::scheduler::{check_order, check_step_tensors, tensor_like, Scheduler, StepNoise};
use crate::sigmas::{self, alpha_sigma, karras, lambda, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "UniPCMultistepScheduler";

/// diffusers' `UniPCMultistepScheduler` (`bh1`/`bh2`, orders 1–3, predicting x₀ or ε).
///
/// Each step first corrects the sample the previous step produced (UniC, with this step's
/// model output; skipped for the steps in `disable_corrector`), then predicts the next one
/// (UniP). With `hh = −h` (x₀ prediction), `φ₁ = e^{hh} − 1` and `B(h) = φ₁` (`bh2`) or `hh`
/// (`bh1`), the predictor is `x ← (σₜ/σ_s)·x − αₜ·φ₁·m₀ − αₜ·B(h)·Σ ρₖ·D₁ₖ`, the ρ solving
/// diffusers' small linear system (ρ = ½ at order 2). The last step is not corrected.
///
/// Options: `solver_order` (2; 1 to 3), `solver_type` (`bh2`, `bh1`), `predict_x0` (true),
/// `lower_order_final` (true), `disable_corrector` ([]), `use_karras_sigmas`,
/// `sigma_min`/`sigma_max`, `final_sigmas_type` (`zero`, `sigma_min`),
/// `rescale_betas_zero_snr`, prediction types ε, v, x₀.
///
/// ```
/// use nao_sampling::{Scheduler, UniPcMultistepScheduler};
/// let mut s = UniPcMultistepScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(10)?;
/// assert_eq!(s.timesteps().len(), 10);
/// assert_eq!(s.name(), "unipc");
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UniPcMultistepScheduler {
    config: SchedulerConfig,
    order: usize,
    bh2: bool,
    predict_x0: bool,
    lower_order_final: bool,
    disable_corrector: Vec<usize>,
    karras: bool,
    sigma_min: Option<f64>,
    sigma_max: Option<f64>,
    final_zero: bool,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    /// Converted model outputs of the last `order` steps, oldest first.
    outputs: Vec<Vec<f32>>,
    last_sample: Option<Vec<f32>>,
    this_order: usize,
    lower_order_nums: usize,
    next: usize,
}

impl UniPcMultistepScheduler {
    /// The scheduler of a model config, as `UniPCMultistepScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::UniPc),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let o = class.options();
        o.refuse_other_sigmas()?;
        o.refuse("shift_terminal", |v| matches!(v, ConfigValue::Null))?;
        let mut solver = o.string("solver_type", "bh2")?;
        if ["midpoint", "heun", "logrho"].contains(&solver.as_str()) {
            solver = "bh2".into();
        }
        if !["bh1", "bh2"].contains(&solver.as_str()) {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: format!("solver_type = {solver:?} (bh1, bh2)"),
            });
        }
        let order = o.count("solver_order", 2)?;
        if !(1..=3).contains(&order) {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: format!("solver_order = {order} (nao has orders 1, 2 and 3)"),
            });
        }
        let final_type = o.one_of("final_sigmas_type", "zero", &["zero", "sigma_min"])?;
        let config = class.config.clone();
        let ac = sigmas::alphas_cumprod(&config, true)?;
        let train_sigmas = sigmas::train_sigmas(&ac);
        Ok(Self {
            order,
            bh2: solver == "bh2",
            predict_x0: o.bool("predict_x0", true)?,
            lower_order_final: o.bool("lower_order_final", true)?,
            disable_corrector: o.counts("disable_corrector")?,
            karras: o.bool("use_karras_sigmas", false)?,
            sigma_min: o.number("sigma_min")?,
            sigma_max: o.number("sigma_max")?,
            final_zero: final_type == "zero",
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            outputs: Vec::new(),
            last_sample: None,
            this_order: 0,
            lower_order_nums: 0,
            next: 0,
            config,
        })
    }

    /// The converted model output (x̂₀ or ε̂) at step `i`, and x̂₀.
    fn convert(&self, i: usize, m: &[f32], x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (a, s) = alpha_sigma(self.sigmas[i]);
        let x0: Vec<f32> = match self.config.prediction_type {
            PredictionType::Epsilon => x.iter().zip(m).map(|(&x, &m)| (x - s * m) / a).collect(),
            PredictionType::Sample => m.to_vec(),
            PredictionType::VPrediction => x.iter().zip(m).map(|(&x, &m)| a * x - s * m).collect(),
        };
        if self.predict_x0 {
            return (x0.clone(), x0);
        }
        let eps = match self.config.prediction_type {
            PredictionType::Epsilon => m.to_vec(),
            PredictionType::Sample => x.iter().zip(m).map(|(&x, &m)| (x - a * m) / s).collect(),
            PredictionType::VPrediction => x.iter().zip(m).map(|(&x, &m)| a * m + s * x).collect(),
        };
        (eps, x0)
    }

    /// The coefficients shared by UniP and UniC for an update from σ index `s0` to `t` using
    /// the earlier σ indices `earlier` (nearest first): the `rₖ`, `hh`, `φ₁`, `B(h)`, the
    /// system `R`, `b`, and αₜ, σₜ, α_s0, σ_s0.
    fn coefficients(&self, t: usize, s0: usize, earlier: &[usize]) -> Coefficients {
        let (at, st) = alpha_sigma(self.sigmas[t]);
        let (a0, sg0) = alpha_sigma(self.sigmas[s0]);
        let l0 = lambda(a0, sg0);
        let h = lambda(at, st) - l0;
        let mut rks: Vec<f32> = earlier
            .iter()
            .map(|&si| {
                let (ai, si_) = alpha_sigma(self.sigmas[si]);
                (lambda(ai, si_) - l0) / h
            })
            .collect();
        let d1_rks = rks.clone();
        rks.push(1.0);
        let hh = if self.predict_x0 { -h } else { h };
        let h_phi_1 = hh.exp_m1();
        let mut h_phi_k = h_phi_1 / hh - 1.0;
        let mut factorial = 1u64;
        let b_h = if self.bh2 { hh.exp_m1() } else { hh };
        let order = earlier.len() + 1;
        let mut r = Vec::with_capacity(order);
        let mut b = Vec::with_capacity(order);
        for i in 1..=order {
            r.push(rks.iter().map(|&x| powi(x, i - 1)).collect::<Vec<f32>>());
            b.push(h_phi_k * factorial as f32 / b_h);
            factorial *= i as u64 + 1;
            h_phi_k = h_phi_k / hh - (1.0 / factorial as f64) as f32;
        }
        Coefficients {
            rks: d1_rks,
            h_phi_1,
            b_h,
            r,
            b,
            at,
            st,
            a0,
            s0: sg0,
        }
    }

    /// `x_t_` of UniP/UniC: `(σₜ/σ_s0)·x − αₜ·φ₁·m₀` (x₀ prediction) or
    /// `(αₜ/α_s0)·x − σₜ·φ₁·m₀`, and the factor `αₜ·B(h)` (or `σₜ·B(h)`) of the correction.
    fn base(&self, c: &Coefficients, x: &[f32], m0: &[f32]) -> (Vec<f32>, f32) {
        let (c_x, c_m, c_res) = if self.predict_x0 {
            (c.st / c.s0, c.at * c.h_phi_1, c.at * c.b_h)
        } else {
            (c.at / c.a0, c.st * c.h_phi_1, c.st * c.b_h)
        };
        (
            x.iter().zip(m0).map(|(&x, &m)| c_x * x - c_m * m).collect(),
            c_res,
        )
    }

    /// `D1ₖ = (mₖ − m₀)/rₖ` for the earlier outputs (nearest first).
    fn d1s(&self, rks: &[f32], m0: &[f32], offset: usize) -> Vec<Vec<f32>> {
        let n = self.outputs.len();
        rks.iter()
            .enumerate()
            .map(|(k, &rk)| {
                let mi = &self.outputs[n - 1 - (k + 1 + offset)];
                mi.iter().zip(m0).map(|(&a, &b)| (a - b) / rk).collect()
            })
            .collect()
    }

    /// UniP: the predictor from step `i` (sample `x`) to `i + 1`, of `order`.
    fn predict(&self, i: usize, x: &[f32], order: usize) -> Vec<f32> {
        let earlier: Vec<usize> = (1..order).map(|k| i - k).collect();
        let c = self.coefficients(i + 1, i, &earlier);
        let m0 = &self.outputs[self.outputs.len() - 1];
        let (base, c_res) = self.base(&c, x, m0);
        if earlier.is_empty() {
            return base.iter().map(|&v| v - c_res * 0.0).collect();
        }
        let rhos: Vec<f32> = if order == 2 {
            vec![0.5]
        } else {
            let k = order - 1;
            let r: Vec<Vec<f32>> = c.r[..k].iter().map(|row| row[..k].to_vec()).collect();
            solve(r, c.b[..k].to_vec())
        };
        let d1s = self.d1s(&c.rks, m0, 0);
        base.iter()
            .enumerate()
            .map(|(j, &v)| {
                let res = einsum(&rhos, &d1s, j);
                v - c_res * res
            })
            .collect()
    }

    /// UniC: correct `this_sample` (the result of step `i − 1`, from `last_sample`) with the
    /// converted model output `model_t` at step `i`.
    fn correct(&self, i: usize, last: &[f32], model_t: &[f32], order: usize) -> Vec<f32> {
        let earlier: Vec<usize> = (1..order).map(|k| i - (k + 1)).collect();
        let c = self.coefficients(i, i - 1, &earlier);
        let m0 = &self.outputs[self.outputs.len() - 1];
        let (base, c_res) = self.base(&c, last, m0);
        let rhos = if order == 1 {
            vec![0.5]
        } else {
            solve(c.r.clone(), c.b.clone())
        };
        let d1s = self.d1s(&c.rks, m0, 0);
        let rho_t = rhos[rhos.len() - 1];
        base.iter()
            .enumerate()
            .map(|(j, &v)| {
                let corr = if d1s.is_empty() {
                    0.0
                } else {
                    einsum(&rhos[..rhos.len() - 1], &d1s, j)
                };
                let d1_t = model_t[j] - m0[j];
                v - c_res * (corr + rho_t * d1_t)
            })
            .collect()
    }
}

struct Coefficients {
    rks: Vec<f32>,
    h_phi_1: f32,
    b_h: f32,
    r: Vec<Vec<f32>>,
    b: Vec<f32>,
    at: f32,
    st: f32,
    a0: f32,
    s0: f32,
}

/// `torch.pow(x, n)` for a small integer exponent in f32.
fn powi(x: f32, n: usize) -> f32 {
    match n {
        0 => 1.0,
        1 => x,
        2 => x * x,
        _ => x.powi(n as i32),
    }
}

/// `einsum('k,bkc...->bc...', ρ, D1s)` at one element: Σₖ ρₖ·D1ₖ[j].
fn einsum(rhos: &[f32], d1s: &[Vec<f32>], j: usize) -> f32 {
    rhos.iter()
        .zip(d1s)
        .map(|(&r, d)| r * d[j])
        .fold(None, |acc: Option<f32>, v| Some(acc.map_or(v, |a| a + v)))
        .unwrap_or(0.0)
}

/// `torch.linalg.solve` of a small system in f32: LU with partial pivoting (LAPACK's
/// `sgesv`: the column scaled by the pivot's reciprocal), then the two triangular solves.
fn solve(mut a: Vec<Vec<f32>>, mut b: Vec<f32>) -> Vec<f32> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).fold(col, |best, r| {
            if a[r][col].abs() > a[best][col].abs() {
                r
            } else {
                best
            }
        });
        a.swap(col, pivot);
        b.swap(col, pivot);
        let inv = 1.0 / a[col][col];
        for r in col + 1..n {
            a[r][col] *= inv;
            let l = a[r][col];
            for k in col + 1..n {
                a[r][k] -= l * a[col][k];
            }
        }
    }
    for r in 0..n {
        for k in 0..r {
            b[r] -= a[r][k] * b[k];
        }
    }
    for r in (0..n).rev() {
        b[r] /= a[r][r];
        for k in 0..r {
            b[k] -= b[r] * a[k][r];
        }
    }
    b
}

impl Scheduler for UniPcMultistepScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::UniPc
    }

    fn name(&self) -> String {
        let mut s = solver_name("unipc", self.order, self.karras);
        if !self.bh2 {
            s += " bh1";
        }
        s
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut timesteps = sigmas::multistep_timesteps(&self.config, steps, t);
        sigmas::check_grid(&timesteps, t)?;
        let mut s: Vec<f64> = if self.karras {
            let lo = self.sigma_min.unwrap_or(f64::from(self.train_sigmas[0]));
            let hi = self
                .sigma_max
                .unwrap_or(f64::from(self.train_sigmas[t - 1]));
            let s = karras(lo, hi, steps);
            timesteps = s
                .iter()
                .map(|&x| sigma_to_t(x, &self.log_sigmas).round_ties_even())
                .collect();
            s
        } else {
            timesteps
                .iter()
                .map(|&x| sigmas::interp(x, &self.train_sigmas))
                .collect()
        };
        let last = match (self.final_zero, self.karras) {
            (true, _) => 0.0,
            // Karras σ end at their own last value; the others at σ₀
            (false, true) => s[s.len() - 1],
            (false, false) => f64::from(self.train_sigmas[0]),
        };
        s.push(last);
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.sigmas = s.into_iter().map(|x| x as f32).collect();
        self.timesteps = timesteps;
        self.steps = Some(steps);
        self.outputs.clear();
        self.last_sample = None;
        self.this_order = 0;
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
        let (converted, x0) = self.convert(index, &model_output.data, &sample.data);
        let use_corrector = index > 0 && !self.disable_corrector.contains(&(index - 1));
        let x = match (&self.last_sample, use_corrector) {
            (Some(last), true) => self.correct(index, last, &converted, self.this_order),
            _ => sample.data.clone(),
        };
        if self.outputs.len() == self.order {
            self.outputs.remove(0);
        }
        self.outputs.push(converted);
        let this_order = if self.lower_order_final {
            self.order.min(len - index)
        } else {
            self.order
        };
        self.this_order = this_order.min(self.lower_order_nums + 1);
        let prev = self.predict(index, &x, self.this_order);
        self.last_sample = Some(x);
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

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn solve_small_systems() {
        let x = solve(vec![vec![1.0, 1.0], vec![-0.5, 1.0]], vec![0.25, 0.5]);
        // 1·a + 1·b = 0.25, −0.5·a + b = 0.5
        assert!((x[0] - (-1.0 / 6.0)).abs() < 1e-6 && (x[1] - 5.0 / 12.0).abs() < 1e-6);
    }
}
