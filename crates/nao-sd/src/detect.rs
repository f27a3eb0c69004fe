//! Recognising a diffusers Stable Diffusion folder, including a Hugging Face hub cache entry.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The pipelines whose components this crate loads.
const PIPELINES: &[&str] = &["StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"];

/// The model folder `dir` stands for: `dir` itself, or for a hub cache entry
/// (`models--org--name/` with `refs/main` and `snapshots/`) the snapshot `refs/main` names.
pub(crate) fn model_dir(dir: &Path) -> PathBuf {
    let refs = dir.join("refs").join("main");
    if !dir.join("model_index.json").exists() && dir.join("snapshots").is_dir() {
        if let Ok(hash) = nao_fs::input::read_text_limited(&refs, 4096) {
            let hash = hash.trim();
            let snapshot = dir.join("snapshots").join(hash);
            if !hash.is_empty() && !hash.contains(['/', '\\']) && snapshot.is_dir() {
                return snapshot;
            }
        }
    }
    dir.to_path_buf()
}

/// A readable model name: the folder name, or `org/name` for a hub cache snapshot
/// (`…/models--org--name/snapshots/<hash>`).
pub(crate) fn model_name(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let parent = dir.parent();
    if parent
        .and_then(Path::file_name)
        .is_some_and(|n| n == "snapshots")
    {
        if let Some(repo) = parent
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("models--"))
        {
            return repo.replace("--", "/");
        }
    }
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Whether `dir` is a diffusers Stable Diffusion folder: its `model_index.json` names a
/// `StableDiffusionPipeline` (or the img2img pipeline, whose components are the same). Files
/// may be symlinks, as in a Hugging Face hub cache snapshot (`snapshots/<hash>/…` pointing into
/// `../../blobs`); the cache entry's own folder (`models--org--name/`) is recognised through
/// its `refs/main`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(!nao_sd::is_diffusers_folder(dir.path()));
/// std::fs::write(dir.path().join("model_index.json"),
///                r#"{"_class_name": "StableDiffusionPipeline"}"#).unwrap();
/// assert!(nao_sd::is_diffusers_folder(dir.path()));
/// std::fs::write(dir.path().join("model_index.json"),
///                r#"{"_class_name": "StableDiffusionXLPipeline"}"#).unwrap();
/// assert!(!nao_sd::is_diffusers_folder(dir.path()));
/// ```
pub fn is_diffusers_folder(dir: impl AsRef<Path>) -> bool {
    let dir = model_dir(dir.as_ref());
    // stat first and bounded: a FIFO named model_index.json must not hang detection
    let Ok(text) = nao_fs::input::read_text_limited(
        &dir.join("model_index.json"),
        nao_fs::input::CONFIG_LIMIT,
    ) else {
        return false;
    };
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("_class_name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .is_some_and(|name| PIPELINES.contains(&name.as_str()))
}
