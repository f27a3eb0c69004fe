//! `cargo xtask onnx-overhead`: the ONNX backend overhead comparison of `docs/benchmarks.md`:
//! the `onnx_overhead` criterion bench, then `scripts/onnx_overhead.py` (Python's onnxruntime,
//! installed with numpy into the virtual environment `.cache/venv-onnx`) on the same model and
//! inputs, standalone and alternating with the bench binary in lockstep.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::Result;
use crate::process::{cargo_program, fmt_duration, run_cargo};
use crate::python::{run_python, venv};
use crate::setup_ort::{library_for_children, ort_version, DYLIB_VAR};
use crate::workspace::Workspace;

/// Options of `cargo xtask onnx-overhead`.
#[derive(Debug, Args)]
pub struct OnnxOverheadArgs {
    /// Arguments for the criterion bench (after `--`).
    #[arg(last = true, value_name = "CRITERION-ARGS")]
    criterion_args: Vec<String>,
}

/// Run the comparison: the Rust criterion bench, then Python's timing of the same session
/// (same inputs, same thread count), standalone and in lockstep with the bench binary.
pub fn command(root: &Path, args: &OnnxOverheadArgs) -> Result<()> {
    let start = Instant::now();
    let env = ChildEnv::new().with(DYLIB_VAR, library_for_children(root)?);
    // Python's onnxruntime: the version nao-onnx loads
    let version = ort_version()?;
    let probe =
        format!("import numpy, onnxruntime, sys; sys.exit(onnxruntime.__version__ != '{version}')");
    let onnxruntime = format!("onnxruntime=={version}");
    let pip_args = ["--only-binary=:all:", &onnxruntime, "numpy"];
    let py = venv(root, "venv-onnx", &probe, &pip_args)?;
    let mut bench = vec!["bench", "--bench", "onnx_overhead", "--"];
    bench.extend(args.criterion_args.iter().map(String::as_str));
    run_cargo(root, &env, &bench)?;
    let target_dir = Workspace::load(root)?.target_dir;
    let mut script = Command::new(&py);
    script.arg(root.join("scripts/onnx_overhead.py"));
    script.arg("--criterion-dir");
    script.arg(target_dir.join("criterion"));
    env.apply(script.env("CARGO", cargo_program()).current_dir(root));
    run_python(&mut script, "timing the same UNet session from Python")?;
    eprintln!("<== onnx-overhead ok ({})", fmt_duration(start.elapsed()));
    Ok(())
}
