//! `nao augment`: a dataset of new images per class from a few real images per class
//! (`nao_augment` does the work; docs/augment.md is the reference).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use nao_augment::{Augment, AugmentSpec, Event, Outcome, Refiner, Runtime, SeedMethod, Shard};
use nao_inversion::ResizePolicy;
use nao_models::Needs;
use serde::Serialize;

use crate::error::CliError;
use crate::model::{DdimArgs, InversionArgs, ModelArgs};
use crate::output::{bar, bar_eta, emit, interruption};

/// Arguments of `nao augment`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AugmentArgs {
    #[command(subcommand)]
    step: Option<Step>,
    #[command(flatten)]
    spec: SpecArgs,
    /// Do one part of the work: I/N (shard I of N, 0 ≤ I < N); auto (a SLURM job array task:
    /// SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT); auto/N (the index
    /// from SLURM_ARRAY_TASK_ID or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX, of N). Each
    /// shard writes manifest.shard-I-of-N.jsonl; `nao augment merge OUT_DIR` then checks and
    /// writes manifest.jsonl [default: the whole work, merged at the end].
    #[arg(long, value_name = "I/N|auto|auto/N")]
    shard: Option<String>,
}

/// The steps that run on their own.
#[derive(Debug, Subcommand)]
enum Step {
    /// Only invert the real images and compute every class's points into OUT_DIR/seeds/ (the
    /// first sampling process does it otherwise). Takes the same options as the run.
    Prepare(Box<SpecArgs>),
    /// Check that every (class, index) has exactly one image with a matching hash, then write
    /// OUT_DIR/manifest.jsonl; list what is missing otherwise.
    Merge(MergeArgs),
}

/// Arguments of `nao augment merge`.
#[derive(Debug, Args)]
struct MergeArgs {
    /// The output folder the shards wrote into.
    #[arg(value_name = "OUT_DIR")]
    out_dir: PathBuf,
}

/// What defines a dataset: inputs, model, method and sampling options, output folder.
#[derive(Debug, Args)]
struct SpecArgs {
    /// Real images, one folder per class: REAL_DIR/<class>/*.png|jpg|jpeg (the ImageFolder
    /// layout). A few images per class are enough.
    #[arg(value_name = "REAL_DIR", required = true)]
    real_dir: Option<PathBuf>,
    /// Output folder (shared by every shard): OUT_DIR/<class>/<index>.png, manifests, run.json,
    /// seeds/.
    #[arg(short, long, value_name = "OUT_DIR", required = true)]
    output: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    ddim: DdimArgs,
    #[command(flatten)]
    inversion: InversionArgs,
    /// The prompt of each class; {class} is replaced by the class folder's name. The embedded
    /// model's prompts are its class names ("bag", "ankle boot", "a photo of a sneaker", …).
    #[arg(long, value_name = "TEMPLATE", default_value = "{class}")]
    prompt_template: String,
    /// How seeds are chosen: nao (NAO centroid and geodesic paths), or for comparisons
    /// euclidean, normalized, spherical, gaussian (their centroids and paths) and prompt-only
    /// (random seeds with the class prompt).
    #[arg(long, value_enum, default_value_t = SeedMethod::Nao)]
    method: SeedMethod,
    /// Images to make per class.
    #[arg(long, value_name = "N", default_value_t = 100)]
    per_class: usize,
    /// Points per path from the centroid to each inverted seed, at t = j/(K+1), j = 1..K.
    #[arg(long, value_name = "K", default_value_t = 3)]
    path_positions: usize,
    /// Real images inverted per class: a seeded choice of N among the class folder's, the
    /// same in every process [default: all of them].
    #[arg(long, value_name = "N")]
    shots: Option<usize>,
    /// Where each image's seed comes from: centroid-paths (the centroid and the points on the
    /// paths from it to each image), pairs (a random point on the method's path between a
    /// random pair of the images), subsets (the method's centroid of a random subset of 2 or
    /// more), or a mix with weights, e.g. pairs:3,subsets:1.
    #[arg(long, value_name = "SOURCE", default_value = "centroid-paths")]
    source: nao_augment::SourceMix,
    /// How far the repeated rounds turn a point's direction (images past the number of
    /// distinct points): about atan(S) radians, the norm kept.
    #[arg(long, value_name = "S", default_value_t = 0.2)]
    jitter: f64,
    /// Seed of the per-image random numbers (prompt-only seeds and the repeated rounds'
    /// perturbations).
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// How a real image is brought to a size the model takes: center-crop or stretch to the
    /// model's default size, exact (refuse another size), or none (its own size, both sides
    /// multiples of the VAE's downsampling; a class's images must then have one size, and its
    /// generated images have it).
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
    /// Leave out real images that cannot be read (each is named on stderr and in
    /// seeds/<class>.json) instead of stopping.
    #[arg(long)]
    skip_bad_images: bool,
    /// Refine each drawn seed before it is sampled: seedselect (SeedSelect toward the class's
    /// real images; on burn devices) or none.
    #[arg(long, value_name = "HOW", default_value = "none", value_parser = ["none", "seedselect"])]
    refine: String,
    #[command(flatten)]
    select: crate::select::SelectOptions,
}

impl SpecArgs {
    fn spec(&self) -> Result<AugmentSpec, CliError> {
        let (Some(real), Some(out)) = (&self.real_dir, &self.output) else {
            return Err(CliError::input("give REAL_DIR and -o/--output OUT_DIR"));
        };
        self.model.check()?;
        let mut spec = AugmentSpec::new(real, out);
        spec.prompt_template = self.prompt_template.clone();
        spec.negative_prompt = self.ddim.negative_prompt.clone();
        spec.method = self.method;
        spec.per_class = self.per_class;
        spec.path_positions = self.path_positions;
        spec.steps = self.ddim.steps;
        spec.scheduler = self.ddim.scheduler;
        spec.guidance = self.ddim.guidance.unwrap_or(1.0);
        spec.jitter = self.jitter;
        spec.seed = self.seed;
        spec.resize = self.resize;
        spec.inversion = self.inversion.method;
        spec.skip_bad_images = self.skip_bad_images;
        spec.shots = self.shots;
        spec.source = self.source.clone();
        Ok(spec)
    }
}

/// What `nao augment` reports.
#[derive(Debug, Serialize)]
struct Report {
    output: String,
    /// `I/N`, or `prepare` for `nao augment prepare`.
    shard: String,
    classes: usize,
    per_class: usize,
    images_total: usize,
    owned: usize,
    generated: usize,
    already_done: usize,
    prepared_classes: usize,
    model: String,
    device: String,
    /// The sampler of the images (`ddim`, `dpm++2m-karras`, …; the inversion is DDIM's).
    scheduler: String,
    seconds: f64,
    /// Images made per second of sampling (excluding model loading and class seeds).
    images_per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<String>,
}

/// Run `nao augment`.
pub fn run(args: &AugmentArgs, json: bool) -> Result<(), CliError> {
    match &args.step {
        Some(Step::Merge(m)) => {
            let m = nao_augment::merge(&m.out_dir)?;
            emit(json, &m, || {
                let sources: Vec<String> = m
                    .sources
                    .iter()
                    .map(|(f, n)| format!("{f}: {n} lines"))
                    .collect();
                format!(
                    "complete: {} images of {} classes, every hash checked; wrote {} (from {})",
                    m.images,
                    m.classes,
                    m.manifest.display(),
                    sources.join(", ")
                )
            })
        }
        Some(Step::Prepare(spec)) => make(spec, None, json),
        None => make(&args.spec, Some(args.shard.as_deref()), json),
    }
}

/// A run (`shard: None` for `nao augment prepare`).
fn make(args: &SpecArgs, shard: Option<Option<&str>>, json: bool) -> Result<(), CliError> {
    let started = Instant::now();
    let spec = args.spec()?;
    let whole = match shard.flatten() {
        Some(s) => Shard::parse("--shard", s, &|name| std::env::var(name).ok())?,
        None => Shard::WHOLE,
    };
    // no output may replace or lie in an input: the real images, the model's folder
    let mut out = nao_fs::Outputs::new();
    args.model.register_input(&mut out)?;
    args.select.register_input(&mut out)?;
    out.input(&spec.real_dir, "REAL_DIR")?;
    let mut refiner = refiner(args)?;
    let mut spec = spec;
    spec.refine = refiner.as_ref().map(|r| r.identity());
    let job = Augment::plan(spec, args.model.model_id()?, whole)?;
    out.claim_folder(&job.spec().out_dir, "-o/--output")?;
    let prepare_only = shard.is_none();
    let opened = args.model.open(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: job.needs_vae_encoder(),
            vae_decoder: !prepare_only,
        },
    )?;
    let runtime = Runtime {
        kind: opened.kind.describe().to_string(),
        device: opened.device.to_string(),
    };
    let used = crate::model::sampler(
        &opened.model.info().scheduler,
        job.spec().scheduler.as_ref(),
        job.spec().steps,
        0.0,
    )?;
    let out_dir = job.spec().out_dir.clone();
    let mut bars: (Option<ProgressBar>, Option<ProgressBar>) = (None, None);
    let mut progress = |event: Event<'_>| {
        match event {
            Event::WaitingForSetup => eprintln!(
                "nao: waiting for another process that is preparing the class seeds in {}",
                out_dir.display()
            ),
            Event::Note(note) => eprintln!("nao: {note}"),
            Event::ClassSeeds { done, total } => bars
                .0
                .get_or_insert_with(|| bar(total as u64, json, "class seeds"))
                .set_position(done as u64),
            Event::Images { done, todo } => bars
                .1
                .get_or_insert_with(|| {
                    bar_eta(todo as u64, json, &format!("shard {}", whole.label()))
                })
                .set_position(done as u64),
            _ => {}
        }
        interruption()
    };
    let outcome: Result<Outcome, _> = match (prepare_only, refiner.as_mut()) {
        (true, _) => job.prepare(&*opened.model, &runtime, &mut progress),
        (false, Some(r)) => job.run_refined(&*opened.model, &runtime, r, &mut progress),
        (false, None) => job.run(&*opened.model, &runtime, &mut progress),
    };
    bars.0
        .iter()
        .chain(&bars.1)
        .for_each(ProgressBar::finish_and_clear);
    let o = outcome?;
    let report = Report {
        output: out_dir.display().to_string(),
        shard: if prepare_only {
            "prepare".into()
        } else {
            whole.label()
        },
        classes: o.classes,
        per_class: o.per_class,
        images_total: o.images_total,
        owned: o.owned,
        generated: o.made,
        already_done: o.already_done,
        prepared_classes: o.prepared_classes,
        model: args.model.name(),
        device: runtime.device,
        scheduler: used.name,
        seconds: started.elapsed().as_secs_f64(),
        images_per_second: if o.generating_seconds > 0.0 {
            o.made as f64 / o.generating_seconds
        } else {
            0.0
        },
        manifest: o.manifest.map(|m| m.display().to_string()),
    };
    emit(json, &report, || text(&report))
}

/// SeedSelect as the refinement of `--refine seedselect`, on `--device`'s burn device: the
/// defaults for random seeds with prompt-only, for seeds from real images otherwise.
fn refiner(args: &SpecArgs) -> Result<Option<nao_select::SeedSelectRefiner>, CliError> {
    if args.refine != "seedselect" {
        return Ok(None);
    }
    let config = args.select.config(args.method == SeedMethod::PromptOnly)?;
    let device = args.model.burn_device()?;
    let folder = args.model.folder().map(std::path::Path::to_path_buf);
    let options = args
        .select
        .open_options(&args.model, &args.ddim.negative_prompt);
    let encoder = options.image_encoder.clone();
    let open =
        move |prompt: &str| nao_select::open_model(folder.as_deref(), &device, prompt, &options);
    let mut refiner = nao_select::SeedSelectRefiner::new(config, Box::new(open))
        .map_err(|e| CliError::input(e.to_string()))?;
    if let Some(dir) = encoder {
        let id = nao_models::ModelSource::Folder(dir.clone())
            .identity()
            .map_err(|e| CliError::input(format!("--image-encoder {}: {e}", dir.display())))?;
        refiner = refiner.with_encoder(id);
    }
    Ok(Some(refiner))
}

fn text(r: &Report) -> String {
    if r.shard == "prepare" {
        return format!(
            "class seeds of {} classes in {}/seeds ({} computed now), {:.1} s",
            r.classes, r.output, r.prepared_classes, r.seconds
        );
    }
    let mut s = format!(
        "shard {}: {} of its {} images made ({} already there) with {}, {:.2} images/s on {}; \
         {:.1} s",
        r.shard,
        r.generated,
        r.owned,
        r.already_done,
        r.scheduler,
        r.images_per_second,
        r.device,
        r.seconds
    );
    match &r.manifest {
        Some(m) => {
            s += &format!(
                "\ndataset complete: {} images, manifest {m}",
                r.images_total
            )
        }
        None => s += &format!("\nwhen every shard is done: nao augment merge {}", r.output),
    }
    s
}
