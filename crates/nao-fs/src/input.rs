//! Checked inputs: look at a file before reading it, and read no more than it holds.
//!
//! `stat` comes first: a device (`/dev/zero`), a FIFO with no writer or a folder is refused
//! before it is opened, so nao never hangs on an open nor grows without bound on an endless
//! stream. Sizes are checked against the real file before anything is allocated.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::FsError;

fn refuse(path: &Path, reason: impl Into<String>) -> FsError {
    FsError::Input {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Open `path` for reading after checking that it is a regular file (links are followed);
/// returns the file and its size in bytes.
///
/// ```
/// let e = nao_fs::input::open_regular(std::path::Path::new("/dev/null")).unwrap_err();
/// assert!(e.to_string().contains("not a regular file"), "{e}");
/// ```
pub fn open_regular(path: &Path) -> Result<(File, u64), FsError> {
    let meta = std::fs::metadata(path).map_err(|e| FsError::io(path, "read", e))?;
    if meta.is_dir() {
        return Err(refuse(path, "is a folder, not a file"));
    }
    if !meta.is_file() {
        return Err(refuse(
            path,
            "is not a regular file (a device, FIFO or socket); give a file",
        ));
    }
    let file = File::open(path).map_err(|e| FsError::io(path, "open", e))?;
    Ok((file, meta.len()))
}

/// Read a whole regular file of at most `limit` bytes; a larger file is an error naming both
/// sizes, raised before anything is read.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.json");
/// std::fs::write(&p, b"{}").unwrap();
/// assert_eq!(nao_fs::input::read_limited(&p, 16).unwrap(), b"{}");
/// assert!(nao_fs::input::read_limited(&p, 1).is_err());
/// ```
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FsError> {
    let (file, len) = open_regular(path)?;
    if len > limit {
        return Err(refuse(
            path,
            format!("is {len} bytes; at most {limit} bytes are accepted for this kind of file"),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows while it is read.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FsError::io(path, "read", e))?;
    if bytes.len() as u64 > limit {
        return Err(refuse(
            path,
            format!("grew past {limit} bytes while it was read"),
        ));
    }
    Ok(bytes)
}

/// [`read_limited`] as UTF-8 text (configs, manifests).
pub fn read_text_limited(path: &Path, limit: u64) -> Result<String, FsError> {
    let bytes = read_limited(path, limit)?;
    String::from_utf8(bytes).map_err(|e| refuse(path, format!("is not UTF-8 text: {e}")))
}

/// The largest config or JSON file nao reads (configs of real models are a few kB).
pub const CONFIG_LIMIT: u64 = 16 << 20;

/// What is at `path` when it is not a regular file, for messages: "is a FIFO (named pipe)",
/// "is a folder", "is a link whose target is missing", "does not exist".
///
/// ```
/// assert_eq!(nao_fs::input::describe_non_file(std::path::Path::new("/dev/null")), "is a device");
/// ```
pub fn describe_non_file(path: &Path) -> &'static str {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return "does not exist";
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return match std::fs::metadata(path) {
            Ok(m) if m.is_file() => "is a link to a regular file",
            Ok(m) if m.is_dir() => "is a link to a folder",
            Ok(_) => "is a link to a device, FIFO or socket",
            Err(_) => "is a link whose target is missing",
        };
    }
    if ft.is_dir() {
        return "is a folder";
    }
    if ft.is_file() {
        return "is a regular file";
    }
    special(&ft)
}

#[cfg(unix)]
fn special(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "is a FIFO (named pipe), not a regular file"
    } else if ft.is_socket() {
        "is a socket, not a regular file"
    } else {
        "is a device"
    }
}

#[cfg(not(unix))]
fn special(_: &std::fs::FileType) -> &'static str {
    "is not a regular file"
}
