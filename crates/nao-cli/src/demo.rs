//! `nao demo`: the main job. On the embedded Fashion-MNIST model, on the CPU, it shows with
//! real images what NAO is for (the experiment is [`nao_demo`]): interpolation by LERP, SLERP
//! and NAO, rare-concept centroids by every method scored by a classifier, a picture of the χ
//! prior with the norms of every kind of seed, `report.md` and `report.json`, and the table on
//! stdout.

use std::path::PathBuf;

use clap::Args;
use nao_backend::{Device, Engine as ModelEngine};
use nao_burn::BurnModel;
use nao_demo::{DemoError, DemoSpec, Event};
use nao_fs::Outputs;
use nao_models::{open_burn_device, open_model, ModelSource, OpenOptions};

use crate::error::CliError;
use crate::output::{bar, interruption};

/// Options of `nao demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder for the pictures and reports.
    #[arg(long, value_name = "DIR", default_value = "nao-demo")]
    out: PathBuf,
    /// Seed of the baseline's random seeds.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// A fast run for tests: one group of images, 10 DDIM steps, fewer frames.
    #[arg(long)]
    quick: bool,
    /// DDIM steps for inversion and sampling [default: 50, 10 with --quick].
    #[arg(long, value_name = "N")]
    steps: Option<usize>,
    /// Classifier-free guidance scale for sampling (1 = the conditional model alone, which
    /// keeps DDIM inversion and sampling inverse to each other).
    #[arg(long, value_name = "G", default_value_t = 1.0)]
    guidance: f64,
    /// The sampler of every image (see `nao sample --help`; the inversion stays DDIM)
    /// [default: ddim, the embedded model's scheduler].
    #[arg(long, value_name = "NAME")]
    scheduler: Option<nao_sampling::SchedulerChoice>,
    /// Disjoint groups of 5 real images per rare class [default: 4, 1 with --quick].
    #[arg(long, value_name = "N")]
    groups: Option<usize>,
    /// Class of the interpolation example.
    #[arg(long, value_name = "CLASS", default_value = "sneaker")]
    interpolation_class: String,
    /// Where the model runs: cpu, wgpu, tch-cpu, tch-cuda[:N], cuda[:N], onnx-cpu,
    /// onnx-cuda[:N] (see `nao devices`). The classifier that scores the images runs on
    /// burn's CPU backend when the device is an ONNX Runtime one.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    device: Device,
}

/// Run the demo.
pub fn run(args: &DemoArgs, json: bool) -> Result<(), CliError> {
    let mut spec = DemoSpec::new(args.quick);
    spec.out.clone_from(&args.out);
    spec.seed = args.seed;
    spec.steps = args.steps.unwrap_or(spec.steps);
    spec.guidance = args.guidance;
    spec.scheduler = args.scheduler;
    spec.groups = args.groups.unwrap_or(spec.groups);
    spec.device = args.device.to_string();
    spec.interpolation_class = nao_burn::class_from_prompt(&args.interpolation_class)
        .map_err(|e| CliError::input(format!("--interpolation-class: {e}")))?
        .ok_or_else(|| CliError::input("--interpolation-class must name a class"))?;
    spec.check().map_err(demo_error)?;
    // Every output is staged and renamed into place at the end, as in the other commands: a
    // demo that fails half-way leaves nothing behind.
    let mut staged = Outputs::new();
    staged.claim_folder(&args.out, "--out")?;

    nao_models::check_compiled(args.device).map_err(|e| CliError::input(e.to_string()))?;
    // a burn device runs everything on one model; an ONNX Runtime device runs the export, and
    // the classifier on burn's CPU backend
    let burn_device = match args.device.engine() {
        ModelEngine::Burn => args.device,
        ModelEngine::OnnxRuntime => Device::Cpu,
    };
    let burn_device = open_burn_device(burn_device).map_err(|e| CliError::input(e.to_string()))?;
    let classifier = BurnModel::embedded(&burn_device)
        .map_err(|e| CliError::compute("loading the embedded model", e))?;
    let onnx = match args.device.engine() {
        ModelEngine::OnnxRuntime => {
            let options = OpenOptions::default();
            let opened = open_model(&ModelSource::Embedded, Some(args.device), &options)
                .map_err(|e| CliError::input(e.to_string()))?;
            Some(opened.model)
        }
        ModelEngine::Burn => None,
    };
    let model: &dyn nao_backend::Backend = match &onnx {
        Some(m) => m.as_ref(),
        None => &classifier,
    };

    let pb = bar(spec.model_batches() as u64, json, "nao demo");
    let mut progress = |event: Event| {
        if let Event::Batch { done, .. } = event {
            pb.set_position(done as u64);
        }
        interruption()
    };
    let demo = nao_demo::run(model, &classifier, &spec, &mut progress).map_err(demo_error)?;
    pb.finish_and_clear();
    for (path, bytes) in &demo.files {
        staged.write(path, bytes)?;
    }
    staged.commit()?;
    let report = &demo.report;
    crate::output::emit(json, report, || {
        format!(
            "{}\npictures and reports in {}\n",
            report.table(),
            args.out.display()
        )
    })
}

/// A library error as the command's: bad input, a failed computation, or an interruption.
fn demo_error(e: DemoError) -> CliError {
    match e {
        DemoError::Input(m) => CliError::input(m),
        DemoError::Cancelled => CliError::Output(nao_fs::FsError::Interrupted),
        other => CliError::compute("demo", other),
    }
}
