//! Loading the ONNX Runtime library and the process-wide environment.
//!
//! `ort` allows one library and one environment per process, and panics when it has to load
//! the library on its own and cannot; so the library is always loaded here first, explicitly,
//! with errors instead of panics.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use crate::OnnxError;

/// The environment variable naming the library (the one `ort` reads too).
pub(crate) const DYLIB_VAR: &str = "ORT_DYLIB_PATH";

/// The library this process loaded, and its environment.
static RUNTIME: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// The library to load: the explicit path, else `$ORT_DYLIB_PATH`.
fn requested_library(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os(DYLIB_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Absolute and, when possible, canonical: `ort` would otherwise resolve a relative path
/// against the executable's folder.
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The environment, loading the library on first use.
pub(crate) fn environment(explicit: Option<&Path>) -> Result<Environment, OnnxError> {
    let mut runtime = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let requested = requested_library(explicit).map(|p| absolute(&p));
    if let Some((loaded, env)) = runtime.as_ref() {
        return match requested {
            Some(p) if explicit.is_some() && p != *loaded => Err(OnnxError::Library {
                path: p,
                message: format!(
                    "this process already runs ONNX Runtime from {}, and only one library can \
                     be loaded per process",
                    loaded.display()
                ),
            }),
            _ => Ok(env.clone()),
        };
    }
    let path = requested.ok_or(OnnxError::LibraryNotConfigured)?;
    if !path.is_file() {
        return Err(OnnxError::Library {
            message: if path.exists() {
                "not a file".into()
            } else {
                "no such file".into()
            },
            path,
        });
    }
    let builder = ort::init_from(&path).map_err(|e| OnnxError::Library {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let env = builder
        .with_name("nao-onnx")
        .with_telemetry(false)
        .build()
        .map_err(|e| OnnxError::Library {
            path: path.clone(),
            message: format!("cannot create the ONNX Runtime environment: {e}"),
        })?;
    // every failure reaches the caller as an error value: keep ONNX Runtime's own stderr log
    // quiet unless the user asks for it with ORT_LOG (read by `ort`)
    if std::env::var_os("ORT_LOG").is_none() {
        env.set_log_level(ort::logging::LogLevel::Fatal);
    }
    *runtime = Some((path, env.clone()));
    Ok(env)
}

/// The path of the library this process loaded, if any.
pub fn loaded_library() -> Option<PathBuf> {
    RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .map(|(p, _)| p.clone())
}
