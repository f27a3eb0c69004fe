//! # nao-test-support — what the tests of every nao crate share
//!
//! - [`shared_dir`] and [`shared`]: the reference data made outside the project (`../shared/`
//!   beside the checkout, or `$NAO_SHARED_DIR`), one rule for every test;
//! - [`ort_library`]: the ONNX Runtime library the ONNX tests load (`$ORT_DYLIB_PATH`, which
//!   `cargo xtask ci` sets);
//! - [`read_tensor`]: a reference `.npy` array as a host tensor;
//! - [`AnalyticBackend`]: the one mock diffusion model, with a closed-form noise predictor;
//! - [`schedulers`]: the scheduler references made with diffusers
//!   (`scripts/make_scheduler_fixtures.py`);
//! - [`fuzz`]: strategies for the property-based fuzz tests of the file readers.
//!
//! Missing data is a failure with the paths tried, never a silent skip.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod analytic;
pub mod fuzz;
pub mod schedulers;

use std::path::{Path, PathBuf};

use nao_backend::Tensor;

pub use analytic::{sd1_scheduler, AnalyticBackend, Call, DATA_STD};

/// The environment variable naming the shared reference folder.
pub const SHARED_DIR_VAR: &str = "NAO_SHARED_DIR";

/// The environment variable naming the ONNX Runtime shared library.
pub const ORT_DYLIB_VAR: &str = "ORT_DYLIB_PATH";

/// The workspace root (this crate lives in `crates/nao-test-support`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The candidates for the shared folder, in the order they are tried: `$NAO_SHARED_DIR`, then
/// `shared/` beside the workspace root.
fn shared_candidates() -> Vec<PathBuf> {
    std::env::var_os(SHARED_DIR_VAR)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace_root().join("../shared")])
        .collect()
}

/// The shared reference folder: `$NAO_SHARED_DIR` when set, else `../shared` beside the
/// checkout. Panics, naming the paths tried, when neither holds `README.md`.
pub fn shared_dir() -> PathBuf {
    find_shared_dir().unwrap_or_else(|message| panic!("{message}"))
}

fn find_shared_dir() -> Result<PathBuf, String> {
    let candidates = shared_candidates();
    candidates
        .iter()
        .find(|p| p.join("README.md").is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "the shared reference data is missing: looked in {candidates:?}; put it beside \
                 the checkout as ../shared or set {SHARED_DIR_VAR}"
            )
        })
}

/// A path inside the shared folder, which must exist (panics naming it otherwise).
pub fn shared(relative: impl AsRef<Path>) -> PathBuf {
    try_shared(relative).unwrap_or_else(|message| panic!("{message}"))
}

/// [`shared`] for programs that report errors instead of panicking: the path, or a message
/// naming the paths tried.
pub fn try_shared(relative: impl AsRef<Path>) -> Result<PathBuf, String> {
    let p = find_shared_dir()?.join(relative.as_ref());
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} is missing from the shared reference data",
            p.display()
        ))
    }
}

/// `$ORT_DYLIB_PATH`, checked to be a file: the ONNX tests fail (they do not skip) without
/// ONNX Runtime.
pub fn ort_library() -> PathBuf {
    let hint = "ONNX tests need ONNX Runtime >= 1.31: run `cargo xtask setup-ort` and export \
                ORT_DYLIB_PATH=<the path it prints> (`cargo xtask ci` does both)";
    match std::env::var_os(ORT_DYLIB_VAR).filter(|p| !p.is_empty()) {
        None => panic!("{ORT_DYLIB_VAR} is not set; {hint}"),
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "{ORT_DYLIB_VAR}={} is not a file; {hint}",
                p.display()
            );
            p
        }
    }
}

/// A `.npy` file as a host tensor (f32); panics naming the file when it cannot be read.
pub fn read_tensor(path: impl AsRef<Path>) -> Tensor {
    let path = path.as_ref();
    let a = nao_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Tensor::new(a.shape().to_vec(), a.to_f32_vec())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The largest absolute difference of two tensors (in f64); panics when their shapes differ.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape, b.shape, "shapes differ");
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max)
}

/// The root mean square of a tensor (in f64).
pub fn rms(a: &Tensor) -> f64 {
    (a.data.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / a.data.len() as f64).sqrt()
}

/// Deterministic pseudo-Gaussian seeds `[b, 4, h, w]` (Box–Muller on a small LCG), for mocks.
pub fn seeds(b: usize, h: usize, w: usize, seed: u64) -> Tensor {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let n = b * 4 * h * w;
    let data = (0..n)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        })
        .collect();
    Tensor {
        shape: vec![b, 4, h, w],
        data,
    }
}

/// The largest absolute value of a tensor.
pub fn max_abs(a: &Tensor) -> f32 {
    a.data.iter().map(|x| x.abs()).fold(0.0, f32::max)
}
