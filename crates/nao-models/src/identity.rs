//! Which weights a model is: an identity cheap enough to check at every start of every shard of
//! a long job (`nao augment`'s run.json records it, and a later process with other weights is
//! refused).
//!
//! - The embedded model: the SHA-256 of its compiled-in files (card and weights), so it
//!   changes exactly when the weights do.
//! - A model folder: the SHA-256 of every file's path (relative to the folder), size and
//!   modification time — its metadata, not its gigabytes. Hidden entries (names starting with
//!   `.`, such as `.git` or a hub's `.cache`) are left out; links are followed, as a hub
//!   snapshot's files are links into its blob store.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use nao_fs::hash::FieldHasher;

use crate::{ModelSource, ModelsError};

/// More files than this in a model folder is a wrong `--model` (a home folder, a dataset).
const MAX_FILES: usize = 100_000;
/// Nesting deeper than this is a wrong `--model`, or a link loop.
const MAX_DEPTH: usize = 16;

impl ModelSource {
    /// `sha256:<hex>` of the model's files (see the module documentation).
    ///
    /// ```
    /// use nao_models::ModelSource;
    /// let id = ModelSource::Embedded.identity()?;
    /// assert!(id.starts_with("sha256:") && id.len() == 7 + 64);
    /// # Ok::<(), nao_models::ModelsError>(())
    /// ```
    pub fn identity(&self) -> Result<String, ModelsError> {
        let mut h = FieldHasher::new();
        match self {
            ModelSource::Embedded => {
                h.field(b"embedded");
                for (name, bytes) in nao_burn::BurnModel::embedded_files() {
                    h.field(name.as_bytes()).field(bytes);
                }
            }
            ModelSource::Folder(dir) => {
                h.field(b"folder");
                let mut files = Vec::new();
                walk(dir, Path::new(""), 0, &mut files)?;
                files.sort();
                for rel in files {
                    let path = dir.join(&rel);
                    let meta = std::fs::metadata(&path)
                        .map_err(|e| invalid(format!("{}: cannot read it: {e}", path.display())))?;
                    let mtime = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    h.field(rel.to_string_lossy().as_bytes())
                        .field(&meta.len().to_le_bytes())
                        .field(&mtime.to_le_bytes());
                }
            }
        }
        Ok(format!("sha256:{}", h.finish_hex()))
    }
}

fn invalid(message: String) -> ModelsError {
    ModelsError::Invalid(format!("--model: {message}"))
}

/// Collect the regular files under `dir/rel`, as paths relative to `dir`.
fn walk(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), ModelsError> {
    let here = dir.join(rel);
    if depth > MAX_DEPTH {
        return Err(ModelsError::Invalid(format!(
            "--model {}: folders nested deeper than {MAX_DEPTH} levels at {} (a link loop?); \
             give the model's own folder",
            dir.display(),
            here.display()
        )));
    }
    let list_error =
        |e: std::io::Error| invalid(format!("{}: cannot list it: {e}", here.display()));
    for entry in std::fs::read_dir(&here).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let child = rel.join(&name);
        // follows links: a hub snapshot's files are links to blobs
        let meta = std::fs::metadata(dir.join(&child)).map_err(|e| {
            invalid(format!(
                "{}: cannot read it: {e}",
                dir.join(&child).display()
            ))
        })?;
        if meta.is_dir() {
            walk(dir, &child, depth + 1, out)?;
        } else if meta.is_file() {
            out.push(child);
            if out.len() > MAX_FILES {
                return Err(ModelsError::Invalid(format!(
                    "--model {}: more than {MAX_FILES} files; give the model's own folder",
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_changes_identity_with_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let id = |p: &Path| ModelSource::Folder(p.to_path_buf()).identity();
        std::fs::create_dir(dir.path().join("unet")).unwrap();
        std::fs::write(dir.path().join("unet/model.onnx"), b"weights").unwrap();
        std::fs::write(dir.path().join("model_index.json"), b"{}").unwrap();
        let first = id(dir.path()).unwrap();
        assert_eq!(first, id(dir.path()).unwrap());
        assert_ne!(first, ModelSource::Embedded.identity().unwrap());
        // hidden entries do not count
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), b"x").unwrap();
        assert_eq!(first, id(dir.path()).unwrap());
        // a file of another size does
        std::fs::write(dir.path().join("unet/model.onnx"), b"other weights").unwrap();
        assert_ne!(first, id(dir.path()).unwrap());
        let e = id(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
