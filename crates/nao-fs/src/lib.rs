//! # nao-fs — how nao touches files
//!
//! Every file a nao command writes goes through an [`Outputs`] set, and every file it reads is
//! checked by [`input`] before a byte is read. The promises (docs/reliability.md):
//!
//! - **Only regular files are replaced.** A device, FIFO, socket or folder at an output path is
//!   refused; so is a symbolic link (nao never follows or replaces a link it is asked to write:
//!   write to the link's target instead). A replaced file keeps its permission bits.
//! - **No two outputs of one command collide**, after the paths are normalised (`./a/x.npy` and
//!   `a/x.npy`, a hard link of the same file, or a file inside a folder another option writes).
//! - **All or nothing.** Files are staged as temporary files beside their targets and renamed
//!   into place together by [`Outputs::commit`]; when a rename fails, the files already
//!   renamed are put back as they were. An [`Outputs`] dropped without a commit (an error, an
//!   interruption) removes its temporary files and the folders it created.
//! - **Interruptible.** After [`signals::install`], SIGINT and SIGTERM set a flag that staged
//!   writers and long loops check ([`signals::check`]); the command unwinds with
//!   [`FsError::Interrupted`] and cleans up. A second signal ends the process at once.
//! - **Leftovers are recognisable.** A process killed by SIGKILL leaves its temporary files;
//!   [`leftovers`] finds and removes them for the next owner of their targets.
//! - **Content is hashed one way.** [`hash`]: SHA-256 of files and bytes, and of
//!   length-prefixed field sequences (identities, cache keys, per-image random seeds).
//!
//! ```
//! use nao_fs::Outputs;
//!
//! let dir = tempfile::tempdir()?;
//! let seed = dir.path().join("seed.npy");
//! std::fs::create_dir(dir.path().join("out"))?;
//! let report = dir.path().join("out/report.json");
//!
//! let mut out = Outputs::new();
//! out.claim_file(&seed, "-o")?;
//! out.claim_file(&report, "--report")?;
//! // the same file under another spelling is refused
//! let again = dir.path().join("./sub/../seed.npy");
//! assert!(out.claim_file(&again, "--paths-out").is_err());
//!
//! out.write(&seed, b"seed bytes")?;
//! out.write(&report, b"{}")?;
//! assert!(!seed.exists()); // nothing is visible before the commit
//! out.commit()?;
//! assert_eq!(std::fs::read(&seed)?, b"seed bytes");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
pub mod hash;
pub mod input;
pub mod leftovers;
mod outputs;
mod path;
pub mod signals;
mod staged;

pub use error::FsError;
pub use outputs::{write_file, Outputs};
pub use path::normalise;
