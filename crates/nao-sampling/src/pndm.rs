//! `PNDMScheduler`: diffusers' `scheduling_pndm.py` — pseudo numerical methods (Liu et al.
//! 2022): a Runge–Kutta warm-up (PRK, skipped with `skip_prk_steps`) then the linear
//! multistep PLMS on DDIM's transfer step, in ᾱ time (no σ scaling).

use nao_backend::{PredictionType, SchedulerConfig, Tensor, TimestepSpacing};

use crate::kind::ClassConfig;
use crate::scheduler::{check_order, check_step_tensors, tensor_like, Scheduler, StepNoise};
use crate::{schedule, SamplingError, SchedulerChoice, SchedulerKind, StepOutput};

const NAME: &str = "PNDMScheduler";

/// diffusers' `PNDMScheduler`.
///
/// With `skip_prk_steps` (as Stable Diffusion 1.x ships it: the `plms` name), `n` steps take
/// `n + 1` model calls: the second call, at the first step's target, makes the first step a
/// pseudo improved-Euler step; then ε is extrapolated from the last 2, 3, 4 outputs
/// (`(3e₁ − e₂)/2`, `(23e₁ − 16e₂ + 5e₃)/12`, `(55e₁ − 59e₂ + 37e₃ − 9e₄)/24`). Without it
/// (diffusers' default), a 4th-order Runge–Kutta warm-up over the first 3 steps takes 12 model
/// calls at half-step timesteps, and at least 4 steps are needed. Each move is the PNDM
/// transfer `x' = √(ᾱ'/ᾱ)·x − (ᾱ' − ᾱ)·ε/(ᾱ·√(1 − ᾱ') + √(ᾱ(1 − ᾱ)ᾱ'))`.
///
/// Options: `skip_prk_steps` (false), `set_alpha_to_one` (false), prediction types ε and v.
///
/// ```
/// use nao_sampling::{PndmScheduler, Scheduler, SchedulerKind};
/// let sd1 = nao_test_support::sd1_scheduler();
/// let mut plms = nao_sampling::new_scheduler(&sd1, Some(&"plms".parse()?), 0.0)?;
/// plms.set_timesteps(4)?;
/// assert_eq!(plms.timesteps(), &[751.0, 501.0, 501.0, 251.0, 1.0][..]);
/// let mut prk = PndmScheduler::from_config(&sd1)?; // the warm-up
/// prk.set_timesteps(4)?;
/// assert_eq!(prk.timesteps().len(), 12 + 1);
/// # Ok::<(), nao_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PndmScheduler {
    config: SchedulerConfig,
    skip_prk_steps: bool,
    alphas_cumprod: Vec<f32>,
    final_alpha_cumprod: f32,
    steps: Option<usize>,
    prk_timesteps: Vec<i64>,
    timesteps: Vec<f64>,
    ets: Vec<Vec<f32>>,
    cur_model_output: Option<Vec<f32>>,
    cur_sample: Option<Vec<f32>>,
    counter: usize,
}

impl PndmScheduler {
    /// The scheduler of a model config, as `PNDMScheduler.from_config(config)`.
    pub fn from_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Self::from_class(&ClassConfig::for_kind(
            config,
            SchedulerChoice::new(SchedulerKind::Pndm),
        ))
    }

    pub(crate) fn from_class(class: &ClassConfig) -> Result<Self, SamplingError> {
        let o = class.options();
        let config = class.config.clone();
        if config.prediction_type == PredictionType::Sample {
            return Err(SamplingError::Unsupported {
                scheduler: NAME,
                what: "prediction_type = \"sample\" (epsilon, v_prediction)".into(),
            });
        }
        let betas = schedule::betas(&config)?;
        let alphas_cumprod: Vec<f32> = schedule::alphas_cumprod(&betas)
            .into_iter()
            .map(|a| a as f32)
            .collect();
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Ok(Self {
            skip_prk_steps: o.bool("skip_prk_steps", false)?,
            alphas_cumprod,
            final_alpha_cumprod,
            steps: None,
            prk_timesteps: Vec::new(),
            timesteps: Vec::new(),
            ets: Vec::new(),
            cur_model_output: None,
            cur_sample: None,
            counter: 0,
            config,
        })
    }

    /// The ascending step grid (`_timesteps` of diffusers) for `n` steps.
    fn grid(&self, n: usize) -> Vec<i64> {
        let t = self.config.num_train_timesteps;
        match self.config.timestep_spacing {
            TimestepSpacing::Linspace => schedule::numpy_linspace_from_zero((t - 1) as f64, n)
                .into_iter()
                .map(|x| x.round_ties_even() as i64)
                .collect(),
            TimestepSpacing::Leading => (0..n)
                .map(|i| (i * (t / n)) as i64 + self.config.steps_offset as i64)
                .collect(),
            TimestepSpacing::Trailing => {
                let mut v: Vec<i64> = schedule::numpy_arange_down(t as f64, t as f64 / n as f64)
                    .into_iter()
                    .map(|x| x.round_ties_even() as i64 - 1)
                    .collect();
                v.reverse();
                v
            }
        }
    }

    /// PNDM's transfer from `timestep` to `prev_timestep` with noise estimate `m` (diffusers'
    /// `_get_prev_sample`), in f32.
    fn prev_sample(&self, x: &[f32], timestep: i64, prev_timestep: i64, m: &[f32]) -> Vec<f32> {
        let a_t = self.alphas_cumprod[timestep as usize];
        let a_prev = if prev_timestep >= 0 {
            self.alphas_cumprod[prev_timestep as usize]
        } else {
            self.final_alpha_cumprod
        };
        let b_t = 1.0 - a_t;
        let b_prev = 1.0 - a_prev;
        let eps: Vec<f32> = match self.config.prediction_type {
            PredictionType::VPrediction => {
                let (sa, sb) = (a_t.sqrt(), b_t.sqrt());
                m.iter().zip(x).map(|(&m, &x)| sa * m + sb * x).collect()
            }
            _ => m.to_vec(),
        };
        let coeff = (a_prev / a_t).sqrt();
        let denom = a_t * b_prev.sqrt() + (a_t * b_t * a_prev).sqrt();
        let diff = a_prev - a_t;
        x.iter()
            .zip(&eps)
            .map(|(&x, &e)| coeff * x - diff * e / denom)
            .collect()
    }

    /// x̂₀ at `timestep` from the (v or ε) model output, for progress previews.
    fn x0(&self, x: &[f32], timestep: i64, m: &[f32]) -> Vec<f32> {
        let a = self.alphas_cumprod[timestep as usize];
        let (sa, sb) = (a.sqrt(), (1.0 - a).sqrt());
        match self.config.prediction_type {
            PredictionType::VPrediction => {
                x.iter().zip(m).map(|(&x, &v)| sa * x - sb * v).collect()
            }
            _ => x.iter().zip(m).map(|(&x, &e)| (x - sb * e) / sa).collect(),
        }
    }
}

/// `a + c·m` elementwise (the running Runge–Kutta sum), from 0 when `a` is `None`.
fn accumulate(a: Option<Vec<f32>>, c: f32, m: &[f32]) -> Vec<f32> {
    match a {
        None => m.iter().map(|&v| c * v).collect(),
        Some(mut a) => {
            for (s, &v) in a.iter_mut().zip(m) {
                *s += c * v;
            }
            a
        }
    }
}

impl Scheduler for PndmScheduler {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Pndm
    }

    fn name(&self) -> String {
        if self.skip_prk_steps { "plms" } else { "pndm" }.into()
    }

    fn set_timesteps(&mut self, steps: usize) -> Result<(), SamplingError> {
        let t = self.config.num_train_timesteps;
        schedule::check_steps(steps, t)?;
        let grid = self.grid(steps);
        let (prk, plms): (Vec<i64>, Vec<i64>) = if self.skip_prk_steps {
            // _timesteps[:-1], _timesteps[-2:-1], _timesteps[-1:], reversed
            let n = grid.len();
            let mut v: Vec<i64> = grid[..n - 1].to_vec();
            if n >= 2 {
                v.push(grid[n - 2]);
            }
            v.push(grid[n - 1]);
            v.reverse();
            (Vec::new(), v)
        } else {
            if steps < 4 {
                return Err(SamplingError::InvalidOption(format!(
                    "{steps} steps: {NAME}'s Runge–Kutta warm-up needs at least 4 steps (or \
                     skip_prk_steps: the plms scheduler)"
                )));
            }
            let half = (t / steps / 2) as i64;
            let last4 = &grid[grid.len() - 4..];
            let mut prk: Vec<i64> = last4.iter().flat_map(|&x| [x, x + half]).collect();
            prk.pop();
            let mut doubled: Vec<i64> = prk.iter().flat_map(|&x| [x, x]).collect();
            doubled.remove(0);
            doubled.pop();
            doubled.reverse();
            let mut plms = grid[..grid.len() - 3].to_vec();
            plms.reverse();
            (doubled, plms)
        };
        let all: Vec<f64> = prk.iter().chain(&plms).map(|&x| x as f64).collect();
        crate::sigmas::check_grid(&all, t)?;
        self.prk_timesteps = prk;
        self.timesteps = all;
        self.steps = Some(steps);
        self.ets.clear();
        self.cur_model_output = None;
        self.cur_sample = None;
        self.counter = 0;
        Ok(())
    }

    grid_accessors!();
    data_space_input!();

    fn step(
        &mut self,
        model_output: &Tensor,
        index: usize,
        sample: &Tensor,
        _noise: &mut StepNoise<'_>,
    ) -> Result<StepOutput, SamplingError> {
        check_order(NAME, self.counter, index, self.timesteps.len())?;
        check_step_tensors(model_output, sample)?;
        let n = self.steps.ok_or(SamplingError::TimestepsNotSet)?;
        let ratio = (self.config.num_train_timesteps / n) as i64;
        let timestep = self.timesteps[index] as i64;
        let m = &model_output.data;
        let (prev, x0) = if self.counter < self.prk_timesteps.len() && !self.skip_prk_steps {
            // Runge–Kutta: four calls per step (at t, t − r/2 twice, t − r)
            let diff_to_prev = if self.counter % 2 == 1 { 0 } else { ratio / 2 };
            let prev_timestep = timestep - diff_to_prev;
            let t = self.prk_timesteps[self.counter / 4 * 4];
            let phase = self.counter % 4;
            let mut eps = m.clone();
            match phase {
                0 => {
                    self.cur_model_output = Some(accumulate(
                        self.cur_model_output.take(),
                        (1.0f64 / 6.0) as f32,
                        m,
                    ));
                    self.ets.push(m.clone());
                    self.cur_sample = Some(sample.data.clone());
                }
                1 | 2 => {
                    self.cur_model_output = Some(accumulate(
                        self.cur_model_output.take(),
                        (1.0f64 / 3.0) as f32,
                        m,
                    ));
                }
                _ => {
                    eps = accumulate(self.cur_model_output.take(), (1.0f64 / 6.0) as f32, m);
                }
            }
            let cur = self.cur_sample.as_ref().unwrap_or(&sample.data).clone();
            let x0 = self.x0(&sample.data, timestep, m);
            (self.prev_sample(&cur, t, prev_timestep, &eps), x0)
        } else {
            let mut prev_timestep = timestep - ratio;
            let mut t = timestep;
            if self.counter != 1 {
                let keep = self.ets.len().saturating_sub(3);
                self.ets.drain(..keep);
                self.ets.push(m.clone());
            } else {
                prev_timestep = timestep;
                t = timestep + ratio;
            }
            let mut x = sample.data.clone();
            let e = &self.ets;
            let k = e.len();
            let eps: Vec<f32> = if k == 1 && self.counter == 0 {
                self.cur_sample = Some(sample.data.clone());
                m.clone()
            } else if k == 1 && self.counter == 1 {
                x = self.cur_sample.take().unwrap_or(x);
                m.iter().zip(&e[0]).map(|(&a, &b)| (a + b) / 2.0).collect()
            } else if k == 2 {
                e[1].iter()
                    .zip(&e[0])
                    .map(|(&e1, &e2)| (3.0 * e1 - e2) / 2.0)
                    .collect()
            } else if k == 3 {
                (0..m.len())
                    .map(|j| (23.0 * e[2][j] - 16.0 * e[1][j] + 5.0 * e[0][j]) / 12.0)
                    .collect()
            } else {
                let c = (1.0f64 / 24.0) as f32;
                (0..m.len())
                    .map(|j| c * (55.0 * e[3][j] - 59.0 * e[2][j] + 37.0 * e[1][j] - 9.0 * e[0][j]))
                    .collect()
            };
            let x0 = self.x0(&sample.data, timestep, m);
            (self.prev_sample(&x, t, prev_timestep, &eps), x0)
        };
        self.counter += 1;
        Ok(StepOutput {
            prev_sample: tensor_like(sample, prev),
            pred_original_sample: tensor_like(sample, x0),
        })
    }
}
