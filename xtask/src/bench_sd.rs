//! `cargo xtask bench-sd`: one full-size Stable Diffusion UNet call (SD 1.5's architecture,
//! random weights, 512×512, batch 2) on a nao device beside PyTorch diffusers, alternating
//! call by call with the same threads: `scripts/sd_unet_bench.py`, which builds nao-models'
//! `sd_unet` bench and writes the random model into `.cache/sd15-random` the first time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;
use nao_backend::Device;

use crate::devices;
use crate::error::Result;
use crate::process::{cargo_program, fmt_duration};
use crate::python::{run_python, venv};

/// Options of `cargo xtask bench-sd`.
#[derive(Debug, Args)]
pub struct BenchSdArgs {
    /// The nao device (its Cargo feature is added to the bench build).
    #[arg(long, value_name = "DEVICE", value_parser = devices::parse, default_value = "cpu")]
    device: Device,
    /// A Python with torch and diffusers [default: .cache/venv-sd-bench, made with pip the
    /// first time].
    #[arg(long, value_name = "PYTHON")]
    python: Option<PathBuf>,
    /// Arguments for scripts/sd_unet_bench.py (--threads, --calls, --dtype, --model), after
    /// `--`.
    #[arg(last = true, value_name = "SCRIPT-ARGS")]
    script_args: Vec<String>,
}

/// Run the comparison.
pub fn command(root: &Path, args: &BenchSdArgs) -> Result<()> {
    let start = Instant::now();
    let env = devices::prepare(root, &[args.device], false)?;
    let probe = "import numpy, torch, diffusers";
    let packages = ["torch", "diffusers", "numpy"];
    let py = match &args.python {
        Some(p) => p.clone(),
        None => venv(root, "venv-sd-bench", probe, &packages)?,
    };
    let mut script = Command::new(&py);
    script.arg(root.join("scripts/sd_unet_bench.py"));
    script.args(["--device", &args.device.to_string()]);
    script.args(&args.script_args);
    script.env("CARGO", cargo_program()).current_dir(root);
    if args.device.feature() != "flex" {
        script.args(["--features", args.device.feature()]);
    }
    env.apply(&mut script);
    run_python(&mut script, "timing the UNet on nao and on PyTorch")?;
    eprintln!("<== bench-sd ok ({})", fmt_duration(start.elapsed()));
    Ok(())
}
