//! The work folder of a walk: every sampled frame and every inverted keyframe, each in its own
//! file named by a hash of everything that made it, so that a walk killed halfway resumes
//! where it stopped and a changed option re-samples exactly the frames it changes.
//!
//! ```text
//! WORK/manifest.json        the walk's parameters (and the mark of a nao work folder)
//! WORK/frames/KEY.png       a sampled frame; KEY = SHA-256(model, sampling options, seed)
//! WORK/keyframes/KEY.npy    an inverted image; KEY = SHA-256(model, inversion options, file)
//! ```
//!
//! Every file is written through a temporary file and a rename (`nao_fs::write_file`), so a
//! kill leaves whole files or none. A file that does not read back (a disk error, an edit) is
//! sampled again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::CliError;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// Hex digits of a cache key (128 bits of the SHA-256).
const KEY_DIGITS: usize = 32;

/// A cache key being built from labelled parts.
#[derive(Clone)]
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    /// A key of `kind` (which also versions the scheme: change it when what a file holds
    /// changes).
    pub fn new(kind: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"nao walk cache\0");
        h.update(kind.as_bytes());
        h.update([0]);
        Self(h)
    }

    /// Add a part (length-prefixed, so parts cannot run into each other).
    pub fn part(mut self, bytes: &[u8]) -> Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The key: hex digits safe in file names.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut hex = String::with_capacity(KEY_DIGITS);
        for b in &digest[..KEY_DIGITS / 2] {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }
}

/// The work folder.
#[derive(Debug)]
pub struct WorkDir {
    /// Its path.
    pub path: PathBuf,
    /// Whether it was chosen by nao (beside the output) rather than by `--work-dir`: it is then
    /// removed once the walk is written.
    pub implicit: bool,
}

impl WorkDir {
    /// Open (creating) the folder. An existing folder must be a nao work folder (hold a
    /// manifest) or be empty: nao never mixes its files into someone else's folder.
    pub fn open(path: &Path, implicit: bool) -> Result<Self, CliError> {
        let option = if implicit {
            "the work folder (--work-dir)"
        } else {
            "--work-dir"
        };
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut entries = std::fs::read_dir(path).map_err(|e| {
                    CliError::input(format!("{}: {option}: cannot list it: {e}", path.display()))
                })?;
                if entries.next().is_some() && !path.join(MANIFEST).is_file() {
                    return Err(CliError::input(format!(
                        "{}: {option} is a folder with files but no {MANIFEST}: not a nao walk \
                         work folder, so nao will not write into it (give another --work-dir)",
                        path.display()
                    )));
                }
            }
            Ok(_) => {
                return Err(CliError::input(format!(
                    "{}: {option} exists and is not a folder",
                    path.display()
                )))
            }
            Err(_) => {}
        }
        for sub in ["frames", "keyframes"] {
            let dir = path.join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| {
                CliError::input(format!(
                    "{}: {option}: cannot create it: {e}",
                    dir.display()
                ))
            })?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            implicit,
        })
    }

    /// The file of a sampled frame.
    pub fn frame(&self, key: &str) -> PathBuf {
        self.path.join("frames").join(format!("{key}.png"))
    }

    /// The file of an inverted keyframe.
    pub fn keyframe(&self, key: &str) -> PathBuf {
        self.path.join("keyframes").join(format!("{key}.npy"))
    }

    /// Write a cache file (atomically).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), CliError> {
        Ok(nao_fs::write_file(path, "--work-dir", bytes)?)
    }

    /// Write the manifest.
    pub fn write_manifest(&self, manifest: &serde_json::Value) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(manifest)
            .map_err(|e| CliError::compute("the work folder's manifest", e))?;
        self.write(&self.path.join(MANIFEST), text.as_bytes())
    }

    /// Remove the folder's own files (cache files and the manifest), then the folders if that
    /// left them empty. Anything else in them stays, and so do they.
    pub fn remove(self) -> Result<(), CliError> {
        for (sub, ext) in [("frames", "png"), ("keyframes", "npy")] {
            let dir = self.path.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_cache_name(&name, ext) {
                    std::fs::remove_file(entry.path()).map_err(|e| {
                        CliError::input(format!(
                            "{}: cannot remove it: {e}",
                            entry.path().display()
                        ))
                    })?;
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
        let _ = std::fs::remove_file(self.path.join(MANIFEST));
        let _ = std::fs::remove_dir(&self.path);
        Ok(())
    }
}

/// Whether `name` is `KEY.ext` with a key of this scheme.
fn is_cache_name(name: &str, ext: &str) -> bool {
    name.strip_suffix(ext)
        .and_then(|n| n.strip_suffix('.'))
        .is_some_and(|key| key.len() == KEY_DIGITS && key.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        let k = |parts: &[&[u8]]| {
            parts
                .iter()
                .fold(KeyBuilder::new("t"), |k, p| k.part(p))
                .finish()
        };
        assert_eq!(k(&[b"ab", b"c"]), k(&[b"ab", b"c"]));
        assert_ne!(k(&[b"ab", b"c"]), k(&[b"a", b"bc"]));
        assert_eq!(k(&[b"x"]).len(), KEY_DIGITS);
        assert!(is_cache_name(&format!("{}.png", k(&[b"x"])), "png"));
        assert!(!is_cache_name("notes.png", "png"));
    }

    #[test]
    fn a_foreign_folder_is_refused_and_removal_keeps_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("photos");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("cat.jpg"), b"x").unwrap();
        let err = WorkDir::open(&foreign, false).unwrap_err().to_string();
        assert!(err.contains("not a nao walk work folder"), "{err}");

        let work = WorkDir::open(&dir.path().join("w"), true).unwrap();
        let key = KeyBuilder::new("t").finish();
        work.write(&work.frame(&key), b"png").unwrap();
        std::fs::write(work.path.join("frames/mine.txt"), b"keep").unwrap();
        work.write_manifest(&serde_json::json!({})).unwrap();
        let path = work.path.clone();
        work.remove().unwrap();
        assert!(path.join("frames/mine.txt").exists());
        assert!(!path.join(MANIFEST).exists());
        assert!(!path.join("frames").join(format!("{key}.png")).exists());
    }
}
