//! The one error type of xtask: what failed, with the command, file or value that failed.

use std::path::PathBuf;
use std::process::ExitStatus;

use thiserror::Error;

/// Why a command of xtask failed.
#[derive(Debug, Error)]
pub enum XtaskError {
    /// A program (`command`, as shown to the user) could not be started (not installed, not
    /// executable); `hint` says what to do about it (empty, or text starting with "; ").
    #[error("could not start `{command}`: {source}{hint}")]
    Spawn {
        command: String,
        source: std::io::Error,
        hint: String,
    },
    /// A program ran and failed: `what` it was doing, its `command` line, its exit `status`.
    #[error("{what}: `{command}` exited with {status}")]
    Exit {
        what: String,
        command: String,
        status: ExitStatus,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file's content (or a command's output) is not what it should be: `message` says what
    /// is wrong, where.
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// The machine lacks something that xtask may not or cannot provide itself.
    #[error("{0}")]
    Provision(String),
    /// A check of the project failed (a forbidden dependency or feature, …).
    #[error("{0}")]
    Check(String),
    /// The command line names something that does not exist (a bench, …).
    #[error("{0}")]
    Usage(String),
    /// A step of `cargo xtask ci` failed: its 1-based `index` of `total`, its `name`, how long
    /// it ran (`after`), and why.
    #[error("step {index}/{total} '{name}' failed after {after}: {source}")]
    Step {
        index: usize,
        total: usize,
        name: &'static str,
        after: String,
        source: Box<XtaskError>,
    },
}

/// The result of an xtask operation.
pub type Result<T, E = XtaskError> = std::result::Result<T, E>;

impl XtaskError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        XtaskError::Io {
            path: path.into(),
            source,
        }
    }
}
