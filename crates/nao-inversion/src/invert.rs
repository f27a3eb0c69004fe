//! DDIM inversion: images → VAE latents → seeds.

use std::ops::ControlFlow;

use nao_backend::{Backend, BackendError, Conditioning, Tensor};
use nao_sampling::{
    check_latents, sample, DdimInverseScheduler, Direction, DpmSolverMultistepInverseScheduler,
    GuidedPredictor, SampleOptions, StepOutput, StepProgress,
};

use crate::{InversionError, InversionMethod};

/// Options of [`invert`] and [`crate::reconstruct`].
///
/// ```
/// use nao_inversion::InversionOptions;
/// let o = InversionOptions::default().with_steps(10);
/// assert_eq!((o.steps, o.guidance_scale), (10, 1.0));
/// assert!(InversionOptions::default().with_steps(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InversionOptions {
    /// The inversion method ([`InversionMethod::Ddim`]).
    pub method: InversionMethod,
    /// Inversion steps (50).
    pub steps: usize,
    /// Classifier-free guidance scale during inversion (1.0: no guidance, as the NAO paper's
    /// code inverts; `> 1` runs an unconditional pass and needs `uncond` embeddings).
    pub guidance_scale: f64,
    /// The negative prompt for guidance (`""`).
    pub negative_prompt: String,
}

impl Default for InversionOptions {
    fn default() -> Self {
        Self {
            method: InversionMethod::Ddim,
            steps: 50,
            guidance_scale: 1.0,
            negative_prompt: String::new(),
        }
    }
}

impl InversionOptions {
    /// The defaults (DDIM, 50 steps, guidance 1.0, negative prompt `""`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the number of steps.
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// Set the inversion method.
    pub fn with_method(mut self, method: InversionMethod) -> Self {
        self.method = method;
        self
    }

    /// Set the guidance scale.
    pub fn with_guidance_scale(mut self, guidance_scale: f64) -> Self {
        self.guidance_scale = guidance_scale;
        self
    }

    /// Set the negative prompt.
    pub fn with_negative_prompt(mut self, negative_prompt: impl Into<String>) -> Self {
        self.negative_prompt = negative_prompt.into();
        self
    }

    /// Whether an unconditional pass is run (`guidance_scale > 1`).
    pub fn uses_guidance(&self) -> bool {
        self.guidance_scale > 1.0
    }

    /// The sampling that takes these seeds back the usual way: the same steps, guidance and
    /// negative prompt, η = 0 (diffusers' reconstruction), with the model's own sampler or the
    /// method's ([`InversionMethod::sampling_scheduler`]: DPM-Solver++ 2M for `dpm++2m`).
    pub fn sampling_back(&self) -> SampleOptions {
        let options = SampleOptions::default()
            .with_steps(self.steps)
            .with_guidance_scale(self.guidance_scale)
            .with_negative_prompt(self.negative_prompt.clone())
            .with_eta(0.0);
        match self.method.sampling_scheduler() {
            Some(choice) => options.with_scheduler(choice),
            None => options,
        }
    }

    /// Network calls of inverting one batch (a guided call, with its doubled batch, counts
    /// once).
    pub fn model_calls(&self) -> usize {
        self.steps * self.method.model_calls_per_step()
    }

    /// Check the options: a valid method, at least one step and a finite guidance scale of
    /// bounded size.
    pub fn check(&self) -> Result<(), InversionError> {
        self.method.check()?;
        if self.steps == 0 {
            return Err(InversionError::InvalidInput(
                "steps must be at least 1".into(),
            ));
        }
        nao_sampling::check_guidance(self.guidance_scale)
            .map_err(|e| InversionError::InvalidInput(e.to_string()))
    }
}

/// Encode the prompt for inversion with these options (with the negative prompt as the
/// unconditional input when `guidance_scale > 1`).
pub fn encode_prompt<B: Backend + ?Sized>(
    backend: &B,
    prompt: &str,
    options: &InversionOptions,
) -> Result<Conditioning, InversionError> {
    Ok(backend.encode_prompt(prompt, &options.negative_prompt, options.uses_guidance())?)
}

/// VAE-encode images `[b, channels, H, W]` in `[−1, 1]`: the posterior mean × scaling factor,
/// `[b, c, H/8, W/8]` for Stable Diffusion. An error when the backend has no VAE encoder or
/// the images do not fit the model.
pub fn encode_images<B: Backend + ?Sized>(
    backend: &B,
    images: &Tensor,
) -> Result<Tensor, InversionError> {
    if !backend.capabilities().vae_encoder {
        return Err(BackendError::Unsupported("VAE encoder (needed for inversion)").into());
    }
    let info = backend.info();
    let n: usize = images.shape.iter().product();
    let [b, ch, h, w] = images.shape[..] else {
        return Err(InversionError::InvalidInput(format!(
            "images must have shape [b, {}, H, W]; got {:?}",
            info.image_channels, images.shape
        )));
    };
    if n != images.data.len() || b == 0 || ch != info.image_channels {
        return Err(InversionError::InvalidInput(format!(
            "images must have shape [b, {}, H, W] with b > 0 and matching data; got {:?} with {} values",
            info.image_channels,
            images.shape,
            images.data.len()
        )));
    }
    let [c, lh, lw] = info.latent_shape(h, w)?;
    if let Some(v) = images.data.iter().find(|v| !(-1.001..=1.001).contains(*v)) {
        return Err(InversionError::InvalidInput(format!(
            "image values must lie in [−1, 1] (pixel/255·2 − 1); found {v}"
        )));
    }
    let latents = backend.encode_image(images)?;
    if latents.shape != [b, c, lh, lw] || latents.data.len() != b * c * lh * lw {
        return Err(BackendError::Shape(format!(
            "the VAE encoder returned {:?} for images {:?}; expected {:?}",
            latents.shape,
            images.shape,
            [b, c, lh, lw]
        ))
        .into());
    }
    Ok(latents)
}

/// DDIM-invert images `[b, channels, H, W]` in `[−1, 1]` into seeds `[b, c, h, w]`: the VAE
/// posterior mean × scaling factor ([`encode_images`]), then [`invert_latents`].
///
/// ```
/// # use nao_backend::Tensor;
/// # use nao_inversion::{invert, InversionOptions};
/// # use nao_sampling::no_progress;
/// // a mock model: 2×2 pooling as its VAE, a closed-form noise predictor (nao-test-support)
/// let backend = nao_test_support::AnalyticBackend::new();
/// let options = InversionOptions::default().with_steps(10);
/// let conditioning = nao_inversion::encode_prompt(&backend, "a photo of a cat", &options)?;
/// let images = Tensor::zeros(vec![1, 3, 16, 16]);
/// let seeds = invert(&backend, &images, &conditioning, &options, no_progress)?;
/// assert_eq!(seeds.shape, vec![1, 4, 8, 8]);
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
pub fn invert<B, F>(
    backend: &B,
    images: &Tensor,
    conditioning: &Conditioning,
    options: &InversionOptions,
    callback: F,
) -> Result<Tensor, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    options.check()?;
    let latents = encode_images(backend, images)?;
    invert_latents(backend, &latents, conditioning, options, callback)
}

/// Seeds inverted from clean latents, with what a sampler needs to take them back.
#[derive(Debug, Clone, PartialEq)]
pub struct Inverted {
    /// The seeds `[b, c, h, w]` (for EDICT its `x` sequence's `x_T`, which DDIM sampling takes
    /// back approximately).
    pub seed: Tensor,
    /// EDICT's second sequence `y_T` (`None` for the other methods): with `seed` it is the
    /// pair EDICT's sampler turns back into the latents exactly ([`sample_inverted`]).
    pub partner: Option<Tensor>,
    /// The method that inverted them.
    pub method: InversionMethod,
    /// The network calls the inversion made.
    pub model_calls: usize,
}

/// Invert clean latents `[b, c, h, w]` (VAE mean × scaling factor) into seeds with
/// `options.method` ([`InversionMethod`]): diffusers' DDIM inversion, fixed-point iterations of
/// each step, or EDICT's exact coupled inversion. After every step `callback` gets a
/// [`StepProgress`] with [`Direction::Inversion`] (EDICT: its `x` sequence);
/// [`ControlFlow::Break`] stops the loop with [`InversionError::Cancelled`] before the next
/// step's network calls.
///
/// ```
/// use nao_inversion::{invert_latents_full, InversionMethod, InversionOptions};
/// let model = nao_test_support::AnalyticBackend::new();
/// let options = InversionOptions::default()
///     .with_steps(10)
///     .with_method("fixed-point:3".parse()?);
/// let cond = nao_inversion::encode_prompt(&model, "cat", &options)?;
/// let z0 = nao_test_support::seeds(1, 8, 8, 1);
/// let inverted = invert_latents_full(&model, &z0, &cond, &options, nao_sampling::no_progress)?;
/// assert_eq!((inverted.model_calls, inverted.partner.is_none()), (40, true));
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
pub fn invert_latents_full<B, F>(
    backend: &B,
    latents: &Tensor,
    conditioning: &Conditioning,
    options: &InversionOptions,
    mut callback: F,
) -> Result<Inverted, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    options.check()?;
    check_latents(backend, latents)?;
    let predictor = GuidedPredictor::new(conditioning, latents.batch(), options.guidance_scale)?;
    let (seed, partner) = match options.method {
        InversionMethod::Ddim => (
            ddim(backend, latents, &predictor, options.steps, &mut callback)?,
            None,
        ),
        InversionMethod::FixedPoint {
            iterations,
            average,
        } => {
            let mut scheduler = DdimInverseScheduler::new(backend.info().scheduler.clone())?;
            let timesteps = scheduler.set_timesteps(options.steps)?.to_vec();
            let seed = crate::fixed_point::invert(
                backend,
                latents,
                &predictor,
                &scheduler,
                &timesteps,
                iterations,
                average,
                &mut callback,
            )?;
            (seed, None)
        }
        InversionMethod::Edict { mix } => {
            let (x, y) = crate::edict::invert(
                backend,
                latents,
                &predictor,
                options.steps,
                mix,
                &mut callback,
            )?;
            (x, Some(y))
        }
        InversionMethod::DpmSolver => (
            dpm_solver(backend, latents, &predictor, options.steps, &mut callback)?,
            None,
        ),
    };
    Ok(Inverted {
        seed,
        partner,
        method: options.method,
        model_calls: options.model_calls(),
    })
}

/// Sample inverted seeds back to clean latents with the sampler that undoes their method:
/// EDICT's sampler for an EDICT pair; otherwise `options`' scheduler, or when it names none
/// the method's ([`InversionMethod::sampling_scheduler`]: DPM-Solver++ 2M for `dpm++2m`, whose
/// inverse mirrors it) or the model's own (DDIM, η = 0, for diffusers' SD configs). `options`
/// gives the steps, guidance and negative prompt (η must be 0 for EDICT). Returns the latents
/// and the network calls made.
pub fn sample_inverted<B, F>(
    backend: &B,
    inverted: &Inverted,
    conditioning: &Conditioning,
    options: &SampleOptions,
    callback: F,
) -> Result<(Tensor, usize), InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    match (&inverted.partner, inverted.method) {
        (Some(y), InversionMethod::Edict { mix }) => {
            let (x0, _) = crate::edict::sample_edict(
                backend,
                &inverted.seed,
                y,
                conditioning,
                options,
                mix,
                callback,
            )?;
            Ok((x0, 2 * options.steps))
        }
        _ => {
            let chosen;
            let options = match (options.scheduler, inverted.method.sampling_scheduler()) {
                (None, Some(choice)) => {
                    chosen = options.clone().with_scheduler(choice);
                    &chosen
                }
                _ => options,
            };
            let calls = options.model_calls(&backend.info().scheduler)?;
            Ok((
                sample(backend, &inverted.seed, conditioning, options, callback)?,
                calls,
            ))
        }
    }
}

/// Invert clean latents `[b, c, h, w]` into seeds with `options.method` (see
/// [`invert_latents_full`], which also returns EDICT's second sequence). With the default
/// [`InversionMethod::Ddim`] this is a diffusers loop over `DDIMInverseScheduler`: for each
/// ascending timestep t, the (guided) model output at t, then `DDIMInverseScheduler.step`.
/// After every step `callback` gets a [`StepProgress`] with [`Direction::Inversion`];
/// [`ControlFlow::Break`] stops the loop with [`InversionError::Cancelled`].
pub fn invert_latents<B, F>(
    backend: &B,
    latents: &Tensor,
    conditioning: &Conditioning,
    options: &InversionOptions,
    callback: F,
) -> Result<Tensor, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    Ok(invert_latents_full(backend, latents, conditioning, options, callback)?.seed)
}

/// diffusers' DDIM inversion loop.
fn ddim<B, F>(
    backend: &B,
    latents: &Tensor,
    predictor: &GuidedPredictor,
    steps: usize,
    callback: &mut F,
) -> Result<Tensor, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    let mut scheduler = DdimInverseScheduler::new(backend.info().scheduler.clone())?;
    let timesteps = scheduler.set_timesteps(steps)?.to_vec();
    let reported: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
    walk_up(latents, &reported, callback, |index, x| {
        let t = timesteps[index];
        let model_output = predictor.predict(backend, x, t)?;
        Ok(scheduler.step(&model_output, t, x)?)
    })
}

/// diffusers' inversion loop over `DPMSolverMultistepInverseScheduler`, as its pipelines run
/// it: for each ascending timestep t, the (guided) model output at t, then `step`.
fn dpm_solver<B, F>(
    backend: &B,
    latents: &Tensor,
    predictor: &GuidedPredictor,
    steps: usize,
    callback: &mut F,
) -> Result<Tensor, InversionError>
where
    B: Backend + ?Sized,
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
{
    let mut scheduler = DpmSolverMultistepInverseScheduler::from_config(&backend.info().scheduler)?;
    let timesteps = scheduler.set_timesteps(steps)?.to_vec();
    walk_up(latents, &timesteps, callback, |index, x| {
        let model_output = predictor.predict_at(backend, x, timesteps[index])?;
        Ok(scheduler.step(&model_output, index, x)?)
    })
}

/// The loop of every inversion but EDICT's (which walks two latents): from `latents`, for
/// each of the ascending `timesteps` (as reported), `step(index, x)` takes the latents one
/// timestep up; each step is reported to `callback` with its x̂₀ as the preview, and a
/// `Break` cancels before the next model call.
pub(crate) fn walk_up<F, S>(
    latents: &Tensor,
    timesteps: &[f64],
    callback: &mut F,
    mut step: S,
) -> Result<Tensor, InversionError>
where
    F: FnMut(&StepProgress<'_>) -> ControlFlow<()>,
    S: FnMut(usize, &Tensor) -> Result<StepOutput, InversionError>,
{
    let mut x = latents.clone();
    let total = timesteps.len();
    for (index, &timestep) in timesteps.iter().enumerate() {
        let out = step(index, &x)?;
        x = out.prev_sample;
        let progress = StepProgress {
            direction: Direction::Inversion,
            index,
            total,
            timestep,
            latents: &x,
            pred_original: &out.pred_original_sample,
        };
        if callback(&progress).is_break() {
            return Err(InversionError::Cancelled);
        }
    }
    Ok(x)
}
