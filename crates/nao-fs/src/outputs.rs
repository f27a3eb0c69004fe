//! [`Outputs`]: the files of one command, claimed up front, staged, committed together.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::path::{is_inside, normalise};
use crate::staged::{sibling, StageError, Staged};
use crate::FsError;

/// What an option writes: one file, or a folder of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Folder,
}

/// A path a command will write, as given and normalised.
#[derive(Debug, Clone)]
struct Claim {
    option: String,
    given: PathBuf,
    normal: PathBuf,
    kind: Kind,
    /// The existing file's identity (device, inode), to catch hard links.
    identity: Option<(u64, u64)>,
}

/// A path a command reads: no output may be it, lie inside it or hold it.
#[derive(Debug, Clone)]
struct Input {
    option: String,
    given: PathBuf,
    /// Canonical: links resolved, so a link to an input is the input.
    normal: PathBuf,
    identity: Option<(u64, u64)>,
}

/// A staged file waiting for the commit, with the permission bits of the file it replaces.
#[derive(Debug)]
struct Pending {
    staged: Staged,
    normal: PathBuf,
}

/// The output files of one command: claimed and checked before any work, staged as temporary
/// files while the command runs, renamed into place together by [`Outputs::commit`].
///
/// Dropping it without a commit removes every temporary file and every folder it created.
#[derive(Debug, Default)]
pub struct Outputs {
    claims: Vec<Claim>,
    inputs: Vec<Input>,
    pending: Vec<Pending>,
    /// Folders created for staged files, outermost first.
    created: Vec<PathBuf>,
}

impl Outputs {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Claim `path` as one output file, written for `option` (named in errors). It must be
    /// absent or a regular file (not a link, folder, device, FIFO or socket), must name a file
    /// (no trailing `/`) in an existing folder (a typo in the folder is an error, not a new
    /// tree of folders), and must not be another claim's file or lie inside a claimed folder.
    pub fn claim_file(&mut self, path: &Path, option: &str) -> Result<(), FsError> {
        let refuse = |reason: String| FsError::Target {
            option: option.to_string(),
            path: path.to_path_buf(),
            reason,
        };
        let text = path.as_os_str().to_string_lossy();
        if text.is_empty() {
            return Err(refuse("the path is empty".into()));
        }
        if text.ends_with('/') || path.file_name().is_none() {
            return Err(refuse(
                "names a folder (it ends in '/' or '..'); give a file name".into(),
            ));
        }
        let identity = check_target(path, Kind::File).map_err(refuse)?;
        let claim = Claim {
            option: option.to_string(),
            given: path.to_path_buf(),
            normal: normalise(path),
            kind: Kind::File,
            identity,
        };
        self.check_collisions(&claim)?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(refuse(format!(
                "the folder {} does not exist",
                parent.display()
            )));
        }
        self.claims.push(claim);
        Ok(())
    }

    /// Claim the folder `dir` for `option`: every file written inside it belongs to that
    /// option. It must be absent or a folder (not a link to one), and must not contain or lie
    /// inside another claim.
    pub fn claim_folder(&mut self, dir: &Path, option: &str) -> Result<(), FsError> {
        let refuse = |reason: String| FsError::Target {
            option: option.to_string(),
            path: dir.to_path_buf(),
            reason,
        };
        if dir.as_os_str().is_empty() {
            return Err(refuse("the path is empty".into()));
        }
        check_target(dir, Kind::Folder).map_err(refuse)?;
        let claim = Claim {
            option: option.to_string(),
            given: dir.to_path_buf(),
            normal: normalise(dir),
            kind: Kind::Folder,
            identity: None,
        };
        self.check_collisions(&claim)?;
        self.claims.push(claim);
        Ok(())
    }

    /// Register `path` as one of the command's inputs, read for `option` (named in errors): a
    /// file, or a folder of them. No output may be it (under any spelling, through a link or a
    /// hard link), lie inside it, or hold it; claims made before and after are both checked.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let image = dir.path().join("img.png");
    /// std::fs::write(&image, b"png")?;
    /// let mut out = nao_fs::Outputs::new();
    /// out.input(&image, "IMAGE")?;
    /// let e = out.claim_file(&dir.path().join("./img.png"), "-o").unwrap_err();
    /// assert!(e.to_string().contains("IMAGE"), "{e}");
    /// assert!(out.claim_folder(dir.path(), "--frames-dir").is_err()); // it holds the image
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn input(&mut self, path: &Path, option: &str) -> Result<(), FsError> {
        let meta = std::fs::metadata(path).ok();
        let input = Input {
            option: option.to_string(),
            given: path.to_path_buf(),
            normal: normalise(path),
            identity: meta.as_ref().and_then(identity),
        };
        for claim in &self.claims {
            check_input(&input, claim)?;
        }
        self.inputs.push(input);
        Ok(())
    }

    fn check_collisions(&self, new: &Claim) -> Result<(), FsError> {
        for input in &self.inputs {
            check_input(input, new)?;
        }
        for old in &self.claims {
            let relation = if old.normal == new.normal
                || (old.identity.is_some() && old.identity == new.identity)
            {
                Some("are the same file")
            } else if old.kind == Kind::Folder && is_inside(&new.normal, &old.normal) {
                Some("collide: the second lies inside the first's output folder")
            } else if new.kind == Kind::Folder && is_inside(&old.normal, &new.normal) {
                Some("collide: the first lies inside the second's output folder")
            } else {
                None
            };
            if let Some(relation) = relation {
                return Err(FsError::Collision {
                    first_option: old.option.clone(),
                    first: old.given.clone(),
                    second_option: new.option.clone(),
                    second: new.given.clone(),
                    relation,
                });
            }
        }
        Ok(())
    }

    /// Stage `bytes` for `path`, which must be a claimed file or lie inside a claimed folder.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), FsError> {
        self.write_with(path, |w| {
            w.write_all(bytes)
                .map_err(|e| FsError::io(path, "write", e))
        })
    }

    /// Stage `path` by streaming into a writer (for outputs too large to build in memory).
    /// The writer fails once a signal has arrived, so `fill` stops at its next write.
    pub fn write_with<E: From<FsError>>(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<(), E> {
        // What is at the path first: a link there would otherwise resolve elsewhere and be
        // reported as unclaimed, hiding the real reason.
        let mode = match check_target(path, Kind::File) {
            Ok(_) => existing_mode(path),
            Err(reason) => {
                return Err(FsError::Target {
                    option: "output".into(),
                    path: path.to_path_buf(),
                    reason,
                }
                .into())
            }
        };
        let normal = normalise(path);
        self.check_covered(path, &normal)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            self.create_folder(dir)?;
        }
        let staged = Staged::create(path, mode, fill).map_err(|e| match e {
            StageError::Fs(e) => E::from(e),
            StageError::Fill(e) => e,
        })?;
        self.pending.push(Pending { staged, normal });
        Ok(())
    }

    /// Create `dir` and its missing parents now (removed again unless the set is committed);
    /// it must be a claimed folder, lie inside one, or hold a claimed file.
    pub fn create_folder(&mut self, dir: &Path) -> Result<(), FsError> {
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir).map_err(|e| FsError::io(dir, "create the folder", e))?;
        self.created.extend(missing.into_iter().rev());
        Ok(())
    }

    fn check_covered(&self, path: &Path, normal: &Path) -> Result<(), FsError> {
        if self.pending.iter().any(|p| p.normal == normal) {
            return Err(FsError::Unclaimed {
                path: path.to_path_buf(),
                reason: "is written twice by one command",
            });
        }
        let covered = self.claims.iter().any(|c| match c.kind {
            Kind::File => c.normal == normal,
            Kind::Folder => is_inside(normal, &c.normal),
        });
        if covered {
            Ok(())
        } else {
            Err(FsError::Unclaimed {
                path: path.to_path_buf(),
                reason: "is not among the command's claimed outputs",
            })
        }
    }

    /// How many files are staged.
    pub fn staged(&self) -> usize {
        self.pending.len()
    }

    /// Rename every staged file into place. When a rename fails, the files renamed before it
    /// are restored (the replaced ones from hard-linked backups, the new ones removed), and the
    /// error names the file that failed.
    pub fn commit(mut self) -> Result<(), FsError> {
        crate::signals::check()?;
        let pending = std::mem::take(&mut self.pending);
        let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        let mut rest = pending.into_iter();
        let mut failure = None;
        for p in rest.by_ref() {
            let target = p.staged.target.clone();
            // Keep the old file reachable until every rename has succeeded.
            let backup = if std::fs::symlink_metadata(&target).is_ok() {
                let b = sibling(&target, ".bak");
                match std::fs::hard_link(&target, &b) {
                    Ok(()) => Some(b),
                    Err(_) => None, // a file system without hard links: no rollback for it
                }
            } else {
                None
            };
            match std::fs::rename(&p.staged.tmp, &target) {
                Ok(()) => {
                    let _ = p.staged.take();
                    done.push((target, backup));
                }
                Err(e) => {
                    if let Some(b) = backup {
                        let _ = std::fs::remove_file(b);
                    }
                    failure = Some(FsError::io(&target, "rename the finished file onto", e));
                    break;
                }
            }
        }
        // Dropping the rest removes their temporary files.
        drop(rest.collect::<Vec<_>>());
        match failure {
            None => {
                for (_, backup) in done {
                    if let Some(b) = backup {
                        let _ = std::fs::remove_file(b);
                    }
                }
                self.created.clear();
                Ok(())
            }
            Some(e) => {
                for (target, backup) in done.into_iter().rev() {
                    match backup {
                        Some(b) => {
                            let _ = std::fs::rename(&b, &target);
                        }
                        None => {
                            let _ = std::fs::remove_file(&target);
                        }
                    }
                }
                Err(e)
            }
        }
    }
}

/// Refuse an output that is `input`, lies inside it or holds it.
fn check_input(input: &Input, output: &Claim) -> Result<(), FsError> {
    let relation = if input.normal == output.normal
        || (input.identity.is_some() && input.identity == output.identity)
    {
        "are the same file: the output would replace the input"
    } else if is_inside(&output.normal, &input.normal) {
        "collide: the output would be written inside the input folder"
    } else if output.kind == Kind::Folder && is_inside(&input.normal, &output.normal) {
        "collide: the output folder holds the input"
    } else {
        return Ok(());
    };
    Err(FsError::Collision {
        first_option: input.option.clone(),
        first: input.given.clone(),
        second_option: output.option.clone(),
        second: output.given.clone(),
        relation,
    })
}

impl Drop for Outputs {
    fn drop(&mut self) {
        self.pending.clear(); // removes the temporary files
        for dir in self.created.iter().rev() {
            // Only empty folders go: a folder someone else filled meanwhile stays.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Check what is at an output path now: nothing, or the kind of thing `kind` may replace.
/// Returns the identity of an existing file.
fn check_target(path: &Path, kind: Kind) -> Result<Option<(u64, u64)>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot look at it: {e}")),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(
            "is a symbolic link; nao does not write through or replace links (give the \
                    link's target instead)"
                .into(),
        );
    }
    match kind {
        Kind::File if ft.is_file() => Ok(identity(&meta)),
        Kind::File if ft.is_dir() => Err("is a folder; give a file name".into()),
        Kind::Folder if ft.is_dir() => Ok(None),
        Kind::Folder if ft.is_file() => {
            Err("is a file, not a folder (this option writes a folder)".into())
        }
        _ => Err(format!(
            "is {}, not a regular file; nao only replaces regular files",
            special_kind(&ft)
        )),
    }
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_: &Path) -> Option<u32> {
    None
}

/// Write one file through a temporary file and a rename: the whole [`Outputs`] protocol for a
/// command with a single output. `option` names the path in errors.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("b.txt");
/// nao_fs::write_file(&p, "-o", b"hello").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// assert!(nao_fs::write_file(std::path::Path::new("/dev/null"), "-o", b"x").is_err());
/// assert!(nao_fs::write_file(&dir.path().join("missing/b.txt"), "-o", b"x").is_err());
/// ```
pub fn write_file(path: &Path, option: &str, bytes: &[u8]) -> Result<(), FsError> {
    let mut out = Outputs::new();
    out.claim_file(path, option)?;
    out.write(path, bytes)?;
    out.commit()
}
