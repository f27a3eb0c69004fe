//! One staged file: a temporary file beside its target, written completely before the target
//! is touched, and removed again unless it was renamed into place.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::signals;
use crate::FsError;

/// Makes temporary names unique between the threads of one process (the pid separates
/// processes).
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The marker every temporary name of nao carries (`.NAME.nao-PID-N.tmp`), so that a
/// leftover of a killed process is recognisable.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// A sibling name for `target`: `.NAME.nao-PID-N.KIND`.
pub(crate) fn sibling(target: &Path, kind: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(".{name}.nao-{}-{n}{kind}", std::process::id()))
}

/// A temporary file that is removed on drop unless [`Staged::take`] was called.
#[derive(Debug)]
pub(crate) struct Staged {
    pub tmp: PathBuf,
    pub target: PathBuf,
    live: bool,
}

impl Staged {
    /// Create the temporary file beside `target` (with `mode` when the target exists, so a
    /// replaced file keeps its permissions) and fill it through `fill`.
    pub fn create<E>(
        target: &Path,
        mode: Option<u32>,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Self, StageError<E>> {
        let tmp = sibling(target, TMP_SUFFIX);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| {
                StageError::Fs(FsError::io(target, "create a temporary file beside", e))
            })?;
        // From here on, drop removes the file.
        let staged = Staged {
            tmp,
            target: target.to_path_buf(),
            live: true,
        };
        if let Some(mode) = mode {
            set_mode(&file, mode)
                .map_err(|e| StageError::Fs(FsError::io(target, "copy the permissions of", e)))?;
        }
        let mut w = Interruptible {
            inner: BufWriter::new(file),
        };
        if let Err(e) = fill(&mut w) {
            // The writer's own error says less than why it failed.
            return Err(if signals::interrupted() {
                StageError::Fs(FsError::Interrupted)
            } else {
                StageError::Fill(e)
            });
        }
        signals::check().map_err(StageError::Fs)?;
        // A write that failed because a signal arrived is an interruption, not an I/O error.
        let write_error = |e: std::io::Error| {
            StageError::Fs(if signals::interrupted() {
                FsError::Interrupted
            } else {
                FsError::io(target, "write", e)
            })
        };
        let file = w
            .inner
            .into_inner()
            .map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        Ok(staged)
    }

    /// The temporary file's path, no longer removed on drop (it was renamed).
    pub fn take(mut self) -> (PathBuf, PathBuf) {
        self.live = false;
        (
            std::mem::take(&mut self.tmp),
            std::mem::take(&mut self.target),
        )
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.live {
            // Best effort: the error that brought us here matters more.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Why staging failed: the file system, or the caller's writer.
pub(crate) enum StageError<E> {
    Fs(FsError),
    Fill(E),
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// A writer that fails with `Interrupted` once a signal has arrived, so a long write stops at
/// the next chunk.
struct Interruptible {
    inner: BufWriter<File>,
}

impl Write for Interruptible {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if signals::interrupted() {
            // Not `ErrorKind::Interrupted`: `write_all` retries those.
            return Err(std::io::Error::other("interrupted by a signal"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
