//! `cargo xtask setup-ort`: the ONNX Runtime shared library for `nao-onnx`.
//!
//! `nao-onnx` links ONNX Runtime at run time (`ort`'s `load-dynamic`): nothing is downloaded at
//! build time, and the library comes from the `onnxruntime` wheel on PyPI, fetched with the
//! ordinary `python3 -m pip download` and unpacked with Python's `zipfile`. Everything lives in
//! the repository-local, git-ignored `.cache/`, so the step is idempotent and needs no root.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::python::{python, run_python};

/// The ONNX Runtime release we provision (`api-31` of `ort` needs ≥ 1.31).
const DEFAULT_ORT_VERSION: &str = "1.31.1";

/// The oldest minor version of ONNX Runtime 1.x that `ort` with `api-31` accepts.
const MIN_ORT_MINOR: u32 = 31;

/// Environment variable that overrides [`DEFAULT_ORT_VERSION`].
const VERSION_VAR: &str = "NAO_ORT_VERSION";

/// The environment variable `ort` (and `nao-onnx`) read the library path from.
pub const DYLIB_VAR: &str = "ORT_DYLIB_PATH";

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
pub fn ort_version() -> Result<String> {
    let version = std::env::var(VERSION_VAR).unwrap_or_else(|_| DEFAULT_ORT_VERSION.to_string());
    check_version(&version)?;
    Ok(version)
}

/// Accept `1.M.P` (or `1.M`) with `M ≥ 31`.
fn check_version(version: &str) -> Result<()> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let minor = parts.get(1).and_then(|m| m.parse::<u32>().ok());
    match (numeric, parts.first(), minor) {
        (true, Some(&"1"), Some(m)) if m >= MIN_ORT_MINOR => Ok(()),
        _ => Err(XtaskError::Provision(format!(
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
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join(".cache").join("onnxruntime")
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
pub fn setup_ort(root: &Path) -> Result<PathBuf> {
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
    std::fs::create_dir_all(&wheels).map_err(|e| XtaskError::io(&wheels, e))?;
    let wheel = match find_wheel(&wheels, &version) {
        Some(w) => w,
        None => {
            run_python(
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
                XtaskError::Provision(format!(
                    "pip reported success but no onnxruntime-{version}-*.whl is in {}",
                    wheels.display()
                ))
            })?
        }
    };
    let name = library_file_name(&version);
    run_python(
        Command::new(python())
            .args(["-c", EXTRACT_SCRIPT])
            .arg(&wheel)
            .arg(&dir)
            .arg(&name),
        &format!("unpacking {name} from {}", wheel.display()),
    )?;
    if !is_library(&library) {
        return Err(XtaskError::Provision(format!(
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
pub fn command(root: &Path) -> Result<()> {
    let library = setup_ort(root)?;
    println!("{}", library.display());
    eprintln!("use it with: export {DYLIB_VAR}={}", library.display());
    Ok(())
}

/// The library for `ORT_DYLIB_PATH` of the programs xtask starts: the caller's
/// `$ORT_DYLIB_PATH` when it names a file, else the one [`setup_ort`] provisions.
pub fn library_for_children(root: &Path) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(DYLIB_VAR).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            eprintln!("{DYLIB_VAR}={} (set by the caller)", path.display());
            return Ok(path);
        }
        eprintln!(
            "{DYLIB_VAR}={} is not a file: provisioning ONNX Runtime instead",
            path.display()
        );
    }
    setup_ort(root)
}

/// The provisioned library, if [`setup_ort`] ran before (nothing is downloaded).
pub fn provisioned(root: &Path) -> Option<PathBuf> {
    let version = ort_version().ok()?;
    let library = cache_dir(root).join(library_file_name(&version));
    is_library(&library).then_some(library)
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
            let Err(XtaskError::Provision(msg)) = check_version(bad) else {
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
