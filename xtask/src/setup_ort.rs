//! `cargo xtask setup-ort`: the ONNX Runtime shared library for `nao-onnx`.
//!
//! `nao-onnx` links ONNX Runtime at run time (`ort`'s `load-dynamic`): nothing is downloaded at
//! build time, and the library comes from the `onnxruntime` wheel on PyPI, installed with the
//! ordinary `python3 -m pip install --target` into the repository-local, git-ignored
//! `.cache/onnxruntime/VERSION/`, so the step is idempotent and needs no root.

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};
use crate::python::pip_install_target;

/// The ONNX Runtime release we provision (`api-31` of `ort` needs ≥ 1.31).
const DEFAULT_ORT_VERSION: &str = "1.31.1";

/// The oldest minor version of ONNX Runtime 1.x that `ort` with `api-31` accepts.
const MIN_ORT_MINOR: u32 = 31;

/// Environment variable that overrides [`DEFAULT_ORT_VERSION`].
const VERSION_VAR: &str = "NAO_ORT_VERSION";

/// The environment variable `ort` (and `nao-onnx`) read the library path from.
pub const DYLIB_VAR: &str = "ORT_DYLIB_PATH";

/// Below this size a file cannot be the ONNX Runtime library (the real one is ≈ 29 MB): it is
/// a leftover of an interrupted installation.
const MIN_LIBRARY_BYTES: u64 = 1 << 20;

/// The ONNX Runtime version to provision: `$NAO_ORT_VERSION` or [`DEFAULT_ORT_VERSION`],
/// checked to be `1.M.P` with `M ≥ 31`.
pub fn ort_version() -> Result<String> {
    let version = std::env::var(VERSION_VAR).unwrap_or_else(|_| DEFAULT_ORT_VERSION.to_string());
    check_version(&version)?;
    Ok(version)
}

/// Accept `1.M.P` (or `1.M`) with `M ≥ 31`.
fn check_version(version: &str) -> Result<()> {
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let number = |p: &str| digits(p).then(|| p.parse().ok())?;
    let numbers: Option<Vec<u32>> = version.split('.').map(number).collect();
    match numbers.as_deref() {
        Some([1, minor] | [1, minor, _]) if *minor >= MIN_ORT_MINOR => Ok(()),
        _ => Err(XtaskError::Provision(format!(
            "ONNX Runtime version '{version}' (from ${VERSION_VAR} or the default) is not usable: \
             nao-onnx needs 1.{MIN_ORT_MINOR}.x or newer, written like {DEFAULT_ORT_VERSION}"
        ))),
    }
}

/// The name of the core library inside the wheel's `onnxruntime/capi/` for this platform.
fn library_file_name(version: &str) -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{version}.dylib")
    } else {
        format!("libonnxruntime.so.{version}")
    }
}

/// `.cache/onnxruntime` in the workspace.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join(".cache").join("onnxruntime")
}

/// Where [`setup_ort`] puts the library of `version`.
fn library(root: &Path, version: &str) -> PathBuf {
    let capi = cache_dir(root).join(version).join("onnxruntime/capi");
    capi.join(library_file_name(version))
}

/// A file that looks like a complete library.
fn is_library(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= MIN_LIBRARY_BYTES)
}

/// Make sure the ONNX Runtime library is in `.cache/onnxruntime/` (installing the wheel when
/// it is not) and return its absolute path.
pub fn setup_ort(root: &Path) -> Result<PathBuf> {
    let version = ort_version()?;
    let library = library(root, &version);
    if is_library(&library) {
        let there = library.display();
        eprintln!("ONNX Runtime {version}: {there} is already there");
        return Ok(library);
    }
    let what = format!("installing the onnxruntime {version} wheel from PyPI");
    let wheel = format!("onnxruntime=={version}");
    pip_install_target(&cache_dir(root).join(&version), &[&wheel], &what)?;
    if !is_library(&library) {
        let library = library.display();
        let wheel = format!("the onnxruntime {version} wheel");
        let message = format!("{library} is missing or too small after installing {wheel}");
        return Err(XtaskError::Provision(message));
    }
    let library = library.canonicalize().unwrap_or(library);
    eprintln!("ONNX Runtime {version}: {}", library.display());
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
        let path = path.display();
        eprintln!("{DYLIB_VAR}={path} is not a file: provisioning ONNX Runtime instead");
    }
    setup_ort(root)
}

/// The provisioned library, if [`setup_ort`] ran before (nothing is downloaded).
pub fn provisioned(root: &Path) -> Option<PathBuf> {
    let library = library(root, &ort_version().ok()?);
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
}
