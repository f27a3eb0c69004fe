use std::path::{Path, PathBuf};

use thiserror::Error;

/// Errors of reading inputs and writing outputs; each names the path.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FsError {
    /// An operating-system call failed.
    #[error("{path}: cannot {action}: {source}")]
    Io {
        /// the file or folder
        path: PathBuf,
        /// what was being done ("create the folder", "write", …)
        action: &'static str,
        /// the operating system's error
        source: std::io::Error,
    },
    /// An output path cannot be written as asked (wrong kind of file, a link, no file name).
    #[error("{option} {path}: {reason}")]
    Target {
        /// the option that named the path (`-o`, `--paths-out`, …)
        option: String,
        /// the path as given
        path: PathBuf,
        /// why it is refused
        reason: String,
    },
    /// Two outputs of one command are the same file, or one lies inside the other's folder.
    #[error(
        "{first_option} {first} and {second_option} {second} {relation}: give them different paths"
    )]
    Collision {
        /// the earlier option
        first_option: String,
        /// its path
        first: PathBuf,
        /// the later option
        second_option: String,
        /// its path
        second: PathBuf,
        /// how they collide ("are the same file", …)
        relation: &'static str,
    },
    /// A file was staged that no claim covers, or was staged twice (a bug of the caller).
    #[error("{path}: {reason}")]
    Unclaimed {
        /// the file
        path: PathBuf,
        /// what is wrong
        reason: &'static str,
    },
    /// An input is not a regular file, is too large, or is shorter than its header says.
    #[error("{path}: {reason}")]
    Input {
        /// the input file
        path: PathBuf,
        /// what is wrong
        reason: String,
    },
    /// SIGINT or SIGTERM arrived; the command stopped and removed its temporary files.
    #[error("interrupted by a signal; nothing was replaced and temporary files were removed")]
    Interrupted,
}

impl FsError {
    /// The message without the path, for callers whose own error names the file.
    ///
    /// ```
    /// let e = nao_fs::input::open_regular(std::path::Path::new("/dev/null")).unwrap_err();
    /// assert!(!e.detail().contains("/dev/null") && e.to_string().contains("/dev/null"));
    /// ```
    pub fn detail(&self) -> String {
        match self {
            FsError::Io { action, source, .. } => format!("cannot {action}: {source}"),
            FsError::Input { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }

    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        FsError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}
