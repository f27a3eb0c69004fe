//! `nao augment`: a dataset of new images per class from a few real images per class.
//!
//! `nao augment REAL_DIR -o OUT_DIR` inverts each class's real images (REAL_DIR/<class>/),
//! takes their centroid by `--method` and the points on the paths from it to each inverted
//! seed, and samples `--per-class` images per class from those points into
//! OUT_DIR/<class>/<index>.png, with one manifest line per image. The full reference is
//! docs/augment.md; in short:
//!
//! - **Deterministic**: image `i` of class `c` depends only on (configuration, `c`, `i`)
//!   ([`draw`]), never on the process or the order.
//! - **Resumable**: the same command skips images whose manifest line and file hash are present;
//!   an image file is committed whole before its line is appended, so a killed run loses at most
//!   the image in flight. OUT_DIR/run.json records the configuration ([`config`]); another
//!   configuration in the same OUT_DIR is refused, naming the fields.
//! - **Sharded**: `--shard I/N` (or `auto` from SLURM / Kubernetes, [`shard`]) does one part;
//!   each shard appends to its own locked manifest; `nao augment merge OUT_DIR` checks that
//!   every image is there and writes manifest.jsonl ([`merge`]).
//! - **Class seeds computed once** ([`class_seeds`]): the first process that finds a class's
//!   points missing from OUT_DIR/seeds/ computes them, under an exclusive lock on OUT_DIR (the
//!   others wait, then read them); `nao augment prepare` does that step alone, up front.

mod class_seeds;
mod config;
mod draw;
mod generate;
mod hashing;
mod identity;
mod inputs;
mod leftovers;
mod manifest;
mod merge;
mod run;
mod shard;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use nao_inversion::ResizePolicy;

use crate::class_points::SeedMethod;
use crate::error::CliError;
use crate::model::ModelArgs;

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
    Merge(merge::MergeArgs),
}

/// What defines a dataset: inputs, model, method and sampling options, output folder.
#[derive(Debug, Args)]
pub struct SpecArgs {
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
    /// The prompt of each class; {class} is replaced by the class folder's name. The embedded
    /// model's prompts are its class names ("bag", "ankle boot", "a photo of a sneaker", …).
    #[arg(long, value_name = "TEMPLATE", default_value = "{class}")]
    prompt_template: String,
    /// The negative prompt of classifier-free guidance (with --guidance > 1).
    #[arg(long, default_value = "")]
    negative_prompt: String,
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
    /// DDIM steps, for inversion and sampling.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Classifier-free guidance scale of sampling (1: the conditional model alone, which keeps
    /// DDIM inversion and sampling inverse to each other; inversion runs without guidance).
    #[arg(long, default_value_t = 1.0)]
    guidance: f64,
    /// How far the repeated rounds turn a point's direction (images past the number of
    /// distinct points): about atan(S) radians, the norm kept.
    #[arg(long, value_name = "S", default_value_t = 0.2)]
    jitter: f64,
    /// Seed of the per-image random numbers (prompt-only seeds and the repeated rounds'
    /// perturbations).
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// How a real image of another size than the model's is brought to it.
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
    /// Leave out real images that cannot be read (each is named on stderr and in
    /// seeds/<class>.json) instead of stopping.
    #[arg(long)]
    skip_bad_images: bool,
}

/// Run `nao augment`.
pub fn run(args: &AugmentArgs, json: bool) -> Result<(), CliError> {
    match &args.step {
        Some(Step::Merge(m)) => merge::command(m, json),
        Some(Step::Prepare(spec)) => run::command(spec, None, true, json),
        None => run::command(&args.spec, args.shard.as_deref(), false, json),
    }
}
