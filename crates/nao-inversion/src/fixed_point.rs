//! Fixed-point inversion: each DDIM inversion step's implicit equation solved by iteration.
//!
//! The sampler's step at timestep t maps `z_t` to `z_s` with the noise predicted at `z_t`. DDIM
//! inversion evaluates it at `z_s` instead (the known latent), an error of first order in the
//! step size. Here `z_t ← inverse_step(z_s, ε(z_t, t))` is iterated from DDIM's `z_t`, so the
//! step is inverted with the prediction at (nearly) the right latent.

use std::ops::ControlFlow;

use nao_backend::{Backend, Tensor};
use nao_sampling::{DdimInverseScheduler, GuidedPredictor, StepProgress};

use crate::InversionError;

/// Invert `latents` with `iterations` fixed-point iterations per step (see the module);
/// `average` makes the final latent the inverse step with the mean prediction of the
/// iterations. Progress and cancellation as [`crate::invert_latents`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn invert<B, F>(
    backend: &B,
    latents: &Tensor,
    predictor: &GuidedPredictor,
    scheduler: &DdimInverseScheduler,
    timesteps: &[i64],
    iterations: usize,
    average: bool,
    callback: &mut F,
) -> Result<Tensor, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    let reported: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
    crate::invert::walk_up(latents, &reported, callback, |index, source| {
        let t = timesteps[index];
        let mut out = scheduler.step(&predictor.predict(backend, source, t)?, t, source)?;
        let mut sum = vec![0f64; source.data.len()];
        for _ in 0..iterations {
            let prediction = predictor.predict(backend, &out.prev_sample, t)?;
            if average {
                for (s, &v) in sum.iter_mut().zip(&prediction.data) {
                    *s += f64::from(v);
                }
            }
            out = scheduler.step(&prediction, t, source)?;
        }
        if average && iterations > 1 {
            let mean = Tensor {
                shape: source.shape.clone(),
                data: sum.iter().map(|s| (s / iterations as f64) as f32).collect(),
            };
            out = scheduler.step(&mean, t, source)?;
        }
        Ok(out)
    })
}

/// The residual of the implicit equation of the inversion step at `timestep` from `source` to
/// `target`: `‖target − inverse_step(source, ε(target, t))‖ / ‖target‖` (f64; one network
/// call). Zero when `target` is exactly the latent the sampler's step takes to `source`.
///
/// ```
/// use nao_backend::Tensor;
/// use nao_inversion::implicit_residual;
/// use nao_sampling::{DdimInverseScheduler, GuidedPredictor};
/// let model = nao_test_support::AnalyticBackend::new();
/// let options = nao_inversion::InversionOptions::default();
/// let cond = nao_inversion::encode_prompt(&model, "cat", &options)?;
/// let predictor = GuidedPredictor::new(&cond, 1, 1.0)?;
/// let mut inverse = DdimInverseScheduler::new(nao_backend::Backend::info(&model).scheduler.clone())?;
/// let t = inverse.set_timesteps(10)?[3];
/// let z_s = nao_test_support::seeds(1, 8, 8, 0);
/// let ddim = inverse.step(&predictor.predict(&model, &z_s, t)?, t, &z_s)?.prev_sample;
/// let r = implicit_residual(&model, &predictor, &inverse, t, &z_s, &ddim)?;
/// assert!(r > 0.0 && r < 0.1, "{r}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn implicit_residual<B: Backend + ?Sized>(
    backend: &B,
    predictor: &GuidedPredictor,
    scheduler: &DdimInverseScheduler,
    timestep: i64,
    source: &Tensor,
    target: &Tensor,
) -> Result<f64, InversionError> {
    let prediction = predictor.predict(backend, target, timestep)?;
    let image = scheduler.step(&prediction, timestep, source)?.prev_sample;
    let (mut diff, mut norm) = (0f64, 0f64);
    for (&a, &b) in target.data.iter().zip(&image.data) {
        let d = f64::from(a) - f64::from(b);
        diff += d * d;
        norm += f64::from(a) * f64::from(a);
    }
    Ok((diff / norm.max(f64::MIN_POSITIVE)).sqrt())
}
