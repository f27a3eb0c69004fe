//! `nao select`: SeedSelect — seeds refined so that their images match a concept's real images
//! (`nao_select` does the work), then sampled; and the SeedSelect options `nao augment
//! --refine seedselect` shares.

use std::path::PathBuf;

use clap::Args;
use nao_fs::Outputs;
use nao_inversion::{load_image, ImageSpec, ResizePolicy};
use nao_models::Needs;
use nao_npy::NpyArray;
use nao_sampling::{sample, SampleOptions, SchedulerChoice, SchedulerKind};
use nao_select::{refine, DecodeTarget, Event, Refined, SelectConfig, Target};
use nao_viz::{image_name, ContactSheet, LinePlot, Series};
use serde::Serialize;

use crate::error::CliError;
use crate::images::{png_bytes, to_image};
use crate::model::{check_steps, DdimArgs, ModelArgs};
use crate::output::{bar, emit, interruption, num};
use crate::seeds::{check_finite, read_float_array};

/// SeedSelect's options (the official code's values as defaults).
#[derive(Debug, Args)]
pub struct SelectOptions {
    /// SeedSelect: optimiser iterations [default: 5 from inverted or NAO seeds, 30 from
    /// random ones].
    #[arg(long, value_name = "N")]
    select_iterations: Option<usize>,
    /// SeedSelect: AdamW's learning rate, divided by 10 from iteration 3 on [default: 0.05
    /// from inverted or NAO seeds, 0.1 from random ones].
    #[arg(long, value_name = "LR")]
    select_lr: Option<f64>,
    /// SeedSelect: DDIM steps of the differentiable sampler.
    #[arg(long, value_name = "K", default_value_t = 20)]
    select_steps: usize,
    /// SeedSelect: guidance scale of the differentiable sampler [default: 1 from inverted or
    /// NAO seeds, 7.5 from random ones].
    #[arg(long, value_name = "G")]
    select_guidance: Option<f64>,
    /// SeedSelect: what the semantic term decodes at its steps: current (the latent after the
    /// step, as the official code) or predicted-x0.
    #[arg(long, value_name = "WHICH", default_value = "current")]
    select_decode: DecodeTarget,
    /// SeedSelect: seeds refined together (one batch through the networks).
    #[arg(long, value_name = "N", default_value_t = 16)]
    select_batch: usize,
    /// SeedSelect: keep every step's activations for the backward pass instead of recomputing
    /// each network call (faster: 10 against 5.3 seeds/s on the embedded model at batch 16;
    /// memory grows with the steps: 53 against 18 MiB there, and a whole UNet call per step
    /// on Stable Diffusion, docs/select.md).
    #[arg(long)]
    select_whole_graph: bool,
    /// SeedSelect on Stable Diffusion: the CLIP vision tower whose features the images are
    /// compared in (a CLIPVisionModelWithProjection folder: config.json, model.safetensors)
    /// [default: the model folder's image_encoder/].
    #[arg(long, value_name = "DIR")]
    image_encoder: Option<PathBuf>,
}

impl SelectOptions {
    /// The configuration: the defaults for seeds from real images (`from_random` false) or
    /// random seeds, with the options given.
    pub fn config(&self, from_random: bool) -> Result<SelectConfig, CliError> {
        let mut c = if from_random {
            SelectConfig::from_random()
        } else {
            SelectConfig::from_nao()
        };
        if let Some(n) = self.select_iterations {
            c.iterations = n;
        }
        if let Some(lr) = self.select_lr {
            c.lr = lr;
        }
        if let Some(g) = self.select_guidance {
            c.guidance = g;
        }
        c.steps = self.select_steps;
        c.decode = self.select_decode;
        c.batch = self.select_batch;
        c.checkpointing = !self.select_whole_graph;
        c.check().map_err(|e| CliError::input(e.to_string()))?;
        Ok(c)
    }

    /// How SeedSelect opens the model of `model`, with guidance's `negative_prompt`.
    pub fn open_options(
        &self,
        model: &ModelArgs,
        negative_prompt: &str,
    ) -> nao_select::OpenOptions {
        model.select_options(self.image_encoder.clone(), negative_prompt)
    }

    /// Register the image encoder folder as an input of `out`.
    pub fn register_input(&self, out: &mut Outputs) -> Result<(), CliError> {
        if let Some(dir) = &self.image_encoder {
            out.input(dir, "--image-encoder")?;
        }
        Ok(())
    }
}

/// Arguments of `nao select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Seeds to refine (.npy: [c, h, w], or [n, c, h, w] as `nao invert`, `nao path` and
    /// `nao centroid --paths-out` write them); or --random N.
    #[arg(value_name = "SEEDS.npy", required_unless_present = "random")]
    seeds: Option<PathBuf>,
    /// Refine N random Gaussian seeds (ChaCha20 from --seed) instead.
    #[arg(long, value_name = "N", conflicts_with = "seeds")]
    random: Option<usize>,
    /// Seed of the random seeds.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// The concept's real images: a folder of PNG or JPEG files.
    #[arg(long, value_name = "DIR")]
    real: PathBuf,
    /// The concept's prompt (the embedded model's: a class name).
    #[arg(long)]
    prompt: String,
    #[command(flatten)]
    model: ModelArgs,
    /// The sampling of the refined seeds into images [default guidance: SeedSelect's].
    #[command(flatten)]
    ddim: DdimArgs,
    #[command(flatten)]
    select: SelectOptions,
    /// How a real image of another size than the model's is brought to it.
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
    /// Output folder: seeds.npy (the refined seeds, as the input's shape), 000.png, … and
    /// sheet.png (their images), report.json.
    #[arg(short, long, value_name = "OUT_DIR")]
    output: PathBuf,
    /// Write a PNG of every seed's loss per iteration.
    #[arg(long, value_name = "PLOT.png")]
    plot: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Report {
    output: String,
    /// The sampler of the images (SeedSelect itself differentiates a DDIM sampler).
    sampler: String,
    seeds: usize,
    real_images: usize,
    config: SelectConfig,
    refined: Vec<Refined>,
    seconds: f64,
    seeds_per_second: f64,
}

/// Run `nao select`.
pub fn run(args: &SelectArgs, json: bool) -> Result<(), CliError> {
    args.model.check()?;
    args.ddim.check()?;
    let config = args.select.config(args.random.is_some())?;
    let mut out = Outputs::new();
    args.model.register_input(&mut out)?;
    args.select.register_input(&mut out)?;
    out.input(&args.real, "--real")?;
    if let Some(s) = &args.seeds {
        out.input(s, "SEEDS")?;
    }
    out.claim_folder(&args.output, "-o/--output")?;
    if let Some(p) = &args.plot {
        out.claim_file(p, "--plot")?;
    }
    let real_files = real_files(&args.real)?;
    let start = std::time::Instant::now();
    // seeds from a file fix the latents' size (Stable Diffusion refines any size)
    let from_file = match &args.seeds {
        Some(path) => {
            let a = read_float_array(path)?;
            check_finite(&a, 0..a.dim())?;
            let k = a.shape.len();
            if k < 3 || a.shape[k - 3..].contains(&0) {
                return Err(CliError::input(format!(
                    "{}: seeds of shape {:?}; expected [c, h, w] or [n, c, h, w]",
                    path.display(),
                    a.shape
                )));
            }
            Some((path, a))
        }
        None => None,
    };
    let mut open = args
        .select
        .open_options(&args.model, &args.ddim.negative_prompt);
    open.latent_size = from_file.as_ref().map(|(_, a)| {
        let k = a.shape.len();
        (a.shape[k - 2], a.shape[k - 1])
    });
    let model = nao_select::open_model(
        args.model.folder(),
        &args.model.burn_device()?,
        &args.prompt,
        &open,
    )
    .map_err(|e| match (&e, &from_file) {
        // the seeds' size: the file is the culprit
        (nao_select::SelectError::LatentSize(_), Some((path, a))) => CliError::input(format!(
            "{}: seeds of shape {:?}: {e}",
            path.display(),
            a.shape
        )),
        _ => CliError::input(e.to_string()),
    })?;
    let [c, h, w] = model.latent_shape();
    let d = c * h * w;
    let (seeds, shape) = match (from_file, args.random) {
        (Some((path, a)), _) => {
            let k = a.shape.len();
            if a.shape[k - 3] != c {
                return Err(CliError::input(format!(
                    "{}: seeds of shape {:?}; the model's latents have {c} channels",
                    path.display(),
                    a.shape
                )));
            }
            let seeds = a
                .values
                .chunks(d)
                .map(|s| s.iter().map(|&v| v as f32).collect())
                .collect::<Vec<Vec<f32>>>();
            (seeds, a.shape.clone())
        }
        (None, Some(n)) if (1..=100_000).contains(&n) => {
            let mut rng = nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, args.seed);
            ((0..n).map(|_| rng.seed(d)).collect(), vec![n, c, h, w])
        }
        (None, n) => {
            return Err(CliError::input(format!(
                "--random {}: give 1 to 100000 seeds",
                n.unwrap_or(0)
            )))
        }
    };
    let plain = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: false,
            vae_decoder: true,
        },
    )?;
    let info = plain.info().clone();
    check_steps("--steps", args.ddim.steps, Some(&info.scheduler))?;
    // the real images at the seeds' size: the appearance term compares latents
    let s = info.vae_downsample.max(1);
    let spec = ImageSpec {
        height: h * s,
        width: w * s,
        ..ImageSpec::for_model(&info)
    };
    let images = real_files
        .iter()
        .map(|p| load_image(p, &spec, args.resize).map_err(|e| crate::model::image_error(p, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let images = nao_backend::Tensor::concat(&images)
        .map_err(|e| CliError::compute("the real images", e))?;
    let target = Target::from_images(&*model, &*model, &images)
        .map_err(|e| CliError::input(format!("--real {}: {e}", args.real.display())))?;

    let pb = bar(
        (seeds.len().div_ceil(config.batch) * config.iterations) as u64,
        json,
        "refining seeds",
    );
    let refined = refine(&*model, &*model, &target, &seeds, &config, &mut |e| {
        if let Event::Iteration { .. } = e {
            pb.inc(1);
        }
        interruption()
    })
    .map_err(|e| CliError::compute("SeedSelect", e))?;
    pb.finish_and_clear();
    let refine_seconds = start.elapsed().as_secs_f64();

    // the refined seeds, sampled through the ordinary pipeline
    // DDIM unless --scheduler says otherwise: the sampler SeedSelect differentiated through
    let choice = args
        .ddim
        .scheduler
        .unwrap_or(SchedulerChoice::new(SchedulerKind::Ddim));
    let sampler = crate::model::sampler(&info.scheduler, Some(&choice), args.ddim.steps, 0.0)?;
    let options = SampleOptions::default()
        .with_steps(args.ddim.steps)
        .with_scheduler(choice)
        .with_guidance_scale(args.ddim.guidance_or(config.guidance)?)
        .with_negative_prompt(args.ddim.negative_prompt.clone());
    let cond = nao_sampling::encode_prompt(&plain, &args.prompt, &options)
        .map_err(|e| CliError::input(format!("--prompt {:?}: {e}", args.prompt)))?;
    let (ch, ih, iw) = (info.image_channels, h * s, w * s);
    let mut sheet = ContactSheet::new(refined.len(), ih, iw);
    for (i, r) in refined.iter().enumerate() {
        let x = nao_backend::Tensor::new(vec![1, c, h, w], r.seed.clone())
            .map_err(|e| CliError::compute("a refined seed", e))?;
        let x0 = sample(&plain, &x, &cond, &options, |_| interruption())
            .map_err(|e| CliError::compute("sampling a refined seed", e))?;
        let decoded = plain
            .decode_latents(&x0)
            .map_err(|e| CliError::compute("decoding a refined seed", e))?;
        let img = to_image(&decoded.data, ch, ih, iw)?;
        let target = args.output.join(image_name(i, refined.len()));
        out.write(&target, &png_bytes(&img, &target)?)?;
        sheet.place(i, &img);
    }
    let sheet_path = args.output.join("sheet.png");
    out.write(&sheet_path, &png_bytes(&sheet.into_image(), &sheet_path)?)?;
    let all: Vec<f32> = refined
        .iter()
        .flat_map(|r| r.seed.iter().copied())
        .collect();
    out.write(
        &args.output.join("seeds.npy"),
        &NpyArray::from_f32(&shape, all)?.to_bytes(),
    )?;
    let report = Report {
        output: args.output.display().to_string(),
        sampler: sampler.name.clone(),
        seeds: refined.len(),
        real_images: real_files.len(),
        config,
        seconds: start.elapsed().as_secs_f64(),
        seeds_per_second: refined.len() as f64 / refine_seconds.max(1e-9),
        refined,
    };
    let text =
        serde_json::to_string_pretty(&report).map_err(|e| CliError::compute("JSON encoding", e))?;
    out.write(&args.output.join("report.json"), text.as_bytes())?;
    if let Some(p) = &args.plot {
        out.write(p, &plot(&report.refined)?)?;
    }
    out.commit()?;
    emit(json, &report, || {
        let mut s = format!(
            "{} seed(s) refined toward {} real image(s) ({} iterations, {:.2} seeds/s), images \
             in {}\n{:>5} {:>21} {:>23} {:>21}\n",
            report.seeds,
            report.real_images,
            report.config.iterations,
            report.seeds_per_second,
            report.output,
            "seed",
            "loss before → after",
            "norm before → after",
            "log χ before → after"
        );
        for (i, r) in report.refined.iter().enumerate() {
            s += &format!(
                "{i:>5} {:>9} → {:<9} {:>10} → {:<10} {:>9} → {:<9}\n",
                num(r.losses[0]),
                num(*r.losses.last().unwrap_or(&f64::NAN)),
                num(r.norm_before),
                num(r.norm_after),
                num(r.log_chi_before),
                num(r.log_chi_after)
            );
        }
        s
    })
}

/// The image files of a folder, by name.
fn real_files(dir: &std::path::Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::input(format!("--real {}: cannot list it: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && nao_augment::is_image_name(&name)
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CliError::input(format!(
            "--real {}: no images (*.png, *.jpg, *.jpeg); SeedSelect matches seeds to a \
             concept's real images",
            dir.display()
        )));
    }
    Ok(files)
}

/// Every seed's loss per iteration.
fn plot(refined: &[Refined]) -> Result<Vec<u8>, CliError> {
    let mut p = LinePlot::new("SeedSelect: loss per iteration");
    p.x_label = "iteration".into();
    p.y_label = "loss".into();
    p.series = refined
        .iter()
        .enumerate()
        .take(8)
        .map(|(i, r)| Series {
            name: format!("seed {i}"),
            points: r
                .losses
                .iter()
                .enumerate()
                .map(|(k, &l)| (k as f64, l))
                .collect(),
            color: nao_viz::palette(i),
        })
        .collect();
    let img = p
        .render()
        .map_err(|e| CliError::compute("the --plot picture", e))?;
    nao_viz::encode_png(&img).map_err(|e| CliError::compute("the --plot picture", e))
}
