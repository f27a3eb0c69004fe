//! `nao reconstruct`: invert an image, sample it back, and measure how close the round trip
//! comes.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_backend::{Backend, Tensor};
use nao_fs::Outputs;
use nao_inversion::reconstruct;
use nao_inversion::{InversionOptions, ResizePolicy};
use nao_models::Needs;
use nao_npy::NpyArray;
use nao_sampling::SampleOptions;
use serde::Serialize;

use crate::error::CliError;
use crate::images::{png_bytes, to_image};
use crate::model::{check_guidance, check_steps, sampler, DdimArgs, InversionArgs, ModelArgs};
use crate::output::interruption;
use crate::output::{bar, emit, num};
use crate::prior::{prior_for, NormStats};

/// Arguments of `nao reconstruct`.
#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// The image (PNG or JPEG).
    #[arg(value_name = "IMAGE")]
    image: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// The prompt of both the inversion and the sampling.
    #[arg(long)]
    prompt: String,
    #[command(flatten)]
    ddim: DdimArgs,
    #[command(flatten)]
    inversion: InversionArgs,
    /// Classifier-free guidance scale of the inversion (1: none).
    #[arg(long, default_value_t = 1.0)]
    guidance_invert: f64,
    /// Classifier-free guidance scale of the sampling (1: none, the faithful round trip); the
    /// same as --guidance.
    #[arg(long, conflicts_with = "guidance")]
    guidance_sample: Option<f64>,
    #[arg(long, value_enum, long_help = crate::images::RESIZE_HELP)]
    resize: Option<ResizePolicy>,
    /// Output folder (created if missing): reconstruction.png, input.png (the image as the
    /// model saw it, after resizing) and seed.npy (the inverted seed, [1, c, h, w]).
    #[arg(short, long, value_name = "OUT_DIR")]
    output: PathBuf,
}

#[derive(Debug, Serialize)]
struct ReconstructReport {
    image: String,
    reconstruction: String,
    input: String,
    seed: String,
    seed_shape: Vec<usize>,
    image_size: [usize; 2],
    resize: &'static str,
    model: String,
    prompt: String,
    steps: usize,
    /// The sampler of the way back (the inversion is DDIM's).
    scheduler: String,
    guidance_invert: f64,
    guidance_sample: f64,
    /// The inversion method; EDICT's seed pair is sampled back with EDICT's sampler.
    inversion: String,
    /// Network calls of the inversion (a guided call counts once).
    inversion_calls: usize,
    /// Network calls of the sampling back.
    sampling_calls: usize,
    /// Mean squared error between the input's VAE latents and the reconstructed latents.
    latent_mse: f64,
    /// Largest absolute error between the same.
    latent_max_abs_error: f64,
    /// Mean squared error between the input and the reconstruction, both in [0, 1].
    image_mse: f64,
    /// `10·log₁₀(1/image_mse)` dB; `null` when the images are identical (infinite).
    psnr_db: Option<f64>,
    seed_norm: f64,
    seed_log_chi: f64,
    seed_percentile: f64,
    load_seconds: f64,
    seconds: f64,
}

/// Run `nao reconstruct`.
pub fn run(args: &ReconstructArgs, json: bool) -> Result<(), CliError> {
    args.model.check()?;
    args.ddim.check()?;
    let steps = args.ddim.steps;
    check_guidance("--guidance-invert", args.guidance_invert)?;
    let guidance_sample = match args.guidance_sample {
        Some(g) => {
            check_guidance("--guidance-sample", g)?;
            g
        }
        None => args.ddim.guidance_or(1.0)?,
    };
    let negative_prompt = &args.ddim.negative_prompt;
    let mut out = Outputs::new();
    args.model.register_input(&mut out)?;
    out.input(&args.image, "IMAGE")?;
    out.claim_folder(&args.output, "-o/--output")?;
    crate::images::check_image_path(&args.image)?;

    let load_start = Instant::now();
    let backend = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: true,
            vae_decoder: true,
        },
    )?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let info = backend.info().clone();
    check_steps("--steps", steps, Some(&info.scheduler))?;
    // dpm++2m's seeds go back through the DPM-Solver++ 2M sampler its inverse mirrors, unless
    // --scheduler names another
    let method_sampler = args.inversion.method.sampling_scheduler();
    let choice = args.ddim.scheduler.as_ref().or(method_sampler.as_ref());
    let used = sampler(&info.scheduler, choice, steps, 0.0)?;
    if args.inversion.method.is_edict()
        && choice.is_some_and(|c| c.kind != nao_sampling::SchedulerKind::Ddim)
    {
        return Err(CliError::input(format!(
            "--scheduler {}: --inversion {} samples its seed pair back with EDICT's own sampler; leave --scheduler out",
            choice.map(|c| c.to_string()).unwrap_or_default(),
            args.inversion.method.name()
        )));
    }
    let (mut images, resize) =
        crate::images::load_for_model(std::slice::from_ref(&args.image), &info, args.resize)?;
    let image = images.remove(0);
    let fail = |e: &dyn std::fmt::Display| {
        CliError::Input(format!("reconstructing {}: {e}", args.image.display()))
    };

    let start = Instant::now();
    let inversion = InversionOptions::default()
        .with_steps(steps)
        .with_guidance_scale(args.guidance_invert)
        .with_negative_prompt(negative_prompt.clone())
        .with_method(args.inversion.method);
    let sampling = SampleOptions::default()
        .with_steps(steps)
        .with_guidance_scale(guidance_sample)
        .with_negative_prompt(negative_prompt.clone())
        .with_eta(0.0);
    let sampling = match choice {
        Some(c) => sampling.with_scheduler(*c),
        None => sampling,
    };
    let with_uncond = inversion.uses_guidance() || sampling.uses_guidance();
    let conditioning = backend
        .encode_prompt(&args.prompt, negative_prompt, with_uncond)
        .map_err(|e| CliError::compute("encoding the prompt", e))?;
    let pb = bar(
        (steps + used.calls) as u64,
        json,
        "inverting, then sampling",
    );
    let mut tick = |_: &nao_sampling::StepProgress<'_>| {
        pb.inc(1);
        interruption()
    };
    let r = reconstruct(
        &backend,
        &image,
        &conditioning,
        &inversion,
        &sampling,
        &mut tick,
    )
    .map_err(|e| fail(&e))?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let decoded = r
        .image
        .ok_or_else(|| fail(&"the model has no VAE decoder"))?;
    let seed = r.seed;
    let input01 = Tensor {
        shape: image.shape.clone(),
        data: image.data.iter().map(|v| (v + 1.0) / 2.0).collect(),
    };

    let (ch, h, w) = (image.shape[1], image.shape[2], image.shape[3]);
    let recon_path = args.output.join("reconstruction.png");
    let input_path = args.output.join("input.png");
    let seed_path = args.output.join("seed.npy");
    out.write(
        &recon_path,
        &png_bytes(&to_image(&decoded.data, ch, h, w)?, &recon_path)?,
    )?;
    out.write(
        &input_path,
        &png_bytes(&to_image(&input01.data, ch, h, w)?, &input_path)?,
    )?;
    out.write(
        &seed_path,
        &NpyArray::from_f32(&seed.shape, seed.data.clone())?.to_bytes(),
    )?;
    out.commit()?;

    let dim = seed.data.len();
    let prior = prior_for(dim, "the latent shape")?;
    let values: Vec<f64> = seed.data.iter().map(|&v| f64::from(v)).collect();
    let seed_norm = nao_prior::norm(&values);
    let stats = NormStats::new(&prior, seed_norm);
    let image_mse = r.image_mse.unwrap_or(f64::NAN);
    let psnr = r.psnr_db.unwrap_or(f64::NAN);
    let report = ReconstructReport {
        image: args.image.display().to_string(),
        reconstruction: recon_path.display().to_string(),
        input: input_path.display().to_string(),
        seed: seed_path.display().to_string(),
        seed_shape: seed.shape.clone(),
        image_size: [h, w],
        resize: resize.name(),
        model: args.model.name(),
        prompt: args.prompt.clone(),
        steps,
        scheduler: if inversion.method.is_edict() {
            "edict".into()
        } else {
            used.name
        },
        guidance_invert: args.guidance_invert,
        guidance_sample,
        inversion: inversion.method.name(),
        inversion_calls: r.inversion_calls,
        sampling_calls: r.sampling_calls,
        latent_mse: r.latent_mse,
        latent_max_abs_error: r.latent_max_abs_error,
        image_mse,
        psnr_db: psnr.is_finite().then_some(psnr),
        seed_norm,
        seed_log_chi: stats.log_pdf,
        seed_percentile: stats.percentile,
        load_seconds,
        seconds,
    };
    emit(json, &report, || {
        format!(
            "wrote {} (input as the model saw it: {}; seed: {})\n  latent MSE        {}\n  latent max |Δ|    {}\n  image MSE         {}\n  PSNR              {} dB\n  seed norm         {} (χ mode {}, percentile {})\n  {} steps of {} inversion and {} sampling, guidance {} (inversion) / {} (sampling), {} + {} network calls, {:.3} s",
            report.reconstruction,
            report.input,
            report.seed,
            num(report.latent_mse),
            num(report.latent_max_abs_error),
            num(report.image_mse),
            report.psnr_db.map_or_else(|| "∞".to_string(), num),
            num(report.seed_norm),
            num(prior.mode()),
            num(report.seed_percentile),
            report.steps,
            report.inversion,
            report.scheduler,
            report.guidance_invert,
            report.guidance_sample,
            report.inversion_calls,
            report.sampling_calls,
            report.seconds
        )
    })
}
