//! The Python interpreter the provisioning commands use (pip installs ONNX Runtime and
//! LibTorch; the comparisons with Python run in virtual environments of their own).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::process::{run_with_hint, succeeds};

/// `$PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Run a Python command; when it cannot start, the error says what is needed.
pub fn run_python(cmd: &mut Command, what: &str) -> Result<()> {
    let hint = "needs Python 3 with pip (set $PYTHON to use another interpreter)";
    run_with_hint(cmd, what, &format!("; {what} {hint}"))
}

/// `pip install` of the wheels of `packages`, without their dependencies, into the folder `dir`,
/// made afresh (pip leaves what is there, such as an interrupted installation, in place).
pub fn pip_install_target(dir: &Path, packages: &[&str], what: &str) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| XtaskError::io(dir, e))?;
    }
    let mut pip = Command::new(python());
    pip.args(["-m", "pip", "install", "--no-deps", "--only-binary=:all:"]);
    pip.args(["--disable-pip-version-check", "--no-input", "--target"]);
    pip.arg(dir).args(packages);
    run_python(&mut pip, what)
}

/// The interpreter of the virtual environment `.cache/NAME`, made the first time; `pip install
/// PIP-ARGS` runs in it whenever the Python code `probe` fails there.
pub fn venv(root: &Path, name: &str, probe: &str, pip_args: &[&str]) -> Result<PathBuf> {
    let venv = root.join(".cache").join(name);
    let py = venv.join("bin").join("python");
    if !py.is_file() {
        let mut create = Command::new(python());
        create.args(["-m", "venv"]).arg(&venv);
        run_python(&mut create, &format!("creating {}", venv.display()))?;
    }
    if !succeeds(Command::new(&py).args(["-c", probe])) {
        let mut pip = Command::new(&py);
        pip.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ]);
        let what = format!("installing into {}", venv.display());
        run_python(pip.args(pip_args), &what)?;
    }
    Ok(py)
}
