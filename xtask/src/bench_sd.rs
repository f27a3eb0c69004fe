//! `cargo xtask bench-sd`: one full-size Stable Diffusion UNet call (SD 1.5's architecture,
//! random weights, 512×512, batch 2) on a nao device beside PyTorch diffusers, alternating
//! call by call with the same threads: `scripts/sd_unet_bench.py`, which builds nao-models'
//! `sd_unet` bench and writes the random model into `.cache/sd15-random` the first time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;
use nao_backend::Device;

use crate::backends;
use crate::devices;
use crate::error::Result;
use crate::process::{cargo_program, fmt_duration, succeeds};
use crate::python::{python, run_python, venv_python};

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

/// `.cache/venv-sd-bench` with torch, diffusers and numpy; returns its interpreter.
fn torch_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".cache").join("venv-sd-bench");
    let py = venv_python(&venv);
    if !py.is_file() {
        run_python(
            Command::new(python()).args(["-m", "venv"]).arg(&venv),
            "creating the SD benchmark's Python virtual environment",
        )?;
    }
    if !succeeds(Command::new(&py).args(["-c", "import numpy, torch, diffusers"])) {
        run_python(
            Command::new(&py).args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "torch",
                "diffusers",
                "numpy",
            ]),
            "installing torch, diffusers and numpy into the SD benchmark's virtual environment",
        )?;
    }
    Ok(py)
}

/// Run the comparison.
pub fn command(root: &Path, args: &BenchSdArgs) -> Result<()> {
    let start = Instant::now();
    let env = backends::prepare(root, &[args.device], false)?;
    let py = match &args.python {
        Some(p) => p.clone(),
        None => torch_venv(root)?,
    };
    let mut script = Command::new(&py);
    script
        .arg(root.join("scripts").join("sd_unet_bench.py"))
        .args(["--device", &args.device.to_string()])
        .args(&args.script_args)
        .env("CARGO", cargo_program())
        .current_dir(root);
    if args.device.feature() != "flex" {
        script.args(["--features", args.device.feature()]);
    }
    env.apply(&mut script);
    run_python(&mut script, "timing the UNet on nao and on PyTorch")?;
    eprintln!("<== bench-sd ok ({})", fmt_duration(start.elapsed()));
    Ok(())
}
