//! The error type of the crate.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong reading or writing a `.npy` file.
///
/// Every variant carries the file it concerns (`<in-memory>` for [`read_npy_bytes`] and
/// [`NpyArray::new`]), so the message alone tells a user which file to look at.
///
/// [`read_npy_bytes`]: crate::read_npy_bytes
/// [`NpyArray::new`]: crate::NpyArray::new
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The operating system refused a read, write, create or rename.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What was being attempted (`read`, `create`, `write`, `rename into place`).
        action: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed (the target is not a regular file, the disk is full, …).
    #[error("{source}")]
    Output {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<nao_fs::FsError>,
    },
    /// The input is not a regular file (a folder, a device, a FIFO), cannot be looked at, or
    /// the read was interrupted by a signal.
    #[error("{source}")]
    Input {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong (boxed: the error stays small on the `Ok` path).
        #[source]
        source: Box<nao_fs::FsError>,
    },
    /// The data the header announces fit in the file but not in memory.
    #[error("{}: cannot allocate {bytes} bytes for the data", path.display())]
    OutOfMemory {
        /// The file concerned.
        path: PathBuf,
        /// Bytes that could not be allocated.
        bytes: u64,
    },
    /// The array has more elements than the caller accepts.
    #[error(
        "{}: shape {shape:?} holds {elements} elements; at most {limit} are accepted",
        path.display()
    )]
    TooLarge {
        /// The file concerned.
        path: PathBuf,
        /// The shape in its header.
        shape: Vec<usize>,
        /// The product of the shape.
        elements: usize,
        /// The caller's limit.
        limit: usize,
    },
    /// The file does not start with the `\x93NUMPY` magic string.
    #[error("{}: not a .npy file (bad magic: expected \\x93NUMPY, found {found})", path.display())]
    BadMagic {
        /// The file concerned.
        path: PathBuf,
        /// The first bytes found, escaped.
        found: String,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("{}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)", path.display())]
    UnsupportedVersion {
        /// The file concerned.
        path: PathBuf,
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file ends before the part named by `what` is complete.
    #[error(
        "{}: truncated {what}: expected {expected} bytes in the file, found {actual}",
        path.display()
    )]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// Which part is cut short (`magic string`, `header`, `data`, …).
        what: &'static str,
        /// Bytes the file needs to hold that part.
        expected: u64,
        /// Bytes the file actually has.
        actual: u64,
    },
    /// The file is longer than its header says: the data are probably corrupt.
    #[error(
        "{}: {extra} unexpected bytes after the data (header says {expected} bytes in all, file has {actual})",
        path.display()
    )]
    TrailingBytes {
        /// The file concerned.
        path: PathBuf,
        /// Bytes the header accounts for.
        expected: u64,
        /// Bytes in the file.
        actual: u64,
        /// `actual − expected`.
        extra: u64,
    },
    /// The header dictionary could not be parsed or lacks a required key.
    #[error("{}: bad .npy header: {message}", path.display())]
    Header {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A dtype this crate does not read (structured, complex, half, strings, objects, …).
    #[error(
        "{}: unsupported dtype {descr:?} (supported: float32/float64, int8–int64, uint8–uint64, bool, either byte order)",
        path.display()
    )]
    UnsupportedDtype {
        /// The file concerned.
        path: PathBuf,
        /// The `descr` entry of the header.
        descr: String,
    },
    /// The shape and the number of elements do not agree.
    #[error(
        "{}: shape {shape:?} holds {expected} elements but {actual} were given",
        path.display()
    )]
    ShapeMismatch {
        /// The file concerned.
        path: PathBuf,
        /// The shape.
        shape: Vec<usize>,
        /// The product of the shape.
        expected: usize,
        /// The number of elements supplied.
        actual: usize,
    },
}

impl NpyError {
    /// The file this error concerns (`<in-memory>` for in-memory data).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Io { path, .. }
            | Self::Output { path, .. }
            | Self::Input { path, .. }
            | Self::OutOfMemory { path, .. }
            | Self::TooLarge { path, .. }
            | Self::BadMagic { path, .. }
            | Self::UnsupportedVersion { path, .. }
            | Self::Truncated { path, .. }
            | Self::TrailingBytes { path, .. }
            | Self::Header { path, .. }
            | Self::UnsupportedDtype { path, .. }
            | Self::ShapeMismatch { path, .. } => path,
        }
    }
}
