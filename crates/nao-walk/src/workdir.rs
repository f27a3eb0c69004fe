//! The work folder of a walk: the content-keyed cache of sampled frames and inverted keyframes
//! (the scheme is documented on [`WorkDir`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nao_fs::hash::{sha256_hex, FieldHasher};

use crate::{Result, WalkError};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// Hex digits of a cache key (128 bits of the SHA-256).
pub(crate) const KEY_DIGITS: usize = 32;

/// Hex digits of a file's content hash in its name (64 bits).
const SUM_DIGITS: usize = 16;

/// What a cache file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A sampled frame (PNG).
    Frame,
    /// An inverted keyframe (`.npy`).
    Keyframe,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::Frame, Kind::Keyframe];

    fn folder(self) -> &'static str {
        match self {
            Kind::Frame => "frames",
            Kind::Keyframe => "keyframes",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Kind::Frame => "png",
            Kind::Keyframe => "npy",
        }
    }
}

/// A cache key being built: the fields that make a frame or keyframe, in order.
pub(crate) fn key_builder(kind: Kind) -> FieldHasher {
    let mut h = FieldHasher::new();
    h.field(match kind {
        Kind::Frame => b"nao walk frame".as_slice(),
        Kind::Keyframe => b"nao walk keyframe".as_slice(),
    })
    .field(b"v2");
    h
}

/// The key of a finished builder: hex digits safe in file names.
pub(crate) fn finish_key(h: FieldHasher) -> String {
    h.finish_prefix(KEY_DIGITS)
}

/// The work folder of a walk: every sampled frame and every inverted keyframe, each in its own
/// file named by a hash of everything that made it, so that a walk killed halfway resumes
/// where it stopped and a changed option re-samples exactly the frames it changes.
///
/// ```text
/// WORK/manifest.json             the walk's parameters (and the mark of a nao work folder)
/// WORK/frames/KEY-SUM.png        a sampled frame
/// WORK/keyframes/KEY-SUM.npy     an inverted image keyframe ([c, h, w], float32)
/// ```
///
/// **Keys.** `KEY` is the first 32 hexadecimal digits (128 bits) of a SHA-256 over
/// length-prefixed fields ([`nao_fs::hash::FieldHasher`]), so that no two different field
/// sequences collide:
///
/// - a frame: `nao walk frame`, `v2`, the model's identity ([`ModelId::identity`]: the model,
///   device, precision and weight variant), the prompt, the negative prompt, the guidance
///   (f64, little-endian), the steps (u64), when a sampler other than the model's own is
///   chosen `scheduler` and its name (`euler`, `dpm++2m-karras`, …), the latent shape (three
///   u64) and the frame's seed as float32 values (little-endian) — the seed the model receives;
/// - an inverted keyframe: `nao walk keyframe`, `v2`, the model's identity, the prompt, the
///   DDIM steps (u64), the image's shape (u64 each) and its pixels as the model sees them
///   (float32, little-endian).
///
/// `SUM` is the first 16 hexadecimal digits of the SHA-256 of the file's own bytes: a file is
/// only used when its content still hashes to its name, so a file changed or swapped for
/// another (even another valid frame of the same size) is noticed, reported as a
/// [`Note`](crate::Event::Note) and made again. A cached frame must also decode as a PNG of the
/// walk's size and colour, and a cached keyframe as a `.npy` of the latent shape.
///
/// Every file is written through a temporary file and a rename (`nao_fs::write_file`), so a
/// kill leaves whole files or none; opening the folder removes the temporary files a killed
/// walk left in it. Nothing else in the folder is touched.
///
/// [`ModelId::identity`]: crate::ModelId::identity
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
    /// The file name of each cached key.
    files: HashMap<(Kind, String), String>,
}

impl WorkDir {
    /// Open (creating) the folder. An existing folder must be a nao work folder (hold a
    /// manifest) or be empty: nao never mixes its files into someone else's folder. `keep`
    /// says whether the folder was chosen by the user (`--work-dir`: kept) or by nao (removed
    /// by [`remove`](Self::remove) once the walk is written); errors name it accordingly.
    pub fn open(path: &Path, keep: bool) -> Result<Self> {
        let option = option(keep);
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut entries = std::fs::read_dir(path).map_err(|e| {
                    WalkError::input(format!("{}: {option}: cannot list it: {e}", path.display()))
                })?;
                if entries.next().is_some() && !path.join(MANIFEST).is_file() {
                    return Err(WalkError::input(format!(
                        "{}: {option} is a folder with files but no {MANIFEST}: not a nao walk \
                         work folder, so nao will not write into it (give another --work-dir)",
                        path.display()
                    )));
                }
            }
            Ok(_) => {
                return Err(WalkError::input(format!(
                    "{}: {option} exists and is not a folder",
                    path.display()
                )))
            }
            Err(_) => {}
        }
        let mut files = HashMap::new();
        for kind in Kind::ALL {
            let dir = path.join(kind.folder());
            std::fs::create_dir_all(&dir).map_err(|e| {
                WalkError::input(format!(
                    "{}: {option}: cannot create it: {e}",
                    dir.display()
                ))
            })?;
            // what a killed walk was writing
            nao_fs::leftovers::remove(&dir, |target| cache_name(target, kind.ext()).is_some())?;
            let entries = std::fs::read_dir(&dir).map_err(|e| {
                WalkError::input(format!("{}: {option}: cannot list it: {e}", dir.display()))
            })?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some((key, Some(_))) = cache_name(&name, kind.ext()) {
                    files.insert((kind, key.to_string()), name);
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            keep,
            files,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is kept once the walk is written (chosen by the user).
    pub fn kept(&self) -> bool {
        self.keep
    }

    /// Whether a file of `key` is there (it may still fail to read back).
    pub(crate) fn contains(&self, kind: Kind, key: &str) -> bool {
        self.files.contains_key(&(kind, key.to_string()))
    }

    /// The file of `key`, if there is one.
    pub(crate) fn file(&self, kind: Kind, key: &str) -> Option<PathBuf> {
        self.files
            .get(&(kind, key.to_string()))
            .map(|name| self.path.join(kind.folder()).join(name))
    }

    /// The bytes of `key`'s file, checked against the content hash in its name: `Ok(None)`
    /// when there is none, `Err(why)` (naming the file) when it does not read back whole.
    pub(crate) fn read(
        &self,
        kind: Kind,
        key: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, String> {
        let Some(path) = self.file(kind, key) else {
            return Ok(None);
        };
        let bytes = nao_fs::input::read_limited(&path, limit)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sum = cache_name(&name, kind.ext()).and_then(|(_, s)| s);
        if sum != Some(&content_sum(&bytes)) {
            return Err(format!(
                "{}: its content does not match the hash in its name (changed or replaced \
                 since it was written)",
                path.display()
            ));
        }
        Ok(Some(bytes))
    }

    /// Write `key`'s file (atomically), replacing a file of the same key that did not read
    /// back.
    pub(crate) fn store(&mut self, kind: Kind, key: &str, bytes: &[u8]) -> Result<()> {
        let name = format!("{key}-{}.{}", content_sum(bytes), kind.ext());
        let path = self.path.join(kind.folder()).join(&name);
        nao_fs::write_file(&path, "--work-dir", bytes)?;
        if let Some(old) = self.files.insert((kind, key.to_string()), name.clone()) {
            if old != name {
                // a file that did not read back; a failure to remove it only leaves it unused
                let _ = std::fs::remove_file(self.path.join(kind.folder()).join(old));
            }
        }
        Ok(())
    }

    /// Write the manifest (atomically).
    pub fn write_manifest(&self, manifest: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_string_pretty(manifest)
            .map_err(|e| WalkError::compute("the work folder's manifest", e))?;
        nao_fs::write_file(&self.path.join(MANIFEST), "--work-dir", text.as_bytes())?;
        Ok(())
    }

    /// Remove the folder's own files (cache files and the manifest), then the folders if that
    /// left them empty. Anything else in them stays, and so do they.
    pub fn remove(self) -> Result<()> {
        for kind in Kind::ALL {
            let dir = self.path.join(kind.folder());
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if cache_name(&name, kind.ext()).is_some() {
                    std::fs::remove_file(entry.path()).map_err(|e| {
                        WalkError::input(format!(
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

/// How errors name the work folder.
fn option(keep: bool) -> &'static str {
    if keep {
        "--work-dir"
    } else {
        "the work folder (--work-dir)"
    }
}

/// The content hash of a file's bytes, as its name carries it.
fn content_sum(bytes: &[u8]) -> String {
    let mut s = sha256_hex(bytes);
    s.truncate(SUM_DIGITS);
    s
}

/// The key and content hash of a cache file's name: `KEY-SUM.ext`, or `KEY.ext` (no hash: the
/// first version of the scheme, recognised only to be removed).
fn cache_name<'a>(name: &'a str, ext: &str) -> Option<(&'a str, Option<&'a str>)> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match stem.split_once('-') {
        Some((key, sum)) if hex(key, KEY_DIGITS) && hex(sum, SUM_DIGITS) => Some((key, Some(sum))),
        None if hex(stem, KEY_DIGITS) => Some((stem, None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(parts: &[&[u8]]) -> String {
        let mut h = key_builder(Kind::Frame);
        for p in parts {
            h.field(p);
        }
        finish_key(h)
    }

    #[test]
    fn keys_separate_their_parts_and_names_carry_the_content_hash() {
        assert_eq!(key(&[b"ab", b"c"]), key(&[b"ab", b"c"]));
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_ne!(
            finish_key(key_builder(Kind::Frame)),
            finish_key(key_builder(Kind::Keyframe))
        );
        let k = key(&[b"x"]);
        assert_eq!(k.len(), KEY_DIGITS);
        let sum = content_sum(b"png");
        let name = format!("{k}-{sum}.png");
        assert_eq!(
            cache_name(&name, "png"),
            Some((k.as_str(), Some(sum.as_str())))
        );
        assert_eq!(
            cache_name(&format!("{k}.png"), "png"),
            Some((k.as_str(), None))
        );
        assert_eq!(cache_name(&name, "npy"), None);
        assert_eq!(cache_name("notes.png", "png"), None);
        assert_eq!(cache_name(&format!("{k}-xyz.png"), "png"), None);
    }

    #[test]
    fn a_changed_or_swapped_file_does_not_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut work = WorkDir::open(&dir.path().join("w"), true).unwrap();
        let (a, b) = (key(&[b"a"]), key(&[b"b"]));
        work.store(Kind::Frame, &a, b"frame a").unwrap();
        work.store(Kind::Frame, &b, b"frame b").unwrap();
        assert!(work.contains(Kind::Frame, &a) && !work.contains(Kind::Keyframe, &a));
        assert_eq!(
            work.read(Kind::Frame, &a, 100).unwrap().as_deref(),
            Some(&b"frame a"[..])
        );
        assert_eq!(work.read(Kind::Frame, &key(&[b"c"]), 100), Ok(None));
        // b's file copied over a's: both valid files, but not what a's name says
        let (fa, fb) = (
            work.file(Kind::Frame, &a).unwrap(),
            work.file(Kind::Frame, &b).unwrap(),
        );
        std::fs::copy(&fb, &fa).unwrap();
        let err = work.read(Kind::Frame, &a, 100).unwrap_err();
        assert!(err.contains("does not match the hash"), "{err}");
        // stored again, the bad file gives way to the good one
        work.store(Kind::Frame, &a, b"frame a").unwrap();
        assert!(!fa.exists() || work.file(Kind::Frame, &a).unwrap() == fa);
        assert!(work.read(Kind::Frame, &a, 100).is_ok());
        // a reopened folder finds its files
        work.write_manifest(&serde_json::json!({})).unwrap();
        let again = WorkDir::open(work.path(), true).unwrap();
        assert!(again.contains(Kind::Frame, &a) && again.contains(Kind::Frame, &b));
    }

    #[test]
    fn a_foreign_folder_is_refused_and_removal_keeps_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("photos");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("cat.jpg"), b"x").unwrap();
        let err = WorkDir::open(&foreign, true).unwrap_err().to_string();
        assert!(err.contains("not a nao walk work folder"), "{err}");

        let mut work = WorkDir::open(&dir.path().join("w"), false).unwrap();
        let k = key(&[]);
        work.store(Kind::Frame, &k, b"png").unwrap();
        let stored = work.file(Kind::Frame, &k).unwrap();
        std::fs::write(work.path().join("frames/mine.txt"), b"keep").unwrap();
        // a killed walk's temporary file, and a file of the first key scheme
        let tmp = work
            .path()
            .join(format!("frames/.{k}-0123456789abcdef.png.nao-1-0.tmp"));
        std::fs::write(&tmp, b"half").unwrap();
        std::fs::write(work.path().join(format!("keyframes/{k}.npy")), b"old").unwrap();
        work.write_manifest(&serde_json::json!({})).unwrap();
        let work = WorkDir::open(work.path(), false).unwrap();
        assert!(!tmp.exists(), "the leftover is removed");
        let path = work.path().to_path_buf();
        work.remove().unwrap();
        assert!(path.join("frames/mine.txt").exists());
        assert!(!path.join(MANIFEST).exists());
        assert!(!stored.exists());
        assert!(!path.join("keyframes").exists());
    }
}
