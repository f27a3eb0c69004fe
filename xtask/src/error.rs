//! The one error type of xtask: what failed, with the command, file or value that failed.

use std::path::PathBuf;
use std::process::ExitStatus;

use thiserror::Error;

/// Why a command of xtask failed.
#[derive(Debug, Error)]
pub enum XtaskError {
    /// A program could not be started (not installed, not executable).
    #[error("could not start `{command}`: {source}{hint}")]
    Spawn {
        /// the command line, as shown to the user
        command: String,
        /// what the operating system said
        source: std::io::Error,
        /// what to do about it (empty, or text starting with "; ")
        hint: String,
    },
    /// A program ran and failed.
    #[error("{what}: `{command}` exited with {status}")]
    Exit {
        /// what the program was doing
        what: String,
        /// the command line, as shown to the user
        command: String,
        /// its exit status
        status: ExitStatus,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// the file or folder
        path: PathBuf,
        /// what the operating system said
        source: std::io::Error,
    },
    /// A file's content is not what it should be (unexpected JSON, …).
    #[error("{}: {message}", path.display())]
    Parse {
        /// the file (or the command whose output it was)
        path: PathBuf,
        /// what is wrong, where
        message: String,
    },
    /// The machine lacks something that xtask may not or cannot provide itself.
    #[error("{0}")]
    Provision(String),
    /// A check of the project failed (a forbidden dependency or feature, …).
    #[error("{0}")]
    Check(String),
    /// The command line names something that does not exist (a bench, …).
    #[error("{0}")]
    Usage(String),
    /// A step of `cargo xtask ci` failed.
    #[error("step {index}/{total} '{name}' failed after {after}: {source}")]
    Step {
        /// 1-based number of the step
        index: usize,
        /// number of steps
        total: usize,
        /// the step's name
        name: &'static str,
        /// how long it ran
        after: String,
        /// why it failed
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
