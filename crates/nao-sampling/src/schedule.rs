//! The noise schedule (βₜ, ᾱₜ) and the inference timestep grids, computed the way diffusers
//! computes them.
//!
//! diffusers holds βₜ and ᾱₜ as float32 torch tensors. We store them as `f64`, but with the
//! float32 values diffusers holds: βs are rounded to f32 as `torch.linspace(…, dtype=float32)`
//! makes them, `αₜ = 1 − βₜ` is an f32 subtraction, and `ᾱₜ = Π αₛ` is accumulated in f64 and
//! rounded to f32 per entry, as torch's CPU `cumprod` does. The schedule of the exact real-number
//! formulas differs from that by up to 9.5·10⁻⁷ relative (SD 1.x, t = 999); the quantised one
//! matches diffusers' `alphas_cumprod` bit for bit (see the conformance tests).

use nao_backend::{BetaSchedule, SchedulerConfig, TimestepSpacing};

use crate::SamplingError;

/// `torch.linspace(start, end, n, dtype=torch.float32)` as torch's CPU kernel computes it: the
/// step in f32, the first half counted up from `start`, the second half down from `end`.
fn torch_linspace_f32(start: f64, end: f64, n: usize) -> Vec<f32> {
    let (s, e) = (start as f32, end as f32);
    if n == 1 {
        return vec![s];
    }
    let step = (e - s) / (n - 1) as f32;
    let half = n / 2;
    (0..n)
        .map(|i| {
            if i < half {
                s + step * i as f32
            } else {
                e - step * (n - i - 1) as f32
            }
        })
        .collect()
}

/// diffusers' `betas_for_alpha_bar` with the cosine ᾱ(t) = cos²((t + 0.008)/1.008 · π/2) and
/// `max_beta = 0.999`, in f64 with float division (as Python computes it), then rounded to f32.
fn cosine_betas(n: usize) -> Vec<f32> {
    let alpha_bar = |t: f64| {
        let c = ((t + 0.008) / 1.008 * std::f64::consts::PI / 2.0).cos();
        c * c
    };
    (0..n)
        .map(|i| {
            let t1 = i as f64 / n as f64;
            let t2 = (i + 1) as f64 / n as f64;
            (1.0 - alpha_bar(t2) / alpha_bar(t1)).min(0.999) as f32
        })
        .collect()
}

/// Cumulative product accumulated in f64, each entry rounded to f32 (torch CPU `cumprod`).
fn cumprod_f32(alphas: &[f32]) -> Vec<f32> {
    let mut acc = 1.0f64;
    alphas
        .iter()
        .map(|&a| {
            acc *= a as f64;
            acc as f32
        })
        .collect()
}

/// diffusers' `rescale_zero_terminal_snr` (Lin et al. 2023, Algorithm 1), in f32 as torch runs it.
fn rescale_zero_terminal_snr(betas: &[f32]) -> Vec<f32> {
    let alphas: Vec<f32> = betas.iter().map(|b| 1.0 - b).collect();
    let mut sqrt_bar: Vec<f32> = cumprod_f32(&alphas).iter().map(|a| a.sqrt()).collect();
    let first = sqrt_bar[0];
    let last = sqrt_bar[sqrt_bar.len() - 1];
    let scale = first / (first - last);
    for v in sqrt_bar.iter_mut() {
        *v -= last;
        *v *= scale;
    }
    let bar: Vec<f32> = sqrt_bar.iter().map(|v| v * v).collect();
    let mut out = Vec::with_capacity(bar.len());
    out.push(1.0 - bar[0]);
    for w in bar.windows(2) {
        out.push(1.0 - w[1] / w[0]);
    }
    out
}

/// Check a config and compute its βs (f32, as diffusers holds them).
pub(crate) fn betas(config: &SchedulerConfig) -> Result<Vec<f32>, SamplingError> {
    let bad = |m: String| Err(SamplingError::InvalidConfig(m));
    let n = config.num_train_timesteps;
    if n == 0 {
        return bad("num_train_timesteps must be at least 1".into());
    }
    if !(config.clip_sample_range.is_finite() && config.clip_sample_range > 0.0) {
        return bad(format!(
            "clip_sample_range = {} must be positive and finite",
            config.clip_sample_range
        ));
    }
    let betas = if let Some(trained) = &config.trained_betas {
        if trained.len() != n {
            return bad(format!(
                "trained_betas has {} values but num_train_timesteps = {n}",
                trained.len()
            ));
        }
        trained.iter().map(|&b| b as f32).collect()
    } else {
        for (name, v) in [
            ("beta_start", config.beta_start),
            ("beta_end", config.beta_end),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return bad(format!("{name} = {v} must lie in [0, 1)"));
            }
        }
        match config.beta_schedule {
            BetaSchedule::Linear => torch_linspace_f32(config.beta_start, config.beta_end, n),
            BetaSchedule::ScaledLinear => {
                torch_linspace_f32(config.beta_start.sqrt(), config.beta_end.sqrt(), n)
                    .into_iter()
                    .map(|b| b * b)
                    .collect()
            }
            BetaSchedule::SquaredcosCapV2 => cosine_betas(n),
        }
    };
    if let Some((i, b)) = betas
        .iter()
        .enumerate()
        .find(|(_, b)| !(b.is_finite() && (0.0..1.0).contains(*b)))
    {
        return bad(format!("beta[{i}] = {b} must lie in [0, 1)"));
    }
    Ok(if config.rescale_betas_zero_snr {
        if n < 2 {
            return bad("rescale_betas_zero_snr needs at least 2 training timesteps".into());
        }
        let r = rescale_zero_terminal_snr(&betas);
        if r.iter().any(|b| !b.is_finite()) {
            return bad("rescale_betas_zero_snr produced non-finite betas".into());
        }
        r
    } else {
        betas
    })
}

/// ᾱₜ from βₜ: `cumprod(1 − β)` as diffusers computes it, returned in f64.
pub(crate) fn alphas_cumprod(betas: &[f32]) -> Vec<f64> {
    let alphas: Vec<f32> = betas.iter().map(|b| 1.0 - b).collect();
    cumprod_f32(&alphas).into_iter().map(f64::from).collect()
}

/// Check `1 ≤ n ≤ T`, diffusers' condition on `num_inference_steps`.
pub(crate) fn check_steps(n: usize, t: usize) -> Result<(), SamplingError> {
    if n == 0 || n > t {
        return Err(SamplingError::InvalidOption(format!(
            "num_inference_steps = {n} must lie in 1..={t} (num_train_timesteps)"
        )));
    }
    Ok(())
}

/// `np.arange(start, 0, -step)` for a float step, as numpy fills it: length
/// `ceil((0 − start)/(−step))`, `x₀ = start`, `x₁ = start − step`, `xᵢ = x₀ + i·(x₁ − x₀)`.
pub(crate) fn numpy_arange_down(start: f64, step: f64) -> Vec<f64> {
    let len = ((0.0 - start) / -step).ceil();
    if len.is_nan() || len <= 0.0 {
        return Vec::new();
    }
    let len = len as usize;
    let x0 = start;
    let x1 = start + -step;
    let delta = x1 - x0;
    (0..len)
        .map(|i| match i {
            0 => x0,
            1 => x1,
            _ => x0 + i as f64 * delta,
        })
        .collect()
}

/// `np.linspace(0, stop, n)` as numpy computes it (`i·step`, the last value set to `stop`).
pub(crate) fn numpy_linspace_from_zero(stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![0.0];
    }
    let step = stop / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step).collect();
    v[n - 1] = stop;
    v
}

/// Whether `steps` DDIM steps make a valid timestep grid for this config (for sampling, and
/// for inversion where the spacing allows it), so a command can refuse a step count before
/// any work instead of failing inside the scheduler.
///
/// ```
/// let sd1 = nao_backend::SchedulerConfig::from_json(
///     r#"{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
///         "steps_offset": 1}"#).unwrap();
/// assert!(nao_sampling::check_step_count(&sd1, 50).is_ok());
/// // 1000 leading steps with steps_offset 1 would reach timestep 1000 of 0..1000
/// let e = nao_sampling::check_step_count(&sd1, 1000).unwrap_err().to_string();
/// assert!(e.contains("1000"), "{e}");
/// assert!(nao_sampling::check_step_count(&sd1, 0).is_err());
/// ```
pub fn check_step_count(config: &SchedulerConfig, steps: usize) -> Result<(), SamplingError> {
    ddim_timesteps(config, steps)?;
    if config.timestep_spacing != TimestepSpacing::Linspace {
        inverse_timesteps(config, steps)?;
    }
    Ok(())
}

/// Whether `steps` steps of the sampler `choice` (the config's own class when `None`) make a
/// valid timestep grid for this config, so a command can refuse a step count (or a scheduler
/// the config cannot build) before any work.
///
/// ```
/// let sd1 = nao_test_support::sd1_scheduler();
/// let euler: nao_sampling::SchedulerChoice = "euler".parse().unwrap();
/// assert!(nao_sampling::check_sampling_steps(&sd1, Some(&euler), 50).is_ok());
/// let pndm: nao_sampling::SchedulerChoice = "pndm".parse().unwrap(); // Runge–Kutta warm-up
/// let e = nao_sampling::check_sampling_steps(&sd1, Some(&pndm), 3).unwrap_err().to_string();
/// assert!(e.contains("at least 4"), "{e}");
/// assert!(nao_sampling::check_sampling_steps(&sd1, Some(&euler), 1001).is_err());
/// ```
pub fn check_sampling_steps(
    config: &SchedulerConfig,
    choice: Option<&crate::SchedulerChoice>,
    steps: usize,
) -> Result<(), SamplingError> {
    let mut s = crate::new_scheduler(config, choice, 0.0)?;
    s.set_timesteps(steps)
}

/// `DDIMScheduler.set_timesteps`: descending timesteps.
pub(crate) fn ddim_timesteps(
    config: &SchedulerConfig,
    n: usize,
) -> Result<Vec<i64>, SamplingError> {
    let t = config.num_train_timesteps;
    check_steps(n, t)?;
    let ts: Vec<i64> = match config.timestep_spacing {
        TimestepSpacing::Linspace => numpy_linspace_from_zero((t - 1) as f64, n)
            .into_iter()
            .rev()
            .map(|x| x.round_ties_even() as i64)
            .collect(),
        TimestepSpacing::Leading => {
            let ratio = t / n;
            (0..n)
                .rev()
                .map(|i| (i * ratio) as i64 + config.steps_offset as i64)
                .collect()
        }
        TimestepSpacing::Trailing => numpy_arange_down(t as f64, t as f64 / n as f64)
            .into_iter()
            .map(|x| x.round_ties_even() as i64 - 1)
            .collect(),
    };
    check_range(&ts, t)?;
    Ok(ts)
}

/// `DDIMInverseScheduler.set_timesteps`: ascending timesteps (leading and trailing only).
pub(crate) fn inverse_timesteps(
    config: &SchedulerConfig,
    n: usize,
) -> Result<Vec<i64>, SamplingError> {
    let t = config.num_train_timesteps;
    check_steps(n, t)?;
    let ts: Vec<i64> = match config.timestep_spacing {
        TimestepSpacing::Leading => {
            let ratio = t / n;
            (0..n)
                .map(|i| (i * ratio) as i64 + config.steps_offset as i64)
                .collect()
        }
        TimestepSpacing::Trailing => numpy_arange_down(t as f64, t as f64 / n as f64)
            .into_iter()
            .rev()
            .map(|x| x.round_ties_even() as i64 - 1)
            .collect(),
        TimestepSpacing::Linspace => {
            return Err(SamplingError::UnsupportedSpacing {
                scheduler: "DdimInverseScheduler",
                spacing: "linspace",
            })
        }
    };
    check_range(&ts, t)?;
    Ok(ts)
}

fn check_range(ts: &[i64], t: usize) -> Result<(), SamplingError> {
    match ts.iter().find(|&&x| x < 0 || x >= t as i64) {
        Some(&bad) => Err(SamplingError::InvalidOption(format!(
            "timestep {bad} of this grid lies outside 0..{t} (check steps_offset and the step count)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_arange_matches_hand_counts() {
        // np.arange(1000, 0, -100.0) -> [1000, 900, ..., 100]
        let v = numpy_arange_down(1000.0, 100.0);
        assert_eq!(v.len(), 10);
        assert_eq!(v[0], 1000.0);
        assert_eq!(v[9], 100.0);
        // np.arange(1000, 0, -1000/3) has 3 values: 1000, 666.67, 333.33
        assert_eq!(numpy_arange_down(1000.0, 1000.0 / 3.0).len(), 3);
    }

    #[test]
    fn linspace_has_exact_endpoints() {
        let v = numpy_linspace_from_zero(999.0, 3);
        assert_eq!(v, vec![0.0, 499.5, 999.0]);
        assert_eq!(numpy_linspace_from_zero(999.0, 1), vec![0.0]);
    }

    #[test]
    fn torch_linspace_endpoints_and_single_value() {
        let v = torch_linspace_f32(0.0001, 0.02, 1000);
        assert_eq!(v[0], 0.0001f32);
        assert_eq!(v[999], 0.02f32);
        assert_eq!(torch_linspace_f32(0.5, 0.7, 1), vec![0.5f32]);
    }
}
