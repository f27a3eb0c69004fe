use std::path::PathBuf;

use thiserror::Error;

/// Errors of loading a CLIP tokenizer. Tokenising itself never fails.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClipError {
    /// A tokenizer file is missing or unreadable.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// `vocab.json` or `tokenizer_config.json` is not what a CLIP tokenizer needs.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file (or `<memory>` for text given directly).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A line of `merges.txt` is malformed or names tokens the vocabulary lacks.
    #[error("{}, line {line}: {message}", path.display())]
    Merges {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A special token of the config (BOS, EOS, padding, unknown) is not in the vocabulary.
    #[error("{}: the {role} token '{token}' is not in the vocabulary", path.display())]
    MissingToken {
        /// The file that names the token (or `<memory>`).
        path: PathBuf,
        /// `"bos"`, `"eos"`, `"pad"` or `"unk"`.
        role: &'static str,
        /// The token text.
        token: String,
    },
}
