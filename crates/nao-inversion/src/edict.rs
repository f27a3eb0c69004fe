//! EDICT (Wallace et al. 2023, "EDICT: Exact Diffusion Inversion via Coupled Transformations"):
//! two latent sequences `x`, `y` that evaluate the network at each other and mix, so that every
//! sampling step is an invertible affine map given the network's outputs.
//!
//! With the DDIM step from ᾱ_t to ᾱ_s written `z ↦ a·z + b·ε` (`a = √(ᾱ_s/ᾱ_t)`,
//! `b = √(1−ᾱ_s) − √(ᾱ_s(1−ᾱ_t)/ᾱ_t)`), one sampling step at timestep t is
//!
//! ```text
//! x' = a·x + b·ε(y, t)        y' = a·y + b·ε(x', t)
//! x  = p·x' + (1−p)·y'        y  = p·y' + (1−p)·x
//! ```
//!
//! and the inversion runs the four lines backwards, each solved exactly. Both directions cost
//! two network calls per step. The sequences are held in f64 and rounded to f32 only as the
//! network's input and as the returned seeds, so that the inverse sees the network inputs the
//! sampler saw, bit for bit, and reproduces its path to float precision. ε is the network's
//! output turned into a noise prediction with the sequence it was evaluated at (v- and
//! sample-prediction models included), so each step stays invertible; `clip_sample` is
//! refused (clipping x̂₀ is not invertible).
//!
//! The timesteps and ᾱs are those of the DDIM sampler (`DdimScheduler`): its descending
//! timesteps, ᾱ of `t − T div n` or the final ᾱ. EDICT's inverse therefore undoes EDICT's
//! sampler with the same step count, whatever the spacing.

use std::ops::ControlFlow;

use nao_backend::{Backend, Conditioning, PredictionType, Tensor};
use nao_sampling::{
    check_latents, DdimScheduler, Direction, GuidedPredictor, SampleOptions, StepProgress,
};

use crate::InversionError;

/// One EDICT step's coefficients and the ᾱ the network's output is read with.
struct Coefficients {
    a: f64,
    b: f64,
    alpha_t: f64,
}

/// The scheduler and the timesteps of `steps` EDICT steps, descending, with coefficients.
fn plan<B: Backend + ?Sized>(
    backend: &B,
    steps: usize,
) -> Result<Vec<(i64, Coefficients)>, InversionError> {
    let config = backend.info().scheduler.clone();
    if config.clip_sample {
        return Err(InversionError::InvalidMethod {
            value: "edict".into(),
            reason: "this model's scheduler clips x̂₀ (clip_sample = true), which no exact \
                     inversion can undo; use ddim or fixed-point"
                .into(),
        });
    }
    let mut scheduler = DdimScheduler::new(config)?;
    let timesteps = scheduler.set_timesteps(steps)?.to_vec();
    let alphas = scheduler.alphas_cumprod().to_vec();
    timesteps
        .into_iter()
        .map(|t| {
            let prev = scheduler.prev_timestep(t)?;
            let alpha_t = alphas[t as usize];
            let alpha_s = if prev >= 0 {
                alphas[prev as usize]
            } else {
                scheduler.final_alpha_cumprod()
            };
            let a = (alpha_s / alpha_t).sqrt();
            let b = (1.0 - alpha_s).sqrt() - (alpha_s * (1.0 - alpha_t) / alpha_t).sqrt();
            Ok((t, Coefficients { a, b, alpha_t }))
        })
        .collect()
}

/// The noise prediction at `z` (f64), from the network's output on `z` rounded to f32.
fn epsilon<B: Backend + ?Sized>(
    backend: &B,
    predictor: &GuidedPredictor,
    shape: &[usize],
    z: &[f64],
    t: i64,
    alpha_t: f64,
) -> Result<Vec<f64>, InversionError> {
    let input = Tensor {
        shape: shape.to_vec(),
        data: z.iter().map(|&v| v as f32).collect(),
    };
    let out = predictor.predict(backend, &input, t)?;
    let (sa, sb) = (alpha_t.sqrt(), (1.0 - alpha_t).sqrt());
    let eps = out.data.iter().zip(z).map(|(&m, &x)| {
        let m = f64::from(m);
        match backend.info().scheduler.prediction_type {
            PredictionType::Epsilon => m,
            PredictionType::VPrediction => sa * m + sb * x,
            PredictionType::Sample => (x - sa * m) / sb,
        }
    });
    Ok(eps.collect())
}

fn to_tensor(shape: &[usize], z: &[f64]) -> Tensor {
    Tensor {
        shape: shape.to_vec(),
        data: z.iter().map(|&v| v as f32).collect(),
    }
}

/// The progress of a step: `x` as the latents, and its x̂₀ as the preview.
fn report<F>(
    callback: &mut F,
    direction: Direction,
    (index, total, t): (usize, usize, i64),
    shape: &[usize],
    x: &[f64],
    eps: &[f64],
    alpha_t: f64,
) -> Result<(), InversionError>
where
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    let (sa, sb) = (alpha_t.sqrt(), (1.0 - alpha_t).sqrt());
    let x0: Vec<f64> = x
        .iter()
        .zip(eps)
        .map(|(&x, &e)| (x - sb * e) / sa)
        .collect();
    let latents = to_tensor(shape, x);
    let pred_original = to_tensor(shape, &x0);
    let progress = StepProgress {
        direction,
        index,
        total,
        timestep: t as f64,
        latents: &latents,
        pred_original: &pred_original,
    };
    if callback(&progress).is_break() {
        return Err(InversionError::Cancelled);
    }
    Ok(())
}

/// EDICT-invert clean latents `[b, c, h, w]` into the seed pair `(x_T, y_T)`, both starting
/// from the latents, with mixing weight `mix`, `steps` steps and the predictor's guidance.
pub(crate) fn invert<B, F>(
    backend: &B,
    latents: &Tensor,
    predictor: &GuidedPredictor,
    steps: usize,
    mix: f64,
    callback: &mut F,
) -> Result<(Tensor, Tensor), InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    let plan = plan(backend, steps)?;
    let shape = latents.shape.clone();
    let mut x: Vec<f64> = latents.data.iter().map(|&v| f64::from(v)).collect();
    let mut y = x.clone();
    let (p, q) = (mix, 1.0 - mix);
    let total = plan.len();
    for (index, (t, c)) in plan.iter().rev().enumerate() {
        // undo the mixing: y' from (y, x), then x' from (x, y')
        let y_inter: Vec<f64> = y.iter().zip(&x).map(|(&y, &x)| (y - q * x) / p).collect();
        let x_inter: Vec<f64> = x
            .iter()
            .zip(&y_inter)
            .map(|(&x, &yi)| (x - q * yi) / p)
            .collect();
        // undo y' = a·y + b·ε(x'), then x' = a·x + b·ε(y)
        let eps_x = epsilon(backend, predictor, &shape, &x_inter, *t, c.alpha_t)?;
        y = y_inter
            .iter()
            .zip(&eps_x)
            .map(|(&yi, &e)| (yi - c.b * e) / c.a)
            .collect();
        let eps_y = epsilon(backend, predictor, &shape, &y, *t, c.alpha_t)?;
        x = x_inter
            .iter()
            .zip(&eps_y)
            .map(|(&xi, &e)| (xi - c.b * e) / c.a)
            .collect();
        let at = (index, total, *t);
        report(
            callback,
            Direction::Inversion,
            at,
            &shape,
            &x,
            &eps_y,
            c.alpha_t,
        )?;
    }
    Ok((to_tensor(&shape, &x), to_tensor(&shape, &y)))
}

/// Sample an EDICT seed pair `(x_T, y_T)` `[b, c, h, w]` back to clean latents with EDICT's
/// sampler (mixing weight `mix`; `options`: steps, guidance, negative prompt; η must be 0).
/// Returns the final pair `(x₀, y₀)`; `x₀` is the image's latents (`y₀` agrees with it up to
/// the model's own approximation). Two network calls per step. After every step `callback`
/// gets the `x` sequence ([`Direction::Sampling`]); breaking cancels.
///
/// ```
/// use nao_inversion::{invert_latents_full, sample_edict, InversionMethod, InversionOptions};
/// use nao_sampling::{no_progress, SampleOptions};
/// let model = nao_test_support::AnalyticBackend::new();
/// let options = InversionOptions::default().with_steps(10).with_method(InversionMethod::edict());
/// let cond = nao_inversion::encode_prompt(&model, "cat", &options)?;
/// let z0 = nao_test_support::seeds(1, 8, 8, 3);
/// let inverted = invert_latents_full(&model, &z0, &cond, &options, no_progress)?;
/// let y = inverted.partner.as_ref().unwrap();
/// let sampling = SampleOptions::default().with_steps(10).with_guidance_scale(1.0);
/// let (x0, _) = sample_edict(&model, &inverted.seed, y, &cond, &sampling, 0.93, no_progress)?;
/// let err = x0.data.iter().zip(&z0.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
/// assert!(err < 1e-4, "{err}");
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
pub fn sample_edict<B, F>(
    backend: &B,
    x_t: &Tensor,
    y_t: &Tensor,
    conditioning: &Conditioning,
    options: &SampleOptions,
    mix: f64,
    mut callback: F,
) -> Result<(Tensor, Tensor), InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    options.check()?;
    if options.eta != 0.0 {
        return Err(InversionError::InvalidInput(format!(
            "EDICT sampling is deterministic: eta = {} must be 0",
            options.eta
        )));
    }
    crate::InversionMethod::Edict { mix }.check()?;
    check_latents(backend, x_t)?;
    if y_t.shape != x_t.shape || y_t.data.len() != x_t.data.len() {
        return Err(InversionError::InvalidInput(format!(
            "an EDICT seed pair has one shape: x_T is {:?} but y_T is {:?}",
            x_t.shape, y_t.shape
        )));
    }
    let plan = plan(backend, options.steps)?;
    let predictor = GuidedPredictor::new(conditioning, x_t.batch(), options.guidance_scale)?;
    let shape = x_t.shape.clone();
    let mut x: Vec<f64> = x_t.data.iter().map(|&v| f64::from(v)).collect();
    let mut y: Vec<f64> = y_t.data.iter().map(|&v| f64::from(v)).collect();
    let (p, q) = (mix, 1.0 - mix);
    let total = plan.len();
    for (index, (t, c)) in plan.iter().enumerate() {
        let eps_y = epsilon(backend, &predictor, &shape, &y, *t, c.alpha_t)?;
        let x_inter: Vec<f64> = x
            .iter()
            .zip(&eps_y)
            .map(|(&x, &e)| c.a * x + c.b * e)
            .collect();
        let eps_x = epsilon(backend, &predictor, &shape, &x_inter, *t, c.alpha_t)?;
        let y_inter: Vec<f64> = y
            .iter()
            .zip(&eps_x)
            .map(|(&y, &e)| c.a * y + c.b * e)
            .collect();
        x = x_inter
            .iter()
            .zip(&y_inter)
            .map(|(&xi, &yi)| p * xi + q * yi)
            .collect();
        y = y_inter
            .iter()
            .zip(&x)
            .map(|(&yi, &x)| p * yi + q * x)
            .collect();
        let at = (index, total, *t);
        report(
            &mut callback,
            Direction::Sampling,
            at,
            &shape,
            &x,
            &eps_y,
            c.alpha_t,
        )?;
    }
    Ok((to_tensor(&shape, &x), to_tensor(&shape, &y)))
}
