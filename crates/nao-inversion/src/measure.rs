//! How well each inversion method's round trip reproduces images, against its network calls:
//! the measurement behind `docs/inversion.md` (`cargo xtask inversion-table`).

use std::time::Instant;

use nao_backend::{Backend, Conditioning, Tensor};
use nao_sampling::{no_progress, sample, SampleOptions};
use serde::Serialize;

use crate::{
    encode_images, errors, invert_latents_full, psnr_db, sample_inverted, InversionError,
    InversionMethod, InversionOptions,
};

/// One image of a measurement and the conditioning it is inverted and sampled under.
#[derive(Debug, Clone, Copy)]
pub struct RoundTripCase<'a> {
    /// `[1, channels, H, W]` in `[−1, 1]`.
    pub image: &'a Tensor,
    /// Its prompt's embeddings (guidance 1: no unconditional pass).
    pub conditioning: &'a Conditioning,
}

/// Which sampler takes a method's seeds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampler {
    /// The method's own: EDICT's for EDICT, DPM-Solver++ 2M for `dpm++2m`, DDIM for the
    /// others.
    Own,
    /// DDIM on the seed alone (for EDICT: `x_T` without its partner).
    Ddim,
}

/// A method's mean round-trip errors over the cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodMeasure {
    /// The method's name ([`InversionMethod::name`]).
    pub method: String,
    /// The sampler that took the seeds back.
    pub sampler: Sampler,
    /// Network calls of inverting one image.
    pub inversion_calls: usize,
    /// Network calls of sampling it back.
    pub sampling_calls: usize,
    /// Mean over the images of the latent MSE of the round trip.
    pub latent_mse: f64,
    /// Mean over the images of ‖z₀′ − z₀‖ / ‖z₀‖.
    pub latent_relative_error: f64,
    /// Mean over the images of the decoded image's PSNR against the input (dB, on `[0, 1]`;
    /// an exact image counts as 100 dB).
    pub psnr_db: f64,
    /// Wall time of all the round trips.
    pub seconds: f64,
}

/// The PSNR a perfect reconstruction counts as in the means (its own is infinite).
const EXACT_PSNR_DB: f64 = 100.0;

/// Invert every case with every method (`steps` steps, guidance 1), sample it back with the
/// method's sampler, and, for EDICT and `dpm++2m`, with DDIM (from `x_T` alone for EDICT) too;
/// decode and compare.
///
/// ```
/// use nao_backend::Tensor;
/// use nao_inversion::{measure_round_trips, InversionMethod, RoundTripCase};
/// let model = nao_test_support::AnalyticBackend::new();
/// let cond = nao_inversion::encode_prompt(&model, "cat", &Default::default())?;
/// let image = Tensor::new(vec![1, 3, 16, 16], vec![0.25; 768])?;
/// let cases = [RoundTripCase { image: &image, conditioning: &cond }];
/// let rows = measure_round_trips(&model, &cases, &[InversionMethod::Ddim, InversionMethod::edict()], 10)?;
/// assert_eq!(rows.len(), 3); // ddim; edict with its sampler; edict's x_T with DDIM
/// assert!(rows[1].latent_relative_error < 1e-5 && rows[1].sampling_calls == 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn measure_round_trips<B: Backend + ?Sized>(
    backend: &B,
    cases: &[RoundTripCase<'_>],
    methods: &[InversionMethod],
    steps: usize,
) -> Result<Vec<MethodMeasure>, InversionError> {
    if cases.is_empty() {
        return Err(InversionError::InvalidInput("no images to measure".into()));
    }
    let sampling = SampleOptions::default()
        .with_steps(steps)
        .with_guidance_scale(1.0)
        .with_eta(0.0);
    let mut rows = Vec::new();
    for &method in methods {
        let options = InversionOptions::default()
            .with_steps(steps)
            .with_method(method);
        let samplers: &[Sampler] = if method.is_edict() || method == InversionMethod::DpmSolver {
            &[Sampler::Own, Sampler::Ddim]
        } else {
            &[Sampler::Own]
        };
        for &sampler in samplers {
            let start = Instant::now();
            let (mut mse, mut rel, mut psnr, mut calls) = (0f64, 0f64, 0f64, 0);
            for case in cases {
                let z0 = encode_images(backend, case.image)?;
                let inverted =
                    invert_latents_full(backend, &z0, case.conditioning, &options, no_progress)?;
                let (back, n) = match sampler {
                    Sampler::Own => sample_inverted(
                        backend,
                        &inverted,
                        case.conditioning,
                        &sampling,
                        no_progress,
                    )?,
                    Sampler::Ddim => (
                        sample(
                            backend,
                            &inverted.seed,
                            case.conditioning,
                            &sampling,
                            no_progress,
                        )?,
                        steps,
                    ),
                };
                calls = n;
                let (m, _) = errors(&back.data, &z0.data);
                let (norm2, _) = errors(&z0.data, &vec![0.0; z0.data.len()]);
                mse += m;
                rel += (m / norm2.max(f64::MIN_POSITIVE)).sqrt();
                let decoded = backend.decode_latents(&back)?;
                let input01: Vec<f32> = case.image.data.iter().map(|v| (v + 1.0) / 2.0).collect();
                let (image_mse, _) = errors(&input01, &decoded.data);
                psnr += psnr_db(image_mse).min(EXACT_PSNR_DB);
            }
            let n = cases.len() as f64;
            rows.push(MethodMeasure {
                method: method.name(),
                sampler,
                inversion_calls: options.model_calls(),
                sampling_calls: calls,
                latent_mse: mse / n,
                latent_relative_error: rel / n,
                psnr_db: psnr / n,
                seconds: start.elapsed().as_secs_f64(),
            });
        }
    }
    Ok(rows)
}

/// The mean PSNR (dB) of the VAE alone: each image encoded and decoded with no diffusion in
/// between, the ceiling of any inversion's image PSNR.
pub fn vae_psnr_db<B: Backend + ?Sized>(
    backend: &B,
    cases: &[RoundTripCase<'_>],
) -> Result<f64, InversionError> {
    let mut total = 0f64;
    for case in cases {
        let decoded = backend.decode_latents(&encode_images(backend, case.image)?)?;
        let input01: Vec<f32> = case.image.data.iter().map(|v| (v + 1.0) / 2.0).collect();
        total += psnr_db(errors(&input01, &decoded.data).0).min(EXACT_PSNR_DB);
    }
    Ok(total / cases.len().max(1) as f64)
}

/// The measures as a Markdown table, one row per method and sampler.
pub fn markdown_table(rows: &[MethodMeasure]) -> String {
    let mut s = String::from(
        "| method | sampled back by | network calls (invert + sample) | latent MSE | \
         relative latent error | image PSNR (dB) |\n|---|---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let edict = r.method.starts_with("edict");
        let sampler = match (r.sampler, edict) {
            (Sampler::Own, true) => "EDICT (the pair)",
            (Sampler::Own, false) if r.method == InversionMethod::DpmSolver.name() => {
                "DPM-Solver++ 2M"
            }
            (Sampler::Own, false) | (Sampler::Ddim, false) => "DDIM",
            (Sampler::Ddim, true) => "DDIM (x_T alone)",
        };
        s += &format!(
            "| `{}` | {sampler} | {} + {} | {:.3e} | {:.3e} | {:.2} |\n",
            r.method,
            r.inversion_calls,
            r.sampling_calls,
            r.latent_mse,
            r.latent_relative_error,
            r.psnr_db
        );
    }
    s
}
