//! # nao-burn-train — how the embedded model of `nao-burn` is made
//!
//! - [`FashionMnist`]: the dataset from its IDX files ([`read_idx`]; Debian's
//!   `dataset-fashion-mnist` or `$NAO_FASHION_MNIST_DIR`), and [`long_tail_indices`], the
//!   seeded long-tailed training subset in which the rare classes keep 1 % of their images;
//! - [`train`]: the three trainers (autoencoder, class-conditional noise predictor,
//!   classifier) on burn's autodiff with Adam, deterministic from a seed;
//! - [`save_module`]: weights as safetensors, written atomically;
//! - the `nao-train` binary (`cargo xtask train`) that runs them all and writes the weights,
//!   reports and bundled test images into `crates/nao-burn`;
//! - [`longtail`]: the long-tail experiment (does adding generated images of the rare classes
//!   help a classifier?) as a library — its plan, generation and measures through
//!   `nao-augment`, the training-run pool, the aggregation and the conclusion — and the
//!   `nao-longtail` binary that renders its report (`cargo xtask longtail`).
//!
//! The trainers report every step to a callback that may stop them ([`train::Progress`]);
//! nothing here reads a signal flag or prints.
//!
//! Programs that only run the model depend on `nao-burn` alone, which builds without burn's
//! autodiff and optimisers (`cargo xtask deps` checks it).
//!
//! ```
//! use nao_burn_train::long_tail_indices;
//! let labels: Vec<u8> = (0..1000).map(|i| (i % 10) as u8).collect();
//! let keep = long_tail_indices(&labels, &[8, 9], 0.1, 7)?;
//! assert_eq!(keep.iter().filter(|&&i| labels[i] == 9).count(), 10);
//! # Ok::<(), nao_burn_train::TrainError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod data;
mod error;
mod idx;
pub mod longtail;
mod save;
pub mod train;

pub use data::{long_tail_indices, FashionMnist, ImageSet, DEBIAN_FASHION_MNIST_DIR};
pub use error::TrainError;
pub use idx::{encode_idx, parse_idx, read_idx, IdxArray};
pub use save::{module_bytes, save_module};
