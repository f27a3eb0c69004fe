//! What the σ-space and multistep schedulers share: ᾱ in float32 as they hold it, the training
//! σₜ = √((1 − ᾱₜ)/ᾱₜ), their timestep grids, numpy's `interp`, diffusers' `_sigma_to_t` and
//! Karras σ — each computed in the precision and order diffusers computes it (torch float32
//! tensors, numpy float64 arrays), so the grids and σs equal diffusers' float32 values.

use nao_backend::{SchedulerConfig, TimestepSpacing};

use crate::schedule;
use crate::SamplingError;

/// ᾱₜ as diffusers' float32 tensor. `terminal_fix`: the classes that (unlike DDIM) set
/// ᾱ_{T−1} = 2⁻²⁴ after a zero-SNR rescale, so that σ_{T−1} stays finite.
pub(crate) fn alphas_cumprod(
    config: &SchedulerConfig,
    terminal_fix: bool,
) -> Result<Vec<f32>, SamplingError> {
    let betas = schedule::betas(config)?;
    let mut ac: Vec<f32> = schedule::alphas_cumprod(&betas)
        .into_iter()
        .map(|a| a as f32)
        .collect();
    if terminal_fix && config.rescale_betas_zero_snr {
        if let Some(last) = ac.last_mut() {
            *last = 2f32.powi(-24);
        }
    }
    if let Some((t, a)) = ac
        .iter()
        .enumerate()
        .find(|(_, a)| a.is_nan() || **a <= 0.0)
    {
        return Err(SamplingError::InvalidConfig(format!(
            "alphas_cumprod[{t}] = {a}: the schedule reaches zero signal, so σ is infinite"
        )));
    }
    Ok(ac)
}

/// σₜ = `((1 − ᾱ)/ᾱ) ** 0.5` in float32, t ascending (torch computes it on the f32 tensor).
pub(crate) fn train_sigmas(alphas_cumprod: &[f32]) -> Vec<f32> {
    alphas_cumprod
        .iter()
        .map(|&a| ((1.0 - a) / a).sqrt())
        .collect()
}

/// `np.log` of a float32 array: float32 values (the correctly rounded logarithm).
pub(crate) fn log_f32(values: &[f32]) -> Vec<f32> {
    values.iter().map(|&s| f64::from(s).ln() as f32).collect()
}

/// The descending timesteps of the single-step σ schedulers (Euler, Euler ancestral, Heun,
/// LMS): `linspace(0, T−1, n)` as float32 (not rounded), leading `(0..n)·(T div n) + offset`,
/// trailing `round(arange(T, 0, −T/n)) − 1`.
pub(crate) fn discrete_timesteps(config: &SchedulerConfig, n: usize) -> Vec<f64> {
    let t = config.num_train_timesteps;
    match config.timestep_spacing {
        TimestepSpacing::Linspace => schedule::numpy_linspace_from_zero((t - 1) as f64, n)
            .into_iter()
            .rev()
            .map(|x| f64::from(x as f32))
            .collect(),
        TimestepSpacing::Leading => {
            let ratio = t / n;
            (0..n)
                .rev()
                .map(|i| f64::from((i * ratio) as f32) + config.steps_offset as f64)
                .collect()
        }
        TimestepSpacing::Trailing => schedule::numpy_arange_down(t as f64, t as f64 / n as f64)
            .into_iter()
            .map(|x| f64::from(x.round_ties_even() as f32) - 1.0)
            .collect(),
    }
}

/// The descending integer timesteps of the multistep solvers (DPM-Solver, DEIS, UniPC), which
/// space `n + 1` points and drop the last: linspace `round(linspace(0, last − 1, n + 1))`,
/// leading `(0..=n)·(last div (n + 1)) + offset`, trailing `round(arange(last, 0, −T/n)) − 1`
/// (`last` is T, or fewer with DPM-Solver's `lambda_min_clipped`).
pub(crate) fn multistep_timesteps(config: &SchedulerConfig, n: usize, last: usize) -> Vec<f64> {
    let t = config.num_train_timesteps;
    match config.timestep_spacing {
        TimestepSpacing::Linspace => {
            let mut v: Vec<f64> = schedule::numpy_linspace_from_zero(last as f64 - 1.0, n + 1)
                .into_iter()
                .map(f64::round_ties_even)
                .collect();
            v.reverse();
            v.truncate(n);
            v
        }
        TimestepSpacing::Leading => {
            let ratio = last / (n + 1);
            (1..=n)
                .rev()
                .map(|i| (i * ratio) as f64 + config.steps_offset as f64)
                .collect()
        }
        TimestepSpacing::Trailing => schedule::numpy_arange_down(last as f64, t as f64 / n as f64)
            .into_iter()
            .map(|x| x.round_ties_even() - 1.0)
            .collect(),
    }
}

/// `np.interp(x, arange(len(fp)), fp)` for one `x` in `[0, len − 1]`, in float64 as numpy
/// computes it: `slope·(x − xⱼ) + fp[j]`, and `fp[j]` itself when `x` is a grid point.
pub(crate) fn interp(x: f64, fp: &[f32]) -> f64 {
    let last = fp.len() - 1;
    if x <= 0.0 {
        return f64::from(fp[0]);
    }
    if x >= last as f64 {
        return f64::from(fp[last]);
    }
    let j = x.floor() as usize;
    if x == j as f64 {
        return f64::from(fp[j]);
    }
    let slope = (f64::from(fp[j + 1]) - f64::from(fp[j])) / 1.0;
    slope * (x - j as f64) + f64::from(fp[j])
}

/// diffusers' `_sigma_to_t`: the fractional training timestep of σ by linear interpolation in
/// log σ, with numpy's dtypes (log σ in float64, the training log σs float32, their difference
/// in float32).
pub(crate) fn sigma_to_t(sigma: f64, log_sigmas: &[f32]) -> f64 {
    let log_sigma = sigma.max(1e-10).ln();
    // argmax of cumsum(log σ − log_sigmas ≥ 0): the last index of the first run of the
    // maximum count, as numpy's argmax returns the first maximum
    let mut count = 0usize;
    let (mut best, mut low) = (0usize, 0usize);
    for (i, &ls) in log_sigmas.iter().enumerate() {
        if log_sigma - f64::from(ls) >= 0.0 {
            count += 1;
        }
        if count > best {
            best = count;
            low = i;
        }
    }
    let low = low.min(log_sigmas.len() - 2);
    let high = low + 1;
    let (lo, hi) = (log_sigmas[low], log_sigmas[high]);
    let w = ((f64::from(lo) - log_sigma) / f64::from(lo - hi)).clamp(0.0, 1.0);
    (1.0 - w) * low as f64 + w * high as f64
}

/// Karras et al. (2022) σs: `(σ_max^{1/ρ} + ramp·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, ρ = 7, `ramp`
/// = `linspace(0, 1, n)`, in float64 as diffusers' `_convert_to_karras`.
pub(crate) fn karras(sigma_min: f64, sigma_max: f64, n: usize) -> Vec<f64> {
    let rho = 7.0f64;
    let min_inv = sigma_min.powf(1.0 / rho);
    let max_inv = sigma_max.powf(1.0 / rho);
    schedule::numpy_linspace_from_zero(1.0, n)
        .into_iter()
        .map(|r| (max_inv + r * (min_inv - max_inv)).powf(rho))
        .collect()
}

/// Where diffusers' `index_for_timestep` starts the walk: at the first timestep, unless it
/// occurs twice (then diffusers starts at its second occurrence and misses a step), which is
/// refused.
pub(crate) fn check_first_unique(
    scheduler: &'static str,
    steps: usize,
    timesteps: &[f64],
) -> Result<(), SamplingError> {
    if let Some(&first) = timesteps.first() {
        if timesteps[1..].contains(&first) {
            return Err(SamplingError::InvalidOption(format!(
                "{steps} steps: {scheduler}'s timestep grid starts with timestep {first} twice \
                 (too many steps for num_train_timesteps and this spacing); use fewer steps"
            )));
        }
    }
    Ok(())
}

/// Every timestep of a grid in `0..T` (integer grids) or `[0, T − 1]` (fractional ones).
pub(crate) fn check_grid(timesteps: &[f64], t: usize) -> Result<(), SamplingError> {
    match timesteps
        .iter()
        .find(|&&x| !(x >= 0.0 && x <= (t - 1) as f64))
    {
        Some(&bad) => Err(SamplingError::InvalidOption(format!(
            "timestep {bad} of this grid lies outside 0..{t} (check steps_offset and the step count)"
        ))),
        None => Ok(()),
    }
}

/// `(σ² + 1) ** 0.5` in float32 (`scale_model_input`'s divisor, and 1/α of the multistep
/// solvers).
pub(crate) fn sqrt_sigma2_plus_1(sigma: f32) -> f32 {
    (sigma * sigma + 1.0).sqrt()
}

/// The multistep solvers' `_sigma_to_alpha_sigma_t`: α = 1/√(σ² + 1), σₜ = σ·α, in float32.
pub(crate) fn alpha_sigma(sigma: f32) -> (f32, f32) {
    let alpha = 1.0 / sqrt_sigma2_plus_1(sigma);
    (alpha, sigma * alpha)
}

/// λ = log α − log σₜ in float32 (+∞ at σ = 0, the end of a `zero` final σ).
pub(crate) fn lambda(alpha: f32, sigma_t: f32) -> f32 {
    alpha.ln() - sigma_t.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_hits_grid_points_exactly() {
        let fp = [1.0f32, 2.0, 4.0];
        assert_eq!(interp(1.0, &fp), 2.0);
        assert_eq!(interp(1.5, &fp), 3.0);
        assert_eq!(interp(2.0, &fp), 4.0);
    }

    #[test]
    fn sigma_to_t_inverts_the_grid() {
        let sig: Vec<f32> = (1..=10).map(|i| i as f32).collect();
        let logs = log_f32(&sig);
        assert!((sigma_to_t(1.0, &logs) - 0.0).abs() < 1e-6);
        assert!((sigma_to_t(10.0, &logs) - 9.0).abs() < 1e-6);
        assert!((sigma_to_t(5.0, &logs) - 4.0).abs() < 1e-6);
        assert_eq!(sigma_to_t(0.5, &logs), 0.0); // clipped
        assert_eq!(sigma_to_t(20.0, &logs), 9.0);
    }

    #[test]
    fn karras_ends_at_the_bounds() {
        let k = karras(0.03, 14.6, 5);
        assert!((k[0] - 14.6).abs() < 1e-12 && (k[4] - 0.03).abs() < 1e-12);
        assert!(k.windows(2).all(|w| w[0] > w[1]));
        assert_eq!(karras(0.03, 14.6, 1).len(), 1);
    }
}
