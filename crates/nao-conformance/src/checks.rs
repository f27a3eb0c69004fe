//! The four checks: fixed inputs in, named tensors out.

use std::fmt;

use nao_backend::{Backend, Tensor};
use nao_inversion::InversionOptions;
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::{no_progress, DdimScheduler, GuidedPredictor, SampleOptions};

use crate::{sd_checks, ConformanceError};

/// Batch size of every check.
pub const BATCH: usize = 4;
/// Steps of the sampling and inversion checks.
pub const STEPS: usize = 10;

/// One conformance check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// Embedded model: noise predictor, VAE encoder and VAE decoder once each.
    Forward,
    /// Embedded model: one guided DDIM step (the first of a 10-step schedule).
    DdimStep,
    /// Embedded model: 10 guided DDIM steps from fixed seeds, then decoding.
    Sampling,
    /// Embedded model: 10-step DDIM inversion of four bundled images.
    Inversion,
    /// tiny-sd1: the text encoder on the fixture's three prompts.
    SdText,
    /// tiny-sd1: the UNet at t = 500.
    SdUnet,
    /// tiny-sd1: VAE encoding of the inversion image, decoding of the sampled latents.
    SdVae,
    /// tiny-sd1: 10-step DDIM sampling at guidance 1 and 7.5.
    SdSampling,
    /// tiny-sd1: 10-step DDIM inversion.
    SdInversion,
}

impl Check {
    /// The embedded model's checks.
    pub const EMBEDDED: [Check; 4] = [
        Check::Forward,
        Check::DdimStep,
        Check::Sampling,
        Check::Inversion,
    ];

    /// The checks of the tiny Stable Diffusion fixture.
    pub const TINY_SD1: [Check; 5] = [
        Check::SdText,
        Check::SdUnet,
        Check::SdVae,
        Check::SdSampling,
        Check::SdInversion,
    ];

    /// Its name (the first part of its outputs' names, and of the reference files').
    pub fn name(self) -> &'static str {
        match self {
            Check::Forward => "forward",
            Check::DdimStep => "ddim_step",
            Check::Sampling => "sampling",
            Check::Inversion => "inversion",
            Check::SdText => "sd_text",
            Check::SdUnet => "sd_unet",
            Check::SdVae => "sd_vae",
            Check::SdSampling => "sd_sampling",
            Check::SdInversion => "sd_inversion",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One named output of a check (`forward.noise`, `sampling.images`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The check.
    pub check: Check,
    /// `<check>.<what>`, also the reference file's stem.
    pub name: String,
    /// The values.
    pub tensor: Tensor,
}

/// Fixed seeds `[BATCH, c, h, w]` of the model's latent shape.
fn seeds(backend: &dyn Backend, seed: u64) -> Result<Tensor, String> {
    let [c, h, w] = backend
        .info()
        .latent_shape(
            backend.info().default_image_size.0,
            backend.info().default_image_size.1,
        )
        .map_err(|e| e.to_string())?;
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, seed);
    Ok(Tensor {
        shape: vec![BATCH, c, h, w],
        data: rng.seed(BATCH * c * h * w),
    })
}

/// The first `BATCH` bundled test images of `class`, `[BATCH, 1, 28, 28]` in `[−1, 1]`.
fn images(class: usize) -> Result<Tensor, String> {
    let all = nao_burn::bundled_images(class).map_err(|e| e.to_string())?;
    let per = all.data.len() / all.shape[0];
    let mut shape = all.shape.clone();
    shape[0] = BATCH;
    Ok(Tensor {
        shape,
        data: all.data[..BATCH * per].to_vec(),
    })
}

/// Class context `[BATCH, 1]` of one class index per item.
fn classes(ids: [usize; BATCH]) -> Tensor {
    Tensor {
        shape: vec![BATCH, 1],
        data: ids.iter().map(|&c| c as f32).collect(),
    }
}

/// Run one check on a backend of its model ([`Model::of`](crate::Model::of)).
pub fn run_check(backend: &dyn Backend, check: Check) -> Result<Vec<Output>, ConformanceError> {
    let out = match check {
        Check::Forward => forward(backend),
        Check::DdimStep => ddim_step(backend),
        Check::Sampling => sampling(backend),
        Check::Inversion => inversion(backend),
        Check::SdText => sd_checks::text(backend),
        Check::SdUnet => sd_checks::unet(backend),
        Check::SdVae => sd_checks::vae(backend),
        Check::SdSampling => sd_checks::sampling(backend),
        Check::SdInversion => sd_checks::inversion(backend),
    }
    .map_err(|message| ConformanceError::Run {
        check: check.name(),
        message,
    })?;
    Ok(out
        .into_iter()
        .map(|(what, tensor)| Output {
            check,
            name: format!("{}.{what}", check.name()),
            tensor,
        })
        .collect())
}

/// A check's outputs, each named by what it is.
pub(crate) type Named = Vec<(&'static str, Tensor)>;

fn forward(backend: &dyn Backend) -> Result<Named, String> {
    let e = |e: nao_backend::BackendError| e.to_string();
    let latents = seeds(backend, 1)?;
    // one timestep from each part of the schedule; a class, the rare ones and "no class"
    let noise = backend
        .predict_noise(&latents, &[1, 251, 601, 981], &classes([7, 8, 9, 10]))
        .map_err(e)?;
    let encoded = backend.encode_image(&images(7)?).map_err(e)?;
    let decoded = backend.decode_latents(&encoded).map_err(e)?;
    Ok(vec![
        ("noise", noise),
        ("encoded", encoded),
        ("decoded", decoded),
    ])
}

fn ddim_step(backend: &dyn Backend) -> Result<Named, String> {
    let e = |e: nao_sampling::SamplingError| e.to_string();
    let latents = seeds(backend, 2)?;
    let mut scheduler = DdimScheduler::new(backend.info().scheduler.clone()).map_err(e)?;
    let t = scheduler.set_timesteps(STEPS).map_err(e)?[0];
    let options = SampleOptions::new().with_guidance_scale(3.0);
    let conditioning = nao_sampling::encode_prompt(backend, "bag", &options).map_err(e)?;
    let predictor =
        GuidedPredictor::new(&conditioning, BATCH, options.guidance_scale).map_err(e)?;
    let eps = predictor.predict(backend, &latents, t).map_err(e)?;
    let step = scheduler.step(&eps, t, &latents, 0.0, None).map_err(e)?;
    Ok(vec![
        ("prev_sample", step.prev_sample),
        ("pred_original", step.pred_original_sample),
    ])
}

fn sampling(backend: &dyn Backend) -> Result<Named, String> {
    let e = |e: nao_sampling::SamplingError| e.to_string();
    let seeds = seeds(backend, 3)?;
    let options = SampleOptions::new()
        .with_steps(STEPS)
        .with_guidance_scale(3.0);
    let conditioning = nao_sampling::encode_prompt(backend, "ankle boot", &options).map_err(e)?;
    let latents =
        nao_sampling::sample(backend, &seeds, &conditioning, &options, no_progress).map_err(e)?;
    let images = backend
        .decode_latents(&latents)
        .map_err(|e| e.to_string())?;
    Ok(vec![("latents", latents), ("images", images)])
}

fn inversion(backend: &dyn Backend) -> Result<Named, String> {
    let e = |e: nao_inversion::InversionError| e.to_string();
    let options = InversionOptions::default().with_steps(STEPS);
    let conditioning = nao_inversion::encode_prompt(backend, "bag", &options).map_err(e)?;
    let seeds = nao_inversion::invert(backend, &images(8)?, &conditioning, &options, no_progress)
        .map_err(e)?;
    Ok(vec![("seeds", seeds)])
}
