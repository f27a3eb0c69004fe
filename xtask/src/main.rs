//! # xtask — the project's task runner
//!
//! Run through the cargo alias in `.cargo/config.toml` (`cargo xtask COMMAND`); `cargo xtask
//! help COMMAND` shows a command's options.
//!
//! One module per command, whose documentation says what it does:
//! [`ci`] (everything CI checks, in order, timed), [`setup`] (the provisioning alone: system
//! packages, ONNX Runtime, LibTorch), [`deps`] (the dependency checks), [`bench`](mod@bench),
//! [`bench_backends`], [`conformance`], [`setup_ort`], [`setup_libtorch`], [`onnx_overhead`],
//! [`bench_sd`], [`train`], [`slurm_check`] (`nao augment` on a one-node SLURM cluster it
//! installs, starts and stops), [`examples`] (the runnable examples on the embedded model)
//! [`longtail`] and [`inversion_table`] (round-trip error of each inversion method).
//!
//! Devices (`--device`, alias `--backend`) are `nao_backend::Device` names. xtask never changes
//! its own environment: the variables the children need (`ORT_DYLIB_PATH`, `LIBTORCH`,
//! `LD_LIBRARY_PATH`, `NAO_CONFORMANCE_DEVICES`, `RUSTDOCFLAGS`) are given to each child
//! process ([`env::ChildEnv`]).
#![warn(missing_docs)]

mod bench;
mod bench_backends;
mod bench_sd;
mod ci;
mod conformance;
mod deps;
mod devices;
mod env;
mod error;
mod examples;
mod inversion_table;
mod longtail;
mod onnx_overhead;
mod process;
mod python;
mod setup;
mod setup_libtorch;
mod setup_ort;
mod slurm_check;
mod system;
mod train;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for nao.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    version,
    about = "The nao workspace's task runner (cargo xtask COMMAND)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything CI checks: provisioning, format, dependency checks, clippy, tests with the
    /// conformance suites, conformance table, doc tests, rustdoc.
    Ci(ci::CiArgs),
    /// Provision what the tests need: system packages (apt), ONNX Runtime, LibTorch.
    Setup(setup::SetupArgs),
    /// The dependency checks: device-free crates, training features.
    Deps(deps::DepsArgs),
    /// The criterion benches of benches/.
    Bench(bench::BenchArgs),
    /// Sampling throughput of the embedded model on each device.
    BenchBackends(bench_backends::BenchBackendsArgs),
    /// The backend conformance suite and its table of differences from the CPU reference.
    Conformance(conformance::ConformanceArgs),
    /// Download ONNX Runtime's shared library (PyPI wheel) into .cache/onnxruntime/.
    SetupOrt,
    /// Install LibTorch 2.9.0 (CPU part, ≈ 1 GB) into .cache/libtorch/ for the tch devices.
    SetupLibtorch,
    /// nao-onnx against Python's onnxruntime on one UNet call.
    OnnxOverhead(onnx_overhead::OnnxOverheadArgs),
    /// One full-size Stable Diffusion UNet call on nao beside PyTorch diffusers.
    BenchSd(bench_sd::BenchSdArgs),
    /// Retrain the embedded Fashion-MNIST model and rewrite its weights and test images.
    Train(train::TrainArgs),
    /// `nao augment` as a SLURM job array on a one-node cluster (installed, started and stopped
    /// here), compared byte for byte with a single-process run.
    SlurmCheck(slurm_check::SlurmCheckArgs),
    /// Run every example of examples/ on the embedded model.
    Examples(examples::ExamplesArgs),
    /// The long-tail experiment: a classifier trained on the long-tailed Fashion-MNIST set
    /// alone, oversampled, and with `nao augment` images of each seed method; docs/results.md.
    Longtail(longtail::LongtailArgs),
    /// Every inversion method's round-trip error against its network calls, on the embedded
    /// model and the shared tiny SD fixture: docs/inversion/inversion.{json,md}.
    InversionTable(inversion_table::InversionTableArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace::root();
    let result = match &cli.command {
        Command::Ci(args) => ci::command(&root, args),
        Command::Setup(args) => setup::provision(&root, args),
        Command::Deps(args) => deps::command(&root, args),
        Command::Bench(args) => bench::command(&root, args),
        Command::BenchBackends(args) => bench_backends::command(&root, args),
        Command::Conformance(args) => conformance::command(&root, args),
        Command::SetupOrt => setup_ort::command(&root),
        Command::SetupLibtorch => setup_libtorch::command(&root),
        Command::OnnxOverhead(args) => onnx_overhead::command(&root, args),
        Command::BenchSd(args) => bench_sd::command(&root, args),
        Command::Train(args) => train::command(&root, args),
        Command::SlurmCheck(args) => slurm_check::command(&root, args),
        Command::Examples(args) => examples::command(&root, args),
        Command::Longtail(args) => longtail::command(&root, args),
        Command::InversionTable(args) => inversion_table::command(&root, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use nao_backend::Device;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `xtask LINE`, split at spaces.
    fn parse(line: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("xtask").chain(line.split(' '))).map(|c| c.command)
    }

    #[test]
    fn devices_and_passthrough_arguments_parse() {
        let Ok(Command::Conformance(args)) = parse("conformance --device wgpu --backend onnx-cpu")
        else {
            panic!();
        };
        assert_eq!(args.devices.devices, [Device::Wgpu, Device::OnnxCpu]);
        let e = parse("conformance --device gpu").unwrap_err().to_string();
        assert!(e.contains("unknown device 'gpu'"), "{e}");

        let Ok(Command::Train(args)) = parse("train --seed 7 --steps-scale 0.1") else {
            panic!();
        };
        assert_eq!(args.args, ["--seed", "7", "--steps-scale", "0.1"]);
        let Ok(Command::Bench(args)) = parse("bench geometry -- --save-baseline main") else {
            panic!();
        };
        assert_eq!(args.name.as_deref(), Some("geometry"));
        assert_eq!(args.criterion_args, ["--save-baseline", "main"]);

        assert!(parse("ci --all-backends").is_ok() && parse("ci --everything").is_err());
        assert!(parse("setup --dry-run").is_ok());
        // ci runs the check as the command line's defaults do, with the tests' binary
        let ci = slurm_check::SlurmCheckArgs::with_binary("target/debug/nao".into());
        assert!(ci.nao.is_some() && !ci.release && (ci.tasks, ci.timeout) == (4, 600));
        assert!(parse("slurm-check --release --nao x").is_err());
    }
}
