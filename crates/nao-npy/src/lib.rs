//! # nao-npy — NumPy `.npy` files without NumPy
//!
//! Seeds, paths and reference outputs of the nao project travel as `.npy` files. This crate
//! reads and writes them with no dependency beyond `std`, `thiserror` and `nao-fs`:
//!
//! - [`read_npy`] / [`read_npy_bytes`]: format versions 1.0, 2.0 and 3.0; `float32`, `float64`,
//!   signed and unsigned integers of 1–8 bytes and `bool`, in either byte order; any shape
//!   (0-d, 1-d, empty, n-d); C order, and Fortran order (transposed to C order on read).
//! - [`write_npy`], [`write_npy_f32`], [`write_npy_f64`]: little-endian C-order files that NumPy
//!   reads back, written through `nao-fs` (a temporary file in the target directory renamed into
//!   place), so a failed or interrupted write never leaves a partial file;
//!   [`NpyArray::to_bytes`] for the same bytes in memory, and [`NpyStream`] for files written
//!   in chunks (into a staged `nao_fs::Outputs` file) without holding them whole.
//! - [`NpyError`]: every error names the file and says what is wrong (bad magic, unsupported
//!   version or dtype, header syntax, truncation with expected and actual byte counts, …).
//!
//! ```
//! use nao_npy::{read_npy_bytes, NpyArray};
//! let seed = NpyArray::from_f32(&[4, 8, 8], vec![0.5; 256]).unwrap();
//! let bytes = seed.to_bytes();
//! let back = read_npy_bytes(&bytes).unwrap();
//! assert_eq!(back.shape(), &[4, 8, 8]);
//! assert_eq!(back.dtype_name(), "float32");
//!
//! // A truncated file is an error that says how much is missing.
//! let err = read_npy_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
//! assert!(err.to_string().contains("truncated data"));
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod array;
mod error;
mod header;
mod read;
mod write;

pub use array::{DType, NpyArray, NpyData};
pub use error::NpyError;
pub use header::MAX_AXES;
pub use read::{read_npy, read_npy_at_most, read_npy_bytes, MAX_HEADER_BYTES};
pub use write::{write_npy, write_npy_f32, write_npy_f64, NpyStream};
