//! The manifest: one JSON line per image (the format is documented in docs/augment.md).
//!
//! Each process appends to its shard's manifest, `manifest.shard-I-of-N.jsonl`, which it holds
//! under an exclusive lock for as long as it runs; a line is appended (and synced) only once
//! its image file is in place. [`merge`](crate::merge) writes the sorted, complete
//! `manifest.jsonl`, which [`Dataset`](crate::Dataset) reads back.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::shard::Shard;
use crate::{AugmentError, Result};

/// The merged manifest's file name.
pub const MERGED: &str = "manifest.jsonl";

/// One generated image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestLine {
    /// The class (the real images' folder name).
    pub class: String,
    /// The image's index within its class, 0 ≤ index < per-class.
    pub index: usize,
    /// The seed method.
    pub method: String,
    /// The prompt it was sampled with.
    pub prompt: String,
    /// Which point of the class the seed comes from.
    pub source: SeedSource,
    /// 0: the point itself; r ≥ 1: the r-th perturbed copy of the point (the spec's jitter).
    pub round: usize,
    /// The seed's norm (of the float32 values sampled, accumulated in f64).
    pub seed_norm: f64,
    /// log χ_d of that norm (d: the seed's size).
    pub log_chi: f64,
    /// The image file, relative to the dataset folder (`<class>/<index>.png`).
    pub file: String,
    /// The SHA-256 of the file, in hexadecimal.
    pub sha256: String,
    /// The model (`embedded` or its folder as given).
    pub model: String,
    /// The device it ran on.
    pub device: String,
    /// What the refinement did to the seed, when seeds are refined (`seed_norm` and `log_chi`
    /// are then the refined seed's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refinement: Option<crate::Refinement>,
}

/// Where a seed comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SeedSource {
    /// The class's centroid.
    Centroid,
    /// The point at `t` on the path from the centroid (t = 0) to the inverted seed of real
    /// image number `path` (t = 1), whose file is `image`.
    Path {
        /// The real image's number in its class folder (sorted by name, from 0).
        path: usize,
        /// Its file name.
        image: String,
        /// The position on the path, in (0, 1).
        t: f64,
    },
    /// A random Gaussian seed (prompt-only).
    Random,
    /// The point at `t` on the method's path from the inverted seed of real image number `a`
    /// to that of number `b` (source `pairs`).
    Pair {
        /// The first image's number among the class's inverted images (the order of
        /// `seeds/<class>.json`'s `images`, from 0).
        a: usize,
        /// The second image's number.
        b: usize,
        /// Their file names.
        images: [String; 2],
        /// The position on the path, in (0, 1).
        t: f64,
    },
    /// The method's centroid of the inverted seeds of some of the class's real images (source
    /// `subsets`).
    Subset {
        /// Their numbers among the class's inverted images, ascending.
        members: Vec<usize>,
        /// Their file names.
        images: Vec<String>,
    },
}

impl ManifestLine {
    /// The image file inside `dir`, refused unless [`ManifestLine::file`] is a relative path
    /// of plain names (no `..`, no root): a manifest never points outside its dataset.
    pub fn path_in(&self, dir: &Path) -> Result<PathBuf> {
        let rel = Path::new(&self.file);
        let plain =
            !self.file.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(AugmentError::input(format!(
                "image '{}' of class '{}': the file '{}' is not a path inside the dataset \
                 folder {}",
                self.index,
                self.class,
                self.file,
                dir.display()
            )));
        }
        Ok(dir.join(rel))
    }
}

/// One line as read from a manifest: parsed, and its exact text (a merge writes lines back as
/// they were, so the merged file is byte for byte what the shards wrote).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadLine {
    /// Its line number in the file, from 1.
    pub number: usize,
    /// The parsed line.
    pub line: ManifestLine,
    /// Its text, without the newline.
    pub text: String,
}

/// A manifest's complete lines. A last line without its newline is the remains of a process
/// killed while appending: it is not returned, and `complete_len` is where it starts.
#[derive(Debug, Default)]
pub struct ManifestContent {
    /// The complete lines.
    pub lines: Vec<ReadLine>,
    /// The byte length of the complete lines.
    pub complete_len: u64,
}

/// Read the lines of an open manifest from its start.
fn read_lines(file: &mut File, path: &Path) -> Result<ManifestContent> {
    let fail =
        |e: std::io::Error| AugmentError::input(format!("{}: cannot read it: {e}", path.display()));
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    let mut reader = BufReader::new(&*file);
    let mut content = ManifestContent::default();
    let mut buf = Vec::new();
    let mut number = 0usize;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(fail)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            break; // end, or an unfinished last line
        }
        number += 1;
        content.complete_len += n as u64;
        let text = std::str::from_utf8(&buf[..n - 1]).map_err(|_| {
            AugmentError::input(format!(
                "{}:{number}: the line is not UTF-8 text; the manifest is damaged",
                path.display()
            ))
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let line: ManifestLine = serde_json::from_str(text).map_err(|e| {
            AugmentError::input(format!(
                "{}:{number}: not a manifest line ({e}); the manifest is damaged",
                path.display()
            ))
        })?;
        content.lines.push(ReadLine {
            number,
            line,
            text: text.to_string(),
        });
    }
    Ok(content)
}

/// Read a manifest file that may be in use by another process (only its complete lines
/// count).
pub fn read_manifest(path: &Path) -> Result<ManifestContent> {
    let (mut file, _) = nao_fs::input::open_regular(path)?;
    read_lines(&mut file, path)
}

/// The manifests in `out_dir`: the merged one (if any) first, then the shards' in name order.
pub(crate) fn manifest_files(out_dir: &Path) -> Result<Vec<(PathBuf, Option<Shard>)>> {
    let fail = |e: std::io::Error| {
        AugmentError::input(format!("{}: cannot list it: {e}", out_dir.display()))
    };
    let mut shards = Vec::new();
    for entry in std::fs::read_dir(out_dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(shard) = Shard::from_manifest_name(&name) {
            shards.push((entry.path(), Some(shard)));
        }
    }
    shards.sort_by(|a, b| a.0.cmp(&b.0));
    let merged = out_dir.join(MERGED);
    let mut out = Vec::new();
    if merged.is_file() {
        out.push((merged, None));
    }
    out.extend(shards);
    Ok(out)
}

/// This process's shard manifest, opened for appending and held under an exclusive lock.
pub(crate) struct ShardManifest {
    lock: fd_lock::RwLock<File>,
    path: PathBuf,
}

/// A locked shard manifest: appends lines and syncs each.
pub(crate) struct ManifestWriter<'a> {
    guard: fd_lock::RwLockWriteGuard<'a, File>,
    path: &'a Path,
}

impl ShardManifest {
    /// Open (creating) the manifest of `shard` in `out_dir`; refused when the path is not a
    /// regular file (nao_fs's rules for outputs).
    pub fn open(out_dir: &Path, shard: Shard) -> Result<Self> {
        let path = out_dir.join(shard.manifest_name());
        nao_fs::Outputs::new().claim_file(&path, "the shard manifest")?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| AugmentError::input(format!("{}: cannot open it: {e}", path.display())))?;
        Ok(Self {
            lock: fd_lock::RwLock::new(file),
            path,
        })
    }

    /// Take the exclusive lock without waiting: a second process given the same shard is
    /// refused.
    pub fn lock(&mut self, shard: Shard) -> Result<ManifestWriter<'_>> {
        let path = &self.path;
        let guard = self.lock.try_write().map_err(|e| {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                AugmentError::input(format!(
                    "shard {} is already being written by another process ({} is locked); \
                     give each process its own shard",
                    shard.label(),
                    path.display()
                ))
            } else {
                AugmentError::input(format!("{}: cannot lock it: {e}", path.display()))
            }
        })?;
        Ok(ManifestWriter { guard, path })
    }
}

impl ManifestWriter<'_> {
    /// The complete lines so far, and the length of an unfinished last line (a killed
    /// process), which is cut off so that the next line starts on its own.
    pub fn recover(&mut self) -> Result<(ManifestContent, u64)> {
        let content = read_lines(&mut self.guard, self.path)?;
        let len = self
            .guard
            .metadata()
            .map_err(|e| AugmentError::input(format!("{}: {e}", self.path.display())))?
            .len();
        let torn = len.saturating_sub(content.complete_len);
        if torn > 0 {
            self.guard.set_len(content.complete_len).map_err(|e| {
                AugmentError::input(format!("{}: cannot truncate it: {e}", self.path.display()))
            })?;
        }
        Ok((content, torn))
    }

    /// The manifest's path.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// Append one line and sync it to disk.
    pub fn append(&mut self, line: &ManifestLine) -> Result<()> {
        let mut text = serde_json::to_string(line)
            .map_err(|e| AugmentError::compute("the manifest line", e))?;
        text.push('\n');
        let fail = |e: std::io::Error| {
            AugmentError::input(format!("{}: cannot append to it: {e}", self.path.display()))
        };
        // one write call per line: a line is never interleaved with another
        self.guard.write_all(text.as_bytes()).map_err(fail)?;
        self.guard.sync_data().map_err(fail)
    }
}

/// Whether another process holds `path`'s lock (a shard still running).
pub(crate) fn is_locked(path: &Path) -> Result<bool> {
    let file = File::open(path)
        .map_err(|e| AugmentError::input(format!("{}: cannot open it: {e}", path.display())))?;
    let lock = fd_lock::RwLock::new(file);
    let held = match lock.try_read() {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
        Err(e) => {
            return Err(AugmentError::input(format!(
                "{}: cannot lock it: {e}",
                path.display()
            )))
        }
    };
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn line(index: usize) -> ManifestLine {
        ManifestLine {
            class: "bag".into(),
            index,
            method: "nao".into(),
            prompt: "bag".into(),
            source: SeedSource::Path {
                path: 2,
                image: "003.png".into(),
                t: 0.25,
            },
            round: 0,
            seed_norm: 13.5,
            log_chi: -1.25,
            file: format!("bag/{index:03}.png"),
            sha256: "ab".repeat(32),
            model: "embedded".into(),
            device: "cpu".into(),
            refinement: None,
        }
    }

    #[test]
    fn the_line_format_is_stable() {
        let text = serde_json::to_string(&line(7)).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"class":"bag","index":7,"method":"nao","prompt":"bag","source":{{"kind":"path","path":2,"image":"003.png","t":0.25}},"round":0,"seed_norm":13.5,"log_chi":-1.25,"file":"bag/007.png","sha256":"{}","model":"embedded","device":"cpu"}}"#,
                "ab".repeat(32)
            )
        );
        let mut centroid = line(0);
        centroid.source = SeedSource::Centroid;
        let text = serde_json::to_string(&centroid).unwrap();
        assert!(text.contains(r#""source":{"kind":"centroid"}"#), "{text}");
    }

    #[test]
    fn files_stay_inside_the_dataset() {
        let dir = Path::new("/data/set");
        assert_eq!(line(3).path_in(dir).unwrap(), dir.join("bag/003.png"));
        for bad in [
            "../x.png",
            "/etc/passwd",
            "bag/../../x.png",
            "",
            "./bag/1.png",
        ] {
            let mut l = line(0);
            l.file = bad.into();
            let e = l.path_in(dir).unwrap_err().to_string();
            assert!(e.contains("not a path inside"), "{bad}: {e}");
        }
    }

    #[test]
    fn appends_survive_a_torn_last_line_and_the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let shard = Shard { index: 1, count: 2 };
        let mut manifest = ShardManifest::open(dir.path(), shard).unwrap();
        {
            let mut w = manifest.lock(shard).unwrap();
            assert!(w.recover().unwrap().0.lines.is_empty());
            w.append(&line(0)).unwrap();
            w.append(&line(2)).unwrap();
            let path = dir.path().join(shard.manifest_name());
            assert!(is_locked(&path).unwrap());
            // a second holder of the same shard is refused
            let mut other = ShardManifest::open(dir.path(), shard).unwrap();
            let e = other.lock(shard).err().unwrap().to_string();
            assert!(e.contains("shard 1/2 is already being written"), "{e}");
        }
        let path = dir.path().join(shard.manifest_name());
        assert!(!is_locked(&path).unwrap());
        // a process killed in the middle of a line
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"class":"bag","ind"#).unwrap();
        drop(f);
        assert_eq!(read_manifest(&path).unwrap().lines.len(), 2);
        let mut w = manifest.lock(shard).unwrap();
        let (content, torn) = w.recover().unwrap();
        assert_eq!((content.lines.len(), torn), (2, 19));
        assert_eq!(content.lines[1].line, line(2));
        w.append(&line(4)).unwrap();
        drop(w);
        let again = read_manifest(&path).unwrap();
        assert_eq!(again.lines.len(), 3);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            again.complete_len,
            "no leftover bytes"
        );
        let files = manifest_files(dir.path()).unwrap();
        assert_eq!(files, [(path.clone(), Some(shard))]);
    }

    #[test]
    fn damaged_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        std::fs::write(&p, "{\"class\":1}\n").unwrap();
        let e = read_manifest(&p).unwrap_err().to_string();
        assert!(e.contains("m.jsonl:1") && e.contains("damaged"), "{e}");
    }
}
