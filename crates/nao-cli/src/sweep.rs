//! `nao norm-sweep` and `nao sampler-sweep`: the mechanism behind NAO, measured
//! (`nao_sweep`; see docs/mechanism.md). The commands convert arguments, show progress and
//! print; the library does the work.

use std::path::PathBuf;

use clap::Args;
use nao_augment::SeedMethod;
use nao_burn::{CLASS_NAMES, RARE_CLASSES};
use nao_fs::Outputs;
use nao_inversion::ResizePolicy;
use nao_metrics::{FeatureClassifier, DEFAULT_K};
use nao_models::{Needs, OpenedModel};
use nao_sampling::SchedulerChoice;
use nao_sweep::{Event, NormSweepSpec, RealClass, RealSet, SamplerSweepSpec};

use crate::classifier::ClassifierArgs;
use crate::error::CliError;
use crate::model::ModelArgs;
use crate::output::{bar_eta, emit, interruption};

/// Where the real images come from, which classes, and how they are prompted: what both
/// sweeps share.
#[derive(Debug, Args)]
pub struct RealArgs {
    /// Real images in the ImageFolder layout (DIR/<class>/*.png) [default: the embedded
    /// model's 20 bundled test images per class].
    #[arg(long, value_name = "DIR")]
    real: Option<PathBuf>,
    /// The classes to sample, by name (class folders of --real, or the embedded model's class
    /// names) [default: norm-sweep every class; sampler-sweep the rare classes bag and ankle
    /// boot on the embedded model, every class of --real otherwise].
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    classes: Vec<String>,
    /// The prompt of a class, `{class}` replaced by the class folder's name (--real).
    #[arg(long, value_name = "TEMPLATE", default_value = "{class}")]
    prompt_template: String,
    /// How real images of another size than the model's or the classifier's are brought to it.
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
}

/// The model, the classifier and the real images of a sweep, opened.
struct Setup {
    opened: OpenedModel,
    classifier: Box<dyn FeatureClassifier>,
    real: RealSet,
}

/// Open the model, the classifier and the real images; `default_classes` are the embedded
/// model's classes used when --classes is not given and the bundled images are.
fn open(
    model: &ModelArgs,
    classifier: &ClassifierArgs,
    real: &RealArgs,
    default_classes: &[usize],
    json: bool,
) -> Result<Setup, CliError> {
    let opened = model.open(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: true,
            vae_decoder: true,
        },
    )?;
    let scorer = classifier.open(model.ort_lib())?;
    let info = opened.model.info();
    let set = match &real.real {
        Some(dir) => RealSet::from_folder(
            dir,
            info,
            scorer.as_ref(),
            &real.prompt_template,
            &real.classes,
            real.resize,
        )
        .map_err(|e| CliError::input(e.to_string()))?,
        None => {
            let bundled = (nao_burn::IMAGE_SIDE, nao_burn::IMAGE_SIDE);
            if info.default_image_size != bundled || info.image_channels != 1 {
                return Err(CliError::input(format!(
                    "--model {}: its images are {}×{}×{}, the bundled test images 28×28 grey: \
                     give real images of its classes with --real DIR",
                    model.name(),
                    info.image_channels,
                    info.default_image_size.0,
                    info.default_image_size.1
                )));
            }
            let indices: Vec<usize> = if real.classes.is_empty() {
                default_classes.to_vec()
            } else {
                real.classes
                    .iter()
                    .map(|name| match nao_burn::class_from_prompt(name) {
                        Ok(Some(c)) => Ok(c),
                        _ => Err(CliError::input(format!(
                            "--classes {name}: not a class of the embedded model (one of: {})",
                            nao_burn::CLASS_SLUGS.join(", ")
                        ))),
                    })
                    .collect::<Result<_, _>>()?
            };
            let classes = indices
                .iter()
                .map(|&c| {
                    let images = nao_burn::bundled_images(c)
                        .map_err(|e| CliError::compute("bundled images", e))?;
                    RealClass::new(
                        scorer.as_ref(),
                        CLASS_NAMES[c],
                        CLASS_NAMES[c],
                        images,
                        real.resize,
                    )
                    .map_err(|e| CliError::input(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            RealSet {
                source: "the embedded model's bundled test images".into(),
                classes,
            }
        }
    };
    Ok(Setup {
        opened,
        classifier: scorer,
        real: set,
    })
}

/// Claim the output folder and register the inputs, before any work.
fn claim(
    out_dir: &std::path::Path,
    model: &ModelArgs,
    classifier: &ClassifierArgs,
    real: &RealArgs,
) -> Result<Outputs, CliError> {
    model.check()?;
    classifier.check()?;
    let mut out = Outputs::new();
    model.register_input(&mut out)?;
    classifier.register_input(&mut out)?;
    if let Some(dir) = &real.real {
        out.input(dir, "--real")?;
    }
    out.claim_folder(out_dir, "-o/--out")?;
    Ok(out)
}

/// A progress callback over a bar of the images to score; Ctrl-C cancels.
fn progress_bar(
    json: bool,
    message: &'static str,
) -> (
    indicatif::ProgressBar,
    impl FnMut(Event<'_>) -> std::ops::ControlFlow<()>,
) {
    let pb = bar_eta(0, json, message);
    let handle = pb.clone();
    let callback = move |event: Event<'_>| {
        match event {
            Event::Images { done, total } => {
                handle.set_length(total as u64);
                handle.set_position(done as u64);
            }
            Event::Inverting { class } => {
                handle.set_message(format!("{message}: inverting {class}"))
            }
            _ => {}
        }
        interruption()
    };
    (pb, callback)
}

/// Options of `nao norm-sweep`.
#[derive(Debug, Args)]
pub struct NormSweepArgs {
    /// Output folder: norm-sweep.json, norm-sweep.md, quality-vs-norm.png.
    #[arg(short, long, value_name = "DIR", default_value = "norm-sweep")]
    out: PathBuf,
    /// The smallest seed norm, as a multiple of √d.
    #[arg(long, value_name = "S", default_value_t = 0.5)]
    min_scale: f64,
    /// The largest seed norm, as a multiple of √d.
    #[arg(long, value_name = "S", default_value_t = 1.5)]
    max_scale: f64,
    /// Norms from --min-scale to --max-scale, evenly spaced.
    #[arg(long, value_name = "N", default_value_t = 11)]
    scales: usize,
    /// Seeds per class, draw and norm.
    #[arg(long, value_name = "N", default_value_t = 16)]
    seeds: usize,
    /// Independent draws of directions (the measures are mean ± sd over them).
    #[arg(long, value_name = "R", default_value_t = 3)]
    draws: usize,
    /// The samplers (see `nao sample --help`) [default: ddim,euler,euler-ancestral,dpm++2m,unipc].
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    schedulers: Vec<SchedulerChoice>,
    /// Sampling steps of every sampler, and DDIM steps of the inversion.
    #[arg(long, value_name = "N", default_value_t = 50)]
    steps: usize,
    /// Classifier-free guidance scale (1 = the conditional model alone).
    #[arg(long, value_name = "G", default_value_t = 1.0)]
    guidance: f64,
    /// The negative prompt of classifier-free guidance.
    #[arg(long, default_value = "")]
    negative_prompt: String,
    /// Seed of the random directions and of the samplers' noise.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Groups of real images per class inverted for the centroid norms (0: none).
    #[arg(long, value_name = "N", default_value_t = 4)]
    groups: usize,
    /// Real images per group.
    #[arg(long, value_name = "N", default_value_t = 5)]
    per_group: usize,
    /// Neighbours of the k-NN measures.
    #[arg(long, default_value_t = DEFAULT_K)]
    k: usize,
    /// Seeds per model batch.
    #[arg(long, value_name = "N", default_value_t = 64)]
    batch: usize,
    #[command(flatten)]
    real: RealArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    classifier: ClassifierArgs,
}

/// Run `nao norm-sweep`.
pub fn run_norm(args: &NormSweepArgs, json: bool) -> Result<(), CliError> {
    for (option, v) in [
        ("--min-scale", args.min_scale),
        ("--max-scale", args.max_scale),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= nao_sweep::MAX_SCALE) {
            return Err(CliError::input(format!(
                "{option} {v}: give a norm above 0 and at most {}·√d",
                nao_sweep::MAX_SCALE
            )));
        }
    }
    if args.min_scale > args.max_scale {
        return Err(CliError::input(format!(
            "--min-scale {} is above --max-scale {}",
            args.min_scale, args.max_scale
        )));
    }
    let mut spec = NormSweepSpec {
        scales: nao_sweep::linear_scales(args.min_scale, args.max_scale, args.scales),
        seeds: args.seeds,
        draws: args.draws,
        steps: args.steps,
        guidance: args.guidance,
        negative_prompt: args.negative_prompt.clone(),
        seed: args.seed,
        groups: args.groups,
        per_group: args.per_group,
        k: args.k,
        batch: args.batch,
        resize: args.real.resize,
        ..NormSweepSpec::default()
    };
    if !args.schedulers.is_empty() {
        spec.samplers.clone_from(&args.schedulers);
    }
    spec.check().map_err(|e| CliError::input(e.to_string()))?;
    let mut out = claim(&args.out, &args.model, &args.classifier, &args.real)?;
    let all: Vec<usize> = (0..nao_burn::NUM_CLASSES).collect();
    let setup = open(&args.model, &args.classifier, &args.real, &all, json)?;
    let (pb, mut callback) = progress_bar(json, "nao norm-sweep");
    let report = nao_sweep::norm_sweep(
        setup.opened.model.as_ref(),
        setup.classifier.as_ref(),
        &setup.real,
        &spec,
        &mut callback,
    );
    pb.finish_and_clear();
    let report = report.map_err(sweep_error)?;
    for (name, bytes) in report.files().map_err(sweep_error)? {
        out.write(&args.out.join(name), &bytes)?;
    }
    out.commit()?;
    emit(json, &report, || {
        format!(
            "{}\nreport and picture in {} ({:.1} s)\n",
            summary_of_norms(&report),
            args.out.display(),
            report.seconds
        )
    })
}

/// Accuracy and Fréchet distance per sampler and norm, as a short table.
fn summary_of_norms(report: &nao_sweep::NormSweepReport) -> String {
    let md = report.markdown();
    // the two summary tables: everything before the first sampler's own section
    let end = report
        .samplers
        .first()
        .and_then(|c| md.find(&format!("## {} (", c.sampler)))
        .unwrap_or(md.len());
    md[..end].to_string()
}

/// Options of `nao sampler-sweep`.
#[derive(Debug, Args)]
pub struct SamplerSweepArgs {
    /// Output folder: sampler-sweep.json, sampler-sweep.md, centroids-by-sampler.png.
    #[arg(short, long, value_name = "DIR", default_value = "sampler-sweep")]
    out: PathBuf,
    /// The samplers (see `nao sample --help`) [default: ddim,euler,euler-ancestral,dpm++2m,unipc].
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    schedulers: Vec<SchedulerChoice>,
    /// The sampling step counts, each with every sampler.
    #[arg(long, value_name = "N,…", value_delimiter = ',', default_values_t = [10, 20, 50])]
    steps: Vec<usize>,
    /// DDIM steps of the inversion (the seeds are the same for every sampler and step count).
    #[arg(long, value_name = "N", default_value_t = 50)]
    invert_steps: usize,
    /// Classifier-free guidance scale of the sampling.
    #[arg(long, value_name = "G", default_value_t = 1.0)]
    guidance: f64,
    /// The negative prompt of classifier-free guidance.
    #[arg(long, default_value = "")]
    negative_prompt: String,
    /// Disjoint groups of real images per class, each giving one centroid per method.
    #[arg(long, value_name = "N", default_value_t = 4)]
    groups: usize,
    /// Real images per group.
    #[arg(long, value_name = "N", default_value_t = 5)]
    per_group: usize,
    /// Interior points on each centroid→seed path.
    #[arg(long, value_name = "N", default_value_t = 3)]
    interior: usize,
    /// The seed methods [default: all: prompt-only, euclidean, normalized, spherical, gaussian, nao].
    #[arg(long, value_name = "METHOD,…", value_delimiter = ',')]
    methods: Vec<SeedMethod>,
    /// Seed of the prompt-only seeds (as `nao demo --seed`) and of the samplers' noise.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Neighbours of the k-NN measures.
    #[arg(long, default_value_t = DEFAULT_K)]
    k: usize,
    #[command(flatten)]
    real: RealArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    classifier: ClassifierArgs,
}

/// Run `nao sampler-sweep`.
pub fn run_samplers(args: &SamplerSweepArgs, json: bool) -> Result<(), CliError> {
    let mut spec = SamplerSweepSpec {
        steps: args.steps.clone(),
        invert_steps: args.invert_steps,
        guidance: args.guidance,
        negative_prompt: args.negative_prompt.clone(),
        groups: args.groups,
        per_group: args.per_group,
        interior: args.interior,
        seed: args.seed,
        k: args.k,
        resize: args.real.resize,
        ..SamplerSweepSpec::default()
    };
    if !args.schedulers.is_empty() {
        spec.samplers.clone_from(&args.schedulers);
    }
    if !args.methods.is_empty() {
        spec.methods.clone_from(&args.methods);
    }
    spec.check().map_err(|e| CliError::input(e.to_string()))?;
    let mut out = claim(&args.out, &args.model, &args.classifier, &args.real)?;
    let setup = open(
        &args.model,
        &args.classifier,
        &args.real,
        &RARE_CLASSES,
        json,
    )?;
    let (pb, mut callback) = progress_bar(json, "nao sampler-sweep");
    let report = nao_sweep::sampler_sweep(
        setup.opened.model.as_ref(),
        setup.classifier.as_ref(),
        &setup.real,
        &spec,
        &mut callback,
    );
    pb.finish_and_clear();
    let report = report.map_err(sweep_error)?;
    for (name, bytes) in report.files().map_err(sweep_error)? {
        out.write(&args.out.join(name), &bytes)?;
    }
    out.commit()?;
    emit(json, &report, || {
        let md = report.markdown();
        let summary = md
            .find("## Closest to the real images")
            .map_or(md.as_str(), |i| &md[i..]);
        format!(
            "{summary}\nreport and picture in {} ({:.1} s)\n",
            args.out.display(),
            report.seconds
        )
    })
}

/// A library error as the command's: bad input, a failed computation, or an interruption.
fn sweep_error(e: nao_sweep::SweepError) -> CliError {
    match e {
        nao_sweep::SweepError::Input(m) => CliError::input(m),
        nao_sweep::SweepError::Cancelled => CliError::Output(nao_fs::FsError::Interrupted),
        other => CliError::compute("sweep", other),
    }
}
