//! # `nao` — norm-aware optimisation of diffusion seeds, from the command line
//!
//! Seeds are `.npy` files of `float32` or `float64` values of any shape (a Stable Diffusion
//! latent is `(4, 64, 64)` or `(1, 4, 64, 64)`); the flattened size is the dimension `d`.
//!
//! - `nao demo [--out DIR] [--quick]`: the main job on the embedded Fashion-MNIST model:
//!   interpolation by LERP/SLERP/NAO, rare-concept centroids by every method scored with a
//!   classifier, the χ norm picture, `report.md` and `report.json`.
//! - `nao prior --dim D [--norm R]`: the χ_d prior of seed norms (mode, mean, std) and where a
//!   norm falls in it (log-density, percentile, log-CDF).
//! - `nao norms FILES… [--rows]`: norm, log χ and percentile of each seed.
//! - `nao seed --dim D --seed S -o OUT.npy`: reproducible Gaussian seeds.
//! - `nao path A.npy B.npy --method nao --frames N -o OUT.npy`: an interpolation path (the exact
//!   NAO geodesic, the paper's optimiser, SLERP, LERP, NLERP or Gaussian-preserving), with its
//!   NAO cost and the paper's objective.
//! - `nao centroid S1.npy S2.npy … --method nao -o C.npy [--paths-out P.npy]`: the centroid of
//!   several seeds, optionally with the path from each seed to it.
//! - `nao distance A.npy B.npy`: the NAO distance.
//! - `nao invert IMAGE… [--model DIR] --prompt P -o SEEDS.npy`: images → seeds by DDIM
//!   inversion, stacked as `[n, c, h, w]`, with their norms under the χ prior.
//! - `nao sample SEEDS.npy --model DIR --prompt P -o OUT_DIR`: seeds → images by DDIM sampling
//!   with classifier-free guidance: one PNG per seed and a contact sheet.
//! - `nao reconstruct IMAGE --model DIR --prompt P -o OUT_DIR`: invert, sample back, and report
//!   the latent and image errors of the round trip.
//! - `nao walk IMAGE_OR_SEED… -o walk.gif|walk.png|walk.mp4`: an animation through images
//!   (inverted) and seeds along NAO paths, paced evenly (in seed space or in the images),
//!   optionally looping, with frames cached so that a killed walk resumes (docs/walk.md).
//!
//! - `nao augment REAL_DIR -o OUT_DIR [--per-class N] [--method nao] [--shard I/N]`: a dataset
//!   of new images per class from a few real images per class (inverted, their centroid and
//!   paths sampled), deterministic, resumable and sharded for job arrays; `nao augment merge
//!   OUT_DIR` checks and merges the shards' manifests (docs/augment.md); `--refine
//!   seedselect` refines each seed first.
//! - `nao select [SEEDS.npy | --random N] --real DIR --prompt P -o OUT_DIR`: SeedSelect —
//!   seeds refined through a differentiable sampler so that their images match a concept's
//!   real images, then sampled (docs/select.md).
//!
//! - `nao norm-sweep [-o DIR]`, `nao sampler-sweep [-o DIR]`: the mechanism, measured —
//!   image quality against the seed norm under several samplers, and the rare-concept
//!   centroids of every seed method under every sampler and step count (docs/mechanism.md).
//!
//! - `nao devices [--probe [--model DIR]]`: the `--device` choices this build has, and whether
//!   they run (the embedded model, or the model folder given).
//! - `nao export-onnx --out DIR`: the embedded model as ONNX files.
//!
//! Without `--model`, the model commands run the embedded model (prompts are class names) on
//! `--device` (default `cpu`: burn's pure-Rust backend; `wgpu`, `tch-cpu`, `tch-cuda`, `cuda`
//! with the matching Cargo features; `onnx-cpu`/`onnx-cuda` run its ONNX export); with a
//! Stable Diffusion diffusers folder as `--model DIR` they run on the same burn devices; with
//! an ONNX export, on ONNX Runtime, loaded at run time from `--ort-lib PATH` or
//! `ORT_DYLIB_PATH` (`cargo xtask setup-ort` downloads it).
//!
//! Every command takes `--json` and then prints exactly one JSON object on stdout; progress and
//! messages go to stderr. Errors name the file and the problem and exit with status 1 (2 for
//! bad command lines); no output file is ever left half-written.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod augment;
mod centroid;
mod classifier;
mod demo;
mod devices;
mod distance;
mod error;
mod eval;
mod export_onnx;
mod images;
mod invert;
mod model;
mod norms;
mod output;
mod path;
mod prior;
mod reconstruct;
mod sample;
mod seed;
mod seeds;
mod select;
mod sweep;
mod walk;

/// Norm-aware optimisation (NAO) of diffusion-model seeds: χ-prior statistics, seed norms,
/// Gaussian seeds, paths, centroids and distances on .npy seeds; images to seeds and back,
/// walks, SeedSelect and datasets with the embedded model or Stable Diffusion.
#[derive(Debug, Parser)]
#[command(name = "nao", version, propagate_version = true)]
struct Cli {
    /// Print exactly one JSON object on stdout (progress and messages go to stderr).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: interpolation, rare-concept centroids and norm pictures on the embedded
    /// Fashion-MNIST model, with a report (no arguments needed).
    Demo(demo::DemoArgs),
    /// The χ prior of seed norms for dimension d, and where a norm falls in it.
    Prior(prior::PriorArgs),
    /// Norm, log χ and percentile of seeds in .npy files.
    Norms(norms::NormsArgs),
    /// Write reproducible Gaussian seeds to a .npy file.
    Seed(seed::SeedArgs),
    /// An interpolation path (NAO geodesic, SLERP, LERP, …) between two seeds.
    Path(path::PathArgs),
    /// The centroid of several seeds (NAO, Fréchet, spherical, Euclidean, …).
    Centroid(centroid::CentroidArgs),
    /// The NAO (geodesic) distance between two seeds.
    Distance(distance::DistanceArgs),
    /// Images (PNG/JPEG) to seeds by DDIM inversion.
    Invert(invert::InvertArgs),
    /// Seeds to images by DDIM sampling: one PNG per seed and a contact sheet.
    Sample(sample::SampleArgs),
    /// Invert an image, sample it back, and report the round trip's errors.
    Reconstruct(reconstruct::ReconstructArgs),
    /// An animation (GIF, APNG, MP4) through images and seeds along NAO paths: evenly
    /// paced, optionally looping, resumable.
    Walk(walk::WalkArgs),
    /// A dataset from a few real images per class: invert, centroid and paths, sample N images
    /// per class; deterministic, resumable, sharded (--shard) for job arrays.
    Augment(Box<augment::AugmentArgs>),
    /// SeedSelect: seeds refined so that their images match a concept's real images (through
    /// a differentiable sampler), then sampled.
    Select(Box<select::SelectArgs>),
    /// The devices (--device) this build has, and with --probe whether they run here.
    Devices(devices::DevicesArgs),
    /// Write the embedded model (or trained weights of its kind) as ONNX files.
    ExportOnnx(export_onnx::ExportOnnxArgs),
    /// Measure generated images against real ones: classifier accuracy, Fréchet distance,
    /// precision/recall, density/coverage, diversity, seed log χ.
    Eval(eval::EvalArgs),
    /// Image quality against the seed norm: random directions rescaled from 0.5·√d to 1.5·√d,
    /// sampled by several samplers and scored as `nao eval` scores (docs/mechanism.md).
    NormSweep(Box<sweep::NormSweepArgs>),
    /// The rare-concept centroids of every seed method under every sampler and step count,
    /// scored as `nao eval` scores (docs/mechanism.md).
    SamplerSweep(Box<sweep::SamplerSweepArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // SIGINT/SIGTERM set a flag the long loops check: the command unwinds and its staged
    // outputs are removed (a second signal ends the process at once).
    if let Err(e) = nao_fs::signals::install() {
        eprintln!("nao: warning: {e}");
    }
    let result = match &cli.command {
        Command::Demo(args) => demo::run(args, cli.json),
        Command::Prior(args) => prior::run(args, cli.json),
        Command::Norms(args) => norms::run(args, cli.json),
        Command::Seed(args) => seed::run(args, cli.json),
        Command::Path(args) => path::run(args, cli.json),
        Command::Centroid(args) => centroid::run(args, cli.json),
        Command::Distance(args) => distance::run(args, cli.json),
        Command::Invert(args) => invert::run(args, cli.json),
        Command::Sample(args) => sample::run(args, cli.json),
        Command::Reconstruct(args) => reconstruct::run(args, cli.json),
        Command::Walk(args) => walk::run(args, cli.json),
        Command::Augment(args) => augment::run(args, cli.json),
        Command::Select(args) => select::run(args, cli.json),
        Command::Devices(args) => devices::run(args, cli.json),
        Command::ExportOnnx(args) => export_onnx::run(args, cli.json),
        Command::Eval(args) => eval::run(args, cli.json),
        Command::NormSweep(args) => sweep::run_norm(args, cli.json),
        Command::SamplerSweep(args) => sweep::run_samplers(args, cli.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let by_signal = matches!(err, error::CliError::Output(nao_fs::FsError::Interrupted));
            let interrupted = by_signal || nao_fs::signals::interrupted();
            let message = if interrupted && !by_signal {
                // A loop that stopped at the flag says so in its own words; say why.
                format!("{}: {err}", nao_fs::FsError::Interrupted)
            } else {
                err.to_string()
            };
            eprintln!("nao: error: {message}");
            if cli.json {
                // Scripts parse stdout: an error is one JSON object too.
                println!("{}", serde_json::json!({ "error": message }));
            }
            if interrupted {
                // the shell's convention for a command ended by SIGINT
                return ExitCode::from(130);
            }
            ExitCode::FAILURE
        }
    }
}
