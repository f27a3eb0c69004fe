//! # xtask — the project's task runner
//!
//! Run through the cargo alias in `.cargo/config.toml` (`cargo xtask COMMAND`); `cargo xtask
//! help COMMAND` shows a command's options.
//!
//! - `ci [--all-backends]`: everything CI checks, stopping at the first failure, with per-step
//!   timings (module [`ci`]): provisioning of the system packages, ONNX Runtime (and LibTorch
//!   with `--all-backends`) before any build; rustfmt; the dependency checks; clippy with
//!   `-D warnings`; the tests with the backend conformance suite (cargo-nextest when installed,
//!   else `cargo test`) on cpu, wgpu (Mesa's software Vulkan) and onnx-cpu, plus tch-cpu when
//!   LibTorch is provisioned; the conformance table; doc tests; rustdoc with warnings as errors.
//! - `setup [--dry-run] [--all-backends]`: the provisioning alone (module [`setup`]): the Debian
//!   packages `dataset-fashion-mnist`, `mesa-vulkan-drivers` and `libvulkan1`, installed when
//!   xtask runs as root or has passwordless sudo, otherwise the one `sudo apt-get install -y …`
//!   line to run and a non-zero exit; then `setup-ort` (and `setup-libtorch`).
//! - `deps [--inference-crate CRATE]…`: the dependency checks (module [`deps`]): the
//!   device-free crates pull in no ML backend; the crates that only run models do not enable
//!   burn's `autodiff`/`optim`.
//! - `bench [NAME] [-- CRITERION-ARGS]`: the criterion benches of `benches/`.
//! - `bench-backends [--device D]… [-- CRITERION-ARGS]`: sampling throughput of the embedded
//!   model per device.
//! - `conformance [--device D]… [--write-reference]`: the backend conformance suite and its
//!   table of differences from the CPU reference.
//! - `setup-ort`: ONNX Runtime's shared library from its PyPI wheel, into `.cache/onnxruntime/`;
//!   prints the path for `ORT_DYLIB_PATH`.
//! - `setup-libtorch`: PyTorch 2.9.0's LibTorch (CPU part, ≈ 1 GB) into `.cache/libtorch/`;
//!   prints `LIBTORCH` and `LD_LIBRARY_PATH`.
//! - `onnx-overhead [-- CRITERION-ARGS]`: nao-onnx against Python's onnxruntime on one UNet
//!   call.
//! - `bench-sd [--device D] [--python PY] [-- SCRIPT-ARGS]`: one full-size Stable Diffusion
//!   UNet call (SD 1.5's architecture, random weights) on nao beside PyTorch diffusers.
//! - `train [ARGS]`: retrain the embedded Fashion-MNIST model (`nao-train`).
//! - `slurm-check [--release]`: `nao augment` as a SLURM job array on a one-node cluster it
//!   installs (Debian's slurm-wlm, munge), starts and stops, checked byte for byte against a
//!   single-process run (module [`slurm_check`]).
//!
//! Devices (`--device`, alias `--backend`) are `nao_backend::Device` names. xtask never changes
//! its own environment: the variables the children need (`ORT_DYLIB_PATH`, `LIBTORCH`,
//! `LD_LIBRARY_PATH`, `NAO_CONFORMANCE_DEVICES`, `RUSTDOCFLAGS`) are given to each child
//! process ([`env::ChildEnv`]).
#![warn(missing_docs)]

mod backends;
mod bench;
mod bench_backends;
mod bench_sd;
mod ci;
mod conformance;
mod deps;
mod devices;
mod env;
mod error;
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
    /// The long-tail experiment: a classifier trained on the long-tailed Fashion-MNIST set
    /// alone, oversampled, and with `nao augment` images of each seed method; docs/results.md.
    Longtail(longtail::LongtailArgs),
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
        Command::Longtail(args) => longtail::command(&root, args),
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

    #[test]
    fn devices_and_passthrough_arguments_parse() {
        let cli = Cli::try_parse_from([
            "xtask",
            "conformance",
            "--device",
            "wgpu",
            "--backend",
            "onnx-cpu",
        ])
        .unwrap();
        let Command::Conformance(args) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(args.devices, [Device::Wgpu, Device::OnnxCpu]);

        let e = Cli::try_parse_from(["xtask", "conformance", "--device", "gpu"]).unwrap_err();
        assert!(e.to_string().contains("unknown device 'gpu'"), "{e}");

        let cli =
            Cli::try_parse_from(["xtask", "train", "--seed", "7", "--steps-scale", "0.1"]).unwrap();
        let Command::Train(args) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(args.args, ["--seed", "7", "--steps-scale", "0.1"]);

        let cli = Cli::try_parse_from([
            "xtask",
            "bench",
            "geometry",
            "--",
            "--save-baseline",
            "main",
        ])
        .unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(args.name.as_deref(), Some("geometry"));
        assert_eq!(args.criterion_args, ["--save-baseline", "main"]);

        assert!(Cli::try_parse_from(["xtask", "ci", "--all-backends"]).is_ok());
        assert!(Cli::try_parse_from(["xtask", "ci", "--everything"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "setup", "--dry-run"]).is_ok());

        let cli = Cli::try_parse_from(["xtask", "slurm-check"]).unwrap();
        let Command::SlurmCheck(args) = cli.command else {
            panic!("{cli:?}");
        };
        // ci runs the check as the command line's defaults do, with the tests' binary
        let ci = slurm_check::SlurmCheckArgs::with_binary("target/debug/nao".into());
        assert_eq!(
            (
                args.tasks,
                args.per_class,
                args.steps,
                args.timeout,
                args.release
            ),
            (ci.tasks, ci.per_class, ci.steps, ci.timeout, ci.release)
        );
        assert!(Cli::try_parse_from(["xtask", "slurm-check", "--release", "--nao", "x"]).is_err());
    }
}
