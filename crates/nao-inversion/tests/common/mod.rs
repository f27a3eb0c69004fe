//! What the tests against diffusers on the tiny SD 1.x ONNX export share.
#![allow(dead_code)] // each test file uses a different subset

use std::sync::OnceLock;

use nao_onnx::{OnnxBackend, OnnxOptions};

/// The prompt of every diffusers reference made on the tiny SD 1.x export.
pub const PROMPT: &str = "a photo of a cat";

/// The tiny SD 1.x ONNX export of `shared/`, loaded once per test binary (one thread, so the
/// numbers are ONNX Runtime's deterministic ones).
pub fn tiny_sd1_onnx() -> &'static OnnxBackend {
    static BACKEND: OnceLock<OnnxBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let options = OnnxOptions::default()
            .with_threads(1)
            .with_library_path(nao_test_support::ort_library());
        OnnxBackend::load(nao_test_support::shared("fixtures/tiny-sd1/onnx"), &options)
            .unwrap_or_else(|e| panic!("loading the tiny-sd1 ONNX fixture: {e}"))
    })
}
