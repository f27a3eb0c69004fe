//! Shared helpers of the nao-onnx tests: the fixture's folders and reference arrays (found by
//! `nao-test-support`, one rule for every crate).
#![allow(dead_code)] // each test binary uses a part

use std::path::PathBuf;

use nao_backend::Tensor;

/// `shared/fixtures/tiny-sd1` beside the repository (or under `$NAO_SHARED_DIR`).
pub fn fixture() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1")
}

/// The ONNX folder of the fixture.
pub fn onnx_dir() -> PathBuf {
    fixture().join("onnx")
}

/// A reference array of the fixture as a tensor.
pub fn reference(name: &str) -> Tensor {
    nao_test_support::read_tensor(fixture().join("reference").join(name))
}
