//! The Python interpreter the provisioning commands use (pip downloads ONNX Runtime and
//! LibTorch; the ONNX overhead comparison runs Python's onnxruntime).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Result;
use crate::process::run_with_hint;

/// `$PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Run a Python command; when it cannot start, the error says what is needed.
pub fn run_python(cmd: &mut Command, what: &str) -> Result<()> {
    run_with_hint(
        cmd,
        what,
        &format!("; {what} needs Python 3 with pip (set $PYTHON to use another interpreter)"),
    )
}

/// The interpreter of a virtual environment.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}
