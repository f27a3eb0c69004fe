//! `DPMSolverMultistepScheduler`: diffusers' `scheduling_dpmsolver_multistep.py` —
//! DPM-Solver (Lu et al. 2022) and DPM-Solver++ (Lu et al. 2022b), multistep, orders 1–3, in
//! λ = log(α/σ) time; the deterministic algorithms (`dpmsolver++`, `dpmsolver`).

use nao_backend::{
    BetaSchedule, ConfigValue, PredictionType, SchedulerConfig, Tensor, TimestepSpacing,
};

use crate::kind::ClassConfig;
use crate::scheduler::{check_order, check_step_tensors, tensor_like, Scheduler, StepNoise};
use crate::sigmas::{self, alpha_sigma, karras, lambda, sigma_to_t};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "DPMSolverMultistepScheduler";
const INVERSE_NAME: &str = "DPMSolverMultistepInverseScheduler";

/// diffusers' `DPMSolverMultistepScheduler` with a deterministic algorithm.
///
/// The model output is turned into x̂₀ (`dpmsolver++`) or ε̂ (`dpmsolver`); with
/// `h = λ_t − λ_s` and αₜ = 1/√(σ² + 1), σₜ = σ·αₜ, DPM-Solver++'s first-order step is
/// `x ← (σₜ/σ_s)·x − αₜ·(e^{−h} − 1)·D₀` and its second-order (2M) step adds
/// `−½·αₜ·(e^{−h} − 1)·D₁` (midpoint) or `αₜ·((e^{−h} − 1)/h + 1)·D₁` (heun), with
/// `D₁ = (m₀ − m₁)/r₀`, `r₀ = h₀/h`. The first step is first order; with `lower_order_final`
/// and fewer than 15 steps (or a `zero` final σ) the last steps lower the order again.
///
/// Options (diffusers' defaults): `algorithm_type` (`dpmsolver++`; also `dpmsolver`; the SDE
/// variants are refused), `solver_order` (2; 1 to 3), `solver_type` (`midpoint`, `heun`),
/// `lower_order_final` (true), `euler_at_final` (false), `use_karras_sigmas` (false),
/// `final_sigmas_type` (`zero`, `sigma_min`), `lambda_min_clipped` (−∞),
/// `rescale_betas_zero_snr`, prediction types ε, v, x₀. `init_noise_sigma` is 1 and the model
/// input is not scaled.
///
/// ```
/// use nao_sampling::{DpmSolverMultistepScheduler, Scheduler};
/// let mut s = DpmSolverMultistepScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// s.set_timesteps(10)?; // leading: (10..=1)·(1000 div 11) + 1
/// assert_eq!(s.timesteps()[..3], [901.0, 811.0, 721.0]);
/// assert_eq!(s.init_noise_sigma(), 1.0);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DpmSolverMultistepScheduler {
    config: SchedulerConfig,
    plus_plus: bool,
    order: usize,
    heun: bool,
    lower_order_final: bool,
    euler_at_final: bool,
    karras: bool,
    sigma_min: Option<f64>,
    sigma_max: Option<f64>,
    final_zero: bool,
    last_timestep: usize,
    train_sigmas: Vec<f32>,
    log_sigmas: Vec<f32>,
    steps: Option<usize>,
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    /// The converted model outputs of the last `order` steps, oldest first.
    outputs: Vec<Vec<f32>>,
    lower_order_nums: usize,
    next: usize,
    /// diffusers' `DPMSolverMultistepInverseScheduler`: ascending timesteps from the clean end,
    /// a last σ at the noisiest training timestep, no `final_sigmas_type`.
    inverse: bool,
}

impl DpmSolverMultistepScheduler {
    /// The scheduler of a model config, as `DPMSolverMultistepScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::DpmSolverMultistep),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        Self::build(class, false)
    }

    /// The forward class (`inverse` false) or diffusers' inverse class from `class`.
    fn build(class: &ClassConfig, inverse: bool) -> Result<Self, SamplingError> {
        let o = class.options();
        let name = if inverse { INVERSE_NAME } else { NAME };
        o.refuse_other_sigmas()?;
        o.refuse("variance_type", |v| matches!(v, ConfigValue::Null))?;
        // diffusers maps DEIS's names to its own (register_to_config)
        let mut algorithm = o.string("algorithm_type", "dpmsolver++")?;
        if algorithm == "deis" {
            algorithm = "dpmsolver++".into();
        }
        if !["dpmsolver++", "dpmsolver"].contains(&algorithm.as_str()) {
            return Err(SamplingError::Unsupported {
                scheduler: name,
                what: format!(
                    "algorithm_type = {algorithm:?} (nao supports dpmsolver++ and dpmsolver; \
                     the SDE variants draw noise nao does not reproduce yet)"
                ),
            });
        }
        let mut solver = o.string("solver_type", "midpoint")?;
        if ["logrho", "bh1", "bh2"].contains(&solver.as_str()) {
            solver = "midpoint".into();
        }
        if !["midpoint", "heun"].contains(&solver.as_str()) {
            return Err(SamplingError::Unsupported {
                scheduler: name,
                what: format!("solver_type = {solver:?} (midpoint, heun)"),
            });
        }
        let order = o.count("solver_order", 2)?;
        if !(1..=3).contains(&order) {
            return Err(SamplingError::Unsupported {
                scheduler: name,
                what: format!("solver_order = {order} (it has orders 1, 2 and 3)"),
            });
        }
        // the inverse class has no final_sigmas_type: its walk ends at the noisiest σ
        let final_type = if inverse {
            "sigma_min".to_string()
        } else {
            o.one_of("final_sigmas_type", "zero", &["zero", "sigma_min"])?
        };
        let karras = o.bool("use_karras_sigmas", false)?;
        if inverse && karras {
            return Err(SamplingError::Unsupported {
                scheduler: INVERSE_NAME,
                what: "use_karras_sigmas = true (nao inverts on the model's own σ grid only)"
                    .into(),
            });
        }
        if algorithm == "dpmsolver" && final_type == "zero" {
            // diffusers raises the same error
            return Err(SamplingError::Unsupported {
                scheduler: name,
                what: "final_sigmas_type = \"zero\" with algorithm_type = \"dpmsolver\" \
                       (set final_sigmas_type to \"sigma_min\")"
                    .into(),
            });
        }
        let lambda_min_clipped = match o.number("lambda_min_clipped") {
            Ok(x) => x.unwrap_or(f64::NEG_INFINITY),
            // diffusers writes its default −∞ as the JSON extension -Infinity
            Err(e) => match o.string("lambda_min_clipped", "") {
                Ok(s) if s == "-Infinity" => f64::NEG_INFINITY,
                _ => return Err(e),
            },
        };
        let config = class.config.clone();
        let ac = sigmas::alphas_cumprod(&config, true)?;
        let train_sigmas = sigmas::train_sigmas(&ac);
        // searchsorted(flip(λₜ), lambda_min_clipped): the training timesteps whose λ (float32)
        // lies below the clip are cut from the top of the grid
        let clipped = ac
            .iter()
            .map(|&a| lambda(a.sqrt(), (1.0 - a).sqrt()))
            .filter(|&l| f64::from(l) < lambda_min_clipped)
            .count();
        let last_timestep = config.num_train_timesteps - clipped;
        Ok(Self {
            plus_plus: algorithm == "dpmsolver++",
            order,
            heun: solver == "heun",
            lower_order_final: o.bool("lower_order_final", true)?,
            euler_at_final: o.bool("euler_at_final", false)?,
            karras,
            sigma_min: o.number("sigma_min")?,
            sigma_max: o.number("sigma_max")?,
            final_zero: final_type == "zero",
            last_timestep,
            log_sigmas: sigmas::log_f32(&train_sigmas),
            train_sigmas,
            steps: None,
            timesteps: Vec::new(),
            sigmas: Vec::new(),
            outputs: Vec::new(),
            lower_order_nums: 0,
            next: 0,
            inverse,
            config,
        })
    }

    /// `DPMSolverMultistepInverseScheduler.set_timesteps` (σ from the model's own grid): the
    /// forward grid's spacing read from the clean end, ascending — linspace
    /// `round(linspace(0, N, n + 1))[:−1]`, leading `(0..n)·((N + 1) div (n + 1)) + offset`,
    /// trailing the forward grid reversed — with N the noisiest timestep kept by
    /// `lambda_min_clipped`; σ interpolated at each, then σ_N, where the inversion ends.
    fn set_inverse_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let noisiest = self.last_timestep.checked_sub(1).ok_or_else(|| {
            SamplingError::InvalidOption(
                "lambda_min_clipped leaves no training timestep to invert to".into(),
            )
        })?;
        let timesteps: Vec<f64> = match self.config.timestep_spacing {
            TimestepSpacing::Linspace => {
                let mut v: Vec<f64> =
                    schedule::numpy_linspace_from_zero(noisiest as f64, steps + 1)
                        .into_iter()
                        .map(f64::round_ties_even)
                        .collect();
                v.truncate(steps);
                v
            }
            TimestepSpacing::Leading => {
                let ratio = (noisiest + 1) / (steps + 1);
                (0..steps)
                    .map(|i| (i * ratio) as f64 + self.config.steps_offset as f64)
                    .collect()
            }
            TimestepSpacing::Trailing => {
                let mut v: Vec<f64> =
                    schedule::numpy_arange_down((noisiest + 1) as f64, t as f64 / steps as f64)
                        .into_iter()
                        .map(|x| x.round_ties_even() - 1.0)
                        .collect();
                v.reverse();
                v
            }
        };
        sigmas::check_grid(&timesteps, t)?;
        // diffusers drops repeated timesteps but keeps every σ, which shifts the walk off its
        // σ grid: refuse such step counts instead
        if timesteps.windows(2).any(|w| w[0] == w[1]) {
            return Err(SamplingError::InvalidOption(format!(
                "{steps} steps: {INVERSE_NAME}'s timestep grid repeats a timestep (too many \
                 steps for num_train_timesteps and this spacing); use fewer steps"
            )));
        }
        let mut s: Vec<f32> = timesteps
            .iter()
            .map(|&x| sigmas::interp(x, &self.train_sigmas) as f32)
            .collect();
        s.push(self.train_sigmas[noisiest]);
        self.start_walk(steps, timesteps, s);
        Ok(())
    }

    /// Take `timesteps` and their `sigmas` (then the σ the walk ends at) as the grid of
    /// `steps` steps, and forget the outputs of any earlier walk.
    fn start_walk(&mut self, steps: usize, timesteps: Vec<f64>, sigmas: Vec<f32>) {
        self.sigmas = sigmas;
        self.timesteps = timesteps;
        self.steps = Some(steps);
        self.outputs.clear();
        self.lower_order_nums = 0;
        self.next = 0;
    }

    /// x̂₀ (DPM-Solver++) or ε̂ (DPM-Solver) from the model output at step `i`, and x̂₀.
    fn convert(&self, i: usize, m: &[f32], x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (a, s) = alpha_sigma(self.sigmas[i]);
        let x0: Vec<f32> = match self.config.prediction_type {
            PredictionType::Epsilon => x.iter().zip(m).map(|(&x, &m)| (x - s * m) / a).collect(),
            PredictionType::Sample => m.to_vec(),
            PredictionType::VPrediction => x.iter().zip(m).map(|(&x, &m)| a * x - s * m).collect(),
        };
        if self.plus_plus {
            return (x0.clone(), x0);
        }
        let eps = match self.config.prediction_type {
            PredictionType::Epsilon => m.to_vec(),
            PredictionType::Sample => x.iter().zip(m).map(|(&x, &m)| (x - a * m) / s).collect(),
            PredictionType::VPrediction => x.iter().zip(m).map(|(&x, &m)| a * m + s * x).collect(),
        };
        (eps, x0)
    }

    fn first_order(&self, i: usize, m0: &[f32], x: &[f32]) -> Vec<f32> {
        let (at, st) = alpha_sigma(self.sigmas[i + 1]);
        let (as_, ss) = alpha_sigma(self.sigmas[i]);
        let h = lambda(at, st) - lambda(as_, ss);
        if self.plus_plus {
            let (c_x, c_m) = (st / ss, at * ((-h).exp() - 1.0));
            x.iter().zip(m0).map(|(&x, &m)| c_x * x - c_m * m).collect()
        } else {
            let (c_x, c_m) = (at / as_, st * (h.exp() - 1.0));
            x.iter().zip(m0).map(|(&x, &m)| c_x * x - c_m * m).collect()
        }
    }

    fn second_order(&self, i: usize, x: &[f32]) -> Vec<f32> {
        let (at, st) = alpha_sigma(self.sigmas[i + 1]);
        let (a0, s0) = alpha_sigma(self.sigmas[i]);
        let (a1, s1) = alpha_sigma(self.sigmas[i - 1]);
        let (lt, l0, l1) = (lambda(at, st), lambda(a0, s0), lambda(a1, s1));
        let n = self.outputs.len();
        let (m0, m1) = (&self.outputs[n - 1], &self.outputs[n - 2]);
        let (h, h0) = (lt - l0, l0 - l1);
        let r0 = h0 / h;
        let inv_r0 = 1.0 / r0;
        let out = x.iter().zip(m0).zip(m1);
        if self.plus_plus {
            let c_x = st / s0;
            let c0 = at * ((-h).exp() - 1.0);
            if self.heun {
                let c1 = at * (((-h).exp() - 1.0) / h + 1.0);
                out.map(|((&x, &m0), &m1)| c_x * x - c0 * m0 + c1 * (inv_r0 * (m0 - m1)))
                    .collect()
            } else {
                let c1 = 0.5 * (at * ((-h).exp() - 1.0));
                out.map(|((&x, &m0), &m1)| c_x * x - c0 * m0 - c1 * (inv_r0 * (m0 - m1)))
                    .collect()
            }
        } else {
            let c_x = at / a0;
            let c0 = st * (h.exp() - 1.0);
            if self.heun {
                let c1 = st * ((h.exp() - 1.0) / h - 1.0);
                out.map(|((&x, &m0), &m1)| c_x * x - c0 * m0 - c1 * (inv_r0 * (m0 - m1)))
                    .collect()
            } else {
                let c1 = 0.5 * (st * (h.exp() - 1.0));
                out.map(|((&x, &m0), &m1)| c_x * x - c0 * m0 - c1 * (inv_r0 * (m0 - m1)))
                    .collect()
            }
        }
    }

    fn third_order(&self, i: usize, x: &[f32]) -> Vec<f32> {
        let (at, st) = alpha_sigma(self.sigmas[i + 1]);
        let (a0, s0) = alpha_sigma(self.sigmas[i]);
        let (a1, s1) = alpha_sigma(self.sigmas[i - 1]);
        let (a2, s2) = alpha_sigma(self.sigmas[i - 2]);
        let (lt, l0, l1, l2) = (
            lambda(at, st),
            lambda(a0, s0),
            lambda(a1, s1),
            lambda(a2, s2),
        );
        let n = self.outputs.len();
        let (m0, m1, m2) = (
            &self.outputs[n - 1],
            &self.outputs[n - 2],
            &self.outputs[n - 3],
        );
        let (h, h0, h1) = (lt - l0, l0 - l1, l1 - l2);
        let (r0, r1) = (h0 / h, h1 / h);
        let (i_r0, i_r1) = (1.0 / r0, 1.0 / r1);
        let (w1, w2) = (r0 / (r0 + r1), 1.0 / (r0 + r1));
        let (c_x, c0, c1, c2) = if self.plus_plus {
            let e = (-h).exp() - 1.0;
            (
                st / s0,
                at * e,
                at * (e / h + 1.0),
                at * (((-h).exp() - 1.0 + h) / (h * h) - 0.5),
            )
        } else {
            let e = h.exp() - 1.0;
            (
                at / a0,
                st * e,
                st * (e / h - 1.0),
                st * ((h.exp() - 1.0 - h) / (h * h) - 0.5),
            )
        };
        x.iter()
            .zip(m0)
            .zip(m1)
            .zip(m2)
            .map(|(((&x, &m0), &m1), &m2)| {
                let d1_0 = i_r0 * (m0 - m1);
                let d1_1 = i_r1 * (m1 - m2);
                let d1 = d1_0 + w1 * (d1_0 - d1_1);
                let d2 = w2 * (d1_0 - d1_1);
                if self.plus_plus {
                    c_x * x - c0 * m0 + c1 * d1 - c2 * d2
                } else {
                    c_x * x - c0 * m0 - c1 * d1 - c2 * d2
                }
            })
            .collect()
    }
}

/// The name of a multistep solver: `base`, its order when not 2, `-karras`.
pub(crate) fn solver_name(base: &str, order: usize, karras: bool) -> String {
    let mut s = base.to_string();
    if order != 2 {
        s += &format!(" order {order}");
    }
    if karras {
        s += "-karras";
    }
    s
}

impl Scheduler for DpmSolverMultistepScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::DpmSolverMultistep
    }

    fn name(&self) -> String {
        let mut s = match (self.plus_plus, self.order) {
            (true, 1) => "dpm++1s".to_string(),
            (true, o) => format!("dpm++{o}m"),
            (false, 1) => "dpm1s".to_string(),
            (false, o) => format!("dpm{o}m"),
        };
        if self.heun {
            s += " heun";
        }
        if self.karras {
            s += "-karras";
        }
        s
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        if self.inverse {
            return self.set_inverse_timesteps(steps);
        }
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let mut timesteps = sigmas::multistep_timesteps(&self.config, steps, self.last_timestep);
        sigmas::check_grid(&timesteps, t)?;
        let mut s: Vec<f64> = if self.karras {
            let lo = self.sigma_min.unwrap_or(f64::from(self.train_sigmas[0]));
            let hi = self
                .sigma_max
                .unwrap_or(f64::from(self.train_sigmas[t - 1]));
            let s = karras(lo, hi, steps);
            // diffusers tests the beta_schedule string, whatever trained_betas says
            let cosine = self.config.beta_schedule == BetaSchedule::SquaredcosCapV2;
            timesteps = s
                .iter()
                .map(|&x| {
                    let t = sigma_to_t(x, &self.log_sigmas);
                    // rounded, except for the cosine schedule, where the int64 cast truncates
                    if cosine {
                        t.trunc()
                    } else {
                        t.round_ties_even()
                    }
                })
                .collect();
            s
        } else {
            timesteps
                .iter()
                .map(|&x| sigmas::interp(x, &self.train_sigmas))
                .collect()
        };
        s.push(if self.final_zero {
            0.0
        } else {
            f64::from(self.train_sigmas[0])
        });
        sigmas::check_first_unique(NAME, steps, &timesteps)?;
        self.start_walk(steps, timesteps, s.into_iter().map(|x| x as f32).collect());
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
        // the inverse class lowers the last step's order without the `zero` final σ's rule
        let lower_final = index == len - 1
            && (self.euler_at_final
                || (self.lower_order_final && len < 15)
                || (self.final_zero && !self.inverse));
        let lower_second = index + 2 == len && self.lower_order_final && len < 15;
        let (converted, x0) = self.convert(index, &model_output.data, &sample.data);
        if self.outputs.len() == self.order {
            self.outputs.remove(0);
        }
        self.outputs.push(converted);
        let x = &sample.data;
        let prev = if self.order == 1 || self.lower_order_nums < 1 || lower_final {
            self.first_order(index, &self.outputs[self.outputs.len() - 1], x)
        } else if self.order == 2 || self.lower_order_nums < 2 || lower_second {
            self.second_order(index, x)
        } else {
            self.third_order(index, x)
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

/// diffusers' `DPMSolverMultistepInverseScheduler`: DPM-Solver++ (or DPM-Solver) multistep run
/// from the clean latents towards noise, for inversion.
///
/// The arithmetic is [`DpmSolverMultistepScheduler`]'s (the same updates in λ time, with
/// `h = λ_t − λ_s` now negative); only the grid differs: ascending timesteps from the clean
/// end and a last σ at the noisiest training timestep (not 0), and the last step lowers its
/// order under `lower_order_final` with fewer than 15 steps (or `euler_at_final`) only. The
/// options are the forward class's (`algorithm_type`, `solver_order`, `solver_type`,
/// `lower_order_final`, `euler_at_final`, `lambda_min_clipped`, prediction types ε, v, x₀);
/// Karras σ is refused.
///
/// ```
/// use nao_sampling::DpmSolverMultistepInverseScheduler;
/// let mut s = DpmSolverMultistepInverseScheduler::from_config(&nao_test_support::sd1_scheduler())?;
/// // leading: (0..10)·(1000 div 11) + 1, ascending
/// assert_eq!(s.set_timesteps(10)?[..3], [1.0, 91.0, 181.0]);
/// assert_eq!(s.sigmas().len(), 11); // ends at σ of timestep 999
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DpmSolverMultistepInverseScheduler(DpmSolverMultistepScheduler);

impl DpmSolverMultistepInverseScheduler {
    /// The inverse scheduler of a model config, as
    /// `DPMSolverMultistepInverseScheduler.from_config(config)` (the model's own class names
    /// no DPM option, so diffusers' defaults apply: DPM-Solver++, order 2, midpoint).
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        let class = ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::DpmSolverMultistep),
        );
        Ok(Self(DpmSolverMultistepScheduler::build(&class, true)?))
    }

    /// Choose `steps` inversion steps and reset the solver's history; the ascending timesteps.
    pub fn set_timesteps(&mut self, steps: usize) -> Result<&[f64], SamplingError> {
        Scheduler::set_timesteps(&mut self.0, steps)?;
        Ok(&self.0.timesteps)
    }

    /// The ascending timesteps of the last [`Self::set_timesteps`], one network call each.
    pub fn timesteps(&self) -> &[f64] {
        &self.0.timesteps
    }

    /// σ of every timestep, then σ of the noisiest training timestep (float32, as diffusers).
    pub fn sigmas(&self) -> &[f32] {
        &self.0.sigmas
    }

    /// A short name with the options that matter (`dpm++2m`, `dpm++3m`, `dpm2m heun`, …).
    pub fn name(&self) -> String {
        self.0.name()
    }

    /// One inversion step with the model output of call `index` (in order, from 0) at
    /// `sample`: the latents one timestep noisier, and x̂₀.
    pub fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
    ) -> Result<StepOutput, SamplingError> {
        self.0
            .step(model_output, index, sample, &mut StepNoise::none())
    }
}
