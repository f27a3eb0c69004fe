//! `nao sample`: seeds → images by sampling (the model's own scheduler, or `--scheduler`) with
//! classifier-free guidance.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_backend::{Backend, ModelInfo, Tensor};
use nao_fs::Outputs;
use nao_models::Needs;
use nao_npy::NpyArray;
use nao_prior::RngName;
use nao_sampling::{sample, SampleOptions, VarianceNoise};
use serde::Serialize;

use crate::error::CliError;
use crate::images::{png_bytes, to_image};
use crate::model::{sampler, DdimArgs, ModelArgs};
use crate::output::interruption;
use crate::output::{bar, emit};
use crate::seeds::{check_finite, read_float_array, shape_text, FloatArray};
use nao_viz::{image_name, ContactSheet};

/// Arguments of `nao sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Seeds (.npy, float32 or float64): one latent [c, h, w], or several with any leading
    /// axes [n, c, h, w], [frames, 1, c, h, w], … (the output of `nao seed`, `nao path`,
    /// `nao centroid --paths-out`, `nao invert`); the image size is the VAE's downsampling
    /// times h × w.
    #[arg(value_name = "SEEDS.npy")]
    seeds: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// The prompt.
    #[arg(long)]
    prompt: String,
    #[command(flatten)]
    ddim: DdimArgs,
    /// DDIM η: 0 is deterministic; > 0 adds variance noise drawn from --seed (DDIM only).
    #[arg(long, default_value_t = 0.0)]
    eta: f64,
    /// Seed of the noise of stochastic samplers (ChaCha20): DDIM with --eta > 0, and
    /// euler-ancestral. Every seed of the file gets the same noise stream, so the frames of a
    /// path differ only by their seeds.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Output folder (created if missing): 000.png, 001.png, … and the contact sheet sheet.png.
    #[arg(short, long, value_name = "OUT_DIR")]
    output: PathBuf,
    /// Also write the final denoised latents (before the VAE decoder) to this .npy, float32,
    /// in the seeds file's shape.
    #[arg(long, value_name = "FINAL.npy")]
    save_latents: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct SampleReport {
    images: Vec<String>,
    sheet: String,
    /// Columns and rows of the contact sheet.
    sheet_grid: [usize; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    latents: Option<String>,
    count: usize,
    seeds: String,
    seeds_shape: Vec<usize>,
    latent_shape: [usize; 3],
    image_size: [usize; 2],
    model: String,
    prompt: String,
    negative_prompt: String,
    /// The sampler (`ddim`, `euler`, `dpm++2m-karras`, …).
    scheduler: String,
    steps: usize,
    /// Model calls per seed (more than the steps for Heun and PNDM).
    model_calls: usize,
    guidance: f64,
    eta: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    noise_seed: Option<u64>,
    load_seconds: f64,
    seconds: f64,
}

/// The seeds of a file as `n` latents of shape `[c, h, w]`, with the model's channel count;
/// an error naming the file, its shape and the expected `[c, h, w]` otherwise.
fn latents_of(array: &FloatArray, info: &ModelInfo) -> Result<(usize, [usize; 3]), CliError> {
    let c = info.latent_channels;
    let (dh, dw) = info.default_image_size;
    let s = info.vae_downsample.max(1);
    let expected = format!(
        "[{c}, h, w] or [n, {c}, h, w] (e.g. [{c}, {}, {}] for this model's {dh}×{dw} images)",
        dh / s,
        dw / s
    );
    let shape = &array.shape;
    if shape.len() < 3 || shape[shape.len() - 3] != c {
        return Err(CliError::input(format!(
            "{}: seeds of shape {} do not fit the model: expected latents {expected}, whose \
             trailing three axes are [channels = {c}, height, width]",
            array.path.display(),
            shape_text(shape)
        )));
    }
    let k = shape.len();
    let latent = [c, shape[k - 2], shape[k - 1]];
    let n: usize = shape[..k - 3].iter().product();
    Ok((n, latent))
}

/// Run `nao sample`.
pub fn run(args: &SampleArgs, json: bool) -> Result<(), CliError> {
    args.model.check()?;
    args.ddim.check()?;
    let guidance = args.ddim.guidance_or(7.5)?;
    let steps = args.ddim.steps;
    if !(args.eta.is_finite() && args.eta >= 0.0) {
        return Err(CliError::input(format!(
            "--eta {}: η must be a finite number ≥ 0",
            args.eta
        )));
    }
    // Every output is claimed before any work: a path that cannot be written, or two options
    // naming the same file, fail now rather than after the sampling.
    let mut out = Outputs::new();
    args.model.register_input(&mut out)?;
    out.input(&args.seeds, "SEEDS")?;
    out.claim_folder(&args.output, "-o/--output")?;
    if let Some(p) = &args.save_latents {
        out.claim_file(p, "--save-latents")?;
    }
    let seeds = read_float_array(&args.seeds)?;
    check_finite(&seeds, 0..seeds.dim())?;

    let load_start = Instant::now();
    let backend = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: false,
            vae_decoder: true,
        },
    )?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let info = backend.info().clone();
    let choice = args.ddim.scheduler.as_ref();
    let used = sampler(&info.scheduler, choice, steps, args.eta)?;
    let (n, latent) = latents_of(&seeds, &info)?;
    let (height, width) = (
        latent[1] * info.vae_downsample,
        latent[2] * info.vae_downsample,
    );
    let per = latent.iter().product::<usize>();
    let ch = info.image_channels;

    let options = SampleOptions::default()
        .with_steps(steps)
        .with_guidance_scale(guidance)
        .with_eta(args.eta)
        .with_negative_prompt(args.ddim.negative_prompt.clone())
        .with_noise(VarianceNoise::Seeded {
            rng: RngName::ChaCha20,
            seed: args.seed.unwrap_or(0),
        });
    let options = match choice {
        Some(c) => options.with_scheduler(*c),
        None => options,
    };

    let start = Instant::now();
    let conditioning = nao_sampling::encode_prompt(&backend, &args.prompt, &options)
        .map_err(|e| CliError::compute("encoding the prompt", e))?;

    let mut sheet = ContactSheet::new(n, height, width);
    let mut finals: Vec<f32> = Vec::with_capacity(if args.save_latents.is_some() {
        n * per
    } else {
        0
    });
    let mut images = Vec::with_capacity(n);
    let pb = bar((n * used.calls) as u64, json, "sampling");
    // One seed at a time: memory stays that of one image, and each seed's image does not
    // depend on the others in the file.
    for i in 0..n {
        let values: Vec<f32> = seeds.values[i * per..(i + 1) * per]
            .iter()
            .map(|&v| v as f32)
            .collect();
        let x_t = Tensor {
            shape: vec![1, latent[0], latent[1], latent[2]],
            data: values,
        };
        let fail = |e: &dyn std::fmt::Display| {
            CliError::Input(format!(
                "sampling seed {i} of {} (latent [{}, {}, {}]): {e}",
                args.seeds.display(),
                latent[0],
                latent[1],
                latent[2]
            ))
        };
        let x_0 = sample(&backend, &x_t, &conditioning, &options, |_| {
            pb.inc(1);
            interruption()
        })
        .map_err(|e| fail(&e))?;
        if let Some(k) = x_0.data.iter().position(|v| !v.is_finite()) {
            return Err(fail(&format!(
                "the final latents have a non-finite value at flat index {k}; nothing written"
            )));
        }
        let decoded = backend.decode_latents(&x_0).map_err(|e| fail(&e))?;
        if decoded.shape != [1, ch, height, width] {
            return Err(fail(&format!(
                "the VAE decoder returned {:?}, expected [1, {ch}, {height}, {width}]",
                decoded.shape
            )));
        }
        let img = to_image(&decoded.data, ch, height, width)?;
        let target = args.output.join(image_name(i, n));
        out.write(&target, &png_bytes(&img, &target)?)?;
        sheet.place(i, &img);
        images.push(target.display().to_string());
        if args.save_latents.is_some() {
            finals.extend_from_slice(&x_0.data);
        }
    }
    pb.finish_and_clear();
    let (cols, rows) = sheet.grid();
    let sheet_path = args.output.join("sheet.png");
    out.write(&sheet_path, &png_bytes(&sheet.into_image(), &sheet_path)?)?;
    if let Some(p) = &args.save_latents {
        let array = NpyArray::from_f32(&seeds.shape, finals)?;
        out.write(p, &array.to_bytes())?;
    }
    out.commit()?;
    let seconds = start.elapsed().as_secs_f64();

    let report = SampleReport {
        images,
        sheet: sheet_path.display().to_string(),
        sheet_grid: [cols, rows],
        latents: args.save_latents.as_ref().map(|p| p.display().to_string()),
        count: n,
        seeds: args.seeds.display().to_string(),
        seeds_shape: seeds.shape.clone(),
        latent_shape: latent,
        image_size: [height, width],
        model: args.model.name(),
        prompt: args.prompt.clone(),
        negative_prompt: args.ddim.negative_prompt.clone(),
        scheduler: used.name,
        steps,
        model_calls: used.calls,
        guidance,
        eta: args.eta,
        noise_seed: used.stochastic.then(|| args.seed.unwrap_or(0)),
        load_seconds,
        seconds,
    };
    emit(json, &report, || {
        let first = report.images.first().cloned().unwrap_or_default();
        let range = if n > 1 {
            format!(
                "{first} … {}",
                report.images.last().cloned().unwrap_or_default()
            )
        } else {
            first
        };
        let mut s = format!(
            "wrote {n} image(s) of {height}×{width}: {range}\ncontact sheet: {}\n{} {} steps, \
             guidance {}, η {}, {:.3} s (model loaded in {:.3} s)",
            report.sheet,
            report.steps,
            report.scheduler,
            report.guidance,
            report.eta,
            report.seconds,
            report.load_seconds
        );
        if let Some(p) = &report.latents {
            s += &format!(
                "\nfinal latents: {p}, shape {}",
                shape_text(&report.seeds_shape)
            );
        }
        s
    })
}
