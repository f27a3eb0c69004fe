//! Provisioning of the ONNX Runtime shared library for `nao-onnx`, and the ONNX overhead
//! comparison against Python's onnxruntime.
//!
//! `nao-onnx` links ONNX Runtime at run time (`ort`'s `load-dynamic`): nothing is downloaded at
//! build time, and the library comes from the `onnxruntime` wheel on PyPI, fetched with the
//! ordinary `python3 -m pip download` and unpacked with Python's `zipfile`. Everything lives in
//! the repository-local, git-ignored `.cache/`, so the step is idempotent and needs no root.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{fmt_duration, run_cargo, Failure, Outcome};

/// The ONNX Runtime release we provision (`api-31` of `ort` needs ≥ 1.31).
const DEFAULT_ORT_VERSION: &str = "1.31.1";

/// The oldest minor version of ONNX Runtime 1.x that `ort` with `api-31` accepts.
const MIN_ORT_MINOR: u32 = 31;

/// Environment variable that overrides [`DEFAULT_ORT_VERSION`].
const VERSION_VAR: &str = "NAO_ORT_VERSION";

/// The environment variable `ort` (and `nao-onnx`) read the library path from.
const DYLIB_VAR: &str = "ORT_DYLIB_PATH";

/// Below this size a file cannot be the ONNX Runtime library (the real one is ≈ 29 MB): it is
/// a leftover of an interrupted extraction.
const MIN_LIBRARY_BYTES: u64 = 1 << 20;

/// Extracts the core ONNX Runtime library from a wheel: `python3 -c SCRIPT WHEEL DEST NAME`.
/// Writes to a temporary name first and renames, so an interrupted run leaves no half file.
const EXTRACT_SCRIPT: &str = r#"
import os, sys, zipfile
wheel, dest, name = sys.argv[1], sys.argv[2], sys.argv[3]
member = "onnxruntime/capi/" + name
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member not in names:
        libs = [n for n in names if n.startswith("onnxruntime/capi/") and "onnxruntime" in n.rsplit("/", 1)[-1]]
        sys.exit("%s has no %s; its libraries: %s" % (wheel, member, ", ".join(libs) or "none"))
    tmp = os.path.join(dest, name + ".part")
    with z.open(member) as src, open(tmp, "wb") as out:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)
    os.replace(tmp, os.path.join(dest, name))
"#;

/// The ONNX Runtime version to provision: `$NAO_ORT_VERSION` or [`DEFAULT_ORT_VERSION`],
/// checked to be `1.M.P` with `M ≥ 31`.
fn ort_version() -> Result<String, Failure> {
    let version = std::env::var(VERSION_VAR).unwrap_or_else(|_| DEFAULT_ORT_VERSION.to_string());
    check_version(&version)?;
    Ok(version)
}

/// Accept `1.M.P` (or `1.M`) with `M ≥ 31`.
fn check_version(version: &str) -> Outcome {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let minor = parts.get(1).and_then(|m| m.parse::<u32>().ok());
    match (numeric, parts.first(), minor) {
        (true, Some(&"1"), Some(m)) if m >= MIN_ORT_MINOR => Ok(()),
        _ => Err(Failure(format!(
            "ONNX Runtime version '{version}' (from ${VERSION_VAR} or the default) is not usable: \
             nao-onnx needs 1.{MIN_ORT_MINOR}.x or newer, written like {DEFAULT_ORT_VERSION}"
        ))),
    }
}

/// The name of the core library inside the wheel's `onnxruntime/capi/` for this platform.
fn library_file_name(version: &str) -> String {
    if cfg!(target_os = "windows") {
        "onnxruntime.dll".to_string()
    } else if cfg!(target_os = "macos") {
        format!("libonnxruntime.{version}.dylib")
    } else {
        format!("libonnxruntime.so.{version}")
    }
}

/// `.cache/onnxruntime` in the workspace.
fn cache_dir(root: &Path) -> PathBuf {
    root.join(".cache").join("onnxruntime")
}

/// The Python interpreter: `$PYTHON` or `python3`.
pub(crate) fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Run a command, echoing it; a failure names the command and what to do.
pub(crate) fn run(cmd: &mut Command, what: &str) -> Outcome {
    // inline scripts are shown as `<script>`
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains('\n') {
                "<script>".to_string()
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("$ {shown}");
    let status = cmd.status().map_err(|e| {
        Failure(format!(
            "could not start `{shown}` ({e}); {what} needs Python 3 with pip \
             (set $PYTHON to use another interpreter)"
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("{what}: `{shown}` exited with {status}")))
    }
}

/// A file that looks like a complete library.
fn is_library(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= MIN_LIBRARY_BYTES)
}

/// The downloaded wheel of `version` in `dir`, if any.
fn find_wheel(dir: &Path, version: &str) -> Option<PathBuf> {
    let prefix = format!("onnxruntime-{version}-");
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .collect();
    wheels.sort();
    wheels.pop()
}

/// Make sure the ONNX Runtime library is in `.cache/onnxruntime/` (downloading and unpacking the
/// wheel when it is not) and return its absolute path.
pub(crate) fn setup_ort(root: &Path) -> Result<PathBuf, Failure> {
    let version = ort_version()?;
    let dir = cache_dir(root);
    let library = dir.join(library_file_name(&version));
    if is_library(&library) {
        eprintln!(
            "ONNX Runtime {version}: {} is already there",
            library.display()
        );
        return Ok(library);
    }
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels)
        .map_err(|e| Failure(format!("cannot create {}: {e}", wheels.display())))?;
    let wheel = match find_wheel(&wheels, &version) {
        Some(w) => w,
        None => {
            run(
                Command::new(python())
                    .args([
                        "-m",
                        "pip",
                        "download",
                        "--no-deps",
                        "--only-binary=:all:",
                        "--disable-pip-version-check",
                        "--no-input",
                        &format!("onnxruntime=={version}"),
                        "-d",
                    ])
                    .arg(&wheels),
                &format!("downloading the onnxruntime {version} wheel from PyPI"),
            )?;
            find_wheel(&wheels, &version).ok_or_else(|| {
                Failure(format!(
                    "pip reported success but no onnxruntime-{version}-*.whl is in {}",
                    wheels.display()
                ))
            })?
        }
    };
    let name = library_file_name(&version);
    run(
        Command::new(python())
            .args(["-c", EXTRACT_SCRIPT])
            .arg(&wheel)
            .arg(&dir)
            .arg(&name),
        &format!("unpacking {name} from {}", wheel.display()),
    )?;
    if !is_library(&library) {
        return Err(Failure(format!(
            "{} is missing or too small after unpacking {}",
            library.display(),
            wheel.display()
        )));
    }
    let library = library.canonicalize().unwrap_or(library);
    eprintln!("ONNX Runtime {version}: unpacked {}", library.display());
    Ok(library)
}

/// `cargo xtask setup-ort`: provision the library and print its path on stdout.
pub(crate) fn setup_ort_command(root: &Path, extra: &[String]) -> Outcome {
    if let Some(arg) = extra.first() {
        return Err(Failure(format!(
            "`setup-ort` takes no arguments (got '{arg}'); set ${VERSION_VAR} to pick another \
             ONNX Runtime version"
        )));
    }
    let library = setup_ort(root)?;
    println!("{}", library.display());
    eprintln!("use it with: export {DYLIB_VAR}={}", library.display());
    Ok(())
}

/// Set `ORT_DYLIB_PATH` for the commands this process starts: an existing `$ORT_DYLIB_PATH`
/// naming a file is kept; otherwise the library is provisioned with [`setup_ort`].
pub(crate) fn export_ort_dylib_path(root: &Path) -> Outcome {
    if let Some(path) = std::env::var_os(DYLIB_VAR).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            eprintln!("{DYLIB_VAR}={} (set by the caller)", path.display());
            return Ok(());
        }
        eprintln!(
            "{DYLIB_VAR}={} is not a file: provisioning ONNX Runtime instead",
            path.display()
        );
    }
    let library = setup_ort(root)?;
    // xtask is single-threaded here: nothing reads the environment concurrently.
    std::env::set_var(DYLIB_VAR, &library);
    eprintln!("{DYLIB_VAR}={}", library.display());
    Ok(())
}

/// The Python of the benchmark's virtual environment.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// A virtual environment under `.cache/venv-onnx` with onnxruntime (the provisioned version)
/// and numpy; returns its interpreter.
fn onnx_venv(root: &Path) -> Result<PathBuf, Failure> {
    let version = ort_version()?;
    let venv = root.join(".cache").join("venv-onnx");
    let py = venv_python(&venv);
    if !py.is_file() {
        run(
            Command::new(python()).args(["-m", "venv"]).arg(&venv),
            "creating the benchmark's Python virtual environment",
        )?;
    }
    let probe =
        format!("import numpy, onnxruntime, sys; sys.exit(onnxruntime.__version__ != '{version}')");
    let ready = Command::new(&py)
        .args(["-c", &probe])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        run(
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

/// `cargo xtask onnx-overhead [CRITERION-ARGS…]`: the Rust criterion bench, then
/// `scripts/onnx_overhead.py`: Python's timing of the same session (same inputs, same thread
/// count), standalone and in lockstep with the bench binary, and the comparison tables.
pub(crate) fn onnx_overhead(root: &Path, extra: &[String]) -> Outcome {
    let start = Instant::now();
    export_ort_dylib_path(root)?;
    let py = onnx_venv(root)?;
    let mut args = vec!["bench", "--bench", "onnx_overhead", "--"];
    args.extend(extra.iter().map(String::as_str));
    run_cargo(root, &args)?;
    run(
        Command::new(&py)
            .arg(root.join("scripts").join("onnx_overhead.py"))
            .arg("--criterion-dir")
            .arg(root.join("target").join("criterion"))
            .env("CARGO", crate::cargo())
            .current_dir(root),
        "timing the same UNet session from Python",
    )?;
    eprintln!("<== onnx-overhead ok ({})", fmt_duration(start.elapsed()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_below_1_31_are_refused() {
        assert!(check_version("1.31.1").is_ok());
        assert!(check_version("1.32.0").is_ok());
        assert!(check_version("1.40").is_ok());
        for bad in [
            "1.30.0", "1.9.0", "2", "1.31.x", "", "1..1", "0.31.0", "1.31.1.2",
        ] {
            let Err(Failure(msg)) = check_version(bad) else {
                panic!("{bad} accepted");
            };
            assert!(msg.contains("1.31"), "{msg}");
        }
    }

    #[test]
    fn the_library_name_carries_the_version() {
        let name = library_file_name("1.31.1");
        assert!(name.contains("onnxruntime"), "{name}");
        if cfg!(target_os = "linux") {
            assert_eq!(name, "libonnxruntime.so.1.31.1");
        }
    }

    #[test]
    fn wheels_are_found_by_version() {
        let dir = std::env::temp_dir().join(format!("xtask-wheels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("onnxruntime-1.31.1-cp311-cp311-manylinux_2_27_x86_64.whl"),
            b"",
        )
        .unwrap();
        std::fs::write(dir.join("onnxruntime-1.30.0-cp311-any.whl"), b"").unwrap();
        let found = find_wheel(&dir, "1.31.1").unwrap();
        assert!(found.to_string_lossy().contains("1.31.1"));
        assert!(find_wheel(&dir, "1.32.0").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
