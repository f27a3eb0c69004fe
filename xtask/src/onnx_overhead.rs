//! `cargo xtask onnx-overhead`: the ONNX backend overhead comparison of `docs/benchmarks.md`:
//! the `onnx_overhead` criterion bench, then `scripts/onnx_overhead.py` (Python's onnxruntime,
//! installed into the virtual environment `.cache/venv-onnx`) on the same model and inputs,
//! standalone and alternating with the bench binary in lockstep.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::Result;
use crate::process::{cargo_program, fmt_duration, run_cargo, succeeds};
use crate::python::{python, run_python, venv_python};
use crate::setup_ort::{cache_dir, library_for_children, ort_version, DYLIB_VAR};
use crate::workspace::Workspace;

/// Options of `cargo xtask onnx-overhead`.
#[derive(Debug, Args)]
pub struct OnnxOverheadArgs {
    /// Arguments for the criterion bench (after `--`).
    #[arg(last = true, value_name = "CRITERION-ARGS")]
    criterion_args: Vec<String>,
}

/// A virtual environment under `.cache/venv-onnx` with onnxruntime (the provisioned version)
/// and numpy; returns its interpreter.
fn onnx_venv(root: &Path) -> Result<PathBuf> {
    let version = ort_version()?;
    let venv = root.join(".cache").join("venv-onnx");
    let py = venv_python(&venv);
    if !py.is_file() {
        run_python(
            Command::new(python()).args(["-m", "venv"]).arg(&venv),
            "creating the benchmark's Python virtual environment",
        )?;
    }
    let probe =
        format!("import numpy, onnxruntime, sys; sys.exit(onnxruntime.__version__ != '{version}')");
    if !succeeds(Command::new(&py).args(["-c", &probe])) {
        run_python(
            Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--only-binary=:all:",
                    "--find-links",
                ])
                .arg(cache_dir(root).join("wheels"))
                .args([&format!("onnxruntime=={version}"), "numpy"]),
            "installing onnxruntime and numpy into the benchmark's virtual environment",
        )?;
    }
    Ok(py)
}

/// Run the comparison: the Rust criterion bench, then Python's timing of the same session
/// (same inputs, same thread count), standalone and in lockstep with the bench binary.
pub fn command(root: &Path, args: &OnnxOverheadArgs) -> Result<()> {
    let start = Instant::now();
    let env = ChildEnv::new().with(DYLIB_VAR, library_for_children(root)?);
    let py = onnx_venv(root)?;
    let mut bench = vec!["bench", "--bench", "onnx_overhead", "--"];
    bench.extend(args.criterion_args.iter().map(String::as_str));
    run_cargo(root, &env, &bench)?;
    let target_dir = Workspace::load(root)?.target_dir;
    let mut script = Command::new(&py);
    script
        .arg(root.join("scripts").join("onnx_overhead.py"))
        .arg("--criterion-dir")
        .arg(target_dir.join("criterion"))
        .env("CARGO", cargo_program())
        .current_dir(root);
    env.apply(&mut script);
    run_python(&mut script, "timing the same UNet session from Python")?;
    eprintln!("<== onnx-overhead ok ({})", fmt_duration(start.elapsed()));
    Ok(())
}
