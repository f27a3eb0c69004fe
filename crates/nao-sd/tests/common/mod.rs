//! Shared helpers of the nao-sd tests: fixture folders, loading, comparing.
#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};

use nao_backend::Tensor;
use nao_sd::{Device, SdOptions, StableDiffusion};

/// The shared tiny SD 1.x fixture in diffusers layout.
pub fn tiny_sd1() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1/diffusers")
}

/// A reference array of the shared tiny SD 1.x fixture.
pub fn tiny_sd1_reference(name: &str) -> Tensor {
    nao_test_support::read_tensor(nao_test_support::shared(
        Path::new("fixtures/tiny-sd1/reference").join(name),
    ))
}

/// One of this crate's own fixtures (`tests/fixtures/<name>`, made by
/// `scripts/make_sd_fixtures.py`).
pub fn own(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    assert!(
        p.join("model_index.json").is_file(),
        "{} is missing: run scripts/make_sd_fixtures.py",
        p.display()
    );
    p
}

/// A reference array of one of this crate's fixtures.
pub fn own_reference(name: &str, file: &str) -> Tensor {
    nao_test_support::read_tensor(own(name).join("reference").join(file))
}

/// The fixture's `reference/reference.json`.
pub fn own_meta(name: &str) -> serde_json::Value {
    let p = own(name).join("reference/reference.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// burn's CPU device.
pub fn device() -> Device {
    Device::flex()
}

/// Load a folder on the CPU, panicking with the error.
pub fn load(dir: &Path, options: &SdOptions) -> StableDiffusion {
    StableDiffusion::load(dir, &device(), options)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// Largest absolute difference and largest absolute reference value (f64).
pub fn compare(got: &Tensor, expected: &Tensor) -> (f64, f64) {
    assert_eq!(got.shape, expected.shape, "shapes differ");
    let diff = got
        .data
        .iter()
        .zip(&expected.data)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .fold(0.0, f64::max);
    let scale = expected
        .data
        .iter()
        .map(|v| f64::from(*v).abs())
        .fold(0.0, f64::max);
    (diff, scale)
}

/// Assert `got` is within `tol × max(1, max |expected|)` of `expected`, printing the numbers.
pub fn assert_close(what: &str, got: &Tensor, expected: &Tensor, tol: f64) {
    let (diff, scale) = compare(got, expected);
    eprintln!("{what}: max |Δ| = {diff:.3e} (max |x| = {scale:.3})");
    assert!(
        diff <= tol * scale.max(1.0),
        "{what}: differs by {diff:e} (tolerance {tol:e} × max(1, {scale}))"
    );
}

/// Assert `got` is within `tol` of `expected` (absolute), printing the numbers.
pub fn assert_abs(what: &str, got: &Tensor, expected: &Tensor, tol: f64) {
    let (diff, scale) = compare(got, expected);
    eprintln!("{what}: max |Δ| = {diff:.3e} (max |x| = {scale:.3})");
    assert!(
        diff <= tol,
        "{what}: differs by {diff:e} (tolerance {tol:e})"
    );
}

/// Copy a folder tree (files and subfolders).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
