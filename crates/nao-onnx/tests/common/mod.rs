//! Shared helpers of the nao-onnx tests: the fixture folder, the ONNX Runtime library, reading
//! reference arrays, and error measures.
#![allow(dead_code)] // each test binary uses a part

use std::path::PathBuf;

use nao_backend::Tensor;

/// `shared/fixtures/tiny-sd1` beside the repository (or under `$NAO_SHARED_DIR`); panics with
/// the paths tried when it is missing.
pub fn fixture() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = std::env::var_os("NAO_SHARED_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            manifest.join("../../shared"),
            manifest.join("../../../shared"),
        ])
        .map(|p| p.join("fixtures/tiny-sd1"))
        .collect();
    candidates
        .iter()
        .find(|p| p.join("onnx/unet/model.onnx").is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the tiny-sd1 fixture is missing; looked in {candidates:?} (set NAO_SHARED_DIR \
                 to the folder holding fixtures/)"
            )
        })
}

/// The ONNX folder of the fixture.
pub fn onnx_dir() -> PathBuf {
    fixture().join("onnx")
}

/// `$ORT_DYLIB_PATH`, checked: these tests fail (they do not skip) without ONNX Runtime.
pub fn ort_library() -> PathBuf {
    let hint = "the nao-onnx tests need ONNX Runtime >= 1.31: run `cargo xtask setup-ort` and \
                export ORT_DYLIB_PATH=<the path it prints> (`cargo xtask ci` does both)";
    match std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        None => panic!("ORT_DYLIB_PATH is not set; {hint}"),
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "ORT_DYLIB_PATH={} is not a file; {hint}",
                p.display()
            );
            p
        }
    }
}

/// A reference array of the fixture as a tensor.
pub fn reference(name: &str) -> Tensor {
    let path = fixture().join("reference").join(name);
    let a = nao_npy::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Tensor::new(a.shape().to_vec(), a.to_f32_vec()).unwrap()
}

/// Largest absolute difference; panics when the shapes differ.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.shape, b.shape, "shapes differ");
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Largest absolute value.
pub fn max_abs(a: &Tensor) -> f32 {
    a.data.iter().map(|x| x.abs()).fold(0.0, f32::max)
}
