//! `nao invert`: images → seeds by DDIM inversion.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_backend::Backend;
use nao_fs::Outputs;
use nao_inversion::{invert, InversionOptions, ResizePolicy};
use nao_models::Needs;
use nao_npy::{DType, NpyStream};
use serde::Serialize;

use crate::error::CliError;
use crate::model::{check_steps, DdimArgs, InversionArgs, ModelArgs};
use crate::output::interruption;
use crate::output::{bar, emit, num};
use crate::prior::{prior_for, NormStats};
use crate::seeds::shape_text;

/// Arguments of `nao invert`.
#[derive(Debug, Args)]
pub struct InvertArgs {
    /// Images (PNG or JPEG), converted as diffusers converts them: RGB (or grey for a
    /// one-channel model), sized per --resize, pixel/255·2 − 1. The seeds are stacked, so the
    /// images must come out at one size.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// The prompt the images are inverted under (the same prompt should sample them back).
    #[arg(long)]
    prompt: String,
    #[command(flatten)]
    ddim: DdimArgs,
    #[command(flatten)]
    inversion: InversionArgs,
    #[arg(long, value_enum, long_help = crate::images::RESIZE_HELP)]
    resize: Option<ResizePolicy>,
    /// Output .npy: the seeds, float32, stacked along a first axis: [n, c, h, w].
    #[arg(short, long, value_name = "SEEDS.npy")]
    output: PathBuf,
}

#[derive(Debug, Serialize)]
struct SeedReport {
    image: String,
    norm: f64,
    log_chi: f64,
    percentile: f64,
}

#[derive(Debug, Serialize)]
struct InvertReport {
    output: String,
    images: Vec<String>,
    shape: Vec<usize>,
    dim: usize,
    model: String,
    prompt: String,
    steps: usize,
    guidance: f64,
    inversion: String,
    /// Network calls of the inversion, per image.
    model_calls: usize,
    image_size: [usize; 2],
    resize: &'static str,
    load_seconds: f64,
    seconds: f64,
    chi_mode: f64,
    seeds: Vec<SeedReport>,
}

/// Run `nao invert`.
pub fn run(args: &InvertArgs, json: bool) -> Result<(), CliError> {
    args.model.check()?;
    args.ddim.check()?;
    crate::model::inversion_only(args.ddim.scheduler.as_ref(), "nao invert")?;
    // 1: no guidance, as the NAO paper inverts
    let guidance = args.ddim.guidance_or(1.0)?;
    let steps = args.ddim.steps;
    let mut out = Outputs::new();
    args.model.register_input(&mut out)?;
    for image in &args.images {
        out.input(image, "IMAGE")?;
    }
    out.claim_file(&args.output, "-o/--output")?;
    for path in &args.images {
        // stat first: a missing file, a folder, a device or a FIFO fails before the model loads
        crate::images::check_image_path(path)?;
    }

    let load_start = Instant::now();
    let backend = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: true,
            vae_decoder: false,
        },
    )?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let info = backend.info();
    check_steps("--steps", steps, Some(&info.scheduler))?;
    // Every image is read before the long computation, so a bad file (or a size that does
    // not stack) fails fast.
    let (images, resize) = crate::images::load_for_model(&args.images, info, args.resize)?;
    let image_size = [images[0].shape[2], images[0].shape[3]];

    let options = InversionOptions::default()
        .with_steps(steps)
        .with_guidance_scale(guidance)
        .with_negative_prompt(args.ddim.negative_prompt.clone())
        .with_method(args.inversion.method);
    let start = Instant::now();
    let conditioning = nao_inversion::encode_prompt(&backend, &args.prompt, &options)
        .map_err(|e| CliError::compute("encoding the prompt", e))?;
    let n = images.len();
    let pb = bar(
        (n * steps) as u64,
        json,
        &format!("inverting ({})", options.method),
    );
    let mut data = Vec::new();
    let mut seed_shape = Vec::new();
    // One image at a time: memory stays that of one image, whatever the count.
    for (image, path) in images.iter().zip(&args.images) {
        let seed = invert(&backend, image, &conditioning, &options, |_| {
            pb.inc(1);
            interruption()
        })
        .map_err(|e| CliError::Input(format!("inverting {}: {e}", path.display())))?;
        if let Some(i) = seed.data.iter().position(|v| !v.is_finite()) {
            return Err(CliError::compute(
                "inversion",
                format!(
                    "{}: the seed has a non-finite value at flat index {i}; nothing written",
                    path.display()
                ),
            ));
        }
        seed_shape = seed.shape[1..].to_vec();
        data.extend_from_slice(&seed.data);
    }
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let dim: usize = seed_shape.iter().product();
    let mut shape = vec![n];
    shape.extend_from_slice(&seed_shape);
    out.write_with(&args.output, |w| {
        let mut stream = NpyStream::new(w, DType::F32, &shape, &args.output)?;
        stream.push_f32(&data)?;
        stream.finish()?;
        Ok::<(), CliError>(())
    })?;
    out.commit()?;

    let prior = prior_for(dim, "the latent shape")?;
    let seeds = data
        .chunks(dim.max(1))
        .zip(&args.images)
        .map(|(seed, path)| {
            let values: Vec<f64> = seed.iter().map(|&v| f64::from(v)).collect();
            let norm = nao_prior::norm(&values);
            let stats = NormStats::new(&prior, norm);
            SeedReport {
                image: path.display().to_string(),
                norm,
                log_chi: stats.log_pdf,
                percentile: stats.percentile,
            }
        })
        .collect();
    let report = InvertReport {
        output: args.output.display().to_string(),
        images: args
            .images
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        shape,
        dim,
        model: args.model.name(),
        prompt: args.prompt.clone(),
        steps,
        guidance,
        inversion: options.method.name(),
        model_calls: options.model_calls(),
        image_size,
        resize: resize.name(),
        load_seconds,
        seconds,
        chi_mode: prior.mode(),
        seeds,
    };
    emit(json, &report, || {
        let mut s = format!(
            "wrote {}: {} seed(s) of shape {} (d = {}), {} steps of {} inversion ({} network \
             calls per image), guidance {}, {:.3} s\n{:<40} {:>14} {:>16} {:>12}\n",
            report.output,
            n,
            shape_text(&seed_shape),
            dim,
            report.steps,
            report.inversion,
            report.model_calls,
            report.guidance,
            report.seconds,
            "image",
            "norm",
            "log χ",
            "percentile"
        );
        for seed in &report.seeds {
            s += &format!(
                "{:<40} {:>14} {:>16} {:>12}\n",
                seed.image,
                num(seed.norm),
                num(seed.log_chi),
                num(seed.percentile)
            );
        }
        s += &format!(
            "(χ mode √(d−1) = {}; inverted seeds usually lie well inside the Gaussian shell)",
            num(report.chi_mode)
        );
        s
    })
}
